package dev.cairn.db;

import dev.cairn.BorrowState;
import dev.cairn.ChangeKind;
import dev.cairn.CorruptionException;
import dev.cairn.Event;
import dev.cairn.Key;
import dev.cairn.NoIdsLeftException;
import dev.cairn.NotCheckedOutException;
import dev.cairn.RecordNotFoundException;
import dev.cairn.ReleasedRecordException;
import dev.cairn.SchemaMismatchException;
import dev.cairn.WritesStoppedException;
import dev.cairn.internal.Check;
import dev.cairn.internal.Limits;
import dev.cairn.schema.Schema;
import dev.cairn.schema.SchemaVersions;
import dev.cairn.store.Cursor;
import dev.cairn.store.ReadTxn;
import dev.cairn.store.Store;
import dev.cairn.store.VerifyReport;
import dev.cairn.store.WriteTxn;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The typed database over one {@link Store} (spec/database-layout.md): trees, metadata, key
 * pools, check-outs, outbox, indexes and events. {@code dev.cairn.Cairn} is its public face.
 *
 * <ul>
 *   <li>One write transaction at a time: every change runs under {@code writeLock} inside a
 *       {@link Batch}; readers open their own store snapshot and never take the lock.
 *   <li>Each batch writes its record changes, key pools, outbox entries (once linked) and the outbox counter
 *       in one store transaction; index commits and events follow the store commit, still under
 *       the lock, so they are published in commit order. The link's events, which store nothing,
 *       are published under the lock too, without a store transaction ({@link #announce}).
 *   <li>After {@link #close()} every operation throws {@link IllegalStateException}; close
 *       waits for the running writer and the readers inside an operation.
 * </ul>
 */
public final class Database implements AutoCloseable {
    private final Store store;
    private final Path directory;
    private final UUID nodeId;
    private final String nodeName;
    private final String user;
    private final String appId;
    private final EventHub events;
    private final ReentrantLock writeLock = new ReentrantLock();
    final ConcurrentHashMap<String, TreeState> trees = new ConcurrentHashMap<>();
    private final RunningReads reads = new RunningReads();
    /** How long a close waits for reads running on other threads before it closes anyway. */
    public static final long CLOSE_WAIT_READS_MILLIS = 10_000;
    private volatile boolean closed;
    /** Bound to the database while one of its reads calls the application back ({@link #readCallingBack}). */
    private static final ScopedValue<Database> CALLING_BACK = ScopedValue.newInstance();

    static {
        // Initialises the JDK's classes behind isBound (ScopedValue$Snapshot) while the heap has
        // room: their first use was a close after an OutOfMemoryError, and a class whose
        // initialisation runs out of memory is unusable for the JVM's life, so no close of any
        // database could run again (NoClassDefFoundError; OutOfMemoryWriteTest saw it once).
        CALLING_BACK.isBound();
        // Likewise the JDK's socket classes: the JVM's first socket initialises them, taking a
        // file descriptor of their own (sun.nio.ch.UnixDispatcher). With none left then (EMFILE,
        // a process at its ulimit -n) their initialisation failed for the JVM's life, and every
        // link of every database in it stopped for good (NoClassDefFoundError; probe 112). A
        // socket opened here, at the first open, while there are descriptors, spares that.
        try {
            java.nio.channels.SocketChannel.open().close();
        } catch (java.io.IOException | RuntimeException | LinkageError noSocketNow) {
            // A link meets it and says so.
        }
    }
    private static final System.Logger LOG = System.getLogger(Database.class.getName());
    /**
     * Every indexer registered on a tree of an open database, by identity, with where: one
     * instance on two trees would be rebuilt by the second and fed by both.
     */
    private static final Map<Object, String> REGISTERED = java.util.Collections.synchronizedMap(new IdentityHashMap<>());
    private Batch batch;
    /**
     * Set when the follow-up of a committed batch ({@link #afterCommit(Batch)}) failed with an
     * Error (out of memory): writes are refused until a reopen. Written under the write lock.
     */
    private Throwable stoppedBy;
    private long outboxNext;
    /**
     * Ids per tree a linked node keeps in hand, so that it can insert that many records offline:
     * while connected, its session asks the server for another range whenever it holds fewer.
     */
    public static final int ID_RESERVE_DEFAULT = 1000;
    public static final int ID_RESERVE_MAX = 10_000_000;
    private final int idReserve;
    /** Sync hooks (null while standalone): see {@link SyncReplica}. */
    volatile SyncReplica sync;
    /** The server this database linked to (cairn.node "serverId"), or null: then pools are self-allocated. */
    volatile UUID serverId;

    /** The work of one write transaction; owned by the thread holding {@code writeLock}. */
    private static final class Batch {
        final WriteTxn txn;
        final List<Event> events = new ArrayList<>();
        final Map<TreeState, KeyPool> pools = new IdentityHashMap<>();
        final Set<TreeState.IndexBinding<?>> indexes = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        final List<Runnable> afterCommit = new ArrayList<>();
        final List<Runnable> onAbort = new ArrayList<>();
        long outboxNext;
        /** The first sequence this batch hands out, if any: where its outbox group starts (§6). */
        final long outboxStart;
        boolean outboxTouched;
        /** Changes an index noted (Indexer.check passed), as a count: see {@link #changes}. */
        long indexNotes;
        /**
         * An operation that failed part-way: the batch can no longer commit (see {@link #write}).
         * Kept as thrown: wrapping it could run out of memory, and the batch then went on unbroken.
         */
        Throwable brokenBy;
        /** The sync link's batch: nobody waits for an index failure after its commit. */
        boolean fromServer;
        /** Trees this batch created, by name: cached for the database only once it commits ({@link #treeCreated}). */
        final Map<String, TreeState> createdTrees = new java.util.HashMap<>();
        /** Trees a read of this batch is calling back into the application for: see {@link #readCallingBack}. */
        final Map<TreeState, Integer> visited = new IdentityHashMap<>();

        Batch(WriteTxn txn, long outboxNext) {
            this.txn = txn;
            this.outboxNext = outboxNext;
            this.outboxStart = outboxNext;
        }

        /** Grows with every change the batch makes to the store or notes in an index. */
        long changes() {
            return txn.changes() + indexNotes;
        }

        void refuseIfBroken() {
            if (brokenBy != null) {
                throw new dev.cairn.CairnException("the write batch is rolled back, nothing of it is stored: an "
                    + "operation in it failed after changing part of the batch (" + brokenBy + "); catch such a "
                    + "failure outside Cairn.write, or check before the operation", brokenBy);
            }
        }
    }

    private Database(Store store, String nodeName, String user, String appId, int eventBufferEvents, int idReserve) {
        this.store = store;
        this.idReserve = idReserve;
        this.directory = store.directory();
        this.nodeName = nodeName;
        this.user = user;
        this.appId = appId;
        this.events = new EventHub(eventBufferEvents);
        // Read first: a database that needs no write to open opens without one, so a damaged free
        // list (which refuses every write) leaves it readable (storage-format.md §6; probe 124).
        boolean write;
        try (ReadTxn r = store.beginRead()) {
            refuseServerDatabase(r);
            write = needsWriteToOpen(r);
        }
        if (write) writeOwnTrees();
        try (ReadTxn r = store.beginRead()) {
            this.nodeId = nodeId(r);
            MemorySegment server = r.get(Layout.NODE, SyncReplica.SERVER_ID);
            this.serverId = server == null ? null : Layout.uuidOf(server);
            this.outboxNext = outboxNext(r);
        }
    }

    /** The write of {@link #needsWriteToOpen}: the node's trees, its id, and outbox entries or indexes mended. */
    private void writeOwnTrees() {
        try (WriteTxn txn = store.beginWrite()) {
            for (String t : OWN_TREES) txn.createTree(t);
            boolean neverLinked = txn.get(Layout.NODE, SyncReplica.SERVER_ID) == null;
            if (neverLinked) {
                // Entries an older Cairn wrote before any link: the link writes them anew.
                if (!Outbox.isEmpty(txn)) {
                    Outbox.clear(txn); // also creates the trees a database of before them lacks
                }
            } else if (!Outbox.indexesMatch(txn)) {
                // A database of before the order, group or start tree, or one that an older Cairn changed since.
                Outbox.buildOrder(txn);
            }
            if (txn.get(Layout.NODE, Layout.NODE_ID) == null) {
                txn.put(Layout.NODE, Layout.NODE_ID, Layout.uuidBytes(UUID.randomUUID()));
            }
            txn.commit();
        }
    }

    /** The trees of a node's database (database-layout.md §2), made at its first open. */
    private static final List<String> OWN_TREES = List.of(Layout.NODE, Layout.CATALOG, Layout.SCHEMAS, Layout.POOLS,
        Layout.CHECKOUTS, Layout.OUTBOX, Layout.CLASSES, Layout.REMOVED_REVISIONS);

    /** Both trees: a node's folder that an older server was started on. Still the node's. */
    private void refuseServerDatabase(ReadTxn r) {
        if (r.hasTree(dev.cairn.sync.ServerCore.META) && !r.hasTree(Layout.NODE)) {
            throw new IllegalArgumentException(directory + " holds a sync server's database (tree "
                + dev.cairn.sync.ServerCore.META + "), not a node's: serve it with `cairn server --data " + directory
                + "` and open the node in a folder of its own");
        }
    }

    /**
     * What the write at open does, and whether it has anything to do: a tree or the node id
     * missing, outbox entries of before the link (an older Cairn's), or outbox indexes that do
     * not match it (an older layout, or an older Cairn that changed the database since).
     */
    private static boolean needsWriteToOpen(ReadTxn r) {
        for (String t : OWN_TREES) if (!r.hasTree(t)) return true;
        if (r.get(Layout.NODE, Layout.NODE_ID) == null) return true;
        boolean neverLinked = r.get(Layout.NODE, SyncReplica.SERVER_ID) == null;
        return neverLinked ? !Outbox.isEmpty(r) : !Outbox.indexesMatch(r);
    }

    private UUID nodeId(ReadTxn r) {
        MemorySegment id = r.get(Layout.NODE, Layout.NODE_ID);
        if (id.byteSize() != 16) throw new CorruptionException("node id in " + directory + " has " + id.byteSize()
            + " bytes (expected: 16)");
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(Layout.copy(id));
        return new UUID(b.getLong(), b.getLong());
    }

    private static long outboxNext(ReadTxn r) {
        MemorySegment next = r.get(Layout.NODE, Layout.OUTBOX_NEXT);
        return next == null ? 0 : java.nio.ByteBuffer.wrap(Layout.copy(next)).getLong();
    }

    public static Database open(Path dir, String nodeName, String user, String appId, int eventBufferEvents) {
        return open(dir, nodeName, user, appId, eventBufferEvents, ID_RESERVE_DEFAULT);
    }

    /** @param idReserve ids per tree a linked node keeps in hand for offline inserts (see {@link #idReserve()}) */
    public static Database open(Path dir, String nodeName, String user, String appId, int eventBufferEvents,
                                int idReserve) {
        Check.that(idReserve >= 1 && idReserve <= ID_RESERVE_MAX, "idReserve %d in [1, 10,000,000]", idReserve);
        Store store = Store.open(dir);
        try {
            return new Database(store, nodeName, user, appId, eventBufferEvents, idReserve);
        } catch (RuntimeException | Error e) {
            store.close();
            throw e;
        }
    }

    /** Ids per tree this node keeps in hand while linked: see {@link #ID_RESERVE_DEFAULT}. */
    public int idReserve() {
        return idReserve;
    }

    public UUID nodeId() {
        checkOpen();
        return nodeId;
    }

    public String nodeName() {
        return nodeName;
    }

    public String user() {
        return user;
    }

    public String appId() {
        return appId;
    }

    public Path directory() {
        return directory;
    }

    public EventHub events() {
        checkOpen();
        return events;
    }

    Store store() {
        return store;
    }

    /** The names of the user trees, sorted. */
    public Set<String> treeNames() {
        return read(r -> {
            TreeSet<String> names = new TreeSet<>();
            try (Cursor c = r.cursor(Layout.CATALOG)) {
                for (boolean ok = c.first(); ok; ok = c.next()) names.add(new String(Layout.copy(c.key()),
                    java.nio.charset.StandardCharsets.UTF_8));
            }
            return java.util.Collections.unmodifiableSet(names);
        });
    }

    // ---------------------------------------------------------------- transactions

    /** Runs {@code body} in one durable write transaction; nested calls join the outer one. */
    public void write(Runnable body) {
        write(() -> {
            body.run();
            return null;
        }, true);
    }

    <R> R write(java.util.function.Supplier<R> body, boolean joinOuter) {
        checkOpen();
        if (joinOuter && writeLock.isHeldByCurrentThread() && batch != null) return joined(batch, body);
        writeLock.lock();
        try {
            checkOpen();
            refuseIfStopped();
            WriteTxn txn = store.beginWrite();
            Batch b;
            try {
                b = new Batch(txn, outboxNext);
            } catch (RuntimeException | Error e) {
                // Out of memory making the batch: the transaction goes, or it held the store's
                // write slot for ever (probe 94: the next write waited without end).
                txn.close();
                throw e;
            }
            batch = b;
            boolean committed = false;
            try {
                R result = body.get();
                b.refuseIfBroken();
                flush(b);
                b.txn.commit();
                committed = true;
                try {
                    afterCommit(b);
                } catch (Error e) {
                    // Out of memory part-way: the batch is stored and returns (thrown, the
                    // application takes it for not stored and writes it again), but this
                    // database's state in memory may have missed part of it: no more writes.
                    stoppedBy = e;
                }
                return result;
            } finally {
                batch = null;
                if (!committed) abort(b);
            }
        } finally {
            writeLock.unlock();
        }
    }

    /** Writes stop after a committed batch's follow-up failed ({@link #stoppedBy}) until a reopen. */
    private void refuseIfStopped() {
        Throwable e = stoppedBy;
        if (e != null) {
            throw new WritesStoppedException(directory + ": a write batch was committed, but updating this database's state"
                + " in memory after it failed (" + e + "); close and reopen the database before writing again: what was"
                + " committed is in the files", e);
        }
    }

    /**
     * Undoes a batch that did not commit: its transaction, its index changes, what it published
     * early. Each step runs even when one before it failed (say, out of memory while the heap is
     * full of the batch's pages): a step skipped would leave the store's writer or an index held.
     */
    private static void abort(Batch b) {
        try {
            b.txn.close();
        } finally {
            try {
                for (TreeState.IndexBinding<?> ib : b.indexes) ib.abort();
            } finally {
                for (int i = b.onAbort.size() - 1; i >= 0; i--) b.onAbort.get(i).run();
            }
        }
    }

    /**
     * Runs an operation inside the batch {@code b}. One that fails before changing anything
     * leaves the batch as it was, so the application may catch its exception and go on; one that
     * fails after changing part of the batch (a second index refusing a change the first noted,
     * an {@code insertAll} refused at its second record) breaks the batch: every later operation
     * in it, and its end, throw, and nothing of it is stored (database-layout.md §7).
     */
    private static <R> R joined(Batch b, java.util.function.Supplier<R> body) {
        b.refuseIfBroken();
        long before = b.changes();
        try {
            return body.get();
        } catch (RuntimeException | Error e) {
            if (b.changes() != before && b.brokenBy == null) b.brokenBy = e;
            throw e;
        }
    }

    /**
     * As {@link #write(Runnable)}, for the sync link's batch of changes from the server. An index
     * that fails to apply them after the commit is logged rather than thrown: thrown, it would
     * stop the link for good, for a fault of the application's indexer.
     */
    public void writeFromServer(Runnable body) {
        write(() -> {
            batch().fromServer = true;
            body.run();
            return null;
        }, true);
    }

    private void flush(Batch b) {
        b.pools.forEach((t, pool) -> {
            b.txn.put(Layout.POOLS, Layout.utf8(t.name), pool.toBytes());
            // A pool that used up its highest range keeps what was issued beside it (the byte
            // form, which an older Cairn reads, has no room for it). Never deleted: a later,
            // higher range supersedes it.
            if (pool.issuedHigh() > pool.high()) {
                b.txn.put(Layout.NODE, Layout.issuedHighKey(t.name), Layout.intBytes(pool.issuedHigh()));
            }
        });
        if (b.outboxTouched) b.txn.put(Layout.NODE, Layout.OUTBOX_NEXT, Layout.longBytes(b.outboxNext));
    }

    /**
     * Publishes a committed batch: pools and tree states first (the database's own state), then
     * the index commits, then the events. An indexer that throws does not stop the others or
     * the events; the caller then gets a {@link dev.cairn.CairnException} saying the change was
     * committed.
     */
    private void afterCommit(Batch b) {
        b.pools.forEach((t, pool) -> t.pool = pool);
        outboxNext = b.outboxNext;
        for (Runnable r : b.afterCommit) r.run();
        RuntimeException failed = null;
        for (TreeState.IndexBinding<?> ib : b.indexes) {
            try {
                ib.commit();
            } catch (RuntimeException e) {
                if (failed == null) failed = e;
            }
        }
        events.publish(b.events);
        SyncReplica s = sync;
        if (s != null && b.outboxTouched) s.outboxChanged();
        if (failed != null && b.fromServer) {
            LOG.log(System.Logger.Level.WARNING, "changes from the sync server were committed to " + directory
                + ", but an index failed to apply them (re-register the index to rebuild it); sync goes on: " + failed, failed);
        } else if (failed != null) {
            throw new dev.cairn.CairnException("the change was committed to " + directory
                + ", but an index failed to apply it (re-register the index to rebuild it): " + failed.getMessage(),
                failed);
        }
    }

    Batch batch() {
        Check.that(writeLock.isHeldByCurrentThread() && batch != null, "inside a write batch");
        return batch;
    }

    /** True on the thread running a write transaction ({@link #write}), which holds the database. */
    boolean inWrite() {
        return writeLock.isHeldByCurrentThread() && batch != null;
    }

    WriteTxn txn() {
        return batch().txn;
    }

    /** Undoes, in reverse order, a change published before the commit, if the batch fails. */
    void onAbort(Runnable r) {
        batch().onAbort.add(r);
    }

    void afterCommit(Runnable r) {
        batch().afterCommit.add(r);
    }

    /** Runs {@code r} after the commit of the batch this thread is in, or now when it is in none. */
    public void afterCommitOrNow(Runnable r) {
        if (inWrite()) afterCommit(r);
        else r.run();
    }

    /** Replaces the pool of {@code t} in the current batch (stored with it). */
    void batchPools(TreeState t, KeyPool pool) {
        batch().pools.put(t, pool);
    }

    /** Publishes {@code e} after the current batch commits. */
    void event(Event e) {
        batch().events.add(e);
    }

    /**
     * Publishes {@code e}, an event that changes nothing stored (the sync link's {@code Connected}
     * or {@code Disconnected}), in order with the events of commits: inside a batch on this thread,
     * with that batch's events after its commit; else at once, under the write lock, without a
     * store transaction. So it reaches subscribers while the store refuses writes (after a write
     * failed, a full disk): the link that stops on that failure still says why. After
     * {@link #close()} it publishes nothing: every subscription is complete.
     */
    void announce(Event e) {
        if (inWrite()) {
            event(e);
            return;
        }
        writeLock.lock();
        try {
            if (!closed) events.publish(List.of(e));
        } finally {
            writeLock.unlock();
        }
    }

    /** Runs {@code body} on a fresh snapshot; never waits for the writer. */
    public <R> R read(Function<ReadTxn, R> body) {
        reads.enter();
        try {
            checkOpen();
            try (ReadTxn r = store.beginRead()) {
                return body.apply(r);
            } catch (IllegalStateException e) {
                throw closed ? closedDuringRead(e) : e;
            }
        } finally {
            reads.exit();
        }
    }

    /**
     * A read that a close cut off: the store's pages were unmapped under it, and the JDK's
     * exception ("Already closed") names neither the database nor the close.
     */
    private IllegalStateException closedDuringRead(IllegalStateException e) {
        return new IllegalStateException("database " + directory + " was closed while this read ran (close waits "
            + CLOSE_WAIT_READS_MILLIS / 1000 + " s for running reads, then closes); the read did not finish (expected: "
            + "end reads before close)", e);
    }

    /** Reads inside the current write batch (seeing its own changes), else on a fresh snapshot. */
    <R> R readOrWrite(Function<ReadTxn, R> body) {
        if (writeLock.isHeldByCurrentThread() && batch != null) return body.apply(batch.txn);
        return read(body);
    }

    /**
     * As {@link #readOrWrite}, for a read of tree {@code t} that calls the application back while
     * it still uses the tree's stored bytes (a forEach or scan visitor, a RecordView reader).
     * Inside a write batch those bytes are the batch's own pages, which a change of the same tree
     * rewrites in place: a change of {@code t} from the callback is refused with a
     * ConcurrentModificationException before it changes anything (so the batch goes on), as a
     * Java collection refuses a change during its iteration. Without the refusal a visitor that
     * inserted into the tree it walked would meet its own inserts, without end, and a RecordView
     * would read bytes moved under it.
     */
    <R> R readCallingBack(TreeState t, Function<ReadTxn, R> body) {
        if (!inWrite()) return ScopedValue.where(CALLING_BACK, this).call(() -> read(body));
        Batch b = batch;
        b.visited.merge(t, 1, Integer::sum);
        try {
            return body.apply(b.txn);
        } finally {
            b.visited.compute(t, (x, n) -> n == 1 ? null : n - 1);
        }
    }

    /**
     * Refuses a change of tree t's records while a read of the batch calls back from it (see
     * {@link #readCallingBack}); {@code operation} of {@code key}, or into the tree when null,
     * names it (the message is built only when refused: this runs on every change).
     */
    private void refuseWhileVisited(TreeState t, String operation, Key<?> key) {
        if (batch().visited.containsKey(t)) {
            String what = key == null ? operation + " into tree " + t.name : operation + " of " + key;
            throw new java.util.ConcurrentModificationException(what + ": tree " + t.name + " is being read by a "
                + "visitor or view in this write batch (forEach, scan, read); change it after that read returns, "
                + "e.g. collect the keys first");
        }
    }

    public void checkOpen() {
        if (closed) throw new IllegalStateException("database " + directory + " is closed");
    }

    /**
     * A consistent, verified copy of the current snapshot into {@code target} while writers go on
     * ({@link Store#backup}); a close meanwhile waits for it to finish.
     */
    public VerifyReport backup(Path target) {
        if (inWrite()) {
            throw new IllegalStateException("backup of " + directory + " inside a write batch (back up after it returns)");
        }
        checkOpen();
        return store.backup(target);
    }

    /** Idempotent: waits for the writer, and for readers up to {@link #CLOSE_WAIT_READS_MILLIS}, then closes the store. */
    @Override
    public void close() {
        if (closed) return;
        checkClosable();
        writeLock.lock();
        try {
            if (closed) return;
            closed = true;
            if (!reads.awaitNone(CLOSE_WAIT_READS_MILLIS)) {
                LOG.log(System.Logger.Level.WARNING, "closing " + directory + " while reads still run after "
                    + CLOSE_WAIT_READS_MILLIS / 1000 + " s: they fail, saying the database was closed");
            }
            events.close();
            for (TreeState t : trees.values()) {
                for (TreeState.IndexBinding<?> b : t.indexes) REGISTERED.remove(b.indexer);
            }
            store.close();
        } finally {
            writeLock.unlock();
        }
        // Outside the lock: a waiting thread's code may run on this one as its future completes.
        SyncReplica s = sync;
        if (s != null) s.closed();
    }

    public boolean isClosed() {
        return closed;
    }

    /** Refuses a close from inside a write batch or a read callback of this database, on this thread. */
    public void checkClosable() {
        if (closed) return;
        if (writeLock.isHeldByCurrentThread()) {
            throw new IllegalStateException("close of " + directory + " inside a write batch (close after it returns)");
        }
        if (CALLING_BACK.isBound() && CALLING_BACK.get() == this) {
            // It would wait for its own read to end, then pull the pages from under it.
            throw new IllegalStateException("close of " + directory + " inside a forEach, scan or read callback (close "
                + "after it returns)");
        }
    }

    // ---------------------------------------------------------------- trees

    /**
     * The state of a stored tree, or null if no tree of that name exists. Inside a write batch,
     * also a tree the batch created, which is cached for everyone only once the batch commits
     * ({@link #treeCreated}): any other tree its transaction holds was committed before.
     */
    TreeState existingTree(String name) {
        TreeState t = trees.get(name);
        if (t != null) return t;
        if (writeLock.isHeldByCurrentThread() && batch != null) {
            TreeState created = batch.createdTrees.get(name);
            return created != null ? created : loadTree(batch.txn, name);
        }
        return read(r -> loadTree(r, name));
    }

    /**
     * Records that the current batch created tree {@code t}: later operations of the batch find
     * it ({@link #existingTree}), and the database caches it once the batch commits. Cached at
     * once, a batch that rolled back left a tree cached that the file does not hold (probe 92: a
     * catch-up that ran out of memory after creating a tree; every later connection then failed
     * with "no tree named 'data:Item'").
     */
    void treeCreated(TreeState t) {
        batch().createdTrees.put(t.name, t);
        afterCommit(() -> trees.put(t.name, t));
    }

    TreeState loadTree(ReadTxn r, String name) {
        MemorySegment entry = r.get(Layout.CATALOG, Layout.utf8(name));
        if (entry == null) return null;
        if (entry.byteSize() != Layout.CATALOG_BYTES
            || entry.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0) != Layout.CATALOG_FORMAT) {
            throw new CorruptionException("catalog entry of tree " + name + " in " + directory + ": "
                + entry.byteSize() + " bytes (expected: format " + Layout.CATALOG_FORMAT + ", " + Layout.CATALOG_BYTES
                + " bytes)");
        }
        boolean versioned = Layout.catalogVersioned(entry);
        int dataFromVersion = Layout.catalogDataFrom(entry);
        SchemaVersions versions = loadVersions(r, name);
        MemorySegment poolBytes = r.get(Layout.POOLS, Layout.utf8(name));
        if (poolBytes == null) throw new CorruptionException("tree " + name + " has no key pool in " + directory);
        if (dataFromVersion < 1 || dataFromVersion > versions.latestVersion()) {
            throw new CorruptionException("catalog entry of tree " + name + " in " + directory + ": data from version "
                + dataFromVersion + " (expected: 1.." + versions.latestVersion() + ")");
        }
        KeyPool pool = KeyPool.fromBytes(Layout.copy(poolBytes), name);
        MemorySegment issued = r.hasTree(Layout.NODE) ? r.get(Layout.NODE, Layout.issuedHighKey(name)) : null;
        if (issued != null) {
            if (issued.byteSize() != 4) {
                throw new CorruptionException("issued high of tree " + name + " in " + directory + ": " + issued.byteSize()
                    + " bytes (expected: 4)");
            }
            pool.markIssued(Layout.intOf(issued));
        }
        TreeState t = new TreeState(name, versioned, versions, pool);
        t.dataFromVersion = dataFromVersion;
        MemorySegment classVersion = r.hasTree(Layout.CLASSES) ? r.get(Layout.CLASSES, Layout.utf8(name)) : null;
        if (classVersion != null) {
            int c = classVersion.byteSize() == 4 ? java.nio.ByteBuffer.wrap(Layout.copy(classVersion)).getInt() : -1;
            if (c < 1 || c > versions.latestVersion()) {
                throw new CorruptionException(Layout.CLASSES + " entry of tree " + name + " in " + directory + ": "
                    + (c < 0 ? classVersion.byteSize() + " bytes (expected: 4)" : "version " + c + " (expected: 1.."
                    + versions.latestVersion() + ")"));
            }
            t.classVersion = c;
        }
        TreeState raced = trees.putIfAbsent(name, t);
        return raced == null ? t : raced;
    }

    SchemaVersions loadVersions(ReadTxn r, String name) {
        SchemaVersions versions = new SchemaVersions();
        byte[] prefix = Layout.schemaPrefix(name);
        try (Cursor c = r.cursor(Layout.SCHEMAS)) {
            for (boolean ok = c.seek(prefix); ok; ok = c.next()) {
                byte[] k = Layout.copy(c.key());
                if (!Layout.isSchemaKey(k, prefix)) break;
                int version = java.nio.ByteBuffer.wrap(k, prefix.length, 4).getInt();
                int added = versions.add(Schema.fromBytes(Layout.copy(c.value())));
                if (added != version) {
                    throw new CorruptionException("schema versions of tree " + name + " in " + directory
                        + ": stored version " + version + " loaded as " + added);
                }
            }
        }
        return versions;
    }

    /**
     * Opens or creates a tree for {@code candidate}; returns its state. A schema new to the tree
     * is checked by the evolution rules and stored as the next version; if refused, {@code
     * onRefused} (may be null) runs inside the same transaction and must rewrite every record.
     * A schema stored already must be able to read every version that may hold records
     * (records of a version migrated away from may have arrived from the server since, §8);
     * records of the versions it cannot read are migrated by {@code onRefused}, or the open is
     * refused. With a migration, {@code arrival} (else null) is registered for records that
     * arrive later in a version the class cannot read, in the same batch, so that none slips
     * in between.
     */
    TreeState openTree(String name, boolean versioned, Schema candidate, MigrationStep onRefused,
                       TreeState.ArrivalMigration arrival) {
        Layout.checkTreeName(name);
        boolean insideBatch = writeLock.isHeldByCurrentThread() && batch != null;
        TreeState known = trees.get(name);
        if (insideBatch && known == null) known = existingTree(name);
        if (insideBatch && (known == null || known.versions.versionOf(candidate) < 0)) {
            // A tree created or evolved in a batch that later rolls back would be cached here
            // without existing in the file; such changes get their own transaction instead.
            throw new IllegalStateException("tree " + name + " must be created or get a new schema version outside "
                + "a write batch (open it with Cairn.tree before the batch)");
        }
        if (!insideBatch && arrival == null) {
            TreeState ready = openedWithoutWrite(name, versioned, candidate);
            if (ready != null) return ready;
        }
        return write(() -> {
            WriteTxn txn = txn();
            TreeState t = existingTree(name);
            if (t == null) {
                txn.put(Layout.CATALOG, Layout.utf8(name), Layout.catalogEntry(versioned, 1));
                txn.createTree(Layout.dataTree(name));
                KeyPool pool = serverId == null ? KeyPool.standalone() : KeyPool.empty();
                txn.put(Layout.POOLS, Layout.utf8(name), pool.toBytes());
                SchemaVersions versions = new SchemaVersions();
                int v = versions.add(candidate);
                txn.put(Layout.SCHEMAS, Layout.schemaKey(name, v), candidate.toBytes());
                TreeState created = new TreeState(name, versioned, versions, pool);
                classOpened(created, v);
                register(created, candidate, arrival);
                treeCreated(created);
                return created;
            }
            if (t.versioned != versioned) {
                throw new SchemaMismatchException("tree " + name + " is stored " + (t.versioned ? "" : "not ")
                    + "versioned, but the record class declares versioned = " + versioned);
            }
            register(t, candidate, arrival);
            int own = t.versions.versionOf(candidate);
            if (own > 0) {
                classOpened(t, own);
                return migrateUnreadable(t, candidate, own, onRefused);
            }
            SchemaVersions stored = t.versions;
            boolean refused = false;
            // Versions below dataFromVersion hold no data any more (a migration rewrote it), so
            // a change refused only against them needs no migration.
            java.util.Set<Integer> migrated = new java.util.HashSet<>();
            for (int old = 1; old < t.dataFromVersion; old++) migrated.add(old);
            try {
                dev.cairn.schema.Evolution.check(name, stored, candidate, migrated);
            } catch (SchemaMismatchException e) {
                if (onRefused == null) throw e;
                refused = true;
            }
            SchemaVersions next = loadVersions(txn, name);
            int v = next.add(candidate);
            txn.put(Layout.SCHEMAS, Layout.schemaKey(name, v), candidate.toBytes());
            TreeState finalT = t;
            // Published before the commit: a reader whose snapshot holds records of version v
            // must find v (versions only grow, so older snapshots are not affected).
            finalT.versions = next;
            onAbort(() -> finalT.versions = stored);
            classOpened(t, v);
            if (refused) setDataFrom(t, onRefused.migrate(finalT, next, version -> version != v, v));
            return t;
        }, true);
    }

    /**
     * The tree, when opening it with this class writes nothing: it exists with this versioning,
     * the class's schema is the stored version the class opened last, and that version reads
     * every stored version that may hold records. Else null, and {@link #openTree} writes. So a
     * database whose writes are refused (a damaged free list) still opens its trees for reading
     * (probe 124), and an open of a tree as it was needs no commit.
     */
    private TreeState openedWithoutWrite(String name, boolean versioned, Schema candidate) {
        writeLock.lock(); // as a write would: register changes the tree's readers
        try {
            checkOpen();
            TreeState t = existingTree(name);
            if (t == null || t.versioned != versioned) return null;
            int own = t.versions.versionOf(candidate);
            if (own <= 0 || own != t.classVersion || own < t.dataFromVersion) return null;
            for (int u = t.dataFromVersion; u <= t.versions.latestVersion(); u++) {
                if (u != own && !dev.cairn.schema.Evolution.mismatches(t.versions.get(u), candidate).isEmpty()) return null;
            }
            t.readers.add(candidate);
            return t;
        } finally {
            writeLock.unlock();
        }
    }

    /** Records that the record class of schema version {@code version} opened tree {@code t} (database-layout.md §2). */
    private void classOpened(TreeState t, int version) {
        int before = t.classVersion;
        if (before == version) return;
        txn().put(Layout.CLASSES, Layout.utf8(t.name), java.nio.ByteBuffer.allocate(4).putInt(version).array());
        t.classVersion = version;
        onAbort(() -> t.classVersion = before);
    }

    /** Adds the class's schema to the tree's readers and its arrival migration, both undone if the batch aborts. */
    private void register(TreeState t, Schema candidate, TreeState.ArrivalMigration arrival) {
        if (t.readers.add(candidate)) onAbort(() -> t.readers.remove(candidate));
        if (arrival == null) return;
        TreeState.ArrivalMigration before = t.migration;
        t.migration = arrival;
        onAbort(() -> t.migration = before);
    }

    /**
     * For a class whose schema is stored as version {@code own}: the versions from
     * dataFromVersion on that it cannot read are migrated by {@code onRefused}; refused when
     * there are such versions and no migration.
     */
    private TreeState migrateUnreadable(TreeState t, Schema candidate, int own, MigrationStep onRefused) {
        // The class writes records of its own version: dataFromVersion must stay a lower bound.
        if (own < t.dataFromVersion) setDataFrom(t, own);
        SchemaVersions versions = t.versions;
        Set<Integer> unreadable = new TreeSet<>();
        String why = null;
        for (int u = Math.min(own, t.dataFromVersion); u <= versions.latestVersion(); u++) {
            if (u == own) continue;
            List<dev.cairn.schema.Evolution.Mismatch> m = dev.cairn.schema.Evolution.mismatches(versions.get(u), candidate);
            if (m.isEmpty()) continue;
            unreadable.add(u);
            if (why == null) why = "version " + u + " at " + m.getFirst().path() + ": " + m.getFirst().reason();
        }
        if (unreadable.isEmpty()) return t;
        // dataFromVersion bounds the versions with records from below only: a version above it
        // may hold none (a fresh node's versions come in arrival order, and the migration below
        // may have emptied one). Only records decide.
        if (!anyRecordIn(t, unreadable)) {
            t.unreadable.addAll(unreadable);
            return t;
        }
        if (onRefused == null) {
            throw new SchemaMismatchException("tree " + t.name + ": " + candidate.name() + " of version " + own
                + " cannot read records of stored " + why + " (" + unreadableHint(own, unreadable) + ")");
        }
        setDataFrom(t, onRefused.migrate(t, versions, unreadable::contains, own));
        t.unreadable.addAll(unreadable);
        return t;
    }

    /**
     * Where records a class cannot read came from, and what to do, for the refusal of
     * {@link #migrateUnreadable}. A database that never linked numbers versions as its classes
     * first opened the tree, so a higher number is a class opened later (usually a newer one);
     * on a linked one a version may also be a schema that arrived from the server.
     */
    private String unreadableHint(int own, Set<Integer> unreadable) {
        if (serverId != null) {
            return "records of that version come from another class of the tree: written here, or arriving from the "
                + "server while other nodes write it; expected: open the tree with its migration";
        }
        boolean later = unreadable.stream().allMatch(u -> u > own);
        return later
            ? "they were written in this database by a class of the tree opened after this one, usually a newer one; "
                + "this database never linked to a server; expected: use that class, or open the tree with a migration "
                + "to this one"
            : "they were written in this database by another class of the tree; this database never linked to a "
                + "server; expected: open the tree with its migration";
    }

    /** Whether a record of the tree, in the batch, has one of {@code versions}: a scan of the tree. */
    private boolean anyRecordIn(TreeState t, Set<Integer> versions) {
        boolean[] found = {false};
        txn().forEach(t.dataTree, (k, v) -> {
            found[0] = versions.contains(dev.cairn.schema.RecordCodec.versionOf(RecordHeader.body(v)));
            return !found[0];
        });
        return found[0];
    }

    /** Stores the tree's dataFromVersion (in the batch; the tree state follows at commit). */
    void setDataFrom(TreeState t, int version) {
        txn().put(Layout.CATALOG, Layout.utf8(t.name), Layout.catalogEntry(t.versioned, version));
        afterCommit(() -> t.dataFromVersion = version);
    }

    /**
     * Rewrites, with a migration, every record of a tree whose stored version {@code migrates}
     * selects, encoding it in version {@code target}; returns the lowest version a record of
     * the tree still has ({@code target} when none is lower).
     */
    @FunctionalInterface
    interface MigrationStep {
        int migrate(TreeState tree, SchemaVersions versions, java.util.function.IntPredicate migrates, int target);
    }

    // ---------------------------------------------------------------- record operations (in a batch)

    KeyPool pool(TreeState t) {
        return batch().pools.computeIfAbsent(t, x -> x.pool.copy());
    }

    /** The pool of {@code t} as this thread sees it: the write batch's copy when it changed one, else the committed pool. */
    KeyPool poolSeen(TreeState t) {
        if (!inWrite()) return t.pool;
        KeyPool changed = batch().pools.get(t);
        return changed == null ? t.pool : changed;
    }

    /** {@link #outbox(ChangeKind, Key, RecordHeader, long)} of a change that is not CHANGED. */
    private void outbox(ChangeKind kind, Key<?> key, RecordHeader h) {
        outbox(kind, key, h, Outbox.NO_BASE);
    }

    /**
     * Writes the outbox entry of a change whose header is now {@code h}. {@code before}: for a
     * CHANGED, the metaIteration the change was made on (the record's before it), which becomes
     * the entry's base unless the entry replaces a pending one, whose base it keeps
     * (database-layout.md §6).
     */
    private void outbox(ChangeKind kind, Key<?> key, RecordHeader h, long before) {
        // Never linked: the server has seen none of the records, so all are pending; the link
        // writes their entries (materializeOutbox), and until then the outbox stays empty.
        if (serverId == null) return;
        Batch b = batch();
        byte[] k = Layout.checkoutKey(key.tree(), key.id(), key.revision());
        MemorySegment old = b.txn.get(Layout.OUTBOX, k);
        // A created record replaces whatever is pending for its key (a REMOVED entry of an
        // earlier revision with that number), so only later changes look at the entry's kind.
        // A change to a record still CREATED for the server stays CREATED; a removal is sent
        // even then, since the CREATED may be on its way to the server already.
        MemorySegment pending = kind == ChangeKind.CREATED ? null : old;
        if (pending != null && Layout.OutboxEntry.kindOf(pending) == ChangeKind.CREATED && kind != ChangeKind.REMOVED) {
            kind = ChangeKind.CREATED;
        }
        // The entry carries this batch and whatever the entry it replaces carried (which the
        // receiver may not have yet): its group starts at the earlier of the two (§6).
        long oldStart = old == null ? -1 : Outbox.groupStartOf(b.txn, k, old);
        long groupStart = old == null ? b.outboxStart : Math.min(b.outboxStart, oldStart);
        // A pending CHANGED replaced keeps the base its first change was made on: the server
        // has none of the entry's changes yet (an older Cairn's entry has none: none here either).
        long base = kind != ChangeKind.CHANGED ? Outbox.NO_BASE : old == null ? before : Outbox.baseOf(b.txn, k, old);
        putOutbox(b, new Layout.OutboxEntry(b.outboxNext++, kind, key.tree(), key.id(), key.revision(),
            h.metaIteration(), h.dataIteration(), groupStart), old, oldStart, base);
    }

    private static void putOutbox(Batch b, Layout.OutboxEntry e, MemorySegment old, long oldStart, long base) {
        Outbox.put(b.txn, e, old, oldStart, base);
        b.outboxTouched = true;
    }

    /**
     * For the transaction that links a never-linked database (spec/database-layout.md §6): a
     * CREATED entry for every record of every tree, trees in name order, records in key order,
     * replacing whatever the outbox held. The transactions that wrote the records went unrecorded,
     * so the only state of this node the entries are known to add up to is all of them: they form
     * one group, as one transaction (groupStart = their first sequence), which the link side cuts
     * by size.
     */
    void materializeOutbox() {
        Batch b = batch();
        Outbox.clear(b.txn);
        for (String name : treeNames()) {
            TreeState t = existingTree(name);
            try (Cursor c = b.txn.cursor(t.dataTree)) {
                for (boolean ok = c.first(); ok; ok = c.next()) {
                    MemorySegment k = c.key();
                    RecordHeader h = RecordHeader.decode(c.value(), t.dataTree);
                    putOutbox(b, new Layout.OutboxEntry(b.outboxNext++, ChangeKind.CREATED, name, Layout.idOf(k),
                        Layout.revisionOf(k), h.metaIteration(), h.dataIteration(), b.outboxStart), null, -1, Outbox.NO_BASE);
                }
            }
        }
    }

    /** Offers a local change to the tree's indexes, which may refuse it (Indexer.check). */
    void indexCheck(TreeState t, Key<?> key, MemorySegment oldBody, MemorySegment newBody) {
        index(t, key, oldBody, newBody, true);
    }

    /**
     * Notes a change the indexes cannot refuse: one from the server (stored there already), or a
     * local one that holds no value the indexes have not accepted (a change of the state alone,
     * a new revision copying a stored record), so that a record an index cannot name stays
     * releasable and revisable.
     */
    void indexUnchecked(TreeState t, Key<?> key, MemorySegment oldBody, MemorySegment newBody) {
        index(t, key, oldBody, newBody, false);
    }

    private void index(TreeState t, Key<?> key, MemorySegment oldBody, MemorySegment newBody, boolean check) {
        if (t.indexes.isEmpty()) return;
        Batch b = batch();
        for (TreeState.IndexBinding<?> ib : t.indexes) {
            b.indexes.add(ib);
            ib.note(key, oldBody, newBody, check);
            b.indexNotes++;
        }
    }

    /** Inserts encoded record bytes under the next id of the pool; revision 0. */
    <V> Key<V> insert(TreeState t, byte[] body) {
        refuseWhileVisited(t, "insert", null);
        refuseWhileLinking(t);
        RecordHeader h = newRecordHeader(t);
        byte[] value = recordValue(t, "insert", h, body); // before an id is taken
        KeyPool pool = pool(t);
        if (pool.peek() < 0) {
            if (serverId != null) throw new NoIdsLeftException(noIdsInHand(t));
            throw new NoIdsLeftException("insert into tree " + t.name + ": no ids left; this database never linked to a "
                + "server and gave out every id up to " + (Integer.MAX_VALUE - 1) + " (or an import that kept its ids "
                + "took them, up to the highest id it imported)");
        }
        // The id is taken only once the indexes accepted the record: a refusal caught inside a
        // batch burns no id.
        return create(t, new Key<>(t.name, pool.peek(), 0), h, value, body, pool);
    }

    /**
     * Why an insert of a linked node found no id: it was offline (a connected one waited for ids
     * first, SyncReplica.awaitIds), and its write batch used up what the node held when the batch
     * began (the committed pool), or the node held none.
     */
    private String noIdsInHand(TreeState t) {
        long held = t.pool.available();
        String advice = "ids come from the server only while the node is connected, and a connected node keeps at "
            + "least " + idReserve + " per tree in hand (Cairn.Options.withIdReserve)";
        if (held > 0) {
            return "no ids left for this insert into tree " + t.name + ": the write batch took all " + held
                + " id(s) of the tree this node held when the batch began; " + advice + "; nothing of the batch was "
                + "stored (expected: connect, or offline batches of at most the ids in hand)";
        }
        return "no ids left in hand for tree " + t.name + ": this node used every id of the tree it held (or the "
            + "tree is new since its last connection); " + advice + "; nothing was stored (expected: connect, so "
            + "that the server gives tree " + t.name + " ids)";
    }

    /**
     * Stores an imported record under the key it was exported with; the caller took its id out
     * of the pool in this batch ({@link KeyPool#takeAll}), so no record holds that key.
     */
    <V> Key<V> insertAt(TreeState t, int id, int revision, byte[] body) {
        refuseWhileVisited(t, "insert", null);
        refuseWhileLinking(t);
        RecordHeader h = newRecordHeader(t);
        Key<V> key = new Key<>(t.name, id, revision);
        return create(t, key, h, recordValue(t, key, h, body), body, null);
    }

    private void refuseWhileLinking(TreeState t) {
        SyncReplica s = sync;
        if (s != null && s.linking()) {
            throw new IllegalStateException("insert into tree " + t.name + ": " + directory
                + " is linking to a server for the first time; retry when connect() completes");
        }
    }

    private RecordHeader newRecordHeader(TreeState t) {
        long now = System.currentTimeMillis();
        return new RecordHeader(t.versioned ? RecordHeader.DRAFT : RecordHeader.NON_VERSIONED, 0, now, now, 0, 0,
            nodeId, user);
    }

    /** {@code pool}: the pool {@code key}'s id comes from, taken once the indexes accepted it (null: taken already). */
    private <V> Key<V> create(TreeState t, Key<V> key, RecordHeader h, byte[] value, byte[] body, KeyPool pool) {
        WriteTxn txn = txn();
        byte[] k = Layout.recordKey(key.id(), key.revision());
        refuseHeldId(t, key, k, pool != null);
        indexCheck(t, key, null, MemorySegment.ofArray(body));
        if (pool != null) {
            int id = pool.take(t.name);
            Check.that(id == key.id(), "took id %d from the pool of the tree (expected: %d, the one it offered)", id, key.id());
        }
        txn.put(t.dataTree, k, value);
        keepDataFromBelow(t, body);
        outbox(ChangeKind.CREATED, key, h);
        batch().events.add(new Event.RecordChanged(key, ChangeKind.CREATED, false));
        return key;
    }

    /**
     * Keeps the tree's dataFromVersion at or below the version of {@code body}, just written
     * (§2: every record was written with a version from it on): a record written in a version a
     * migration moved the tree away from (JSON, or an import line only that version takes)
     * lowers it, so that the next open of a class that cannot read that version migrates the
     * record, or is refused, as for one from the server. Before, it stayed below, and the
     * application could never read it (probe 108).
     */
    private void keepDataFromBelow(TreeState t, byte[] body) {
        int version = dev.cairn.schema.RecordCodec.versionOf(MemorySegment.ofArray(body));
        if (version >= t.dataFromVersion) return; // the committed bound, which this batch may only have lowered
        if (version < Layout.catalogDataFrom(txn().get(Layout.CATALOG, Layout.utf8(t.name)))) setDataFrom(t, version);
    }

    /**
     * An id is never handed out twice (database-layout.md §4), so no record holds the key a new
     * one is stored under; were the pool wrong (ids received twice), the put would replace a
     * stored record. One seek: for an id from the pool ({@code fresh}) any revision of it counts,
     * for an imported key that key ({@code k}, as stored).
     */
    private void refuseHeldId(TreeState t, Key<?> key, byte[] k, boolean fresh) {
        int heldRevision = -1;
        if (!fresh) {
            if (txn().get(t.dataTree, k) != null) heldRevision = key.revision();
        } else {
            try (Cursor c = txn().cursor(t.dataTree)) {
                if (c.seek(Layout.recordKey(key.id(), 0)) && Layout.idOf(c.key()) == key.id()) {
                    heldRevision = Layout.revisionOf(c.key());
                }
            }
        }
        if (heldRevision < 0) return;
        throw new IllegalStateException("insert into tree " + t.name + ": id " + key.id()
            + (fresh ? ", the next id of its key pool," : "") + " already holds record " + t.name + "/" + key.id() + "."
            + heldRevision + ", which the insert would overwrite; an id is never handed out twice, so "
            + (fresh ? "the key pool " + poolSeen(t) + " is wrong" : "the key is not free") + "; nothing was stored");
    }

    /**
     * The value to store for a record written here: {@code h} followed by {@code body}. Refused
     * when larger than {@link Limits#RECORD_BYTES_MAX}, so that every record can travel in one
     * sync frame (a record too large to send would stop this node's sync for good).
     */
    private static byte[] recordValue(TreeState t, Object what, RecordHeader h, byte[] body) {
        long bytes = h.encodedBytes(body.length);
        if (bytes > Limits.RECORD_BYTES_MAX) {
            String subject = what instanceof Key<?> ? "record " + what : what + " into tree " + t.name;
            // The metadata holds the user's name: another user's change of a record at the
            // limit can go past it, unchanged data and all (probe 103).
            throw new IllegalArgumentException(subject + ": " + bytes
                + " bytes with its metadata (expected: <= RECORD_BYTES_MAX " + Limits.RECORD_BYTES_MAX
                + ", what one sync frame carries; the metadata holds the user name, here "
                + (bytes - body.length - RecordHeader.FIXED_BYTES) + " bytes, of whoever changes it)");
        }
        return h.encode(body);
    }

    /** The stored value of {@code key} in the batch; @throws RecordNotFoundException */
    private MemorySegment stored(TreeState t, Key<?> key) {
        MemorySegment v = txn().get(t.dataTree, Layout.recordKey(key.id(), key.revision()));
        if (v == null) throw new RecordNotFoundException("record " + key + " not found in tree " + t.name);
        return v;
    }

    private void requireCheckedOut(TreeState t, Key<?> key, String operation) {
        MemorySegment c = txn().get(Layout.CHECKOUTS, Layout.checkoutKey(t.name, key.id(), key.revision()));
        if (c == null || !Layout.checkoutHolder(c).equals(nodeId)) {
            throw new NotCheckedOutException(operation + " of " + key + " needs a check-out by this node "
                + "(call checkOut(" + key + ") first)");
        }
    }

    private void requireVersioned(TreeState t, Key<?> key, String operation) {
        if (!t.versioned) {
            throw new IllegalStateException(operation + " of " + key + ": tree " + t.name + " is not versioned "
                + "(expected: @TreeSpec(versioned = true))");
        }
    }

    /** Replaces the data of {@code key}; {@code encode} maps the old record bytes to the new. */
    void update(TreeState t, Key<?> key, UnaryOperator<MemorySegment> encode) {
        refuseWhileVisited(t, "update", key);
        MemorySegment old = stored(t, key);
        RecordHeader h = RecordHeader.decode(old, key);
        if (h.released()) {
            throw new ReleasedRecordException("update of " + key + ": the record is " + h.state()
                + " and its data can never change (make a newRevision)");
        }
        requireCheckedOut(t, key, "update");
        MemorySegment oldBody = RecordHeader.body(old);
        MemorySegment newBody = encode.apply(oldBody);
        RecordHeader next = h.touched(System.currentTimeMillis(), nodeId, user, true, key);
        byte[] body = Layout.copy(newBody);
        byte[] value = recordValue(t, key, next, body); // refused for its size before an index notes it
        indexCheck(t, key, oldBody, newBody);
        txn().put(t.dataTree, Layout.recordKey(key.id(), key.revision()), value);
        keepDataFromBelow(t, body);
        outbox(ChangeKind.CHANGED, key, next, h.metaIteration());
        batch().events.add(new Event.RecordChanged(key, ChangeKind.CHANGED, false));
    }

    /** The highest revision above 0 of {@code id} removed in this database (§2 cairn.removedrevisions), or 0. */
    static int removedRevision(ReadTxn r, String tree, int id) {
        MemorySegment v = r.get(Layout.REMOVED_REVISIONS, Layout.removedRevisionsKey(tree, id));
        return v == null ? 0 : v.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 0);
    }

    /**
     * Notes in {@code txn} that revision {@code key} of a versioned tree is gone (removed here,
     * or a tombstone from the server), so newRevision never hands its number out again.
     */
    static void noteRemovedRevision(WriteTxn txn, boolean versioned, Key<?> key) {
        if (!versioned || key.revision() == 0) return;
        if (removedRevision(txn, key.tree(), key.id()) >= key.revision()) return;
        txn.put(Layout.REMOVED_REVISIONS, Layout.removedRevisionsKey(key.tree(), key.id()),
            java.nio.ByteBuffer.allocate(4).putInt(key.revision()).array());
    }

    /**
     * Takes back in {@code txn} the note that revision {@code key} was removed, if the note names
     * it: the record came from the server (this node's removal of it refused, or this node's
     * refused new revision of that number made since by the id's owner). Any lower revision the
     * note named before cannot be made again either while this one exists (newRevision goes
     * above it). Revision 0 is never noted: no lookup for it.
     */
    static void unnoteRemovedRevision(WriteTxn txn, Key<?> key) {
        if (key.revision() > 0 && removedRevision(txn, key.tree(), key.id()) == key.revision()) {
            txn.delete(Layout.REMOVED_REVISIONS, Layout.removedRevisionsKey(key.tree(), key.id()));
        }
    }

    void remove(TreeState t, Key<?> key) {
        refuseWhileVisited(t, "remove", key);
        MemorySegment old = stored(t, key);
        RecordHeader h = RecordHeader.decode(old, key);
        if (h.released()) {
            throw new ReleasedRecordException("remove of " + key + ": the record is " + h.state()
                + " and can never change");
        }
        requireCheckedOut(t, key, "remove");
        indexCheck(t, key, RecordHeader.body(old), null);
        // A record whose iterations no change can follow may still be removed (database-layout.md
        // §5): the entry keeps them, since REMOVED carries no header to the server.
        RecordHeader last = h.atIterationLimit() ? h : h.touched(System.currentTimeMillis(), nodeId, user, true, key);
        WriteTxn txn = txn();
        txn.delete(t.dataTree, Layout.recordKey(key.id(), key.revision()));
        txn.delete(Layout.CHECKOUTS, Layout.checkoutKey(t.name, key.id(), key.revision()));
        noteRemovedRevision(txn, t.versioned, key);
        outbox(ChangeKind.REMOVED, key, last);
        batch().events.add(new Event.RecordChanged(key, ChangeKind.REMOVED, false));
        batch().events.add(new Event.BorrowChanged(key, new BorrowState.Free()));
    }

    void release(TreeState t, Key<?> key) {
        requireVersioned(t, key, "release");
        RecordHeader h = RecordHeader.decode(stored(t, key), key);
        if (h.released()) throw new IllegalStateException("release of " + key + ": it is already " + h.state());
        changeMeta(t, key, h.withState(RecordHeader.RELEASED, h.stateNumber()));
    }

    void setStateNumber(TreeState t, Key<?> key, int n) {
        requireVersioned(t, key, "setStateNumber");
        RecordHeader h = RecordHeader.decode(stored(t, key), key);
        changeMeta(t, key, h.withState(h.stateKind(), n));
    }

    /** Stores {@code h}, the record's header with its new state, as a change of the state alone. */
    private void changeMeta(TreeState t, Key<?> key, RecordHeader h) {
        refuseWhileVisited(t, "state change", key);
        MemorySegment body = RecordHeader.body(stored(t, key));
        RecordHeader next = h.touched(System.currentTimeMillis(), nodeId, user, false, key);
        byte[] value = recordValue(t, key, next, Layout.copy(body));
        // Indexers hear of every change (SPEC §3), a change of the state alone too (its value
        // unchanged), as they do when one arrives from the server.
        indexUnchecked(t, key, body, body);
        txn().put(t.dataTree, Layout.recordKey(key.id(), key.revision()), value);
        outbox(ChangeKind.CHANGED, key, next, h.metaIteration()); // h: the stored header with the new state
        batch().events.add(new Event.RecordChanged(key, ChangeKind.CHANGED, false));
    }

    <V> Key<V> newRevision(TreeState t, Key<V> released) {
        refuseWhileVisited(t, "newRevision", released);
        requireVersioned(t, released, "newRevision");
        MemorySegment old = stored(t, released);
        RecordHeader h = RecordHeader.decode(old, released);
        if (!h.released()) {
            throw new IllegalStateException("newRevision of " + released + ": it is " + h.state()
                + " (expected: Released)");
        }
        if (released.revision() == Integer.MAX_VALUE) {
            throw new IllegalStateException("newRevision of " + released + ": no revision number left");
        }
        WriteTxn txn = txn();
        try (Cursor c = txn.cursor(t.dataTree)) {
            boolean newer = c.seek(Layout.recordKey(released.id(), released.revision() + 1))
                && Layout.idOf(c.key()) == released.id();
            if (newer) {
                throw new IllegalStateException("newRevision of " + released + ": revision " + t.name + "/"
                    + released.id() + "." + Layout.revisionOf(c.key()) + " already exists");
            }
        }
        // A removed revision is a tombstone on the server, which refuses it for ever (REMOVED):
        // the new one comes after the highest revision of the id ever used here.
        int removed = removedRevision(txn, t.name, released.id());
        if (removed == Integer.MAX_VALUE) {
            throw new IllegalStateException("newRevision of " + released + ": no revision number left (revision "
                + removed + " was removed)");
        }
        Key<V> key = new Key<>(t.name, released.id(), Math.max(released.revision(), removed) + 1);
        byte[] body = Layout.copy(RecordHeader.body(old));
        long now = System.currentTimeMillis();
        RecordHeader nh = new RecordHeader(RecordHeader.DRAFT, 0, now, now, 0, 0, nodeId, user);
        byte[] value = recordValue(t, key, nh, body);
        indexUnchecked(t, key, null, MemorySegment.ofArray(body));
        txn.put(t.dataTree, Layout.recordKey(key.id(), key.revision()), value);
        outbox(ChangeKind.CREATED, key, nh);
        batch().events.add(new Event.RecordChanged(key, ChangeKind.CREATED, false));
        return key;
    }

    /**
     * Asks for a check-out: through the sync server while linked (completes when granted),
     * else granted at once and stored durably. Not inside a batch.
     */
    CompletableFuture<Void> requestCheckOut(TreeState t, Key<?> key) {
        SyncReplica s = sync;
        if (s != null) return s.checkOut(t, key);
        write(() -> {
            checkOut(t, key);
            return null;
        }, true);
        return dev.cairn.internal.CallbackFuture.completed(null);
    }

    /** Gives a check-out back: through the sync server while linked, else at once. */
    void requestCheckIn(TreeState t, Key<?> key) {
        SyncReplica s = sync;
        if (s != null) {
            s.checkIn(t, key);
            return;
        }
        write(() -> {
            checkIn(t, key);
            return null;
        }, true);
    }

    /** Standalone check-out: granted at once and stored durably. */
    void checkOut(TreeState t, Key<?> key) {
        stored(t, key);
        byte[] ck = Layout.checkoutKey(t.name, key.id(), key.revision());
        MemorySegment c = txn().get(Layout.CHECKOUTS, ck);
        if (c != null && Layout.checkoutHolder(c).equals(nodeId)) return;
        txn().put(Layout.CHECKOUTS, ck, Layout.checkoutValue(nodeId, System.currentTimeMillis()));
        batch().events.add(new Event.BorrowChanged(key, new BorrowState.Mine()));
    }

    void checkIn(TreeState t, Key<?> key) {
        if (txn().delete(Layout.CHECKOUTS, Layout.checkoutKey(t.name, key.id(), key.revision()))) {
            batch().events.add(new Event.BorrowChanged(key, new BorrowState.Free()));
        }
    }

    BorrowState borrowState(ReadTxn r, TreeState t, Key<?> key) {
        MemorySegment c = r.get(Layout.CHECKOUTS, Layout.checkoutKey(t.name, key.id(), key.revision()));
        if (c == null) {
            SyncReplica s = sync;
            BorrowState known = s == null ? null : s.borrowState(key);
            return known instanceof BorrowState.Waiting ? known : new BorrowState.Free();
        }
        UUID holder = Layout.checkoutHolder(c);
        if (holder.equals(nodeId)) return new BorrowState.Mine();
        SyncReplica s = sync;
        BorrowState known = s == null ? null : s.borrowState(key);
        return known != null ? known : new BorrowState.HeldBy(holder, Layout.checkoutHolderName(c));
    }

    /**
     * Stores a record's body as a migration rewrote it. Never linked: a data change (§5; no
     * outbox before the link). Linked: a change of this replica alone — header, iterations and
     * outbox stay, since the server and the other nodes keep the record in its old version (§8);
     * a pending change is sent with the new body.
     */
    void migrated(TreeState t, Key<?> key, byte[] body) {
        refuseWhileVisited(t, "migration", key);
        RecordHeader h = RecordHeader.decode(stored(t, key), key);
        RecordHeader next = serverId == null ? h.touched(System.currentTimeMillis(), nodeId, user, true, key) : h;
        txn().put(t.dataTree, Layout.recordKey(key.id(), key.revision()), recordValue(t, key, next, body));
        batch().events.add(new Event.RecordChanged(key, ChangeKind.CHANGED, false));
    }

    /** Every key of a tree in key order, on {@code r}. */
    static <V> List<Key<V>> keys(ReadTxn r, TreeState t) {
        List<Key<V>> keys = new ArrayList<>();
        r.forEach(t.dataTree, (k, v) -> {
            Layout.checkRecordKey(k, t.name);
            keys.add(new Key<>(t.name, Layout.idOf(k), Layout.revisionOf(k)));
            return true;
        });
        return keys;
    }

    /** Registers an index binding: rebuilds it from {@code records} and adds it, under the write lock. */
    <V extends Record> void register(TreeState t, TreeState.IndexBinding<V> binding,
                                     Function<ReadTxn, java.util.SequencedMap<Key<V>, V>> records) {
        if (writeLock.isHeldByCurrentThread() && batch != null) {
            throw new IllegalStateException("index " + binding.indexer + " on tree " + t.name
                + " must be registered outside a write batch (it is rebuilt from committed records)");
        }
        write(() -> {
            String here = directory + " tree " + t.name;
            String elsewhere = REGISTERED.putIfAbsent(binding.indexer, here);
            if (elsewhere != null && !elsewhere.equals(here)) {
                throw new IllegalStateException("index " + binding.indexer + " is registered on " + elsewhere
                    + " already (expected: one indexer instance per tree; make another for tree " + t.name + ")");
            }
            try {
                binding.indexer.rebuild(records.apply(txn()));
            } catch (RuntimeException | Error e) {
                // Refused: not registered (Indexer.rebuild), also when it was before (its content is gone).
                t.indexes.removeIf(old -> old.indexer == binding.indexer);
                REGISTERED.remove(binding.indexer);
                throw e;
            }
            // Registered again (to rebuild it): the new binding replaces the old one, so that
            // the indexer is not offered each change twice.
            t.indexes.removeIf(old -> old.indexer == binding.indexer);
            t.indexes.add(binding);
            return null;
        }, true);
    }
}
