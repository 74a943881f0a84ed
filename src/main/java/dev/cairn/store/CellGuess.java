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
    /** The guess loads the 8-byte words this many bytes before the likely cell end. */
    private static final int NEAR = 33;
    private static final int FAR = 97;
    /** How many of a page's keys {@link #toRecord} tries the guess on. */
    private static final int SAMPLES = 8;

    private CellGuess() { }

    /**
     * Loads the two words where the cell of a key with this head most likely starts. Nothing
     * read is used: a wrong guess costs two loads.
     *
     * @param cellStart the page's cell start as its parent records it; 0: none, no guess
     */
    static void touch(MemorySegment segment, long base, int pageBytes, int cellStart, long low, long high, long head) {
        if (cellStart < HEADER_BYTES || cellStart >= pageBytes) return;
        long end = likelyEnd(pageBytes, cellStart, low, high, head);
        long sum = segment.get(U64, base + word(end - FAR, cellStart, pageBytes))
            + segment.get(U64, base + word(end - NEAR, cellStart, pageBytes));
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
        long end = likelyEnd(pageBytes, cellStart, low, high, NodePage.head(page, index));
        long near = word(end - NEAR, cellStart, pageBytes) / 64;
        long far = word(end - FAR, cellStart, pageBytes) / 64;
        int cell = NodePage.slot(page, index);
        // The cell's header, 8 key bytes and a 4-byte field.
        long first = cell / 64;
        long last = (Math.min(cell + LEAF_CELL_HEADER + 12, pageBytes) - 1) / 64;
        return (first == near || first == far) && (last == near || last == far);
    }

    /**
     * The cell start a branch records for a child (storage-format.md §4.1): a leaf's, when the
     * guess finds the cell of at least 3 in 4 of about 8 keys spread over it (every
     * (count / 8)th key from its first), else 0; always 0 for a branch. The head range is taken
     * from the child's own keys, not from the separators a read has: the record depends on the
     * child alone, so it stays true when the child's cell moves to another branch.
     */
    static int toRecord(MemorySegment child, int pageBytes) {
        int n = count(child);
        if (!NodePage.isLeaf(child) || n == 0) return 0;
        // A read's range ends at the next page's first key: one step past this page's last key
        // where keys are evenly spread.
        long low = NodePage.head(child, 0);
        long last = NodePage.head(child, n - 1);
        long high = n > 1 ? last + Long.divideUnsigned(last - low, n - 1) : last;
        // Every key of a full leaf would cost a commit ~1 µs per page: 8 spread over it decide.
        int step = Math.max(1, n / SAMPLES);
        int tried = 0;
        int found = 0;
        for (int i = 0; i < n; i += step) {
            tried++;
            if (finds(child, i, pageBytes, low, high)) found++;
        }
        return found * 4 >= tried * 3 ? child.get(U16, CELL_START_OFFSET) & 0xFFFF : 0;
    }
}
