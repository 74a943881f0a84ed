package dev.cairn.store;

import dev.cairn.internal.Check;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.cairn.store.PageLayout.*;

/**
 * A node page being written: a heap {@code byte[]} in the layout of storage-format.md §4.1,
 * changed in place by the write transaction that owns it (a "dirty page").
 *
 * <ul>
 *   <li>{@link NodePage} reads pages through segments (mapped pages, zero-copy); this class builds
 *       and changes them with plain array code. Array code is fast before the JIT has compiled it
 *       too (a bulk load spends its first ~100k puts there) and keeps heap pages out of the type
 *       profiles of the read path.
 *   <li>Keys are compared as unsigned bytes ({@link Arrays#compareUnsigned}); slot heads follow
 *       {@link NodePage#head(byte[], int, int)}.
 * </ul>
 */
final class PageBuffer {
    private PageBuffer() { }

    // ---------------------------------------------------------------- little-endian fields

    static void put16(byte[] b, int at, int v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >>> 8);
    }

    static void put32(byte[] b, int at, int v) {
        put16(b, at, v);
        put16(b, at + 2, v >>> 16);
    }

    static void put64(byte[] b, int at, long v) {
        put32(b, at, (int) v);
        put32(b, at + 4, (int) (v >>> 32));
    }

    private static void putHead(byte[] b, int at, long head) {
        for (int i = 0; i < 8; i++) b[at + i] = (byte) (head >>> (56 - 8 * i));
    }

    /** Sets the page's CRC32C (storage-format.md §3.2) over bytes [4, end). */
    static void seal(byte[] page) {
        put32(page, (int) CRC_OFFSET, checksum(page, page.length));
    }

    /**
     * A heap copy of the segment's bytes (a key per put, a page per copy-on-write). Copies
     * straight into the new array; {@code toArray} wraps it in a segment and takes the generic
     * segment-to-segment copy, which made a put of an 8-byte key 10-15% slower.
     */
    static byte[] copyOf(MemorySegment s) {
        byte[] b = new byte[Math.toIntExact(s.byteSize())];
        MemorySegment.copy(s, ValueLayout.JAVA_BYTE, 0, b, 0, b.length);
        return b;
    }

    // ---------------------------------------------------------------- header and slots

    /** A fresh page of the given kind: header fields set, no cells. */
    static byte[] create(int pageBytes, byte kind, long pageId, long txnId) {
        byte[] b = new byte[pageBytes];
        init(b, kind, pageId, txnId);
        return b;
    }

    /** Makes a used buffer a fresh page of the given kind, as {@link #create} would give it. */
    static void reset(byte[] b, byte kind, long pageId, long txnId) {
        zero(b, 0, b.length);
        init(b, kind, pageId, txnId);
    }

    /**
     * Zeros bytes [from, to) with one bulk fill (a memset), not a loop over the bytes: until the
     * JIT compiles such a loop it runs interpreted, and in the first 340 ms of a cold W1 bulk
     * load, zeroing new pages that way took 79 of the writer's 191 samples (JFR, every 1 ms).
     */
    static void zero(byte[] page, int from, int to) {
        MemorySegment.ofArray(page).asSlice(from, to - from).fill((byte) 0);
    }

    private static void init(byte[] b, byte kind, long pageId, long txnId) {
        b[(int) KIND_OFFSET] = kind;
        put64(b, (int) PAGE_ID_OFFSET, pageId);
        put64(b, (int) TXN_ID_OFFSET, txnId);
        if (kind == KIND_LEAF || kind == KIND_BRANCH) put16(b, (int) CELL_START_OFFSET, b.length);
    }

    static boolean isLeaf(byte[] page) {
        return page[(int) KIND_OFFSET] == KIND_LEAF;
    }

    static int count(byte[] page) {
        return le16(page, (int) COUNT_OFFSET);
    }

    static long pageId(byte[] page) {
        return le64(page, (int) PAGE_ID_OFFSET);
    }

    static void setIdentity(byte[] page, long pageId, long txnId) {
        put64(page, (int) PAGE_ID_OFFSET, pageId);
        put64(page, (int) TXN_ID_OFFSET, txnId);
    }

    private static int cellStart(byte[] page) {
        return le16(page, (int) CELL_START_OFFSET);
    }

    private static int garbage(byte[] page) {
        return le16(page, (int) GARBAGE_OFFSET);
    }

    static int slot(byte[] page, int index) {
        return le16(page, HEADER_BYTES + SLOT_BYTES * index);
    }

    private static void putSlot(byte[] page, int index, int cellOffset, long head) {
        int at = HEADER_BYTES + SLOT_BYTES * index;
        put16(page, at, cellOffset);
        putHead(page, at + SLOT_HEAD_OFFSET, head);
    }

    /** Bytes the cells and slots occupy. */
    static int usedBytes(byte[] page) {
        return page.length - cellStart(page) - garbage(page) + SLOT_BYTES * count(page);
    }

    private static int gapBytes(byte[] page) {
        return cellStart(page) - HEADER_BYTES - SLOT_BYTES * count(page);
    }

    static boolean fits(byte[] page, int cellBytes) {
        return page.length - HEADER_BYTES - usedBytes(page) >= cellBytes + SLOT_BYTES;
    }

    // ---------------------------------------------------------------- cells

    static int keyBytes(byte[] page, int cellOffset) {
        return le16(page, cellOffset);
    }

    private static int keyOffset(byte[] page, int cellOffset) {
        return cellOffset + (isLeaf(page) ? LEAF_CELL_HEADER : BRANCH_CELL_HEADER);
    }

    static boolean isOverflow(byte[] page, int cellOffset) {
        return (page[cellOffset + 2] & FLAG_OVERFLOW) != 0;
    }

    static int valueBytes(byte[] page, int cellOffset) {
        return le32(page, cellOffset + 3);
    }

    static long runPageId(byte[] page, int cellOffset) {
        return le64(page, cellOffset + LEAF_CELL_HEADER + keyBytes(page, cellOffset));
    }

    static long runTxnId(byte[] page, int cellOffset) {
        return le64(page, cellOffset + LEAF_CELL_HEADER + keyBytes(page, cellOffset) + 8);
    }

    private static int cellBytes(byte[] page, int cellOffset) {
        int k = keyBytes(page, cellOffset);
        if (!isLeaf(page)) return BRANCH_CELL_HEADER + k;
        return LEAF_CELL_HEADER + k + (isOverflow(page, cellOffset) ? OVERFLOW_REF_BYTES : valueBytes(page, cellOffset));
    }

    static long child(byte[] page, int index) {
        return le64(page, slot(page, index) + 2) & CHILD_ID_MASK;
    }

    static int childCellStart(byte[] page, int index) {
        return (int) (le64(page, slot(page, index) + 2) >>> CHILD_ID_BITS);
    }

    /** Records the child's cell start in the branch cell (storage-format.md §4.1). */
    static void setChildCellStart(byte[] page, int index, int cellStart) {
        int at = slot(page, index) + 2;
        put64(page, at, le64(page, at) & CHILD_ID_MASK | (long) cellStart << CHILD_ID_BITS);
    }

    static long childTxn(byte[] page, int index) {
        return le64(page, slot(page, index) + 10);
    }

    /** Points the branch cell at another child; its cell start is recorded at commit. */
    static void setChild(byte[] page, int index, long childId, long childTxn) {
        int cell = slot(page, index);
        put64(page, cell + 2, childId);
        put64(page, cell + 10, childTxn);
    }

    /** Order of the key in slot i against key (unsigned bytes). */
    static int compareKey(byte[] page, int index, byte[] key) {
        int cell = slot(page, index);
        int from = keyOffset(page, cell);
        return Arrays.compareUnsigned(page, from, from + keyBytes(page, cell), key, 0, key.length);
    }

    /** First slot whose key is >= key; count when every key is smaller. */
    static int lowerBound(byte[] page, byte[] key) {
        int low = 0;
        int high = count(page);
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (compareKey(page, mid, key) < 0) low = mid + 1; else high = mid;
        }
        return low;
    }

    // ---------------------------------------------------------------- changes

    static void insertCell(byte[] page, int index, byte[] cell) {
        int n = count(page);
        if (gapBytes(page) < cell.length + SLOT_BYTES) compact(page);
        int start = cellStart(page) - cell.length;
        System.arraycopy(cell, 0, page, start, cell.length);
        openSlot(page, index, n);
        putSlot(page, index, start, NodePage.cellHead(cell, isLeaf(page)));
        put16(page, (int) CELL_START_OFFSET, start);
        put16(page, (int) COUNT_OFFSET, n + 1);
    }

    /** Inserts an inline leaf cell built from key and value, as insertCell(leafCell(key, value)). */
    static void insertLeafCell(byte[] page, int index, byte[] key, MemorySegment value) {
        int k = key.length;
        int v = (int) value.byteSize();
        int size = LEAF_CELL_HEADER + k + v;
        int n = count(page);
        if (gapBytes(page) < size + SLOT_BYTES) compact(page);
        int start = cellStart(page) - size;
        put16(page, start, k);
        page[start + 2] = 0;
        put32(page, start + 3, v);
        System.arraycopy(key, 0, page, start + LEAF_CELL_HEADER, k);
        MemorySegment.copy(value, ValueLayout.JAVA_BYTE, 0, page, start + LEAF_CELL_HEADER + k, v);
        openSlot(page, index, n);
        putSlot(page, index, start, NodePage.head(key, 0, k));
        put16(page, (int) CELL_START_OFFSET, start);
        put16(page, (int) COUNT_OFFSET, n + 1);
    }

    /**
     * Overwrites the value of the leaf cell in slot index when that value is inline and exactly
     * as long as {@code value}: key, slot and cell stay where they are. False, and the page
     * unchanged, otherwise.
     */
    static boolean replaceInlineValue(byte[] page, int index, MemorySegment value) {
        int cell = slot(page, index);
        if (isOverflow(page, cell) || valueBytes(page, cell) != value.byteSize()) return false;
        MemorySegment.copy(value, ValueLayout.JAVA_BYTE, 0, page, cell + LEAF_CELL_HEADER + keyBytes(page, cell), (int) value.byteSize());
        return true;
    }

    private static void openSlot(byte[] page, int index, int count) {
        int at = HEADER_BYTES + SLOT_BYTES * index;
        System.arraycopy(page, at, page, at + SLOT_BYTES, SLOT_BYTES * (count - index));
    }

    static void removeCell(byte[] page, int index) {
        int n = count(page);
        int cell = slot(page, index);
        int size = cellBytes(page, cell);
        int at = HEADER_BYTES + SLOT_BYTES * index;
        System.arraycopy(page, at + SLOT_BYTES, page, at, SLOT_BYTES * (n - index - 1));
        Arrays.fill(page, HEADER_BYTES + SLOT_BYTES * (n - 1), HEADER_BYTES + SLOT_BYTES * n, (byte) 0);
        put16(page, (int) COUNT_OFFSET, n - 1);
        if (cell == cellStart(page)) {
            put16(page, (int) CELL_START_OFFSET, cell + size);
        } else {
            put16(page, (int) GARBAGE_OFFSET, garbage(page) + size);
        }
    }

    /** Copies of all cells, in slot order. */
    static List<byte[]> cells(byte[] page) {
        int n = count(page);
        List<byte[]> cells = new ArrayList<>(n + 2);
        for (int i = 0; i < n; i++) cells.add(cell(page, i));
        return cells;
    }

    static byte[] cell(byte[] page, int index) {
        int offset = slot(page, index);
        return Arrays.copyOfRange(page, offset, offset + cellBytes(page, offset));
    }

    /**
     * Moves the cells together at the page's end, in slot order, and zeroes the rest: the same
     * bytes as {@code rebuild(page, cells(page))}, from one copy of the page instead of a copy
     * per cell (a replace in a full leaf, the usual update, compacts every time).
     */
    static void compact(byte[] page) {
        byte[] old = page.clone();
        int n = count(page);
        zero(page, HEADER_BYTES + SLOT_BYTES * n, page.length);
        int start = page.length;
        for (int i = 0; i < n; i++) {
            int from = slot(old, i);
            int size = cellBytes(old, from);
            start -= size;
            System.arraycopy(old, from, page, start, size);
            put16(page, HEADER_BYTES + SLOT_BYTES * i, start);
        }
        Check.that(start >= HEADER_BYTES + SLOT_BYTES * n, "cells fit the page (%d bytes of cells, start %d)", page.length - start, start);
        put16(page, (int) CELL_START_OFFSET, start);
        put16(page, (int) GARBAGE_OFFSET, 0);
    }

    /** Whether the page's cells lie as {@link #compact} leaves them. */
    static boolean isPackedInSlotOrder(byte[] page) {
        return isPackedAs(page, packedOffsets(page));
    }

    /** {@link #isPackedInSlotOrder}, given the page's {@link #packedOffsets}. */
    static boolean isPackedAs(byte[] page, int[] packed) {
        int n = count(page);
        for (int i = 0; i < n; i++) {
            if (slot(page, i) != packed[i]) return false;
        }
        return cellStart(page) == packed[n] && garbage(page) == 0;
    }

    /**
     * Where each cell would start were the page's cells packed at its end in slot order, with
     * the packed cell start at index count.
     */
    static int[] packedOffsets(byte[] page) {
        int n = count(page);
        int[] offsets = new int[n + 1];
        int start = page.length;
        for (int i = 0; i < n; i++) {
            start -= cellBytes(page, slot(page, i));
            offsets[i] = start;
        }
        offsets[n] = start;
        return offsets;
    }

    /** Rewrites the page body from cells, keeping kind, page id and txn id. */
    static void rebuild(byte[] page, List<byte[]> cells) {
        int start = page.length;
        zero(page, HEADER_BYTES, page.length);
        boolean leaf = isLeaf(page);
        for (int i = 0; i < cells.size(); i++) {
            byte[] cell = cells.get(i);
            start -= cell.length;
            System.arraycopy(cell, 0, page, start, cell.length);
            putSlot(page, i, start, NodePage.cellHead(cell, leaf));
        }
        Check.that(start >= HEADER_BYTES + SLOT_BYTES * cells.size(),
            "cells fit the page (%d bytes of cells, start %d)", page.length - start, start);
        put16(page, (int) COUNT_OFFSET, cells.size());
        put16(page, (int) CELL_START_OFFSET, start);
        put16(page, (int) GARBAGE_OFFSET, 0);
    }
}
