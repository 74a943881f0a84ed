package dev.cairn.store;

import dev.cairn.internal.Limits;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

import static dev.cairn.store.PageLayout.*;

/**
 * Checks a snapshot page by page against the invariants of storage-format.md §7, item by item:
 *
 * <ol>
 *   <li>Every page passes its checksum, and holds its own page id and the birth txn id its
 *       parent records, which is not newer than the snapshot.
 *   <li>Keys in a node ascend strictly; every key lies within the separator bounds of its
 *       parents; all leaves of a tree lie at one depth.
 *   <li>Each tree's key count equals the count in its catalog entry.
 *   <li>A branch cell records no cell start for its child (0), or the child's cell start (files
 *       of read version 3 only).
 *   <li>Every page below pageCount is reachable exactly once or free exactly once. The free
 *       pages are the meta's free list, or for a snapshot of a logged commit (which writes no
 *       free list) the writer's free pages at that commit; the last checkpoint's free-list
 *       pages are then in use, and are checked as such.
 * </ol>
 * Problems are collected, never thrown; a damaged page's subtree is skipped.
 */
final class Verifier {
    private static final int PROBLEMS_MAX = 1000;
    /** Leaked pages named one by one; the rest are counted in one line (a lost free list leaks thousands). */
    static final int LEAKS_LISTED = 20;

    private final ReadTxn reader;
    private final PageFile file;
    private final MetaPage.Meta meta;
    private final boolean childCellStarts;
    private final List<String> problems = new ArrayList<>();
    private final BitSet seen = new BitSet();
    /** The free pages when the meta's free list does not hold them (a logged commit), else null. */
    private final long[] freePages;
    private String where = "";
    private int leafLevel;

    /** @param freePages the snapshot's free pages if its free list is not current, else null */
    Verifier(Store store, ReadTxn reader, long[] freePages) {
        this.reader = reader;
        this.file = store.pageFile;
        this.meta = reader.snapshot.meta;
        this.childCellStarts = store.childCellStarts();
        this.freePages = freePages;
        if (!reader.snapshot.freeListCurrent && freePages == null) {
            throw new IllegalStateException("verify of txn " + meta.txnId() + " needs its free pages: its meta's free list is the last checkpoint's");
        }
    }

    VerifyReport run() {
        long pageCount = meta.pageCount();
        if (pageCount * file.pageBytes > file.fileBytes()) {
            problem("meta: page count " + pageCount + " exceeds the file (" + file.fileBytes() + " bytes)");
            return report();
        }
        seen.set(0, (int) FIRST_DATA_PAGE);
        where = "catalog";
        leafLevel = -1;
        long trees = walk(meta.catalogRoot(), meta.catalogRootTxn(), null, null, 0, true);
        if (trees != meta.treeCount()) problem("catalog holds " + trees + " trees (expected: " + meta.treeCount() + ", as the meta says)");
        boolean freeListWhole = checkFreeList(pageCount);
        long leaked = 0;
        for (int p = seen.nextClearBit(0); p < pageCount; p = seen.nextClearBit(p + 1)) {
            if (leaked++ < LEAKS_LISTED) problem("page " + p + " is neither reachable nor free (leaked)");
        }
        if (leaked > LEAKS_LISTED) {
            problem((leaked - LEAKS_LISTED) + " more pages are neither reachable nor free (" + leaked + " leaked in all"
                + (freeListWhole ? ")" : "; the free list could not be read whole, so the free pages it names past the damage count among them)"));
        }
        return report();
    }

    private VerifyReport report() {
        long free = freePages != null ? freePages.length : meta.freePageCount();
        return new VerifyReport(problems, meta.txnId(), meta.pageCount(), free, meta.treeCount());
    }

    private void problem(String text) {
        if (problems.size() < PROBLEMS_MAX) problems.add(text);
    }

    private boolean mark(long pageId, String what) {
        if (pageId < FIRST_DATA_PAGE || pageId >= meta.pageCount()) {
            problem(where + ": " + what + " page " + pageId + " out of range [3, " + meta.pageCount() + ")");
            return false;
        }
        if (seen.get((int) pageId)) {
            problem(where + ": " + what + " page " + pageId + " is reached twice (or is also free)");
            return false;
        }
        seen.set((int) pageId);
        return true;
    }

    /** Walks a subtree; returns the number of keys in it. */
    private long walk(long id, long birth, byte[] low, byte[] high, int level, boolean catalog) {
        if (id == 0) return 0;
        if (level >= Limits.TREE_DEPTH_MAX) {
            problem(where + ": deeper than " + Limits.TREE_DEPTH_MAX + " levels at page " + id);
            return 0;
        }
        if (!mark(id, "node")) return 0;
        if (birth > meta.txnId()) problem(where + ": page " + id + " birth " + birth + " newer than the snapshot " + meta.txnId());
        MemorySegment page = file.page(reader.chunks, id);
        String p = PageCheck.node(page, id, birth);
        if (p != null) {
            problem(where + ": page " + id + ": " + p);
            return 0;
        }
        int n = count(page);
        boolean leaf = NodePage.isLeaf(page);
        for (int i = leaf ? 0 : 1; i < n; i++) {
            byte[] key = key(page, i);
            if (low != null && compare(key, low) < 0) problem(where + ": page " + id + " slot " + i + " key below its lower separator");
            if (high != null && compare(key, high) >= 0) problem(where + ": page " + id + " slot " + i + " key not below its upper separator");
        }
        if (leaf) {
            if (leafLevel < 0) leafLevel = level;
            if (leafLevel != level) problem(where + ": leaf page " + id + " at depth " + level + " (expected: " + leafLevel + ")");
            if (n == 0 && level > 0) problem(where + ": non-root leaf page " + id + " is empty");
            for (int i = 0; i < n; i++) leafCell(page, id, i, catalog);
            return n;
        }
        long keys = 0;
        for (int i = 0; i < n; i++) {
            byte[] lo = i == 0 ? low : key(page, i);
            byte[] hi = i + 1 < n ? key(page, i + 1) : high;
            long child = NodePage.child(page, i);
            int before = problems.size();
            keys += walk(child, NodePage.childTxn(page, i), lo, hi, level + 1, catalog);
            // Only a child that checked out has a cell start to compare with.
            if (problems.size() == before) checkCellStart(id, i, NodePage.childCellStart(page, i), child);
        }
        return keys;
    }

    private void checkCellStart(long id, int i, int recorded, long child) {
        if (recorded == 0) return;
        int actual = file.page(reader.chunks, child).get(U16, CELL_START_OFFSET) & 0xFFFF;
        if (!childCellStarts || recorded != actual) {
            problem(where + ": page " + id + " slot " + i + " records cell start " + recorded + " for child " + child
                + " (expected: " + (childCellStarts ? "0 or the child's, " + actual : "0 in a file of read version 2") + ")");
        }
    }

    private void leafCell(MemorySegment page, long id, int i, boolean catalog) {
        int cell = NodePage.slot(page, i);
        int valueBytes = NodePage.valueBytes(page, cell);
        if (NodePage.isOverflow(page, cell)) {
            long run = NodePage.runPageId(page, cell);
            long runTxn = NodePage.runTxnId(page, cell);
            int pages = PageCheck.runPages(valueBytes, file.pageBytes);
            for (long q = run; q < run + pages; q++) {
                if (!mark(q, "overflow run of page " + id + " slot " + i)) return;
            }
            if (runTxn > meta.txnId()) problem(where + ": overflow run " + run + " birth newer than the snapshot");
            String p = PageCheck.run(file.run(reader.chunks, run, pages), run, runTxn, pages, valueBytes);
            if (p != null) problem(where + ": overflow run at page " + run + ": " + p);
            return;
        }
        if (!catalog) return;
        String name = new String(key(page, i), StandardCharsets.UTF_8);
        if (valueBytes != Catalog.ENTRY_BYTES) {
            problem("catalog: entry '" + name + "' of " + valueBytes + " bytes (expected: " + Catalog.ENTRY_BYTES + ")");
            return;
        }
        Snapshot.TreeRef tree = Catalog.decode(page.asSlice(NodePage.valueOffset(page, cell), valueBytes));
        String outer = where;
        int outerLeafLevel = leafLevel;
        where = "tree '" + name + "'";
        leafLevel = -1;
        long keys = walk(tree.root(), tree.rootTxn(), null, null, 0, false);
        if (keys != tree.count()) problem(where + ": holds " + keys + " keys (expected: " + tree.count() + ", as the catalog says)");
        where = outer;
        leafLevel = outerLeafLevel;
    }

    private byte[] key(MemorySegment page, int i) {
        int cell = NodePage.slot(page, i);
        return page.asSlice(NodePage.keyOffset(page, cell), NodePage.keyBytes(page, cell)).toArray(U8);
    }

    /** Marks the free pages; false if the list could not be read to its end. */
    private boolean checkFreeList(long pageCount) {
        where = "free list";
        long id = meta.freeHead();
        long entries = 0;
        for (long guard = 0; id != 0; guard++) {
            if (guard > pageCount || !mark(id, "free-list")) {
                problem("free list: chain broken at page " + id);
                return false;
            }
            MemorySegment page = file.page(reader.chunks, id);
            String p = PageCheck.freeList(page.toArray(U8), id, meta.freeHeadTxn());
            if (p != null) {
                problem("free list: page " + id + ": " + p);
                return false;
            }
            int n = count(page);
            if (freePages == null) {
                for (int i = 0; i < n; i++) mark(page.get(U64, HEADER_BYTES + 8L * i), "free");
            }
            entries += n;
            id = page.get(U64, NEXT_PAGE_OFFSET);
        }
        if (freePages != null) {
            for (long p : freePages) mark(p, "free");
        }
        if (entries != meta.freePageCount()) {
            problem("free list: holds " + entries + " pages (expected: " + meta.freePageCount() + ", as the meta says)");
        }
        return true;
    }
}
