package dev.cairn.store;

import dev.cairn.internal.Limits;
import dev.cairn.internal.Text;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static dev.cairn.store.PageLayout.*;

/**
 * A read transaction: a stable snapshot of the last commit at {@link Store#beginRead()}.
 *
 * <ul>
 *   <li>Use from one thread at a time. Closing is idempotent; every other call on a closed
 *       transaction throws {@link IllegalStateException}.
 *   <li>Segments returned by {@link #get} and by cursors are read-only slices of the mapped
 *       file, valid until this transaction is closed (after that the page may be reused).
 *   <li>Operations naming a tree that does not exist throw {@link IllegalArgumentException}.
 * </ul>
 */
public class ReadTxn implements AutoCloseable {
    final Store store;
    final Snapshot snapshot;
    final PageFile file;
    final MemorySegment[] chunks;
    final long pageCount;
    /** The {@link PinCount} stripe this transaction pinned its snapshot through; -1: not pinned. */
    final int pinStripe;
    boolean closed;

    /** An unpinned view of a snapshot, for the writer and for checks at open. */
    ReadTxn(Store store, Snapshot snapshot) {
        this(store, snapshot, -1);
    }

    ReadTxn(Store store, Snapshot snapshot, int pinStripe) {
        this.store = store;
        this.snapshot = snapshot;
        this.file = store.pageFile;
        this.chunks = snapshot.chunks;
        this.pageCount = snapshot.meta.pageCount();
        this.pinStripe = pinStripe;
    }

    /** The txn id of the snapshot (for a {@link WriteTxn}: the id it commits as). */
    public long txnId() {
        live();
        return snapshot.txnId();
    }

    /** Names of all trees, sorted by their UTF-8 bytes. */
    public List<String> treeNames() {
        live();
        List<String> names = new ArrayList<>();
        try (Cursor c = new Cursor(this, catalogRef())) {
            for (boolean ok = c.first(); ok; ok = c.next()) {
                names.add(new String(c.key().toArray(U8), StandardCharsets.UTF_8));
            }
        }
        return names;
    }

    public boolean hasTree(String tree) {
        live();
        return findTree(checkName(tree)) != null;
    }

    /** The value stored under key, or null. @throws IllegalArgumentException no such tree */
    public MemorySegment get(String tree, byte[] key) {
        checkKey(key);
        return get(tree, MemorySegment.ofArray(key));
    }

    /** The value stored under key, or null. @throws IllegalArgumentException no such tree */
    public MemorySegment get(String tree, MemorySegment key) {
        live();
        checkKey(key);
        Snapshot.TreeRef ref = tree(tree);
        return lookup(ref.root(), ref.rootTxn(), key);
    }

    /** Number of keys in the tree, O(1). */
    public long count(String tree) {
        live();
        return tree(tree).count();
    }

    /**
     * Visits every entry of the tree in key order until the visitor returns false; returns how
     * many it visited. Faster than a loop over a {@link Cursor} for long scans.
     */
    public long forEach(String tree, EntryVisitor visitor) {
        try (Cursor c = cursor(tree)) {
            return c.first() ? c.forEachRemaining(visitor) : 0;
        }
    }

    /** A cursor over the tree, positioned nowhere until first, last or seek. */
    public Cursor cursor(String tree) {
        live();
        String name = checkName(tree);
        tree(name);
        return new Cursor(this, name);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (pinStripe >= 0) store.endRead(this);
    }

    // ---------------------------------------------------------------- package-private engine

    void live() {
        if (closed) throw new IllegalStateException("transaction " + snapshot.txnId() + " is closed");
        store.checkOpen();
    }

    Snapshot.TreeRef catalogRef() {
        MetaPage.Meta m = snapshot.meta;
        return new Snapshot.TreeRef(m.catalogRoot(), m.catalogRootTxn(), m.treeCount());
    }

    /** The named tree. @throws IllegalArgumentException when it does not exist */
    Snapshot.TreeRef tree(String name) {
        // Fast path for read transactions: a tree seen before in this snapshot needs no checks.
        Snapshot.TreeRef cached = name == null || tracksWrites() ? null : snapshot.trees.get(name);
        if (cached != null) return cached;
        Snapshot.TreeRef ref = findTree(checkName(name));
        if (ref == null) throw new IllegalArgumentException("no tree named '" + name + "' in " + store.directory());
        return ref;
    }

    Snapshot.TreeRef findTree(String name) {
        Snapshot.TreeRef ref = snapshot.trees.get(name);
        if (ref != null) return ref;
        ref = readCatalog(catalogRef(), name);
        if (ref != null) snapshot.trees.putIfAbsent(name, ref);
        return ref;
    }

    final Snapshot.TreeRef readCatalog(Snapshot.TreeRef catalog, String name) {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        MemorySegment entry = lookup(catalog.root(), catalog.rootTxn(), MemorySegment.ofArray(nameBytes));
        if (entry == null) return null;
        if (entry.byteSize() != Catalog.ENTRY_BYTES) {
            throw store.corruption(catalog.root(), "catalog entry for '" + name + "' of " + entry.byteSize()
                + " bytes (expected: " + Catalog.ENTRY_BYTES + ")");
        }
        return Catalog.decode(entry);
    }

    /**
     * Point lookup in the tree with this root. For a read transaction its pages never change, so
     * {@link Snapshot#locate} reads them in place in their mapped chunks. Why it is split so: the
     * descent is too big for the JIT to inline, and whatever it receives or returns escapes. It
     * belongs to the shared snapshot and returns a file position, so neither this transaction nor
     * the value's slice (made here, in a method small enough to inline) escapes, and a read that
     * only looks at the value allocates nothing. {@link WriteTxn} overrides this with
     * {@link #lookupPages}: its own pages live on the heap.
     */
    MemorySegment lookup(long root, long rootTxn, MemorySegment key) {
        long cell = snapshot.locate(store, root, rootTxn, key);
        if (cell < 0) return cell == Snapshot.ABSENT ? null : lookupPages(root, rootTxn, key);
        MemorySegment chunk = chunks[(int) (cell >>> file.chunkShift)];
        long at = cell & file.chunkMask;
        return value(chunk, at, u16(chunk, at));
    }

    /** Point lookup through {@link #node} page segments: any transaction, any page. */
    final MemorySegment lookupPages(long root, long rootTxn, MemorySegment key) {
        if (root == 0) return null;
        long id = root;
        long birth = rootTxn;
        int keyBytes = (int) key.byteSize();
        for (int depth = 0; depth < Limits.TREE_DEPTH_MAX; depth++) {
            MemorySegment page = node(id, birth);
            if (NodePage.isLeaf(page)) {
                NodePage.touchSlots(page);
                int i = NodePage.lowerBound(page, key, 0, keyBytes);
                if (i == PageLayout.count(page) || !NodePage.keyEquals(page, i, key, 0, keyBytes)) return null;
                return value(page, NodePage.slot(page, i));
            }
            int i = NodePage.childIndex(page, key, 0, keyBytes);
            id = NodePage.child(page, i);
            birth = NodePage.childTxn(page, i);
        }
        throw store.corruption(root, "tree deeper than " + Limits.TREE_DEPTH_MAX + " levels (a cycle or damage)");
    }

    /** A node page reachable through a parent recording (pageId, birthTxn), checked. */
    MemorySegment node(long pageId, long birthTxn) {
        return snapshot.node(store, pageId, birthTxn);
    }

    /** The value of the leaf cell at cellOffset, read-only. */
    MemorySegment value(MemorySegment leaf, int cellOffset) {
        return value(leaf, cellOffset, NodePage.keyBytes(leaf, cellOffset));
    }

    /**
     * The value of the leaf cell at byte {@code cell} of the segment (a page, or the mapped chunk
     * holding the page), whose key has {@code cellKeyBytes} bytes; read-only.
     */
    MemorySegment value(MemorySegment segment, long cell, int cellKeyBytes) {
        int valueBytes = segment.get(U32, cell + 3);
        long valueAt = cell + LEAF_CELL_HEADER + cellKeyBytes;
        if ((segment.get(U8, cell + 2) & FLAG_OVERFLOW) == 0) return export(segment.asSlice(valueAt, valueBytes));
        return overflow(segment.get(U64, valueAt), segment.get(U64, valueAt + 8), valueBytes);
    }

    MemorySegment overflow(long runId, long runTxn, int valueBytes) {
        int pages = PageCheck.runPages(valueBytes, file.pageBytes);
        if (runId < FIRST_DATA_PAGE || runId + pages > pageCount || runTxn > snapshot.txnId()) {
            throw store.corruption(runId, "overflow run of " + pages + " pages, birth " + runTxn
                + " (expected: within [3, " + pageCount + "), birth <= " + snapshot.txnId() + ")");
        }
        MemorySegment run = file.run(chunks, runId, pages);
        if (!file.isVerified(runId)) {
            String problem = PageCheck.run(run, runId, runTxn, pages, valueBytes);
            if (problem != null) throw store.corruption(runId, problem);
            file.markVerified(runId);
        } else if (PageLayout.txnId(run) != runTxn || PageLayout.pageId(run) != runId
                || run.get(U32, RUN_VALUE_BYTES_OFFSET) != valueBytes) {
            throw store.corruption(runId, "overflow run header does not match its reference");
        }
        return run.asSlice(HEADER_BYTES, valueBytes).asReadOnly();
    }

    /**
     * A segment safe to hand out: mapped pages are read-only already; bytes of a write
     * transaction's own pages (heap buffers it keeps changing) are copied. Final, so the read
     * path pays a flag test instead of a virtual call.
     */
    final MemorySegment export(MemorySegment bytes) {
        return bytes.isReadOnly() ? bytes : MemorySegment.ofArray(bytes.toArray(U8)).asReadOnly();
    }

    /** Counts writes, so a cursor notices that its pages changed; 0 for read transactions. */
    long modCount() {
        return 0;
    }

    boolean tracksWrites() {
        return false;
    }

    // ---------------------------------------------------------------- argument checks

    static String checkName(String tree) {
        if (tree == null) throw new IllegalArgumentException("tree name is null");
        if (tree.isBlank()) throw new IllegalArgumentException("tree name '" + tree + "' is blank");
        int lone = Text.unpairedSurrogate(tree);
        if (lone >= 0) {
            throw new IllegalArgumentException("tree name has an unpaired surrogate at index " + lone
                + " (UTF-8 cannot hold it)");
        }
        // A UTF-16 char takes at most 3 bytes of UTF-8, so short names need no encoding here.
        if (tree.length() * 3 > Limits.TREE_NAME_BYTES_MAX
                && tree.getBytes(StandardCharsets.UTF_8).length > Limits.TREE_NAME_BYTES_MAX) {
            throw new IllegalArgumentException("tree name '" + tree + "' is longer than "
                + Limits.TREE_NAME_BYTES_MAX + " bytes of UTF-8");
        }
        return tree;
    }

    static void checkKey(byte[] key) {
        if (key == null) throw new IllegalArgumentException("key is null");
        if (key.length > Limits.KEY_BYTES_MAX) {
            throw new IllegalArgumentException("key of " + key.length + " bytes (expected: <= " + Limits.KEY_BYTES_MAX + ")");
        }
    }

    static void checkKey(MemorySegment key) {
        if (key == null) throw new IllegalArgumentException("key is null");
        if (key.byteSize() > Limits.KEY_BYTES_MAX) {
            throw new IllegalArgumentException("key of " + key.byteSize() + " bytes (expected: <= " + Limits.KEY_BYTES_MAX + ")");
        }
    }
}
