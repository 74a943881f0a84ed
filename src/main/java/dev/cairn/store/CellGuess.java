package dev.cairn.store;

import java.lang.foreign.MemorySegment;

import static dev.cairn.store.PageLayout.*;

/**
 * A point read's guess of where a key's cell lies in a node page, made before the page's header
 * is read (storage-format.md §4.1, "child cell start"): the cell's cache miss then overlaps the
 * header's instead of following the search. The page's cells lie packed at its end in slot
 * order, and its parent records its cell start; the key's head lies at some fraction of the way
 * through the head range the parent's separators allow, so its cell ends about that fraction of
 * the way down from the page's end. That holds where keys are evenly spread, as ids are; for
 * other pages the writer records no cell start, and readers do not guess. Nor for branch pages:
 * guessing there too was slower, on a 10M-record tree as well (their lines are mostly cached,
 * and the guess costs a division and two loads per level).
 */
final class CellGuess {
    /**
     * The guess loads the 8-byte words this many bytes before the likely cell end, for the
     * cell's header, key and first value bytes, and the word just before it, for the value's end
     * (a full decode reads it: without it, W2's decoded gets were ~7% slower, W3's ~3%).
     */
    private static final int NEAR = 33;
    private static final int FAR = 97;
    /** How many of a page's keys {@link #toRecord} tries the guess on. */
    private static final int SAMPLES = 8;

    private CellGuess() { }

    /**
     * Loads the two words where the cell of a key with this head most likely starts, and the
     * one where it most likely ends. Nothing read is used: a wrong guess costs three loads.
     *
     * @param cellStart the page's cell start as its parent records it; 0: none, no guess
     */
    static void touch(MemorySegment segment, long base, int pageBytes, int cellStart, long low, long high, long head) {
        if (cellStart < HEADER_BYTES || cellStart >= pageBytes) return;
        long end = likelyEnd(pageBytes, cellStart, low, high, head);
        long sum = segment.get(U64, base + word(end - FAR, cellStart, pageBytes))
            + segment.get(U64, base + word(end - NEAR, cellStart, pageBytes))
            + segment.get(U64, base + word(end - 8, cellStart, pageBytes));
        if (sum == 0x5EED_5EED_5EED_5EEDL) NodePage.touchSink = sum;
    }

    /** Where the cell of a key with this head most likely ends, for a head range [low, high]. */
    static long likelyEnd(int pageBytes, int cellStart, long low, long high, long head) {
        // Unsigned distances, halved so that they convert as positive longs.
        double span = (double) ((high - low) >>> 1);
        double fraction = span > 0 ? Math.min((double) ((head - low) >>> 1) / span, 1) : 0;
        return pageBytes - (long) (fraction * (pageBytes - cellStart));
    }

    /** An 8-byte-aligned offset near at, inside [cellStart, pageBytes - 8]. */
    static long word(long at, int cellStart, int pageBytes) {
        return Math.min(Math.max(at, cellStart), pageBytes - 8) & ~7L;
    }

    /** Whether the guess for slot index's key loads the lines of its leaf cell that a read needs first. */
    static boolean finds(MemorySegment page, int index, int pageBytes, long low, long high) {
        int cellStart = page.get(U16, CELL_START_OFFSET) & 0xFFFF;
        return finds(NodePage.slot(page, index), cellStart, pageBytes, low, high, NodePage.head(page, index));
    }

    /** Whether the guess for a key with this head, in a page with this cell start, loads the first lines of its cell at cell. */
    private static boolean finds(int cell, int cellStart, int pageBytes, long low, long high, long head) {
        long end = likelyEnd(pageBytes, cellStart, low, high, head);
        long near = word(end - NEAR, cellStart, pageBytes) / 64;
        long far = word(end - FAR, cellStart, pageBytes) / 64;
        // The cell's header, 8 key bytes and a 4-byte field.
        long first = cell / 64;
        long last = (Math.min(cell + LEAF_CELL_HEADER + 12, pageBytes) - 1) / 64;
        return (first == near || first == far) && (last == near || last == far);
    }

    /**
     * The cell start a branch records for a child (storage-format.md §4.1): a leaf's when its
     * cells are packed in slot order and {@link #worksPacked} holds for it, else 0; always 0 for a
     * branch. It depends on the child alone, so it stays true when the child's cell moves to
     * another branch.
     */
    static int toRecord(byte[] child) {
        if (!PageBuffer.isLeaf(child) || PageBuffer.count(child) == 0) return 0;
        int[] packed = PageBuffer.packedOffsets(child);
        return PageBuffer.isPackedAs(child, packed) && worksPacked(child, packed) ? packed[packed.length - 1] : 0;
    }

    /**
     * The writer's step for a page it wrote: a leaf for which the guess works once its cells are
     * packed gets them packed; other pages stay as they are (packing a leaf of random keys, where
     * the guess fails, would be CPU for nothing). Returns what {@link #toRecord} now says of it.
     */
    static int packIfItHelps(byte[] page) {
        if (!PageBuffer.isLeaf(page) || PageBuffer.count(page) == 0) return 0;
        int[] packed = PageBuffer.packedOffsets(page);
        if (!worksPacked(page, packed)) return 0;
        if (!PageBuffer.isPackedAs(page, packed)) PageBuffer.compact(page);
        return packed[packed.length - 1];
    }

    /**
     * Whether the guess, with the cells at {@code packed} (their offsets were the leaf packed,
     * the cell start last), finds the cell of at least 3 in 4 of about 8 keys spread over the
     * leaf (every (count / 8)th key from its first). The head range is taken from the leaf's
     * own keys, not from the separators a read has: a read's range ends at the next page's
     * first key, one step past this page's last key where keys are evenly spread.
     */
    private static boolean worksPacked(byte[] leaf, int[] packed) {
        int n = PageBuffer.count(leaf);
        int pageBytes = leaf.length;
        long low = slotHead(leaf, 0);
        long last = slotHead(leaf, n - 1);
        long high = n > 1 ? last + Long.divideUnsigned(last - low, n - 1) : last;
        // Every key of a full leaf would cost a commit ~1 µs per page: 8 spread over it decide.
        int step = Math.max(1, n / SAMPLES);
        int tried = 0;
        int found = 0;
        for (int i = 0; i < n; i += step) {
            tried++;
            if (finds(packed[i], packed[n], pageBytes, low, high, slotHead(leaf, i))) found++;
        }
        return found * 4 >= tried * 3;
    }

    private static long slotHead(byte[] page, int index) {
        return NodePage.head(page, HEADER_BYTES + SLOT_BYTES * index + SLOT_HEAD_OFFSET, 8);
    }
}
