package dev.cairn.store;

import java.lang.foreign.MemorySegment;

import static dev.cairn.store.PageLayout.*;

/**
 * The two meta pages, ids 1 and 2 (storage-format.md §3.2). A commit writes the slot that does
 * not hold the current meta; at open the newest meta that passes every check wins.
 */
final class MetaPage {
    static final long CATALOG_ROOT = 32;
    static final long CATALOG_ROOT_TXN = 40;
    static final long TREE_COUNT = 48;
    static final long FREE_HEAD = 56;
    static final long FREE_HEAD_TXN = 64;
    static final long FREE_PAGE_COUNT = 72;
    static final long PAGE_COUNT = 80;

    private MetaPage() { }

    /** The fields of one meta page. */
    record Meta(long txnId, long catalogRoot, long catalogRootTxn, long treeCount,
                long freeHead, long freeHeadTxn, long freePageCount, long pageCount) { }

    static void write(MemorySegment page, long slotPageId, Meta m) {
        initHeader(page, KIND_META, slotPageId, m.txnId());
        page.set(U64, CATALOG_ROOT, m.catalogRoot());
        page.set(U64, CATALOG_ROOT_TXN, m.catalogRootTxn());
        page.set(U64, TREE_COUNT, m.treeCount());
        page.set(U64, FREE_HEAD, m.freeHead());
        page.set(U64, FREE_HEAD_TXN, m.freeHeadTxn());
        page.set(U64, FREE_PAGE_COUNT, m.freePageCount());
        page.set(U64, PAGE_COUNT, m.pageCount());
        seal(page, page.byteSize());
    }

    /**
     * The meta in this slot, or null with the reason in {@code why[0]} when it fails a check.
     * Reads one heap copy with plain array reads: this runs at open, before the JIT compiled it.
     */
    static Meta read(MemorySegment page, long slotPageId, String[] why) {
        byte[] b = page.toArray(U8);
        why[0] = PageCheck.checksumProblem(b);
        if (why[0] != null) return null;
        long id = le64(b, (int) PAGE_ID_OFFSET);
        if (b[(int) KIND_OFFSET] != KIND_META || id != slotPageId) {
            why[0] = "kind " + kindName(b[(int) KIND_OFFSET]) + ", page id " + id + " (expected: meta, " + slotPageId + ")";
            return null;
        }
        Meta m = new Meta(le64(b, (int) TXN_ID_OFFSET), le64(b, (int) CATALOG_ROOT), le64(b, (int) CATALOG_ROOT_TXN),
            le64(b, (int) TREE_COUNT), le64(b, (int) FREE_HEAD), le64(b, (int) FREE_HEAD_TXN),
            le64(b, (int) FREE_PAGE_COUNT), le64(b, (int) PAGE_COUNT));
        if (m.pageCount() < FIRST_DATA_PAGE || m.txnId() < 0) {
            why[0] = "page count " + m.pageCount() + ", txn id " + m.txnId() + " (expected: >= 3, >= 0)";
            return null;
        }
        return m;
    }
}
