package dev.cairn.store;

import dev.cairn.internal.Limits;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;

import static dev.cairn.store.PageLayout.*;

/**
 * One committed state of the database, shared by every reader that began while it was the
 * newest (storage-format.md §6).
 *
 * <ul>
 *   <li>Immutable after publication, except the pin count and the tree cache.
 *   <li>A page reachable from this snapshot is never rewritten while a reader pins it.
 * </ul>
 */
final class Snapshot {
    final MetaPage.Meta meta;
    /** Page id of the meta slot this snapshot was read from or written to (1 or 2). */
    final long metaSlot;
    final MemorySegment[] chunks;
    /**
     * True if the meta's free list (§4.4) holds exactly this snapshot's free pages: a checkpoint,
     * a direct commit, or a meta read at open. A logged commit writes no free list; its meta
     * names the last checkpoint's list, which the writer frees at the next one (§5.1).
     */
    final boolean freeListCurrent;
    final PinCount pins = new PinCount();
    /** Catalog entries looked up so far; all readers of the snapshot share them. */
    final ConcurrentHashMap<String, TreeRef> trees = new ConcurrentHashMap<>();

    Snapshot(MetaPage.Meta meta, long metaSlot, MemorySegment[] chunks, boolean freeListCurrent) {
        this.meta = meta;
        this.metaSlot = metaSlot;
        this.chunks = chunks;
        this.freeListCurrent = freeListCurrent;
    }

    long txnId() {
        return meta.txnId();
    }

    // ---------------------------------------------------------------- reading its mapped pages

    /** {@link #locate}: no such key. */
    static final long ABSENT = -1;
    /** {@link #locate}: several keys of a page share the search key's head; the caller looks again, by the cells. */
    static final long TIED = -2;

    /**
     * The file position of the leaf cell holding key, {@link #ABSENT}, or {@link #TIED}. The usual
     * case (the keys' heads decide, or one slot ties with the search key's head) runs in this one
     * compact loop, which the JIT compiles whole; a page where several heads tie goes the general
     * way ({@link ReadTxn#lookupPages}).
     */
    long locate(Store store, long root, long rootTxn, MemorySegment key) {
        PageFile file = store.pageFile;
        if (root == 0) return ABSENT;
        int keyBytes = (int) key.byteSize();
        long head = NodePage.head(key, 0, keyBytes);
        long id = root;
        long birth = rootTxn;
        // The page's cell start as its parent records it (0: none), and the range of key heads the
        // parents' separators allow in it (CellGuess); high is known once a separator bounds it.
        int cellStart = 0;
        long low = 0;
        long high = 0;
        boolean bounded = false;
        for (int depth = 0; depth < Limits.TREE_DEPTH_MAX; depth++) {
            checkRef(store, id, birth);
            MemorySegment chunk = PageFile.chunk(chunks, id);
            long base = file.offsetInChunk(id);
            if (bounded) CellGuess.touch(chunk, base, file.pageBytes, cellStart, low, high, head);
            NodePage.touchHead(chunk, base); // before the header word: their loads overlap
            long word = chunk.get(U64, base); // CRC u32, kind u8, unused u8, count u16
            byte kind = (byte) (word >>> 32);
            int n = (int) (word >>> 48);
            if ((kind != KIND_LEAF && kind != KIND_BRANCH) || chunk.get(U64, base + PAGE_ID_OFFSET) != id
                    || chunk.get(U64, base + TXN_ID_OFFSET) != birth) {
                node(store, id, birth); // names what is wrong
                throw store.corruption(id, "page header does not match its reference");
            }
            boolean leaf = kind == KIND_LEAF;
            long slots = base + HEADER_BYTES;
            if (leaf) NodePage.touchSlotsPastHead(chunk, base, n);
            int i = NodePage.firstHeadNear(chunk, slots, leaf ? 0 : 1, n, head);
            boolean tie = i < n && NodePage.slotHead(chunk, slots, i) == head;
            if (tie && i + 1 < n && NodePage.slotHead(chunk, slots, i + 1) == head) return TIED;
            if (leaf) {
                if (!tie) return ABSENT;
                long cell = base + NodePage.slot(chunk, slots, i);
                int cellKeyBytes = u16(chunk, cell);
                if (NodePage.compareTied(chunk, cell + LEAF_CELL_HEADER, cellKeyBytes, key, keyBytes) != 0) return ABSENT;
                return file.chunkStart(id) + cell;
            }
            // Child i - 1 holds the key, unless slot i's key (same head) is <= the search key.
            if (tie) {
                long cell = base + NodePage.slot(chunk, slots, i);
                if (NodePage.compareTied(chunk, cell + BRANCH_CELL_HEADER, u16(chunk, cell), key, keyBytes) <= 0) i++;
            }
            long cell = base + NodePage.slot(chunk, slots, i - 1);
            if (i > 1) low = NodePage.slotHead(chunk, slots, i - 1);
            if (i < n) {
                high = NodePage.slotHead(chunk, slots, i);
                bounded = true;
            }
            long child = chunk.get(U64, cell + 2);
            id = child & CHILD_ID_MASK;
            cellStart = (int) (child >>> CHILD_ID_BITS);
            birth = chunk.get(U64, cell + 10);
        }
        throw store.corruption(root, "tree deeper than " + Limits.TREE_DEPTH_MAX + " levels (a cycle or damage)");
    }

    /** A node page reachable through a parent recording (pageId, birthTxn), checked. */
    MemorySegment node(Store store, long pageId, long birthTxn) {
        checkRef(store, pageId, birthTxn);
        MemorySegment page = store.pageFile.page(chunks, pageId);
        String problem = PageCheck.identity(page, pageId, birthTxn);
        if (problem != null) throw store.corruption(pageId, problem);
        return page;
    }

    /** Checks a reference to a mapped node page; on the page's first read after open, the page. */
    private void checkRef(Store store, long pageId, long birthTxn) {
        long pageCount = meta.pageCount();
        if (pageId < FIRST_DATA_PAGE || pageId >= pageCount) {
            throw store.corruption(pageId, "page id out of range (expected: in [3, " + pageCount + "))");
        }
        if (birthTxn > txnId()) {
            throw store.corruption(pageId, "birth txn id " + birthTxn + " is newer than the snapshot " + txnId());
        }
        if (!store.pageFile.isVerified(pageId)) verifyNode(store, pageId, birthTxn);
    }

    /**
     * The full check of a node page on its first read after open. It takes ids, not the page
     * segment, so that on the hot path the segment never escapes and the JIT need not allocate it.
     */
    private void verifyNode(Store store, long pageId, long birthTxn) {
        String problem = PageCheck.node(store.pageFile.page(chunks, pageId), pageId, birthTxn);
        if (problem != null) throw store.corruption(pageId, problem);
        store.pageFile.markVerified(pageId);
    }

    /** A tree's root, the birth txn id of the root page, and its record count. */
    record TreeRef(long root, long rootTxn, long count) { }
}
