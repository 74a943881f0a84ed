package dev.cairn.schema;

import dev.cairn.internal.Limits;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A growable little-endian byte buffer that encoders write into; one per thread is reused, so
 * encoding allocates only the returned copy (and growth while the buffer warms up).
 *
 * <ul>
 *   <li>{@code position <= buffer.length}; nothing past {@code position} is meaningful.
 *   <li>A value never grows past {@link Limits#VALUE_BYTES_MAX}: encoders fail before that.
 * </ul>
 */
final class Sink {
    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class,
        ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class,
        ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class,
        ByteOrder.LITTLE_ENDIAN);
    private static final int KEEP_BYTES_MAX = 1 << 20;
    private static final ThreadLocal<Sink> LOCAL = ThreadLocal.withInitial(Sink::new);

    byte[] buffer = new byte[256];
    int position;
    private boolean busy;

    /** The calling thread's sink, emptied; {@link #release()} it when done. */
    static Sink acquire() {
        Sink sink = LOCAL.get();
        if (sink.busy) return new Sink().claim();
        return sink.claim();
    }

    private Sink claim() {
        busy = true;
        position = 0;
        return this;
    }

    void release() {
        busy = false;
        if (buffer.length > KEEP_BYTES_MAX) buffer = new byte[256];
    }

    byte[] toBytes() {
        return Arrays.copyOf(buffer, position);
    }

    private void ensure(int more) {
        long need = (long) position + more;
        if (need > buffer.length) {
            if (need > Limits.VALUE_BYTES_MAX) {
                throw new IllegalArgumentException("the value encodes to more than "
                    + Limits.VALUE_BYTES_MAX + " bytes (expected: a stored record is at most RECORD_BYTES_MAX "
                    + Limits.RECORD_BYTES_MAX + " bytes with its metadata)");
            }
            buffer = Arrays.copyOf(buffer, (int) Math.min(Limits.VALUE_BYTES_MAX, Math.max(need,
                2L * buffer.length)));
        }
    }

    int reserve(int bytes) {
        ensure(bytes);
        int at = position;
        position += bytes;
        return at;
    }

    void putByte(int v) {
        ensure(1);
        buffer[position++] = (byte) v;
    }

    void putShort(int v) {
        ensure(2);
        SHORT.set(buffer, position, (short) v);
        position += 2;
    }

    void putInt(int v) {
        ensure(4);
        INT.set(buffer, position, v);
        position += 4;
    }

    void putLong(long v) {
        ensure(8);
        LONG.set(buffer, position, v);
        position += 8;
    }

    void putByteAt(int at, int v) {
        buffer[at] = (byte) v;
    }

    void putShortAt(int at, int v) {
        SHORT.set(buffer, at, (short) v);
    }

    void putIntAt(int at, int v) {
        INT.set(buffer, at, v);
    }

    void putLongAt(int at, long v) {
        LONG.set(buffer, at, v);
    }

    int getIntAt(int at) {
        return (int) INT.get(buffer, at);
    }

    void putBytes(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, buffer, position, b.length);
        position += b.length;
    }

    /**
     * UTF-8 of {@code s}. A string with an unpaired surrogate has no UTF-8 form: it is refused
     * naming {@code path} (the field), rather than stored altered ('?', as String.getBytes does).
     */
    void putUtf8(String s, String path) {
        int n = s.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                if (position == buffer.length) ensure(1);
                buffer[position++] = (byte) c;
            } else if (c < 0x800) {
                ensure(2);
                buffer[position++] = (byte) (0xC0 | c >> 6);
                buffer[position++] = (byte) (0x80 | c & 0x3F);
            } else if (Character.isHighSurrogate(c) && i + 1 < n
                && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                ensure(4);
                buffer[position++] = (byte) (0xF0 | cp >> 18);
                buffer[position++] = (byte) (0x80 | cp >> 12 & 0x3F);
                buffer[position++] = (byte) (0x80 | cp >> 6 & 0x3F);
                buffer[position++] = (byte) (0x80 | cp & 0x3F);
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException(path + ": string with an unpaired surrogate \\u"
                    + Integer.toHexString(c).toUpperCase(java.util.Locale.ROOT) + " at index " + i
                    + " (UTF-8 cannot hold it; nothing was stored)");
            } else {
                ensure(3);
                buffer[position++] = (byte) (0xE0 | c >> 12);
                buffer[position++] = (byte) (0x80 | c >> 6 & 0x3F);
                buffer[position++] = (byte) (0x80 | c & 0x3F);
            }
        }
    }

    /**
     * Puts the entries of the collection written at {@code start} (count, end offsets, items) in
     * the unsigned order of the bytes of each entry's first item, so that sets and maps encode
     * deterministically whatever their iteration order (record-format.md §4.3). The collection
     * must end at {@link #position}. A set keeps an item once unless {@code keepEqual}: two
     * elements that differ in Java but not in their bytes (a null Optional and an empty one, or
     * records holding them) are one stored value, and the set is shortened; elements that hold a
     * {@code byte[]} stay two (Java compares arrays by identity, and they decode as two).
     */
    void sortEntries(int start, int itemsPerEntry, boolean keepEqual) {
        int count = getIntAt(start);
        if (count < 2) return;
        int items = count * itemsPerEntry;
        int dataStart = 4 + 4 * items;
        int[] begin = new int[count];
        int[] end = new int[count];
        int[] keyEnd = new int[count];
        boolean[] nullKey = new boolean[count];
        for (int i = 0; i < count; i++) {
            int first = i * itemsPerEntry;
            begin[i] = first == 0 ? dataStart : getIntAt(start + 4
                + 4 * (first - 1)) & Bin.OFFSET_MASK;
            int keyRaw = getIntAt(start + 4 + 4 * first);
            keyEnd[i] = keyRaw & Bin.OFFSET_MASK;
            nullKey[i] = (keyRaw & Bin.NULL_BIT) != 0;
            end[i] = getIntAt(start + 4 + 4 * (first + itemsPerEntry - 1)) & Bin.OFFSET_MASK;
        }
        // By the key's bytes; a null set element (empty bytes) before an element whose bytes are
        // empty too, such as "": else their order would be the set's own, and equal sets could
        // give different bytes.
        java.util.Comparator<Integer> byKey = (a, b) -> {
            int c = compare(start, begin[a], keyEnd[a], begin[b], keyEnd[b]);
            return c != 0 ? c : Boolean.compare(!nullKey[a], !nullKey[b]);
        };
        Integer[] order = new Integer[count];
        boolean sorted = true;
        for (int i = 0; i < count; i++) {
            order[i] = i;
            if (i > 0 && byKey.compare(i - 1, i) > 0) sorted = false;
        }
        if (!sorted) Arrays.sort(order, byKey);
        boolean[] repeated = new boolean[count];
        int kept = count;
        for (int k = 1; k < count && itemsPerEntry == 1 && !keepEqual; k++) {
            if (byKey.compare(order[k - 1], order[k]) == 0) {
                repeated[k] = true;
                kept--;
            }
        }
        if (sorted && kept == count) return;
        byte[] data = Arrays.copyOfRange(buffer, start + dataStart, position);
        int[] offsets = new int[items];
        for (int i = 0; i < items; i++) offsets[i] = getIntAt(start + 4 + 4 * i);
        putIntAt(start, kept);
        int at = 4 + 4 * kept * itemsPerEntry;
        int item = 0;
        for (int k = 0; k < count; k++) {
            if (repeated[k]) continue;
            int e = order[k];
            System.arraycopy(data, begin[e] - dataStart, buffer, start + at, end[e] - begin[e]);
            int itemBegin = begin[e];
            for (int j = 0; j < itemsPerEntry; j++) {
                int raw = offsets[e * itemsPerEntry + j];
                int itemEnd = raw & Bin.OFFSET_MASK;
                at += itemEnd - itemBegin;
                putIntAt(start + 4 + 4 * item, at | (raw & Bin.NULL_BIT));
                itemBegin = itemEnd;
                item++;
            }
        }
        position = start + at;
    }

    private int compare(int base, int aBegin, int aEnd, int bBegin, int bEnd) {
        return Arrays.compareUnsigned(buffer, base + aBegin, base + aEnd, buffer, base + bBegin,
            base + bEnd);
    }
}
