package dev.cairn.store;

import dev.cairn.internal.Check;
import dev.cairn.internal.Limits;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static dev.cairn.store.PageLayout.*;

/**
 * Copy-on-write changes to one B+tree inside a {@link WriteTxn} (storage-format.md §5); one
 * instance per tree and transaction ({@code WriteTxn.MutableTree#btree}).
 *
 * <ul>
 *   <li>Before a change, every page on the path from the root is made dirty: copied to a new
 *       page id with this txn's id, the old id freed, the parent's pointer updated. Dirty pages
 *       are {@link PageBuffer}s (byte[]); committed pages are read through segments.
 *   <li>After a change, {@link #settle} restores the page rules bottom-up: a node that
 *       overflows splits; a non-root node using less than a quarter of its page merges with a
 *       sibling or borrows from it; a root branch with one child collapses.
 *   <li>Cells never exceed a third of the usable page, so any node splits into two that fit.
 *   <li>The path of the last put stays usable while puts only change that leaf in place: a
 *       put whose key lies within the leaf's separator bounds skips the descent (ascending and
 *       clustered loads descend about once per leaf). Anything else forgets the path.
 * </ul>
 */
final class BTree {
    private static final byte[] EMPTY = new byte[0];
    private static final int D = Limits.TREE_DEPTH_MAX;

    private final WriteTxn tx;
    private final long txnId;
    private final int pageBytes;
    private final int capacity;
    private final int underfull;
    private final int cellBytesMax;
    private final long[] ids = new long[D];
    private final long[] births = new long[D];
    /** The dirty pages of the path, valid after {@link #copyPath}. */
    private final byte[][] pages = new byte[D][];
    private final int[] index = new int[D];
    private int depth;
    private boolean found;
    /** Whether the path (ids, births, pages, index) of the last put is still valid. */
    private boolean pathValid;
    /** Branch level and slot of the separators bounding the path's leaf below and above; -1: unbounded. */
    private int lowLevel;
    private int lowSlot;
    private int highLevel;
    private int highSlot;

    BTree(WriteTxn tx, long txnId, int pageBytes) {
        this.tx = tx;
        this.txnId = txnId;
        this.pageBytes = pageBytes;
        this.capacity = pageBytes - HEADER_BYTES;
        this.underfull = capacity / 4;
        this.cellBytesMax = capacity / 3;
    }

    /** The value of the last put's overflow run (its bytes after the header); null after an inline put. */
    private MemorySegment runValue;

    /** The bytes the last put stored for {@code value}: its overflow run's, else {@code value} itself. */
    MemorySegment storedValue(MemorySegment value) {
        return runValue != null ? runValue : value;
    }

    /** Inserts or replaces; true when the key was new. */
    boolean put(WriteTxn.MutableTree t, byte[] key, MemorySegment value) {
        runValue = null;
        // An inline value's cell is written straight into the leaf when it fits; the byte[]
        // form is built only for splits (an overflow value's run is allocated first, as always).
        long cellLength = LEAF_CELL_HEADER + key.length + value.byteSize();
        byte[] cell = cellLength + SLOT_BYTES <= cellBytesMax ? null : buildCell(key, value);
        int cellBytes = cell == null ? (int) cellLength : cell.length;
        if (t.root == 0) {
            pathValid = false;
            if (cell == null) cell = NodePage.leafCell(key, value);
            long id = tx.allocPage();
            byte[] page = tx.newPage(id, KIND_LEAF);
            PageBuffer.insertCell(page, 0, cell);
            t.root = id;
            t.rootTxn = txnId;
            t.count = 1;
            return true;
        }
        if (pathValid && pathHolds(key)) {
            searchLeaf(key);
        } else {
            descend(t, MemorySegment.ofArray(key));
            copyPath(t);
        }
        pathValid = false;
        byte[] leaf = pages[depth];
        int i = index[depth];
        boolean replaced = found;
        // The usual update, a value as long as the old inline one, overwrites it in place: no
        // cell moves and the leaf needs no compaction.
        if (replaced && cell == null && PageBuffer.replaceInlineValue(leaf, i, value)) {
            afterLeafChange(t, leaf, true);
            return false;
        }
        if (replaced) {
            freeValue(leaf, PageBuffer.slot(leaf, i));
            PageBuffer.removeCell(leaf, i);
        } else {
            t.count++;
        }
        if (PageBuffer.fits(leaf, cellBytes)) {
            if (cell == null) PageBuffer.insertLeafCell(leaf, i, key, value); else PageBuffer.insertCell(leaf, i, cell);
            afterLeafChange(t, leaf, replaced);
            return !replaced;
        }
        if (cell == null) cell = NodePage.leafCell(key, value);
        boolean append = i == PageBuffer.count(leaf);
        if (append && depth > 0) {
            // Ascending inserts: start a new right sibling and leave this leaf full.
            long id = tx.allocPage();
            byte[] next = tx.newPage(id, KIND_LEAF);
            PageBuffer.insertCell(next, 0, cell);
            byte[] separator = NodePage.separator(NodePage.cellKey(PageBuffer.cell(leaf, i - 1), true),
                NodePage.cellKey(cell, true));
            insertIntoParent(t, depth - 1, NodePage.branchCell(separator, id, txnId));
            return !replaced;
        }
        List<byte[]> cells = PageBuffer.cells(leaf);
        cells.add(i, cell);
        settle(t, depth, cells, append);
        return !replaced;
    }

    /** After a put that changed the leaf in place: a replace can leave it underfull; else the path serves the next put. */
    private void afterLeafChange(WriteTxn.MutableTree t, byte[] leaf, boolean replaced) {
        if (replaced && depth > 0 && PageBuffer.usedBytes(leaf) < underfull) {
            settle(t, depth, PageBuffer.cells(leaf), false);
        } else {
            pathValid = true;
        }
    }

    /** Removes the key; true when it was present. */
    boolean delete(WriteTxn.MutableTree t, MemorySegment key) {
        pathValid = false;
        if (t.root == 0) return false;
        descend(t, key);
        if (!found) return false;
        copyPath(t);
        byte[] leaf = pages[depth];
        int i = index[depth];
        freeValue(leaf, PageBuffer.slot(leaf, i));
        PageBuffer.removeCell(leaf, i);
        t.count--;
        if (depth == 0) {
            if (PageBuffer.count(leaf) == 0) {
                tx.freePage(ids[0], txnId);
                t.root = 0;
                t.rootTxn = 0;
            }
        } else if (PageBuffer.usedBytes(leaf) < underfull) {
            settle(t, depth, PageBuffer.cells(leaf), false);
        }
        return true;
    }

    /** Frees every page of a tree (drop). */
    void freeTree(long root, long rootTxn) {
        pathValid = false;
        if (root != 0) freeSubtree(root, rootTxn, 0);
    }

    private void freeSubtree(long id, long birth, int level) {
        if (level >= D) throw tx.store.corruption(id, "tree deeper than " + D + " levels");
        MemorySegment page = tx.node(id, birth);
        int n = count(page);
        boolean leaf = NodePage.isLeaf(page);
        for (int i = 0; i < n; i++) {
            if (leaf) {
                int cell = NodePage.slot(page, i);
                if (NodePage.isOverflow(page, cell)) {
                    freeRun(NodePage.runPageId(page, cell), NodePage.runTxnId(page, cell), NodePage.valueBytes(page, cell));
                }
            } else {
                freeSubtree(NodePage.child(page, i), NodePage.childTxn(page, i), level + 1);
            }
        }
        tx.freePage(id, birth);
    }

    // ---------------------------------------------------------------- path

    private void descend(WriteTxn.MutableTree t, MemorySegment key) {
        long id = t.root;
        long birth = t.rootTxn;
        int keyBytes = (int) key.byteSize();
        lowLevel = -1;
        highLevel = -1;
        for (int d = 0; d < D; d++) {
            MemorySegment page = tx.node(id, birth);
            ids[d] = id;
            births[d] = birth;
            if (NodePage.isLeaf(page)) {
                depth = d;
                int i = NodePage.lowerBound(page, key, 0, keyBytes);
                index[d] = i;
                found = i < count(page) && NodePage.keyEquals(page, i, key, 0, keyBytes);
                return;
            }
            int i = NodePage.childIndex(page, key, 0, keyBytes);
            index[d] = i;
            if (i > 0) {
                lowLevel = d;
                lowSlot = i;
            }
            if (i + 1 < count(page)) {
                highLevel = d;
                highSlot = i + 1;
            }
            id = NodePage.child(page, i);
            birth = NodePage.childTxn(page, i);
        }
        throw tx.store.corruption(t.root, "tree deeper than " + D + " levels (a cycle or damage)");
    }

    /** Sets index and found for the key in the path's (dirty) leaf. */
    private void searchLeaf(byte[] key) {
        byte[] leaf = pages[depth];
        int n = PageBuffer.count(leaf);
        if (n > 0 && PageBuffer.compareKey(leaf, n - 1, key) < 0) {
            // Ascending loads: one comparison with the last key instead of a binary search.
            index[depth] = n;
            found = false;
            return;
        }
        int i = PageBuffer.lowerBound(leaf, key);
        index[depth] = i;
        found = i < n && PageBuffer.compareKey(leaf, i, key) == 0;
    }

    /** Whether the key lies within the separator bounds of the remembered path's leaf. */
    private boolean pathHolds(byte[] key) {
        if (lowLevel >= 0 && PageBuffer.compareKey(pages[lowLevel], lowSlot, key) > 0) return false;
        return highLevel < 0 || PageBuffer.compareKey(pages[highLevel], highSlot, key) > 0;
    }

    /** Makes every page on the path dirty, top-down, so parents can take new child ids. */
    private void copyPath(WriteTxn.MutableTree t) {
        for (int d = 0; d <= depth; d++) {
            if (births[d] == txnId) {
                pages[d] = tx.dirtyPage(ids[d]);
                continue;
            }
            byte[] copy = tx.copyOnWrite(ids[d], births[d]);
            ids[d] = PageBuffer.pageId(copy);
            births[d] = txnId;
            pages[d] = copy;
            if (d == 0) {
                t.root = ids[0];
                t.rootTxn = txnId;
            } else {
                PageBuffer.setChild(pages[d - 1], index[d - 1], ids[d], txnId);
            }
        }
    }

    /** The dirty child at slot of a dirty parent, copying it first if needed. */
    private byte[] dirtyChild(byte[] parent, int slot) {
        long id = PageBuffer.child(parent, slot);
        long birth = PageBuffer.childTxn(parent, slot);
        if (birth == txnId) return tx.dirtyPage(id);
        byte[] copy = tx.copyOnWrite(id, birth);
        PageBuffer.setChild(parent, slot, PageBuffer.pageId(copy), txnId);
        return copy;
    }

    // ---------------------------------------------------------------- restoring the page rules

    /** The dirty node at path depth d must now hold exactly these cells. */
    private void settle(WriteTxn.MutableTree t, int d, List<byte[]> cells, boolean append) {
        byte[] page = pages[d];
        boolean leaf = PageBuffer.isLeaf(page);
        if (d == 0) {
            settleRoot(t, cells, leaf, append);
            return;
        }
        int[] cuts = partition(cells, append);
        if (cuts.length > 2) {
            List<byte[]> added = writePieces(page, cells, cuts, leaf);
            List<byte[]> parentCells = PageBuffer.cells(pages[d - 1]);
            int at = index[d - 1] + 1;
            boolean parentAppend = append && at == parentCells.size();
            parentCells.addAll(at, added);
            settle(t, d - 1, parentCells, parentAppend);
            return;
        }
        PageBuffer.rebuild(page, cells);
        if (PageBuffer.usedBytes(page) < underfull) merge(t, d);
    }

    /** Inserts a branch cell right after the path's child at depth d + 1. */
    private void insertIntoParent(WriteTxn.MutableTree t, int d, byte[] cell) {
        byte[] parent = pages[d];
        int at = index[d] + 1;
        if (PageBuffer.fits(parent, cell.length)) {
            PageBuffer.insertCell(parent, at, cell);
            return;
        }
        boolean append = at == PageBuffer.count(parent);
        List<byte[]> cells = PageBuffer.cells(parent);
        cells.add(at, cell);
        settle(t, d, cells, append);
    }

    /** Joins the underfull node at depth d with a sibling; redistributes if both do not fit one page. */
    private void merge(WriteTxn.MutableTree t, int d) {
        byte[] parent = pages[d - 1];
        int n = PageBuffer.count(parent);
        if (n < 2) return;
        int i = index[d - 1];
        int l = i + 1 < n ? i : i - 1;
        int r = l + 1;
        byte[] left = l == i ? pages[d] : dirtyChild(parent, l);
        byte[] right = r == i ? pages[d] : dirtyChild(parent, r);
        boolean leaf = PageBuffer.isLeaf(left);
        Check.that(leaf == PageBuffer.isLeaf(right), "siblings at one depth are both leaves or both branches");
        List<byte[]> parentCells = PageBuffer.cells(parent);
        List<byte[]> cells = PageBuffer.cells(left);
        List<byte[]> rightCells = PageBuffer.cells(right);
        if (!leaf) {
            rightCells.set(0, NodePage.withKey(rightCells.get(0), NodePage.cellKey(parentCells.get(r), false)));
        }
        cells.addAll(rightCells);
        tx.freePage(PageBuffer.pageId(right), txnId);
        parentCells.remove(r);
        List<byte[]> added = writePieces(left, cells, partition(cells, false), leaf);
        parentCells.addAll(r, added);
        settle(t, d - 1, parentCells, false);
    }

    private void settleRoot(WriteTxn.MutableTree t, List<byte[]> cells, boolean leaf, boolean append) {
        byte[] page = pages[0];
        if (cells.isEmpty()) {
            tx.freePage(PageBuffer.pageId(page), txnId);
            t.root = 0;
            t.rootTxn = 0;
            return;
        }
        if (!leaf && cells.size() == 1) {
            tx.freePage(PageBuffer.pageId(page), txnId);
            t.root = NodePage.cellChild(cells.getFirst());
            t.rootTxn = NodePage.cellChildTxn(cells.getFirst());
            collapse(t);
            return;
        }
        int[] cuts = partition(cells, append);
        if (cuts.length == 2) {
            PageBuffer.rebuild(page, cells);
            return;
        }
        List<byte[]> added = writePieces(page, cells, cuts, leaf);
        long rootId = tx.allocPage();
        byte[] root = tx.newPage(rootId, KIND_BRANCH);
        List<byte[]> rootCells = new ArrayList<>();
        rootCells.add(NodePage.branchCell(EMPTY, PageBuffer.pageId(page), txnId));
        rootCells.addAll(added);
        PageBuffer.rebuild(root, rootCells);
        t.root = rootId;
        t.rootTxn = txnId;
    }

    /** While the root is a branch with one child, or an empty leaf, removes it. */
    private void collapse(WriteTxn.MutableTree t) {
        for (int guard = 0; guard < D && t.root != 0; guard++) {
            MemorySegment root = tx.node(t.root, t.rootTxn);
            int n = count(root);
            if (NodePage.isLeaf(root) ? n != 0 : n != 1) return;
            tx.freePage(t.root, t.rootTxn);
            if (NodePage.isLeaf(root)) {
                t.root = 0;
                t.rootTxn = 0;
            } else {
                long child = NodePage.child(root, 0);
                t.rootTxn = NodePage.childTxn(root, 0);
                t.root = child;
            }
        }
    }

    /**
     * Writes cells split at cuts: the first piece into page, the others into new pages.
     * Returns the parent cells (separator, new page) for pieces 1..
     */
    private List<byte[]> writePieces(byte[] page, List<byte[]> cells, int[] cuts, boolean leaf) {
        List<byte[]> added = new ArrayList<>();
        for (int j = 1; j < cuts.length - 1; j++) {
            List<byte[]> piece = new ArrayList<>(cells.subList(cuts[j], cuts[j + 1]));
            byte[] separator;
            if (leaf) {
                separator = NodePage.separator(NodePage.cellKey(cells.get(cuts[j] - 1), true),
                    NodePage.cellKey(cells.get(cuts[j]), true));
            } else {
                separator = NodePage.cellKey(piece.getFirst(), false);
                piece.set(0, NodePage.withKey(piece.getFirst(), EMPTY));
            }
            long id = tx.allocPage();
            byte[] next = tx.newPage(id, leaf ? KIND_LEAF : KIND_BRANCH);
            PageBuffer.rebuild(next, piece);
            added.add(NodePage.branchCell(separator, id, txnId));
        }
        PageBuffer.rebuild(page, new ArrayList<>(cells.subList(0, cuts[1])));
        return added;
    }

    /**
     * Cut points that split cells into pieces that each fit a page: {0, n} when all fit one.
     * Balanced halves normally; when appending at the end, pieces are filled to the brim so
     * that ascending inserts leave full pages behind.
     */
    int[] partition(List<byte[]> cells, boolean append) {
        int n = cells.size();
        int total = 0;
        for (byte[] c : cells) total += c.length + SLOT_BYTES;
        if (total <= capacity) return new int[] {0, n};
        for (int k = (total + capacity - 1) / capacity; ; k++) {
            int target = append ? capacity : (total + k - 1) / k;
            int[] cuts = new int[n + 1];
            int pieces = 0;
            int bytes = 0;
            for (int i = 0; i < n; i++) {
                int s = cells.get(i).length + SLOT_BYTES;
                if (bytes > 0 && (bytes + s > capacity || bytes >= target)) {
                    cuts[++pieces] = i;
                    bytes = 0;
                }
                bytes += s;
            }
            cuts[++pieces] = n;
            if (pieces <= k || append) return java.util.Arrays.copyOf(cuts, pieces + 1);
        }
    }

    // ---------------------------------------------------------------- values

    private byte[] buildCell(byte[] key, MemorySegment value) {
        int k = key.length;
        long v = value.byteSize();
        if (LEAF_CELL_HEADER + k + v + SLOT_BYTES <= cellBytesMax) return NodePage.leafCell(key, value);
        int runPages = PageCheck.runPages(v, pageBytes);
        long runId = tx.allocRun(runPages);
        MemorySegment run = MemorySegment.ofArray(new byte[runPages * pageBytes]);
        initHeader(run, KIND_OVERFLOW, runId, txnId);
        run.set(U32, RUN_PAGES_OFFSET, runPages);
        run.set(U32, RUN_VALUE_BYTES_OFFSET, (int) v);
        MemorySegment.copy(value, 0, run, HEADER_BYTES, v);
        runValue = run.asSlice(HEADER_BYTES, v);
        tx.addRun(runId, run);
        return NodePage.overflowCell(key, (int) v, runId, txnId);
    }

    private void freeValue(byte[] leaf, int cell) {
        if (!PageBuffer.isOverflow(leaf, cell)) return;
        freeRun(PageBuffer.runPageId(leaf, cell), PageBuffer.runTxnId(leaf, cell), PageBuffer.valueBytes(leaf, cell));
    }

    private void freeRun(long runId, long runTxn, int valueBytes) {
        tx.freeRun(runId, runTxn, PageCheck.runPages(valueBytes, pageBytes));
    }
}
