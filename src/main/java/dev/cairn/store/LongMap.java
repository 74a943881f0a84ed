package dev.cairn.store;

import java.util.Arrays;

/**
 * A map from page id (a positive long) to a value, open addressing with linear probing; no
 * boxing on the write path's hot lookups. Removal uses backward-shift deletion.
 */
final class LongMap<V> {
    private long[] keys = new long[64];
    private Object[] values = new Object[64];
    private int size;

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 40) & (keys.length - 1);
    }

    @SuppressWarnings("unchecked")
    V get(long key) {
        for (int i = slot(key); ; i = (i + 1) & (keys.length - 1)) {
            long k = keys[i];
            if (k == key) return (V) values[i];
            if (k == 0) return null;
        }
    }

    void put(long key, V value) {
        if (size * 2 >= keys.length) grow();
        for (int i = slot(key); ; i = (i + 1) & (keys.length - 1)) {
            if (keys[i] == key) {
                values[i] = value;
                return;
            }
            if (keys[i] == 0) {
                keys[i] = key;
                values[i] = value;
                size++;
                return;
            }
        }
    }

    void remove(long key) {
        int mask = keys.length - 1;
        int i = slot(key);
        while (keys[i] != key) {
            if (keys[i] == 0) return;
            i = (i + 1) & mask;
        }
        keys[i] = 0;
        values[i] = null;
        size--;
        for (int j = (i + 1) & mask; keys[j] != 0; j = (j + 1) & mask) {
            int home = slot(keys[j]);
            // Move entry j into the hole at i when its home slot does not lie cyclically in (i, j].
            boolean between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
            if (!between) {
                keys[i] = keys[j];
                values[i] = values[j];
                keys[j] = 0;
                values[j] = null;
                i = j;
            }
        }
    }

    int size() {
        return size;
    }

    void clear() {
        Arrays.fill(keys, 0);
        Arrays.fill(values, null);
        size = 0;
    }

    /** The number of slots, for a walk with {@link #valueAt} that allocates nothing. */
    int slots() {
        return keys.length;
    }

    /** The value in slot {@code i}, or null if the slot is empty. */
    @SuppressWarnings("unchecked")
    V valueAt(int i) {
        return (V) values[i];
    }

    /** The keys, sorted. */
    long[] sortedKeys() {
        long[] out = new long[size];
        int n = 0;
        for (long k : keys) if (k != 0) out[n++] = k;
        Arrays.sort(out);
        return out;
    }

    private void grow() {
        long[] oldKeys = keys;
        Object[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new Object[oldKeys.length * 2];
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != 0) {
                @SuppressWarnings("unchecked")
                V v = (V) oldValues[i];
                put(oldKeys[i], v);
            }
        }
    }
}
