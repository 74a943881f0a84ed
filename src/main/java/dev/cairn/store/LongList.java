package dev.cairn.store;

/** A growable list of longs. */
final class LongList {
    private long[] values = new long[16];
    private int size;

    /** Makes room for {@code n} more values, so that the next n adds allocate nothing. */
    void reserve(int n) {
        if (size + n > values.length) values = java.util.Arrays.copyOf(values, Math.max(size + n, size * 2));
    }

    void add(long v) {
        if (size == values.length) values = java.util.Arrays.copyOf(values, size * 2);
        values[size++] = v;
    }

    long get(int i) {
        return values[i];
    }

    int size() {
        return size;
    }

    void clear() {
        size = 0;
    }

    long[] toArray() {
        return java.util.Arrays.copyOf(values, size);
    }
}
