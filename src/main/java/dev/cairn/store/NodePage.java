package dev.cairn.store;

import java.lang.foreign.MemorySegment;

import static dev.cairn.store.PageLayout.*;

/**
 * Slotted B+tree node pages, leaf and branch (storage-format.md §4): static readers over a
 * page segment (nothing here allocates on the read path), and the cell builders both sides use.
 * Pages being written are changed by {@link PageBuffer}.
 *
 * <ul>
 *   <li>{@code NodePage --> PageHeader, Slot^count, Free, Cell^count}; a slot is the u16 offset
 *       of a cell and the cell key's head (its first 8 bytes, zero-padded), in key order; cells
 *       grow down from the page end ({@code cellStart}).
 *   <li>Searches compare heads first: they lie together in the slot array, so a search reads a
 *       few adjacent cache lines instead of one line per probed cell. Only a probe whose head
 *       equals the search key's reads the cell. A search for a key starts where the key's head
 *       lies between the first and last heads ({@link #firstHeadNear}): evenly spread keys
 *       such as ids are found in a few loads that do not wait on each other.
 *   <li>Branch cell 0 has an empty key that stands for minus infinity; child i holds the keys
 *       k with key(i) <= k < key(i+1).
 *   <li>{@code garbageBytes} counts bytes of cells that were removed in place; a rebuild
 *       reclaims them.
 * </ul>
 */
final class NodePage {
    private NodePage() { }

    static boolean isLeaf(MemorySegment page) {
        return kind(page) == KIND_LEAF;
    }

    static int slot(MemorySegment page, int index) {
        return slot(page, HEADER_BYTES, index);
    }

    static long head(MemorySegment page, int index) {
        return slotHead(page, HEADER_BYTES, index);
    }

    /** Slot {@code index} of a page whose slot array starts at byte {@code slots} of the segment. */
    static int slot(MemorySegment segment, long slots, int index) {
        return u16(segment, slots + (long) SLOT_BYTES * index);
    }

    static long slotHead(MemorySegment segment, long slots, int index) {
        return segment.get(U64_BE, slots + (long) SLOT_BYTES * index + SLOT_HEAD_OFFSET);
    }

    /** A key's head: its first 8 bytes as an unsigned big-endian number, zero-padded. */
    static long head(MemorySegment key, long offset, int keyBytes) {
        if (keyBytes >= 8) return key.get(U64_BE, offset);
        long head = 0;
        for (int i = 0; i < keyBytes; i++) head |= (long) (key.get(U8, offset + i) & 0xFF) << (56 - 8 * i);
        return head;
    }

    static long head(byte[] bytes, int offset, int keyBytes) {
        long head = 0;
        for (int i = 0; i < Math.min(8, keyBytes); i++) head |= (long) (bytes[offset + i] & 0xFF) << (56 - 8 * i);
        return head;
    }

    // ---------------------------------------------------------------- cells, either kind

    static int keyBytes(MemorySegment page, int cellOffset) {
        return u16(page, cellOffset);
    }

    static long keyOffset(MemorySegment page, int cellOffset) {
        return cellOffset + (isLeaf(page) ? LEAF_CELL_HEADER : BRANCH_CELL_HEADER);
    }

    // ---------------------------------------------------------------- leaf cells

    static boolean isOverflow(MemorySegment page, int cellOffset) {
        return (page.get(U8, cellOffset + 2) & FLAG_OVERFLOW) != 0;
    }

    static int valueBytes(MemorySegment page, int cellOffset) {
        return page.get(U32, cellOffset + 3);
    }

    static long valueOffset(MemorySegment page, int cellOffset) {
        return cellOffset + LEAF_CELL_HEADER + keyBytes(page, cellOffset);
    }

    static long runPageId(MemorySegment page, int cellOffset) {
        return page.get(U64, valueOffset(page, cellOffset));
    }

    static long runTxnId(MemorySegment page, int cellOffset) {
        return page.get(U64, valueOffset(page, cellOffset) + 8);
    }

    /** First slot whose key is >= the search key; count when every key is smaller. */
    static int lowerBound(MemorySegment page, MemorySegment key, long keyOffset, int keyBytes) {
        int n = count(page);
        long head = head(key, keyOffset, keyBytes);
        int i = firstHeadNear(page, HEADER_BYTES, 0, n, head);
        if (i == n || head(page, i) != head) return i;
        // Slots [i, j) share the search key's head: only there do the cells decide.
        int j = i + 1 < n && head(page, i + 1) == head ? firstHead(page, HEADER_BYTES, i + 1, n, head, true) : i + 1;
        return firstKeyAbove(page, i, j, key, keyOffset, keyBytes, false);
    }

    /**
     * First slot in [from, to) whose head is greater than (above) or at least (!above) the given
     * head, to when none. Both updates hang on one comparison, which the JIT can turn into
     * conditional moves: the probes of a search over random keys are unpredictable branches.
     */
    static int firstHead(MemorySegment segment, long slots, int from, int to, long head, boolean above) {
        long h = head + Long.MIN_VALUE; // flipping the sign bit makes the signed order the unsigned one
        int base = from;
        int n = to - from;
        while (n > 0) {
            int half = n >>> 1;
            long probe = slotHead(segment, slots, base + half) + Long.MIN_VALUE;
            boolean before = above ? probe <= h : probe < h;
            base = before ? base + half + 1 : base;
            n = before ? n - half - 1 : half;
        }
        return base;
    }

    /**
     * {@link #firstHead} with !above, for pages whose heads are spread evenly (ids): guesses the
     * slot from where the head lies between the first and last heads, then gallops from the
     * guess. Where the guess is right, the search is a few loads that do not wait on each other,
     * instead of a chain of about log2(n) dependent probes; where it is wrong, it costs at most
     * about twice the probes of a binary search.
     */
    static int firstHeadNear(MemorySegment segment, long slots, int from, int to, long head) {
        int n = to - from;
        if (n < 8) return firstHead(segment, slots, from, to, head, false);
        long h = head + Long.MIN_VALUE;
        long first = slotHead(segment, slots, from) + Long.MIN_VALUE;
        long last = slotHead(segment, slots, to - 1) + Long.MIN_VALUE;
        if (h <= first) return from;
        if (h > last) return to;
        // first < h <= last: the answer is in (from, to - 1]. Unsigned distances, halved so that
        // they convert as positive longs; the fraction is then in [0, 1].
        long span = (last - first) >>> 1;
        double fraction = span > 0 ? (double) ((h - first) >>> 1) / span : 0;
        int guess = Math.min(from + 1 + (int) (fraction * (n - 2)), to - 1);
        long atGuess = slotHead(segment, slots, guess) + Long.MIN_VALUE;
        long belowGuess = slotHead(segment, slots, guess - 1) + Long.MIN_VALUE;
        if (atGuess >= h) {
            if (belowGuess < h) return guess;
            // The answer is in (from, guess - 1]: gallop down until a head below h.
            int high = guess - 1;
            int step = 1;
            int low;
            while (true) {
                int at = high - step;
                if (at <= from) { low = from; break; }
                if (slotHead(segment, slots, at) + Long.MIN_VALUE < h) { low = at; break; }
                high = at;
                step <<= 1;
            }
            return firstHead(segment, slots, low + 1, high, head, false);
        }
        // The answer is in (guess, to - 1]: gallop up until a head at or above h.
        int low = guess;
        int step = 1;
        int high;
        while (true) {
            int at = low + step;
            if (at >= to - 1) { high = to - 1; break; }
            if (slotHead(segment, slots, at) + Long.MIN_VALUE >= h) { high = at; break; }
            low = at;
            step <<= 1;
        }
        return firstHead(segment, slots, low + 1, high, head, false);
    }

    /** First slot in [from, to) whose key is greater than (above) or at least (!above) the search key. */
    private static int firstKeyAbove(MemorySegment page, int from, int to, MemorySegment key, long keyOffset,
                                     int keyBytes, boolean above) {
        long cellHeader = isLeaf(page) ? LEAF_CELL_HEADER : BRANCH_CELL_HEADER;
        int low = from;
        int high = to;
        while (low < high) {
            int mid = (low + high) >>> 1;
            int cell = slot(page, mid);
            int c = compare(page, cell + cellHeader, u16(page, cell), key, keyOffset, keyBytes);
            if (above ? c <= 0 : c < 0) low = mid + 1; else high = mid;
        }
        return low;
    }

    /** Written only when an impossible sum turns up; it keeps the JIT from dropping the loads. */
    static long touchSink;

    /**
     * Reads one word of each cache line of the slot array before a binary search. The loads do
     * not depend on each other, so the CPU fetches the lines in parallel; the search's probes,
     * which depend on each other, then hit the cache. (Java has no prefetch instruction.) Read
     * paths call it on mapped pages, which are likely cold; writers search hot pages.
     */
    static void touchSlots(MemorySegment page) {
        touchSlots(page, 0, count(page));
    }

    /** {@link #touchSlots(MemorySegment)} for the page at byte {@code base} of the segment. */
    static void touchSlots(MemorySegment segment, long base, int count) {
        touchLines(segment, base + 64, base + HEADER_BYTES + (long) SLOT_BYTES * count);
    }

    /** Bytes of a page that {@link #touchHead} reads: the header and the first 48 slots. */
    static final int HEAD_BYTES = 512;

    /**
     * Reads one word of each cache line of the page's first {@link #HEAD_BYTES} bytes, without
     * reading the header first: so the header's line and the slot lines after it load in
     * parallel rather than one after the other. A leaf of ~70-byte values (about 45 cells) has
     * its whole slot array there. Every page is larger (pages are at least 4 KiB).
     */
    static void touchHead(MemorySegment segment, long base) {
        // Written out, not touchLines: as a loop it made a 2,000-key hot set of gets ~15% slower.
        long sum = segment.get(U64, base + 64) + segment.get(U64, base + 128) + segment.get(U64, base + 192)
            + segment.get(U64, base + 256) + segment.get(U64, base + 320) + segment.get(U64, base + 384)
            + segment.get(U64, base + 448);
        if (sum == 0x5EED_5EED_5EED_5EEDL) touchSink = sum;
    }

    /** After {@link #touchHead}: the slot lines beyond its bytes, if the page has more slots. */
    static void touchSlotsPastHead(MemorySegment segment, long base, int count) {
        touchLines(segment, base + HEAD_BYTES, base + HEADER_BYTES + (long) SLOT_BYTES * count);
    }

    private static void touchLines(MemorySegment segment, long from, long end) {
        long sum = 0;
        for (long at = from; at < end; at += 64) sum += segment.get(U64, at);
        if (sum == 0x5EED_5EED_5EED_5EEDL) touchSink = sum;
    }

    static boolean keyEquals(MemorySegment page, int index, MemorySegment key, long keyOffset, int keyBytes) {
        int cell = slot(page, index);
        return compare(page, keyOffset(page, cell), keyBytes(page, cell), key, keyOffset, keyBytes) == 0;
    }

    /**
     * Compares a key stored at {@code keyAt} of the segment with the search key when both have
     * the same head (first 8 bytes, zero-padded): then the shorter one, if either has at most 8
     * bytes, is a prefix of the other (padding bytes equal the longer key's zero bytes), so the
     * lengths decide; otherwise the bytes after the head do.
     */
    static int compareTied(MemorySegment segment, long keyAt, int keyBytes, MemorySegment key, int searchBytes) {
        if (keyBytes <= 8 || searchBytes <= 8) return Integer.compare(keyBytes, searchBytes);
        return compare(segment, keyAt + 8, keyBytes - 8, key, 8, searchBytes - 8);
    }

    // ---------------------------------------------------------------- branch cells

    static long child(MemorySegment page, int index) {
        return page.get(U64, slot(page, index) + 2L) & CHILD_ID_MASK;
    }

    /** The cell start the branch records for child index (0: none, in a version-2 file). */
    static int childCellStart(MemorySegment page, int index) {
        return (int) (page.get(U64, slot(page, index) + 2L) >>> CHILD_ID_BITS);
    }

    static long childTxn(MemorySegment page, int index) {
        return page.get(U64, slot(page, index) + 10L);
    }

    /** Index of the child whose range holds the key: the last i >= 1 with key(i) <= key, else 0. */
    static int childIndex(MemorySegment page, MemorySegment key, long keyOffset, int keyBytes) {
        int n = count(page);
        long head = head(key, keyOffset, keyBytes);
        // Slot 0 (minus infinity) always precedes; slots [1, i) have smaller heads, so keys <= key.
        int i = firstHeadNear(page, HEADER_BYTES, 1, n, head);
        if (i == n || head(page, i) != head) return i - 1;
        int j = i + 1 < n && head(page, i + 1) == head ? firstHead(page, HEADER_BYTES, i + 1, n, head, true) : i + 1;
        return firstKeyAbove(page, i, j, key, keyOffset, keyBytes, true) - 1;
    }

    // ---------------------------------------------------------------- cell builders (byte[] form)

    static byte[] leafCell(byte[] key, MemorySegment value) {
        int k = key.length;
        int v = (int) value.byteSize();
        byte[] cell = new byte[LEAF_CELL_HEADER + k + v];
        PageBuffer.put16(cell, 0, k);
        PageBuffer.put32(cell, 3, v);
        System.arraycopy(key, 0, cell, LEAF_CELL_HEADER, k);
        MemorySegment.copy(value, U8, 0, cell, LEAF_CELL_HEADER + k, v);
        return cell;
    }

    static byte[] overflowCell(byte[] key, int valueBytes, long runPageId, long runTxnId) {
        int k = key.length;
        byte[] cell = new byte[LEAF_CELL_HEADER + k + OVERFLOW_REF_BYTES];
        PageBuffer.put16(cell, 0, k);
        cell[2] = FLAG_OVERFLOW;
        PageBuffer.put32(cell, 3, valueBytes);
        System.arraycopy(key, 0, cell, LEAF_CELL_HEADER, k);
        PageBuffer.put64(cell, LEAF_CELL_HEADER + k, runPageId);
        PageBuffer.put64(cell, LEAF_CELL_HEADER + k + 8, runTxnId);
        return cell;
    }

    static byte[] branchCell(byte[] key, long childId, long childTxn) {
        byte[] cell = new byte[BRANCH_CELL_HEADER + key.length];
        MemorySegment c = MemorySegment.ofArray(cell);
        c.set(U16, 0, (short) key.length);
        c.set(U64, 2, childId);
        c.set(U64, 10, childTxn);
        System.arraycopy(key, 0, cell, BRANCH_CELL_HEADER, key.length);
        return cell;
    }

    /** The head of the key inside a cell in byte[] form. */
    static long cellHead(byte[] cell, boolean leaf) {
        int k = (cell[0] & 0xFF) | (cell[1] & 0xFF) << 8;
        return head(cell, leaf ? LEAF_CELL_HEADER : BRANCH_CELL_HEADER, k);
    }

    static byte[] cellKey(byte[] cell, boolean leaf) {
        int k = (cell[0] & 0xFF) | (cell[1] & 0xFF) << 8;
        int from = leaf ? LEAF_CELL_HEADER : BRANCH_CELL_HEADER;
        return java.util.Arrays.copyOfRange(cell, from, from + k);
    }

    static long cellChild(byte[] cell) {
        return MemorySegment.ofArray(cell).get(U64, 2) & CHILD_ID_MASK;
    }

    static long cellChildTxn(byte[] cell) {
        return MemorySegment.ofArray(cell).get(U64, 10);
    }

    /** The branch cell with another key; child id and recorded cell start stay. */
    static byte[] withKey(byte[] branchCell, byte[] key) {
        return branchCell(key, MemorySegment.ofArray(branchCell).get(U64, 2), cellChildTxn(branchCell));
    }

    /** Shortest prefix of {@code right} that is greater than {@code left} (left < right). */
    static byte[] separator(byte[] left, byte[] right) {
        int i = 0;
        while (i < left.length && i < right.length && left[i] == right[i]) i++;
        return java.util.Arrays.copyOf(right, Math.min(right.length, i + 1));
    }
}
