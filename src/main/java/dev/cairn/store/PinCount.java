package dev.cairn.store;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * How many readers pin one snapshot, counted in stripes so that readers on different threads
 * do not write the same cache line (storage-format.md §6).
 *
 * <ul>
 *   <li>A pin and its unpin use the same stripe (the read transaction remembers it), so every
 *       stripe stays >= 0 and counts exactly the pins taken through it.
 *   <li>{@link #any()} reads the stripes one by one. It may miss a pin taken while it runs;
 *       such a reader re-reads the current snapshot after pinning and retries if it changed, so
 *       it never uses a snapshot the writer saw unpinned (volatile/atomic accesses are
 *       sequentially consistent).
 * </ul>
 */
final class PinCount {
    private static final int STRIPES = 8;
    /** 16 longs = 128 bytes between stripes: two cache lines, as adjacent-line prefetch pairs them. */
    private static final int SPACING = 16;

    private final AtomicLongArray cells = new AtomicLongArray(STRIPES * SPACING);

    /** The calling thread's stripe. */
    static int stripe() {
        return (int) Thread.currentThread().threadId() & (STRIPES - 1);
    }

    void pin(int stripe) {
        cells.getAndIncrement(stripe * SPACING);
    }

    void unpin(int stripe) {
        cells.getAndDecrement(stripe * SPACING);
    }

    boolean any() {
        for (int i = 0; i < STRIPES; i++) {
            if (cells.get(i * SPACING) != 0) return true;
        }
        return false;
    }
}
