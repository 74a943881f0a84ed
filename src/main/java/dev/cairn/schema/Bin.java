package dev.cairn.schema;

import dev.cairn.CorruptionException;
import dev.cairn.internal.Limits;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Reading the record format (record-format.md §3-§5) from a {@link MemorySegment}: layouts, the
 * header, and the checks that keep every read inside the bytes of the value it belongs to.
 *
 * <ul>
 *   <li>Every offset read from the bytes is checked against the range of its container before
 *       use, so damaged bytes give {@link CorruptionException}, never an out-of-bounds access.
 * </ul>
 */
final class Bin {
    static final byte FORMAT_TAG = (byte) 0xC1;
    static final int HEADER_BYTES = 3;
    static final int NULL_BIT = 0x8000_0000;
    static final int OFFSET_MASK = 0x7FFF_FFFF;
    /**
     * Deepest nesting of levels inside one value (record-format.md §1): a record body or union,
     * and a collection or Optional that holds something, is a level; the root record is at 0.
     */
    static final int DEPTH_MAX = Limits.VALUE_DEPTH_MAX;
    static final int VERSION_MAX = Limits.SCHEMA_VERSIONS_MAX;

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfChar CHAR = ValueLayout.JAVA_CHAR_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(LE);

    private static final int SCRATCH_BYTES = 256;
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[SCRATCH_BYTES]);

    private Bin() { }

    /** The writer's schema version of an encoded value; checks the header. */
    static int version(MemorySegment bytes) {
        if (bytes.byteSize() < HEADER_BYTES) {
            throw corrupt("value of " + bytes.byteSize() + " bytes (expected: >= " + HEADER_BYTES
                + ", the header)");
        }
        byte tag = bytes.get(BYTE, 0);
        if (tag != FORMAT_TAG) {
            throw corrupt("format tag 0x" + Integer.toHexString(tag & 0xFF) + " (expected: 0xc1)");
        }
        int version = bytes.get(SHORT, 1) & 0xFFFF;
        if (version == 0) throw corrupt("schema version 0 (expected: >= 1)");
        return version;
    }

    /** The schema that wrote an encoded value; a version the tree does not have is damage. */
    static Schema writerSchema(MemorySegment bytes, SchemaVersions versions) {
        int version = version(bytes);
        if (!versions.contains(version)) {
            throw corrupt("schema version " + version + " (expected: 1.." + versions.latestVersion()
                + ")");
        }
        return versions.get(version);
    }

    /** Checks that a record body of {@code fixedBytes} fits in {@code [s, e)}. */
    static void checkFixed(long s, long e, int fixedBytes, String path) {
        if (e - s < fixedBytes) {
            throw corrupt(path + ": record body of " + (e - s) + " bytes (expected: >= "
                + fixedBytes + " fixed bytes)");
        }
    }

    /** Start (relative to the body) of a variable component's data, checked. */
    static int varStart(MemorySegment seg, long s, int previousSlot, int fixedBytes) {
        return previousSlot < 0 ? fixedBytes : seg.get(INT, s + previousSlot) & OFFSET_MASK;
    }

    /** Checks {@code fixed <= start <= end <= length}; fails naming {@code path}. */
    static void checkRange(int start, int end, long length, int fixedBytes, String path) {
        if (start < fixedBytes || start > end || end > length) {
            throw corrupt(path + ": data at [" + start + ", " + end + ") (expected: within ["
                + fixedBytes + ", "
                + length + "])");
        }
    }

    /** Element count of a collection at {@code [s, e)}, bounded by the bytes present. */
    static int count(MemorySegment seg, long s, long e, int itemsPerEntry, String path) {
        if (e - s < 4) throw corrupt(path + ": collection of " + (e - s)
            + " bytes (expected: >= 4, the count)");
        int n = seg.get(INT, s);
        if (n < 0 || (long) n * 4 * itemsPerEntry > e - s - 4) {
            throw corrupt(path + ": count " + Integer.toUnsignedString(n) + " does not fit in "
                + (e - s) + " bytes");
        }
        return n;
    }

    static void checkWidth(long s, long e, int width, String path) {
        if (e - s != width) throw corrupt(path + ": " + (e - s) + " bytes (expected: " + width
            + ")");
    }

    static void checkDepth(int depth, String path) {
        if (depth > DEPTH_MAX) throw corrupt(path + ": nested deeper than " + DEPTH_MAX);
    }

    static String string(MemorySegment seg, long s, long e) {
        int n = (int) (e - s);
        if (!seg.isNative() && !seg.isReadOnly() && seg.heapBase().orElse(null) instanceof byte[] array) {
            // A heap segment's address is its offset in the array: decode in place, one copy fewer.
            return new String(array, (int) (seg.address() + s), n, StandardCharsets.UTF_8);
        }
        if (n <= SCRATCH_BYTES) {
            // Through a per-thread buffer: the String copies what it keeps, so no array is allocated
            // just to be thrown away.
            byte[] scratch = SCRATCH.get();
            MemorySegment.copy(seg, BYTE, s, scratch, 0, n);
            return new String(scratch, 0, n, StandardCharsets.UTF_8);
        }
        byte[] b = new byte[n];
        MemorySegment.copy(seg, BYTE, s, b, 0, n);
        return new String(b, StandardCharsets.UTF_8);
    }

    static byte[] bytes(MemorySegment seg, long s, long e) {
        byte[] b = new byte[(int) (e - s)];
        MemorySegment.copy(seg, BYTE, s, b, 0, b.length);
        return b;
    }

    /**
     * True when the UTF-8 bytes at {@code [s, e)} encode exactly {@code text}; allocates nothing.
     */
    static boolean utf8Equals(MemorySegment seg, long s, long e, String text) {
        long at = s;
        int n = text.length();
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                if (at >= e || seg.get(BYTE, at) != (byte) c) return false;
                at++;
            } else if (c < 0x800) {
                if (e - at < 2 || seg.get(BYTE, at) != (byte) (0xC0 | c >> 6)
                    || seg.get(BYTE, at + 1) != (byte) (0x80 | c & 0x3F)) return false;
                at += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < n
                && Character.isLowSurrogate(text.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, text.charAt(++i));
                if (e - at < 4 || seg.get(BYTE, at) != (byte) (0xF0 | cp >> 18)
                    || seg.get(BYTE, at + 1) != (byte) (0x80 | cp >> 12 & 0x3F)
                    || seg.get(BYTE, at + 2) != (byte) (0x80 | cp >> 6 & 0x3F)
                    || seg.get(BYTE, at + 3) != (byte) (0x80 | cp & 0x3F)) return false;
                at += 4;
            } else {
                if (Character.isSurrogate(c)) c = '?';
                if (c < 0x80) {
                    if (at >= e || seg.get(BYTE, at) != (byte) c) return false;
                    at++;
                    continue;
                }
                if (e - at < 3 || seg.get(BYTE, at) != (byte) (0xE0 | c >> 12)
                    || seg.get(BYTE, at + 1) != (byte) (0x80 | c >> 6 & 0x3F)
                    || seg.get(BYTE, at + 2) != (byte) (0x80 | c & 0x3F)) return false;
                at += 3;
            }
        }
        return at == e;
    }

    static CorruptionException corrupt(String what) {
        return new CorruptionException("record bytes: " + what);
    }
}
