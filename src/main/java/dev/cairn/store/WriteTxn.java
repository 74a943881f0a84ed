package dev.cairn.store;

import dev.cairn.internal.Check;
import dev.cairn.internal.Limits;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;

import static dev.cairn.store.PageLayout.*;

/**
 * The one write transaction of a store: reads see its own uncommitted writes.
 *
 * <ul>
 *   <li>At most one is open per store; {@link Store#beginWrite()} blocks until the slot is
 *       free. It is not bound to a thread, but must be used by one thread at a time.
 *   <li>Changed pages live in heap buffers ({@link PageBuffer}, "dirty pages", birth txn id = this txn's id) until
 *       {@link #commit()} writes them and the free list. The transaction also records its
 *       operations ({@link LogOps}): the log frame that makes the commit durable with one force.
 *       A transaction whose ops outgrow the store's log limit stops recording them; its commit
 *       then forces its pages and a meta page into the data file instead (storage-format.md §5.1).
 *   <li>{@code close()} without {@code commit()} aborts. After commit, abort or close every
 *       call except close throws {@link IllegalStateException}.
 *   <li>Segments returned from dirty pages are copies, so later writes in this transaction
 *       never change bytes a caller holds.
 * </ul>
 */
public final class WriteTxn extends ReadTxn {
    final long newTxnId;
    private final LongMap<Dirty> dirty = new LongMap<>();
    private final LongMap<MemorySegment> runs = new LongMap<>();
    /** Pages freed by this transaction: born at or before the checkpoint, and after it. */
    private final LongList freedOld = new LongList();
    private final LongList freedFresh = new LongList();
    /** The commit the data file alone holds: pages born after it are not reachable from its meta. */
    private final long checkpointTxn;
    private final LongList allocated = new LongList();
    private final long startPageCount;
    private final TreeMap<String, MutableTree> trees = new TreeMap<>();
    private final MutableTree catalog;
    private final FreeSpace freeSpace;
    private long modCount;
    private MutableTree lastTree;
    /** This transaction's ops for the log; null when they outgrew logLimit (or replay needs none). */
    private LogOps ops;
    private final long logLimit;
    /** Where page buffers come from, and go back to once this transaction has ended. */
    private final PagePool pool;
    /** Buffers of pages this transaction wrote and freed again: back to the pool at its end. */
    private final List<Dirty> retired = new ArrayList<>();
    /** The failure that left a change half done ({@link #broken}); null while the transaction is sound. */
    private Throwable brokenBy;
    /** Set by the store once the commit is written: a failure after that must not roll it back. */
    boolean committed;

    /** A page this transaction wrote: its buffer, and one segment view of it for the read paths. */
    static final class Dirty {
        private final byte[] bytes;
        private final MemorySegment view;
        /** True while the buffer waits in a {@link PagePool}: the pool never holds it twice. */
        boolean pooled;

        Dirty(byte[] bytes) {
            this.bytes = bytes;
            this.view = MemorySegment.ofArray(bytes);
        }

        byte[] bytes() {
            return bytes;
        }

        MemorySegment view() {
            return view;
        }
    }

    /**
     * The state of one tree inside this transaction. Each tree has its own {@link BTree}, so the
     * path its last put remembers survives puts into other trees (a record and its index or
     * outbox entry, alternately).
     */
    static final class MutableTree {
        final String name;
        long root;
        long rootTxn;
        long count;
        boolean dropped;
        boolean changed;
        private BTree btree;

        BTree btree(WriteTxn tx) {
            if (btree == null) btree = new BTree(tx, tx.newTxnId, tx.file.pageBytes);
            return btree;
        }

        MutableTree(String name, long root, long rootTxn, long count) {
            this.name = name;
            this.root = root;
            this.rootTxn = rootTxn;
            this.count = count;
        }
    }

    /**
     * @param ops      where to record the ops (cleared here), or null to record none
     * @param logLimit the op bytes beyond which recording stops
     * @param pool     the writer's page buffers
     */
    WriteTxn(Store store, Snapshot base, long newTxnId, long checkpointTxn, FreeSpace freeSpace, LogOps ops, long logLimit,
             PagePool pool) {
        super(store, base);
        this.ops = ops;
        this.logLimit = logLimit;
        this.pool = pool;
        if (ops != null) ops.clear();
        this.newTxnId = newTxnId;
        this.checkpointTxn = checkpointTxn;
        this.freeSpace = freeSpace;
        this.startPageCount = freeSpace.pageCount();
        MetaPage.Meta m = base.meta;
        this.catalog = new MutableTree("(catalog)", m.catalogRoot(), m.catalogRootTxn(), m.treeCount());
    }

    /** The txn id this transaction commits as. */
    @Override
    public long txnId() {
        live();
        return newTxnId;
    }

    @Override
    public List<String> treeNames() {
        live();
        flushCatalog();
        return super.treeNames();
    }

    /** Creates an empty tree; does nothing if it exists. */
    public void createTree(String tree) {
        live();
        checkName(tree);
        if (findTree(tree) != null) return;
        try {
            MutableTree t = new MutableTree(tree, 0, 0, 0);
            t.changed = true;
            trees.put(tree, t);
            modCount++;
            if (recording(tree, 0)) ops.createTree(tree);
        } catch (RuntimeException | Error e) {
            broken(e);
            throw e;
        }
    }

    /** Removes a tree and frees its pages. @throws IllegalArgumentException no such tree */
    public void dropTree(String tree) {
        live();
        MutableTree t = mutable(tree);
        try {
            t.btree(this).freeTree(t.root, t.rootTxn);
            t.root = 0;
            t.rootTxn = 0;
            t.count = 0;
            t.dropped = true;
            t.changed = true;
            modCount++;
            if (recording(tree, 0)) ops.dropTree(tree);
        } catch (RuntimeException | Error e) {
            broken(e);
            throw e;
        }
    }

    // The tree and the log must hold the same bytes, or a crash replays other data than the
    // commit stored (probe 104: a key array another thread changed during a put corrupted the
    // tree; a value changed during a put came back different after a crash). So a put reads
    // the caller's key and value once each, into copies both take: the key into a pool array,
    // an inline value into the pool's scratch page, a larger one into its overflow run, whose
    // bytes the log then takes.

    /** Inserts or replaces. @throws IllegalArgumentException no such tree, key or value too long */
    public void put(String tree, byte[] key, byte[] value) {
        checkKey(key);
        if (value == null) throw new IllegalArgumentException("value is null");
        live();
        putChecked(tree, keyCopy(key), MemorySegment.ofArray(value));
    }

    /**
     * Inserts or replaces. @throws IllegalArgumentException no such tree, key or value too long,
     * or a segment whose memory is freed (its arena closed)
     */
    public void put(String tree, MemorySegment key, MemorySegment value) {
        checkKey(key);
        if (value == null) throw new IllegalArgumentException("value is null");
        live();
        checkAlive(key, "key");
        checkAlive(value, "value");
        putChecked(tree, keyCopy(key), value);
    }

    private static void checkAlive(MemorySegment s, String what) {
        if (!s.scope().isAlive()) throw new IllegalArgumentException(what + " segment's memory is freed (its arena is closed)");
    }

    /**
     * The key's bytes in an array of its length, which later puts of keys as long reuse: the
     * tree keeps no key array (putChecked).
     */
    private byte[] keyCopy(MemorySegment key) {
        int n = Math.toIntExact(key.byteSize());
        byte[] b = pool.keyArray(n);
        MemorySegment.copy(key, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, b, 0, n);
        return b;
    }

    private byte[] keyCopy(byte[] key) {
        byte[] b = pool.keyArray(key.length);
        System.arraycopy(key, 0, b, 0, key.length);
        return b;
    }

    /** The key is this call's own copy; the tree keeps none. */
    private void putChecked(String tree, byte[] key, MemorySegment value) {
        if (value.byteSize() > Limits.VALUE_BYTES_MAX) {
            throw new IllegalArgumentException("value of " + value.byteSize() + " bytes (expected: <= "
                + Limits.VALUE_BYTES_MAX + ")");
        }
        MutableTree t = mutable(tree);
        // A value shorter than a page (every inline one) is read once, before anything changes.
        if (value.byteSize() < file.pageBytes) value = pool.valueCopy(value);
        try {
            BTree btree = t.btree(this);
            btree.put(t, key, value);
            t.changed = true;
            modCount++;
            if (recording(tree, 2 + key.length + 4 + value.byteSize())) ops.put(tree, key, btree.storedValue(value));
        } catch (RuntimeException | Error e) {
            broken(e);
            throw e;
        }
    }

    /** Removes the key; true if it was present. @throws IllegalArgumentException no such tree */
    public boolean delete(String tree, byte[] key) {
        checkKey(key);
        live();
        return deleteChecked(tree, keyCopy(key));
    }

    /** Removes the key; true if it was present. @throws IllegalArgumentException no such tree, a freed key segment */
    public boolean delete(String tree, MemorySegment key) {
        checkKey(key);
        live();
        checkAlive(key, "key");
        return deleteChecked(tree, keyCopy(key));
    }

    private boolean deleteChecked(String tree, byte[] keyBytes) {
        MutableTree t = mutable(tree);
        MemorySegment key = MemorySegment.ofArray(keyBytes);
        try {
            boolean removed = t.btree(this).delete(t, key);
            if (removed) {
                t.changed = true;
                modCount++;
                if (recording(tree, 2 + key.byteSize())) ops.delete(tree, key);
            }
            return removed;
        } catch (RuntimeException | Error e) {
            broken(e);
            throw e;
        }
    }

    /**
     * A change that failed part-way (out of memory, a damaged page, a bug) may have changed some
     * pages of the tree and not others, taken pages it did not note, or not logged what the tree
     * holds: from now on the transaction can only be aborted, as an LMDB transaction after an
     * error. Allocates nothing (the heap may be full).
     */
    private void broken(Throwable e) {
        if (brokenBy == null) brokenBy = e;
    }

    /** The thread that used this transaction last: the store's writer, for the checks of a second beginWrite. */
    private Thread user;

    /**
     * Refuses every use but abort and close once a change failed part-way ({@link #broken}).
     * Notes a new thread using the transaction (it may be handed on): that thread's beginWrite,
     * verify or backup then throws rather than wait for itself (probe 104: it hung).
     */
    @Override
    void live() {
        if (closed) throw new IllegalStateException("write transaction " + newTxnId + " of " + store.directory() + " is closed");
        super.live();
        Thread current = Thread.currentThread();
        if (user != current) {
            user = current;
            store.writerIs(current);
        }
        if (brokenBy != null) {
            throw new IllegalStateException("write transaction " + newTxnId + " of " + store.directory()
                + " can only be aborted: a change in it failed part-way (" + brokenBy + ")", brokenBy);
        }
    }

    /**
     * True if an op on the tree with {@code fieldBytes} after its kind and tree name still fits
     * the log limit; else recording stops for good (the commit goes to the data file directly).
     */
    private boolean recording(String tree, long fieldBytes) {
        if (ops == null) return false;
        // At most 3 UTF-8 bytes per char of the name.
        if (ops.size() + 1 + 2 + 3L * tree.length() + fieldBytes <= logLimit) return true;
        ops.clear();
        ops = null;
        return false;
    }

    /** The ops to log at commit, or null: the commit must go to the data file directly. */
    LogOps loggedOps() {
        return ops;
    }

    /**
     * Makes every write durable (default mode) and visible to new readers. A transaction that
     * changed nothing writes nothing and forces nothing (the last commit is already durable);
     * its txn id is then not used, and the next write transaction gets it.
     *
     * @throws IllegalStateException a put, delete, or tree creation or drop in this transaction
     *         failed part-way (its exception is the cause): nothing of the transaction is stored
     */
    public void commit() {
        super.live();
        try {
            live(); // refuses a transaction a failed change broke: rolled back and ended below
            flushCatalog();
            if (modCount != 0) store.commit(this); else rollback();
        } catch (RuntimeException | Error e) {
            rollback();
            throw e;
        } finally {
            closed = true;
            end();
        }
    }

    /**
     * Gives the page buffers back and the write slot free; the slot also when that fails (an
     * OutOfMemoryError while the heap is full of this transaction's pages): held, every later
     * write, and the close of the store, would wait for it for ever.
     */
    private void end() {
        try {
            releasePages();
        } finally {
            store.endWrite(this);
        }
    }

    /** Discards every write of this transaction. Idempotent. */
    public void abort() {
        close();
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            rollback();
        } finally {
            end();
        }
    }

    // ---------------------------------------------------------------- reads see own writes

    @Override
    Snapshot.TreeRef catalogRef() {
        return new Snapshot.TreeRef(catalog.root, catalog.rootTxn, catalog.count);
    }

    @Override
    Snapshot.TreeRef findTree(String name) {
        MutableTree t = trees.get(name);
        if (t != null) return t.dropped ? null : new Snapshot.TreeRef(t.root, t.rootTxn, t.count);
        return readCatalog(catalogRef(), name);
    }

    private MutableTree mutable(String name) {
        MutableTree last = lastTree;
        if (last != null && !last.dropped && last.name.equals(name)) return last;
        checkName(name);
        MutableTree t = trees.get(name);
        if (t != null && !t.dropped) return lastTree = t;
        Snapshot.TreeRef ref = t == null ? readCatalog(catalogRef(), name) : null;
        if (ref == null) throw new IllegalArgumentException("no tree named '" + name + "' in " + store.directory());
        t = new MutableTree(name, ref.root(), ref.rootTxn(), ref.count());
        trees.put(name, t);
        return lastTree = t;
    }

    /** Lookups go through {@link #node}: pages this transaction wrote are heap buffers. */
    @Override
    MemorySegment lookup(long root, long rootTxn, MemorySegment key) {
        return lookupPages(root, rootTxn, key);
    }

    @Override
    MemorySegment node(long pageId, long birthTxn) {
        if (birthTxn != newTxnId) return super.node(pageId, birthTxn);
        return dirty(pageId).view();
    }

    /** The buffer of a page this transaction wrote. */
    byte[] dirtyPage(long pageId) {
        return dirty(pageId).bytes();
    }

    private Dirty dirty(long pageId) {
        Dirty page = dirty.get(pageId);
        if (page == null) throw store.corruption(pageId, "pointer with this txn's id " + newTxnId + " to a page it did not write");
        return page;
    }

    @Override
    MemorySegment overflow(long runId, long runTxn, int valueBytes) {
        if (runTxn != newTxnId) return super.overflow(runId, runTxn, valueBytes);
        MemorySegment run = runs.get(runId);
        if (run == null) throw store.corruption(runId, "overflow pointer with this txn's id to a run it did not write");
        return run.asSlice(HEADER_BYTES, valueBytes).asReadOnly();
    }

    @Override
    long modCount() {
        return modCount;
    }

    /**
     * How many puts, deletes and tree creations or drops this transaction made so far, so that a
     * caller can tell whether a step that failed had changed anything.
     */
    public long changes() {
        return modCount;
    }

    @Override
    boolean tracksWrites() {
        return true;
    }

    // ---------------------------------------------------------------- pages (used by BTree)

    // The list has room before a page leaves the free space: a list that failed to grow (out
    // of memory) lost the page for good, as rollback gives back only the pages listed, and the
    // next checkpoint wrote a free list without it (a leak verify reports).
    long allocPage() {
        allocated.reserve(1);
        long id = freeSpace.take();
        allocated.add(id);
        return id;
    }

    long allocRun(int pages) {
        allocated.reserve(pages);
        long id = freeSpace.takeRun(pages);
        for (long p = id; p < id + pages; p++) allocated.add(p);
        return id;
    }

    byte[] newPage(long pageId, byte kind) {
        Dirty d = pool.take();
        PageBuffer.reset(d.bytes(), kind, pageId, newTxnId);
        dirty.put(pageId, d);
        return d.bytes();
    }

    void addRun(long runId, MemorySegment run) {
        runs.put(runId, run);
    }

    /** A dirty copy of a committed node page under a new id; the old id is freed. */
    byte[] copyOnWrite(long pageId, long birthTxn) {
        MemorySegment source = node(pageId, birthTxn);
        long id = allocPage();
        Dirty d = pool.take();
        byte[] page = d.bytes();
        MemorySegment.copy(source, U8, 0, page, 0, page.length);
        PageBuffer.setIdentity(page, id, newTxnId);
        dirty.put(id, d);
        freePage(pageId, birthTxn);
        return page;
    }

    /** Frees a page: at once if this txn wrote it, else when no snapshot can reach it. */
    void freePage(long pageId, long birthTxn) {
        if (birthTxn == newTxnId) {
            // The tree code may still hold the buffer: it goes back to the pool only at the end.
            Dirty d = dirty.get(pageId);
            if (d != null) retired.add(d);
            dirty.remove(pageId);
            freeSpace.giveBack(pageId);
        } else {
            freed(pageId, birthTxn);
        }
    }

    private void freed(long pageId, long birthTxn) {
        (birthTxn > checkpointTxn ? freedFresh : freedOld).add(pageId);
    }

    void freeRun(long runId, long runTxn, int pages) {
        if (runTxn == newTxnId) runs.remove(runId);
        for (long p = runId; p < runId + pages; p++) {
            if (runTxn == newTxnId) freeSpace.giveBack(p); else freed(p, runTxn);
        }
    }

    // ---------------------------------------------------------------- commit support (Store)

    /** Writes changed catalog entries into the catalog tree. */
    void flushCatalog() {
        for (MutableTree t : trees.values()) {
            if (!t.changed) continue;
            byte[] name = t.name.getBytes(StandardCharsets.UTF_8);
            if (t.dropped) {
                catalog.btree(this).delete(catalog, MemorySegment.ofArray(name));
            } else {
                catalog.btree(this).put(catalog, name, MemorySegment.ofArray(Catalog.encode(t.root, t.rootTxn, t.count)));
            }
            t.changed = false;
        }
    }

    MutableTree catalog() {
        return catalog;
    }

    LongMap<Dirty> dirtyPages() {
        return dirty;
    }

    /**
     * Brings the dirty node pages of a file of read version 3 into their committed form before
     * they are sealed (storage-format.md §4.1): a leaf whose cells the guess would find once
     * packed gets its cells packed at the page's end in slot order ({@link CellGuess#packIfItHelps});
     * other pages stay as they are. Then each branch cell of a child this transaction wrote holds
     * what {@link CellGuess#toRecord} says. Cells of children written before keep what was
     * recorded then: a committed page never changes, and the record depends on the child alone.
     */
    void settleNodes(long[] dirtyIds) {
        if (!store.childCellStarts()) return;
        // What CellGuess.toRecord says of each page, decided as it is packed (dirtyIds is sorted).
        int[] records = new int[dirtyIds.length];
        for (int k = 0; k < dirtyIds.length; k++) records[k] = CellGuess.packIfItHelps(dirty.get(dirtyIds[k]).bytes());
        for (long id : dirtyIds) {
            byte[] page = dirty.get(id).bytes();
            if (page[(int) PageLayout.KIND_OFFSET] != PageLayout.KIND_BRANCH) continue;
            for (int i = 0, n = PageBuffer.count(page); i < n; i++) {
                if (PageBuffer.childTxn(page, i) != newTxnId) continue;
                long child = PageBuffer.child(page, i);
                int k = Arrays.binarySearch(dirtyIds, child);
                Check.that(k >= 0, "page %d: child %d, born in txn %d, is not among its dirty pages", id, child, newTxnId);
                PageBuffer.setChildCellStart(page, i, records[k]);
            }
        }
    }

    LongMap<MemorySegment> dirtyRuns() {
        return runs;
    }

    /** Freed pages born at or before the checkpoint: the data file's own meta may reach them. */
    LongList freedOldPages() {
        return freedOld;
    }

    /** Freed pages born after the checkpoint: the data file's own meta cannot reach them. */
    LongList freedFreshPages() {
        return freedFresh;
    }

    /** Returns every page this transaction took to the free space, as if it never ran; nothing once committed. */
    void rollback() {
        if (committed) return;
        for (int i = 0; i < allocated.size(); i++) {
            long id = allocated.get(i);
            if (id < startPageCount) freeSpace.giveBack(id); else freeSpace.forget(id);
        }
        allocated.clear();
        freeSpace.pageCount(startPageCount);
        runs.clear();
    }

    /**
     * At the end of the transaction (committed or not): its page buffers go back to the pool.
     * Allocates nothing: it runs after a commit is durable, which must then return (an
     * OutOfMemoryError here made a stored batch throw, and the application wrote it again).
     * Plain loops, no lambdas: the first use of a lambda costs milliseconds, and the first
     * transaction after open is often one that changed nothing.
     */
    void releasePages() {
        for (int i = 0, n = dirty.slots(); i < n; i++) {
            Dirty d = dirty.valueAt(i);
            if (d != null) pool.give(d);
        }
        dirty.clear();
        for (int i = 0, n = retired.size(); i < n; i++) pool.give(retired.get(i));
        retired.clear();
    }
}
