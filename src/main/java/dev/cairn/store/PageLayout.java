package dev.cairn.store;

import dev.cairn.internal.Check;
import dev.cairn.internal.Limits;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * Byte layouts shared by every page kind (storage-format.md §2, §3).
 *
 * <ul>
 *   <li>All numbers are little-endian and unaligned; keys are raw bytes compared unsigned.
 *   <li>Every page except page 0 starts with the 32-byte page header: CRC32C, kind, count,
 *       page id, birth txn id, 8 kind-specific bytes.
 *   <li>The CRC32C covers bytes [4, end) of the page (or of the overflow run's used bytes).
 * </ul>
 */
final class PageLayout {
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfByte U8 = ValueLayout.JAVA_BYTE;
    /** Big-endian view of 8 key bytes, for comparing keys a word at a time. */
    static final ValueLayout.OfLong U64_BE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    static final int HEADER_BYTES = 32;
    static final long CRC_OFFSET = 0;
    static final long KIND_OFFSET = 4;
    static final long COUNT_OFFSET = 6;
    static final long PAGE_ID_OFFSET = 8;
    static final long TXN_ID_OFFSET = 16;
    /** Kind-specific: node pages hold cellStart (u16) and garbageBytes (u16) here. */
    static final long CELL_START_OFFSET = 24;
    static final long GARBAGE_OFFSET = 26;
    /** Overflow runs: runPages (u32) and valueBytes (u32). Free-list pages: next page id (u64). */
    static final long RUN_PAGES_OFFSET = 24;
    static final long RUN_VALUE_BYTES_OFFSET = 28;
    static final long NEXT_PAGE_OFFSET = 24;

    static final byte KIND_META = 2;
    static final byte KIND_BRANCH = 3;
    static final byte KIND_LEAF = 4;
    static final byte KIND_OVERFLOW = 5;
    static final byte KIND_FREE_LIST = 6;

    /** Page 0 is the file header, pages 1 and 2 the meta pages; data pages start here. */
    static final long FIRST_DATA_PAGE = 3;

    /** Leaf cell: keyBytes u16, flags u8, valueBytes u32, key, value or (run page id, run txn id). */
    static final int LEAF_CELL_HEADER = 7;
    static final byte FLAG_OVERFLOW = 1;
    static final int OVERFLOW_REF_BYTES = 16;
    /**
     * Branch cell: keyBytes u16, child u64, child birth txn id u64, key. The child u64 holds the
     * child's page id in its low {@link #CHILD_ID_BITS} bits and, in files of read version 3, the
     * child's cell start in its top 16 bits (0 in version 2), storage-format.md §4.1.
     */
    static final int BRANCH_CELL_HEADER = 18;
    static final int CHILD_ID_BITS = 48;
    static final long CHILD_ID_MASK = (1L << CHILD_ID_BITS) - 1;
    /** Page ids stay below this, so that a branch cell's child id leaves room for the cell start. */
    static final long PAGE_ID_LIMIT = 1L << CHILD_ID_BITS;
    /** Slot: cell offset u16, key head (first 8 key bytes, big-endian, zero-padded). */
    static final int SLOT_BYTES = 10;
    static final int SLOT_HEAD_OFFSET = 2;

    static {
        Check.that(HEADER_BYTES + 3 * (BRANCH_CELL_HEADER + Limits.KEY_BYTES_MAX + SLOT_BYTES)
                <= Limits.PAGE_BYTES, "three largest branch cells fit a page (storage-format.md §4)");
        Check.that(HEADER_BYTES + 3 * (LEAF_CELL_HEADER + Limits.KEY_BYTES_MAX + OVERFLOW_REF_BYTES
                + SLOT_BYTES) <= Limits.PAGE_BYTES, "three largest overflow leaf cells fit a page");
    }

    private PageLayout() { }

    static int u16(MemorySegment s, long offset) {
        return s.get(U16, offset) & 0xFFFF;
    }

    /** Little-endian reads from a heap copy of a page (cold paths: checks, recovery). */
    static int le16(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8;
    }

    static int le32(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8 | (b[at + 2] & 0xFF) << 16 | (b[at + 3] & 0xFF) << 24;
    }

    static long le64(byte[] b, int at) {
        return (le32(b, at) & 0xFFFFFFFFL) | (long) le32(b, at + 4) << 32;
    }

    static void putU16(MemorySegment s, long offset, int value) {
        s.set(U16, offset, (short) value);
    }

    static byte kind(MemorySegment page) {
        return page.get(U8, KIND_OFFSET);
    }

    static int count(MemorySegment page) {
        return u16(page, COUNT_OFFSET);
    }

    static long pageId(MemorySegment page) {
        return page.get(U64, PAGE_ID_OFFSET);
    }

    static long txnId(MemorySegment page) {
        return page.get(U64, TXN_ID_OFFSET);
    }

    /** Writes a page header into a fresh (all-zero) page buffer; every caller allocates one. */
    static void initHeader(MemorySegment page, byte kind, long pageId, long txnId) {
        page.set(U8, KIND_OFFSET, kind);
        page.set(U64, PAGE_ID_OFFSET, pageId);
        page.set(U64, TXN_ID_OFFSET, txnId);
    }

    /** CRC32C of bytes [4, endOffset) of the segment. */
    static int checksum(MemorySegment page, long endOffset) {
        CRC32C crc = new CRC32C();
        crc.update(page.asSlice(4, endOffset - 4).asByteBuffer());
        return (int) crc.getValue();
    }

    /** CRC32C of bytes [4, endOffset) of a heap copy of a page. */
    static int checksum(byte[] page, int endOffset) {
        CRC32C crc = new CRC32C();
        crc.update(page, 4, endOffset - 4);
        return (int) crc.getValue();
    }

    static void seal(MemorySegment page, long endOffset) {
        page.set(U32, CRC_OFFSET, checksum(page, endOffset));
    }

    static String kindName(byte kind) {
        return switch (kind) {
            case KIND_META -> "meta";
            case KIND_BRANCH -> "branch";
            case KIND_LEAF -> "leaf";
            case KIND_OVERFLOW -> "overflow";
            case KIND_FREE_LIST -> "free-list";
            default -> "unknown(" + kind + ")";
        };
    }

    static String hex(int value) {
        return String.format("0x%08x", value);
    }

    static String hex(long value) {
        return String.format("0x%016x", value);
    }

    /** Unsigned lexicographic comparison of two byte ranges. */
    static int compare(MemorySegment a, long aOffset, int aBytes, MemorySegment b, long bOffset, int bBytes) {
        if (aBytes >= 8 && bBytes >= 8) {
            // Most keys differ in their first 8 bytes: one unsigned long comparison decides.
            long x = a.get(U64_BE, aOffset);
            long y = b.get(U64_BE, bOffset);
            if (x != y) return Long.compareUnsigned(x, y);
            if (aBytes == 8 || bBytes == 8) return Integer.compare(aBytes, bBytes);
        } else if (aOffset + 8 <= a.byteSize() && bOffset + 8 <= b.byteSize()) {
            // A short key (branch separators are a few bytes): load 8 bytes of each side (the
            // bytes after the key still lie in the segment) and keep the first min(a, b) bytes.
            int n = Math.min(aBytes, bBytes);
            if (n == 0) return Integer.compare(aBytes, bBytes);
            int drop = 64 - 8 * n;
            long x = a.get(U64_BE, aOffset) >>> drop;
            long y = b.get(U64_BE, bOffset) >>> drop;
            if (x != y) return Long.compareUnsigned(x, y);
            return Integer.compare(aBytes, bBytes);
        }
        long m = MemorySegment.mismatch(a, aOffset, aOffset + aBytes, b, bOffset, bOffset + bBytes);
        if (m < 0) return 0;
        if (m == aBytes) return -1;
        if (m == bBytes) return 1;
        return Integer.compare(a.get(U8, aOffset + m) & 0xFF, b.get(U8, bOffset + m) & 0xFF);
    }

    static int compare(byte[] a, byte[] b) {
        return java.util.Arrays.compareUnsigned(a, b);
    }
}
