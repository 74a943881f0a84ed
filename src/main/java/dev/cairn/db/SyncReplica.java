package dev.cairn.db;

import dev.cairn.BorrowState;
import dev.cairn.ChangeKind;
import dev.cairn.Event;
import dev.cairn.Key;
import dev.cairn.NoIdsLeftException;
import dev.cairn.RecordNotFoundException;
import dev.cairn.RecordState;
import dev.cairn.SchemaMismatchException;
import dev.cairn.internal.CallbackFuture;
import dev.cairn.schema.Evolution;
import dev.cairn.schema.JsonForm;
import dev.cairn.schema.RecordCodec;
import dev.cairn.schema.Schema;
import dev.cairn.schema.SchemaVersions;
import dev.cairn.store.Cursor;
import dev.cairn.store.ReadTxn;
import dev.cairn.store.WriteTxn;
import dev.cairn.sync.Message;
import dev.cairn.sync.Replica;
import dev.cairn.sync.net.SyncClient;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The typed layer's side of sync (spec/sync-protocol.md §5; database-layout.md §2, §6): what a
 * {@link dev.cairn.sync.ClientSession} reads and changes in the local database, and the
 * check-out routing once a database is linked.
 *
 * <ul>
 *   <li>Every change runs in one write batch of {@link Database}; remote changes never touch
 *       the outbox, and the last-synced sequence ({@code cairn.node/syncSeq}) is stored in the
 *       same transaction as the change it covers.
 *   <li>Records arrive tagged with the sender's schema version; the fingerprint on the wire
 *       names the schema, which is mapped to (or added as) a local version, and the record's
 *       version tag is rewritten to it before it is stored (sync-protocol.md §5.5).
 *   <li>Installed in {@link Database#sync} once the database is linked (or linking); from then
 *       on check-outs go through the server.
 * </ul>
 */
public final class SyncReplica implements Replica {
    private static final System.Logger LOG = System.getLogger(SyncReplica.class.getName());
    static final byte[] SERVER_ID = "serverId".getBytes(StandardCharsets.US_ASCII);
    static final byte[] SYNC_SEQ = "syncSeq".getBytes(StandardCharsets.US_ASCII);
    static final byte[] LINK_TOKEN = "linkToken".getBytes(StandardCharsets.US_ASCII);
    /**
     * The node name and application id of the last link, stored with its token: the inspector
     * connects a node's folder as that node, under its own name and id (database-layout.md §2).
     */
    static final byte[] LINK_NAME = "linkName".getBytes(StandardCharsets.US_ASCII);
    static final byte[] LINK_APP_ID = "linkAppId".getBytes(StandardCharsets.US_ASCII);
    /** The server run in which the node got its syncSeq (database-layout.md §2; sync-protocol.md §4.4). */
    static final byte[] SYNC_EPOCH = "syncEpoch".getBytes(StandardCharsets.US_ASCII);
    /**
     * The syncSeq stored with syncEpoch: another syncSeq beside it was stored by a Cairn that
     * knows no runs (protocol 4 and older), which left the run of an earlier sequence in place.
     */
    static final byte[] SYNC_EPOCH_AT = "syncEpochAt".getBytes(StandardCharsets.US_ASCII);
    /**
     * The server sequence the node's records come from when above syncSeq: set by a catch-up's
     * mark (CaughtUpTo), dropped once syncSeq reaches it (database-layout.md §2; sync-protocol.md §4.4).
     */
    static final byte[] EPOCH_SEQ = "epochSeq".getBytes(StandardCharsets.US_ASCII);
    /** The trees of the last connection that caught up (database-layout.md §2). */
    static final byte[] SYNC_TREES = "syncTrees".getBytes(StandardCharsets.US_ASCII);
    /** Ids claimed beyond the used ones on a first link, for inserts during the handshake. */
    static final int CLAIM_SLACK_IDS = 1000;

    private final Database db;
    /** The check-outs this node asked for and waits for, each with its callers; joined and left under the entry's lock. */
    private final Map<Key<?>, CheckOutRequest> requested = new ConcurrentHashMap<>();
    private final Map<Key<?>, BorrowState> others = new ConcurrentHashMap<>();
    /** What the write batch in progress was told (see {@link #setOther}); under the database's write lock. */
    private final Map<Key<?>, BorrowState> othersInBatch = new java.util.HashMap<>();
    /** The write batch {@link #othersInBatch} belongs to. */
    private Object othersBatch;
    /**
     * Records the application checked in whose check-in the server has not answered (with a
     * Borrow naming another holder or none). A Borrow naming this node meanwhile predates the
     * check-in; stored, it would let the application change a record about to be passed on.
     * Kept here, not only in the session, because the link thread learns of a check-in later
     * than the application's next call. A renewed check-out drops the entry (the server's
     * answer to it must count); the session keeps ignoring such Borrows while its CheckIn is
     * sent and unanswered, which only it knows (ClientSession.checkInsSent).
     */
    private final Set<Key<?>> checkingIn = ConcurrentHashMap.newKeySet();
    private final Map<String, Integer> claimed = new ConcurrentHashMap<>();
    private final Map<String, Long> demand = new ConcurrentHashMap<>();
    static final long IDS_WAIT_MILLIS = 10_000;
    private volatile SyncClient client;
    private volatile long lastSeq;
    /** The stored epochSeq key: above {@link #lastSeq} after a catch-up cut short, else 0 (absent). */
    private volatile long highSeq;
    /** The run of the current connection's server ({@link Message#NONE}: none named), stored with every new syncSeq. */
    private volatile UUID connectionEpoch = Message.NONE;
    private volatile boolean linking;
    /**
     * The schemas of this connection's SchemaDefs, parsed once each (a session passes the same
     * SchemaDef with every record of its tree and fingerprint); only the link thread uses it.
     */
    private final Map<Message.SchemaDef, Schema> parsed = new java.util.IdentityHashMap<>();
    /** Ids left out of the pools because a later copy of this node used them: said once per tree per catch-up. */
    private final LaterCopyIds laterCopyIds = new LaterCopyIds();
    /** Trees whose versions {@link #localVersion} replaced in the running batch (sync thread only). */

    private SyncReplica(Database db) {
        this.db = db;
        this.lastSeq = storedLong(SYNC_SEQ);
        this.highSeq = storedLong(EPOCH_SEQ);
    }

    /** The i64 stored under {@code key} in cairn.node, or 0. */
    private long storedLong(byte[] key) {
        return db.readOrWrite(r -> {
            MemorySegment s = r.get(Layout.NODE, key);
            return s == null ? 0L : s.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 0);
        });
    }

    /** The replica of {@code db}, installed as its sync hook (one per database). */
    public static synchronized SyncReplica install(Database db) {
        if (db.sync == null) db.sync = new SyncReplica(db);
        return db.sync;
    }

    /** True when {@code db} was linked to a server once (then it must keep syncing through one). */
    public static boolean linked(Database db) {
        return db.serverId != null;
    }

    /**
     * Runs {@code insert}, which takes {@code count} ids of tree {@code t}, as one write batch
     * (or inside the caller's, which it joins), after waiting for ids as {@link #awaitIds} does.
     * A connected node's insert that waited may find, once it holds the write lock, that other
     * threads' inserts took the ids it waited for: it waits again, all within one
     * {@code IDS_WAIT_MILLIS} from its start (spec/sync-protocol.md §5.2), however many threads
     * insert. A pool that is not short costs one look at it under the lock.
     *
     * @throws NoIdsLeftException when the server sent too few ids in time (saying so), or as
     *     {@link #awaitIds}
     * @throws IllegalStateException the thread was interrupted while the pool was short
     */
    static <R> R insertWithIds(Database db, TreeState t, int count, Supplier<R> insert) {
        SyncReplica s = db.sync;
        if (s == null || db.inWrite()) {
            awaitIds(db, t, count);
            return db.write(insert, true);
        }
        long startMillis = System.currentTimeMillis();
        long deadline = startMillis + IDS_WAIT_MILLIS;
        while (true) {
            awaitIds(db, t, count, deadline, startMillis);
            try {
                return db.write(() -> {
                    if (s.shortWhileConnected(t, count)) throw IdsTaken.INSTANCE; // before anything changed
                    return insert.get();
                }, true);
            } catch (IdsTaken taken) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new IllegalStateException("insert into tree " + t.name + " interrupted while this node "
                        + "waited for " + count + " id(s) from the server; nothing was stored");
                }
                // Other threads' inserts took the ids that arrived: wait for more, within the same bound.
            }
        }
    }

    /** Thrown inside the insert's batch, before it changes anything, when its ids were taken meanwhile. */
    private static final class IdsTaken extends RuntimeException {
        private static final long serialVersionUID = 1L;
        static final IdsTaken INSTANCE = new IdsTaken();

        private IdsTaken() {
            super("ids taken by other inserts", null, false, false);
        }
    }

    /** Under the write lock: the pool of {@code t} holds fewer than {@code count} ids while the link is up. */
    private boolean shortWhileConnected(TreeState t, int count) {
        if (db.poolSeen(t).available() >= count) return false;
        SyncClient c = client;
        return c != null && c.isConnected() && c.replicates(t.name);
    }

    /**
     * Before an insert of {@code count} records on a linked, connected node whose pool is
     * short: asks the server for ranges and waits (at most {@code IDS_WAIT_MILLIS}) until they
     * arrive. Offline, or standalone, it returns at once (the insert then fails when no id is
     * left, saying so). Other threads may take the ids before the caller's insert does:
     * {@link #insertWithIds} waits again then.
     *
     * @throws NoIdsLeftException when the pool is short in a tree the connection does not replicate,
     *     or inside a write batch, or the server sent too few ids in time
     */
    static void awaitIds(Database db, TreeState t, int count) {
        long now = System.currentTimeMillis();
        awaitIds(db, t, count, now + IDS_WAIT_MILLIS, now);
    }

    /**
     * As {@link #awaitIds(Database, TreeState, int)}, until {@code deadline}, for an insert that
     * began waiting at {@code startMillis} (what its time-out message counts).
     */
    private static void awaitIds(Database db, TreeState t, int count, long deadline, long startMillis) {
        SyncReplica s = db.sync;
        if (s == null) return;
        while (s.linking && System.currentTimeMillis() < deadline) {
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        // Inside a write batch its own copy of the pool counts: ids it took are gone from it.
        boolean inWrite = db.inWrite();
        if ((inWrite ? db.pool(t) : t.pool).available() >= count) return;
        SyncClient c = s.client;
        if (c != null && !c.replicates(t.name)) {
            // The link asks for ids of its own trees only (sync-protocol.md §5.6): none would come.
            throw new NoIdsLeftException("insert into tree " + t.name + ": " + count + " id(s) needed, "
                + t.pool.available() + " left, and this node's connection replicates only the trees "
                + new java.util.TreeSet<>(c.trees()) + ", so it asks the server for no ids of " + t.name
                + " (connect with tree " + t.name + " in the set)");
        }
        if (c == null || !c.isConnected()) return;
        if (inWrite) {
            // The link stores the ranges it receives in a write transaction of its own, which
            // waits for this one: waiting here would only stall both (and every other writer).
            throw new NoIdsLeftException("insert into tree " + t.name + " inside a write batch: " + count
                + " id(s) needed, " + db.pool(t).available() + " left of the " + t.pool.available() + " this node held "
                + "when the batch began; ranges from the server are stored between transactions, not during one, and a "
                + "connected node keeps at least " + db.idReserve() + " per tree in hand (Cairn.Options.withIdReserve; it "
                + "asks for a range whenever it holds fewer, so it often holds more) once the server sent them; nothing "
                + "of the batch was stored (expected: batches that insert at most the ids in hand, a larger id reserve, "
                + "or, for a tree just created, an insert outside a batch first, which waits for ranges)");
        }
        s.demand.merge(t.name, (long) count, Long::sum);
        try {
            c.outboxChanged();
            boolean timedOut = false;
            synchronized (s.demand) {
                while (t.pool.available() < count && c.isConnected()) {
                    long left = deadline - System.currentTimeMillis();
                    if (left <= 0) {
                        timedOut = true;
                        break;
                    }
                    try {
                        s.demand.wait(Math.min(left, 50));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
            }
            // Only a wait that ran out counts: ids that came in time may be gone again already,
            // taken by other threads, which insertWithIds waits for again.
            long left = t.pool.available();
            if (timedOut && c.isConnected()) {
                throw new NoIdsLeftException("insert into tree " + t.name + ": this node is connected to the server "
                    + "and waited " + (System.currentTimeMillis() - startMillis + 500) / 1000 + " s for " + count
                    + " id(s) from it, which sent too few in that time (" + left + " left; inserts of other threads of "
                    + "this node take the ids that arrive too); nothing was stored (expected: retry; a node that inserts "
                    + "in bursts keeps more ids in hand with Cairn.Options.withIdReserve)");
            }
        } finally {
            s.demand.merge(t.name, (long) -count, Long::sum);
        }
    }

    /**
     * After a tree was opened on a connected node that holds no id of it (one just created): waits,
     * as an insert outside a batch does, for its first range, so that a write batch right after
     * can insert. Returns at once offline, standalone, inside a batch, when the connection does
     * not replicate the tree, or when the server sends none in time (an insert then waits or
     * says why, as always).
     */
    static void awaitFirstIds(Database db, TreeState t) {
        SyncReplica s = db.sync;
        if (s == null || db.inWrite() || t.pool.available() > 0) return;
        SyncClient c = s.client;
        if (c == null || !c.isConnected() || !c.replicates(t.name)) return;
        try {
            awaitIds(db, t, 1);
        } catch (IllegalStateException e) {
            LOG.log(System.Logger.Level.DEBUG, "no first id range for tree " + t.name + " yet", e);
        }
    }

    /** Routes check-out requests and outbox notices to {@code c} (null: none until the next connect). */
    public void client(SyncClient c) {
        client = c;
        if (c == null) return;
        for (Key<?> key : List.copyOf(requested.keySet())) {
            if (!c.replicates(key.tree())) {
                CheckOutRequest r = requested.remove(key);
                if (r != null) r.fail(notReplicated(c, key));
            }
        }
    }

    /**
     * A check-out of a record of a tree the connection does not replicate: the server sends
     * that tree's Borrows to none but the clients that replicate it (sync-protocol.md §5.6), so
     * the grant would never arrive.
     */
    private static IllegalStateException notReplicated(SyncClient c, Key<?> key) {
        return new IllegalStateException("check-out of " + key + ": this node's connection replicates only the trees "
            + new java.util.TreeSet<>(c.trees()) + ", so the server would never grant it (connect with tree "
            + key.tree() + " in the set)");
    }

    void outboxChanged() {
        SyncClient c = client;
        if (c != null) c.outboxChanged();
    }

    // ---------------------------------------------------------------- check-outs (from TreeImpl)

    CompletableFuture<Void> checkOut(TreeState t, Key<?> key) {
        boolean mine = db.readOrWrite(r -> {
            if (r.get(t.dataTree, Layout.recordKey(key.id(), key.revision())) == null) {
                throw new RecordNotFoundException("record " + key + " not found in tree " + t.name);
            }
            MemorySegment c = r.get(Layout.CHECKOUTS, Layout.checkoutKey(t.name, key.id(), key.revision()));
            return c != null && Layout.checkoutHolder(c).equals(db.nodeId());
        });
        if (mine) return CallbackFuture.completed(null);
        SyncClient c = client;
        if (c != null && !c.replicates(t.name)) return CallbackFuture.failed(notReplicated(c, key));
        checkingIn.remove(key); // asked for again: the server's grant counts
        // Each caller gets a future of its own, so that one ending its wait leaves the others' alone.
        AtomicReference<CheckOutRequest> joined = new AtomicReference<>();
        CheckOutFuture f = new CheckOutFuture(db, key, ended -> leave(t, key, joined.get(), ended));
        requested.compute(key, (k, r) -> {
            CheckOutRequest request = r != null ? r : new CheckOutRequest();
            request.join(f);
            joined.set(request);
            return request;
        });
        // A close that ran since the read above failed the waiting futures before this one was added.
        if (db.isClosed()) closed();
        if (c != null) c.checkOut(key);
        return f;
    }

    /**
     * At the database's close: fails every check-out still waiting for the server's grant,
     * which this process can no longer receive, so that no thread waits on one for ever.
     */
    void closed() {
        for (Key<?> key : List.copyOf(requested.keySet())) {
            CheckOutRequest r = requested.remove(key);
            if (r != null) {
                r.fail(new IllegalStateException("check-out of " + key + ": the database "
                    + db.directory() + " was closed before the server granted it"));
            }
        }
    }

    /**
     * A caller's future the application ended (a cancel, orTimeout, completeOnTimeout...): it
     * leaves {@code request}, which is withdrawn once no caller is left in it. Taken out of the
     * map in the same step, so no new caller joins a request being withdrawn; one the grant or a
     * failure took out meanwhile is left outside the map (nobody joins it any more).
     */
    private void leave(TreeState t, Key<?> key, CheckOutRequest request, CheckOutFuture caller) {
        boolean[] mapped = {false};
        boolean[] last = {false};
        requested.computeIfPresent(key, (k, r) -> {
            if (r != request) return r;
            mapped[0] = true;
            last[0] = request.leave(caller);
            return last[0] ? null : r;
        });
        if (!mapped[0]) last[0] = request.leave(caller);
        if (last[0]) withdraw(t, key);
    }

    /**
     * The last caller of a request left it: leaves the server's queue as a check-in does, and
     * gives back the record if the grant came meanwhile (no caller waits for it). Nothing after
     * a close: the next run of the node leaves the queue (§5.4). A caller that asked since is a
     * new request, which the check-in must not drop: it is asked for again.
     */
    private void withdraw(TreeState t, Key<?> key) {
        if (db.isClosed()) return;
        giveBack(t, key);
        SyncClient c = client;
        if (c != null && requested.containsKey(key)) {
            checkingIn.remove(key);
            c.checkOut(key);
        }
    }

    /** A check-in by the application: gives the record back, and ends every caller's wait for it. */
    void checkIn(TreeState t, Key<?> key) {
        giveBack(t, key);
        CheckOutRequest r = requested.remove(key);
        if (r != null) r.endByCheckIn(key.toString());
    }

    private void giveBack(TreeState t, Key<?> key) {
        checkingIn.add(key);
        db.write(() -> {
            // Only this node's hold: a request withdrawn while another node holds the record leaves
            // that holder's row (offline, no Borrow would bring it back until the next link).
            byte[] ck = Layout.checkoutKey(t.name, key.id(), key.revision());
            MemorySegment row = db.txn().get(Layout.CHECKOUTS, ck);
            if (row != null && Layout.checkoutHolder(row).equals(db.nodeId())) {
                db.txn().delete(Layout.CHECKOUTS, ck);
                db.event(new Event.BorrowChanged(key, new BorrowState.Free()));
            }
            return null;
        }, true);
        others.remove(key);
        SyncClient c = client;
        if (c != null) c.checkIn(key);
    }

    /** What this node knows of another node's hold or its own place in a queue, or null. */
    BorrowState borrowState(Key<?> key) {
        return others.get(key);
    }

    /** The check-outs requested and not yet granted. */
    @Override
    public Set<Key<?>> requestedCheckOuts() {
        return Set.copyOf(requested.keySet());
    }

    @Override
    public boolean requested(Key<?> key) {
        return requested.containsKey(key);
    }

    // ---------------------------------------------------------------- Replica

    /**
     * Runs {@code body} in one write batch. Schema versions added for arriving records are
     * published to readers before the commit (a reader that sees such a record must be able to
     * decode it) and taken back if the batch fails.
     */
    @Override
    public void batch(Runnable body) {
        db.writeFromServer(body);
    }

    @Override
    public UUID nodeId() {
        return db.nodeId();
    }

    @Override
    public String nodeName() {
        return db.nodeName();
    }

    @Override
    public java.nio.file.Path directory() {
        return db.directory();
    }

    @Override
    public String appId() {
        return db.appId();
    }

    @Override
    public UUID serverId() {
        return db.serverId;
    }

    @Override
    public UUID linkToken() {
        return storedUuid(LINK_TOKEN);
    }

    /** The uuid stored under {@code key} in cairn.node, or {@link Message#NONE}. */
    private UUID storedUuid(byte[] key) {
        return db.readOrWrite(r -> {
            MemorySegment v = r.get(Layout.NODE, key);
            return v == null ? Message.NONE : Layout.uuidOf(v);
        });
    }

    @Override
    public void linkTokenIssued(UUID token) {
        db.write(() -> {
            db.txn().put(Layout.NODE, LINK_TOKEN, Layout.uuidBytes(token));
            db.txn().put(Layout.NODE, LINK_NAME, db.nodeName().getBytes(StandardCharsets.UTF_8));
            db.txn().put(Layout.NODE, LINK_APP_ID, db.appId().getBytes(StandardCharsets.UTF_8));
            return null;
        }, true);
    }

    @Override
    public long lastSeq() {
        return lastSeq;
    }

    @Override
    public long epochSeq() {
        return Math.max(lastSeq, highSeq);
    }

    /**
     * The stored syncEpoch, or none when the syncSeq beside it is not the one it was stored with:
     * an older Cairn (protocol 4 and below) synced this folder meanwhile, and the run it names
     * is not the one the syncSeq came from (a server would take the pair for a restored backup).
     */
    @Override
    public UUID syncEpoch() {
        return db.readOrWrite(r -> {
            MemorySegment epoch = r.get(Layout.NODE, SYNC_EPOCH);
            if (epoch == null) return Message.NONE;
            MemorySegment at = r.get(Layout.NODE, SYNC_EPOCH_AT);
            MemorySegment seq = r.get(Layout.NODE, SYNC_SEQ);
            if (at != null && (seq == null || at.mismatch(seq) != -1)) {
                LOG.log(System.Logger.Level.INFO, "the server run stored with this node's sync sequence "
                    + "does not go with it (an older Cairn synced " + db.directory() + " since): this link names none");
                return Message.NONE;
            }
            return Layout.uuidOf(epoch);
        });
    }

    @Override
    public void epochWelcomed(UUID epoch) {
        connectionEpoch = epoch;
    }

    @Override
    public List<Message.TreeIds> treeIds(Set<String> trees) {
        // A committed pool is never changed (a batch changes a copy, published at its commit).
        return db.readOrWrite(r -> {
            List<Message.TreeIds> out = new ArrayList<>();
            for (String name : new java.util.TreeSet<>(trees.isEmpty() ? db.treeNames() : trees)) {
                TreeState t = db.existingTree(name);
                if (t == null || !r.hasTree(t.dataTree)) continue; // created after this snapshot: no ids from it yet
                int poolHigh = t.pool.issuedHigh(); // also when its ids are used up (probe 98)
                int recordHigh = 0;
                try (dev.cairn.store.Cursor c = r.cursor(t.dataTree)) {
                    if (c.last()) recordHigh = Layout.idOf(c.key()) + 1;
                }
                // Records of other nodes came through the server: below the ids it issued anyway.
                int idHigh = Math.max(poolHigh, recordHigh);
                if (idHigh > 0) out.add(new Message.TreeIds(name, idHigh, poolHigh));
            }
            return out;
        });
    }

    @Override
    public long catchUpFrom(Set<String> trees) {
        Set<String> caughtUp = db.readOrWrite(r -> {
            MemorySegment v = r.get(Layout.NODE, SYNC_TREES);
            return v == null ? Set.<String>of() : decodeTrees(v.toArray(ValueLayout.JAVA_BYTE));
        });
        // Absent (a database from before the key, or never caught up) counts as all trees.
        boolean adds = !caughtUp.isEmpty() && (trees.isEmpty() || !caughtUp.containsAll(trees));
        return adds ? 0 : lastSeq;
    }

    /** {@code trees} sorted, each as u16 length and UTF-8; no bytes for all trees. */
    static byte[] encodeTrees(Set<String> trees) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (String t : new java.util.TreeSet<>(trees)) {
            byte[] b = t.getBytes(StandardCharsets.UTF_8);
            out.write(b.length >>> 8);
            out.write(b.length);
            out.writeBytes(b);
        }
        return out.toByteArray();
    }

    static Set<String> decodeTrees(byte[] v) {
        Set<String> trees = new HashSet<>();
        for (int at = 0; at < v.length; ) {
            if (at + 2 > v.length) throw new dev.cairn.CorruptionException("node key syncTrees: length cut at byte " + at);
            int n = (v[at] & 0xFF) << 8 | (v[at + 1] & 0xFF);
            if (at + 2 + n > v.length) throw new dev.cairn.CorruptionException("node key syncTrees: name of " + n
                + " bytes at byte " + at + " runs past its " + v.length + " bytes");
            trees.add(new String(v, at + 2, n, StandardCharsets.UTF_8));
            at += 2 + n;
        }
        return trees;
    }

    /**
     * Under the write lock, so no insert runs meanwhile: from here until the first link ends
     * (either way) inserts wait ({@link #awaitIds}) or are refused, so every id this database
     * used itself is inside its claim. Trees that used no id claim nothing.
     */
    @Override
    public List<Message.Claim> claims() {
        return db.write(() -> {
            linking = true;
            claimed.clear();
            List<Message.Claim> out = new ArrayList<>();
            for (String name : db.treeNames()) {
                TreeState t = db.existingTree(name);
                int used = db.pool(t).peek() < 0 ? 0 : db.pool(t).peek();
                if (used == 0) continue;
                int claim = (int) Math.min((long) used + CLAIM_SLACK_IDS, Integer.MAX_VALUE);
                claimed.put(name, claim);
                out.add(new Message.Claim(name, claim));
            }
            return out;
        }, true);
    }

    @Override
    public void sessionEnded() {
        linking = false;
        parsed.clear();
        laterCopyIds.say(String.valueOf(db.nodeId()));
    }

    /** The schema {@code def} carries; @throws CorruptionException when it does not parse or is not its fingerprint */
    private Schema schemaOf(Message.SchemaDef def) {
        Schema s = parsed.get(def);
        if (s != null) return s;
        s = Schema.fromBytes(def.schema());
        if (s.fingerprint() != def.fingerprint()) {
            throw new dev.cairn.CorruptionException("schema " + Long.toHexString(def.fingerprint()) + " of tree "
                + def.tree() + " from the server is not its fingerprint (the bytes give " + Long.toHexString(s.fingerprint()) + ")");
        }
        parsed.put(def, s);
        return s;
    }

    /** True while a never-linked database waits for its first Welcome. */
    boolean linking() {
        return linking;
    }

    @Override
    public void link(UUID serverId) {
        db.write(() -> {
            db.txn().put(Layout.NODE, SERVER_ID, Layout.uuidBytes(serverId));
            db.materializeOutbox();
            for (String name : db.treeNames()) {
                TreeState t = db.existingTree(name);
                KeyPool pool = db.pool(t);
                int next = pool.peek();
                Integer claim = claimed.get(name);
                KeyPool linked = KeyPool.empty();
                if (claim != null && next >= 0 && next < claim) linked.add(next, claim);
                if (claim != null) linked.markIssued(claim); // the claim is issued to this node at the link
                db.batchPools(t, linked);
            }
            db.afterCommit(() -> {
                db.serverId = serverId;
                linking = false;
            });
            return null;
        }, true);
    }

    @Override
    public List<Pending> outbox(Set<String> trees, long afterSeq, int max) {
        return db.readOrWrite(r -> pending(r, trees, afterSeq, max));
    }

    /** What {@link #outbox} lists, read in {@code r}: each entry with where the outbox may be cut (§6). */
    static List<Pending> pending(ReadTxn r, Set<String> trees, long afterSeq, int max) {
        Outbox.Window w = Outbox.window(r, trees, afterSeq, max, false);
        boolean[] ends = OutboxGroups.groupEnds(r, w);
        List<Pending> list = new ArrayList<>(ends.length);
        for (int i = 0; i < ends.length; i++) {
            Layout.OutboxEntry e = w.entries().get(i);
            list.add(new Pending(e.sequence(), new Key<>(e.tree(), e.id(), e.revision()),
                Message.Kind.values()[e.kind().ordinal()], ends[i]));
        }
        return list;
    }

    @Override
    public boolean hasPending(Key<?> key) {
        return db.readOrWrite(r -> r.get(Layout.OUTBOX, Layout.checkoutKey(key.tree(), key.id(), key.revision())) != null);
    }

    @Override
    public Outgoing outgoing(Pending p) {
        Key<?> key = p.key();
        return db.readOrWrite(r -> {
            byte[] ok = Layout.checkoutKey(key.tree(), key.id(), key.revision());
            MemorySegment e = r.get(Layout.OUTBOX, ok);
            if (e == null || Outbox.sequenceOf(e) != p.outboxSeq()) return null;
            if (p.kind() == Message.Kind.REMOVED) {
                return new Outgoing(new Message.Change(p.outboxSeq(), key, p.kind(), 0, new byte[0]), null);
            }
            TreeState t = db.existingTree(key.tree());
            MemorySegment v = t == null ? null : r.get(t.dataTree, Layout.recordKey(key.id(), key.revision()));
            if (v == null) return null;
            Schema schema = t.versions.get(RecordCodec.versionOf(RecordHeader.body(v)));
            Message.SchemaDef def = new Message.SchemaDef(t.name, t.versioned, schema.fingerprint(), schema.toBytes());
            // The base goes to a version 9 server only: the session strips it below (Change.withoutBase).
            long base = Outbox.baseOf(r, ok, e);
            return new Outgoing(new Message.Change(p.outboxSeq(), key, p.kind(), schema.fingerprint(), Layout.copy(v),
                base == Outbox.NO_BASE ? Message.Change.NO_BASE : base), def);
        });
    }

    @Override
    public void acknowledged(Message.Ack ack, boolean advance) {
        Key<?> key = ack.key();
        db.write(() -> {
            WriteTxn txn = db.txn();
            byte[] k = Layout.checkoutKey(key.tree(), key.id(), key.revision());
            Outbox.deleteIf(txn, k, ack.outboxSeq());
            if (advance) advance(ack.serverSeq());
            return null;
        }, true);
    }

    /**
     * Stores {@code seq} as syncSeq and, in the same transaction, the run of the connection it
     * came from: the pair says "this run of the server had every change up to seq". Only
     * here and in {@link #caughtUpTo}: a sequence the node already had keeps the run it got it in.
     */
    private void advance(long seq) {
        Seqs now = seqs();
        if (seq <= now.sync()) return;
        db.txn().put(Layout.NODE, SYNC_SEQ, Layout.longBytes(seq));
        // A catch-up's mark may have named a later state of the server than seq (none does once
        // a connection caught up: its sequence is past every mark's); that one still counts.
        long high = now.high() > seq ? now.high() : 0;
        if (high == 0 && now.high() != 0) db.txn().delete(Layout.NODE, EPOCH_SEQ);
        storeEpoch(seq);
        setSeqs(new Seqs(seq, high));
    }

    /** syncSeq and the epochSeq key (0: absent). */
    private record Seqs(long sync, long high) { }

    /** What the write batch in progress stored of {@link Seqs} (link thread only); null when it stored none. */
    private Seqs seqsInBatch;
    /** The write batch {@link #seqsInBatch} belongs to. */
    private Object seqsBatch;

    /** {@link Seqs} as the write batch in progress sees them: a batch applies several messages, and each sees the ones before. */
    private Seqs seqs() {
        return seqsBatch != null && seqsBatch == db.batch() ? seqsInBatch : new Seqs(lastSeq, highSeq);
    }

    /** Records what this batch stored of {@link Seqs}; the fields follow at its commit. */
    private void setSeqs(Seqs stored) {
        Object batch = db.batch();
        if (seqsBatch != batch) {
            seqsBatch = batch;
            db.afterCommit(() -> {
                lastSeq = seqsInBatch.sync();
                highSeq = seqsInBatch.high();
                seqsBatch = null;
            });
            db.onAbort(() -> seqsBatch = null);
        }
        seqsInBatch = stored;
    }

    /** Stores the run of this connection's server with {@code syncSeq}, the sequence the batch stores (none: deleted). */
    private void storeEpoch(long syncSeq) {
        UUID epoch = connectionEpoch;
        if (epoch.equals(Message.NONE)) {
            db.txn().delete(Layout.NODE, SYNC_EPOCH);
            db.txn().delete(Layout.NODE, SYNC_EPOCH_AT);
        } else {
            db.txn().put(Layout.NODE, SYNC_EPOCH, Layout.uuidBytes(epoch));
            db.txn().put(Layout.NODE, SYNC_EPOCH_AT, Layout.longBytes(syncSeq));
        }
    }

    @Override
    public void apply(Message.Pushed p, Message.SchemaDef schema, boolean advance) {
        db.write(() -> {
            byte[] ok = Layout.checkoutKey(p.key().tree(), p.key().id(), p.key().revision());
            if (db.txn().get(Layout.OUTBOX, ok) == null) put(p, schema);
            if (advance) advance(p.serverSeq());
            return null;
        }, true);
    }

    @Override
    public void refused(Message.Refused r, Message.SchemaDef schema) {
        Message.Pushed p = r.current();
        db.write(() -> {
            Outbox.delete(db.txn(), Layout.checkoutKey(p.key().tree(), p.key().id(), p.key().revision()));
            // SUPERSEDED: the insert or change was made, and the record changed later on another node; put
            // publishes that change as any remote one.
            if (r.code() != dev.cairn.sync.ErrorCode.SUPERSEDED) {
                String refusal = dev.cairn.sync.ErrorCode.name(r.code()) + ": " + r.reason();
                logReplaced(p, r.code(), refusal);
                db.event(new Event.ChangeRefused(p.key(), refusal));
            }
            put(p, schema);
            return null;
        }, true);
    }

    /**
     * Logs, as JSON, the record a refusal is about to roll back to the server's state: the last
     * copy of the refused data (an ID_REUSED insert of a node restored from a backup; an edit made
     * offline under a check-out a restored server lost, NOT_CHECKED_OUT, probe 98; ...), so that
     * it can be entered again. Nothing when the record is not here (a refused removal or insert
     * whose record went since).
     */
    private void logReplaced(Message.Pushed server, int code, String refusal) {
        Key<?> key = server.key();
        TreeState t = db.existingTree(key.tree());
        MemorySegment v = t == null ? null : db.txn().get(t.dataTree, Layout.recordKey(key.id(), key.revision()));
        if (v == null) return;
        if (code == dev.cairn.sync.ErrorCode.CHANGED_SINCE && !(holdsHere(key) && dataDiffers(v, server))) {
            // A state change (release, state number: no check-out, so no data of this node's own,
            // probe 99): the data is an older version of the server's, and entered again it would
            // overwrite the newer one. What was refused is the state. (A holder's change refused
            // so, whose data differs from the server's, is an edit: logged below, probe 106.)
            // Both states: this node's may be the one its change was made on (a change an older
            // server, which kept no srv.taken, took before its restart, its Ack lost: probe 107),
            // and set again it would undo the server's.
            RecordState theirs = server.removed() ? null : stateOf(MemorySegment.ofArray(server.value()), key);
            LOG.log(System.Logger.Level.WARNING, "record " + key + " of this node is set to the server's state (" + refusal
                + "); its state here was " + stateOf(v, key) + (theirs == null ? "" : ", the server's is "
                + theirs) + ": if this node changed it, set it again on the server's version if it is still wanted");
            return;
        }
        RecordState mine = stateOf(v, key);
        // REMOVED of an insert: one sent again after its Ack was lost, of a record another node
        // removed since, is answered SUPERSEDED, but REMOVED after a restart of the server (it
        // keeps taken inserts in memory only); so is an id used again by a copy of this node
        // restored from a backup: the text covers both (probe 125).
        String advice = code == dev.cairn.sync.ErrorCode.REMOVED
            ? "; another node removed it (an insert of it sent again after its acknowledgement was lost was made, and"
                + " removed since; or this node runs on a copy restored from a backup and used the id again): if its"
                + " data is still wanted, and was not removed on purpose, enter it again as a new record: "
            : "; enter its data again if it is still wanted: ";
        LOG.log(System.Logger.Level.WARNING, "record " + key + " of this node is set to the server's state (" + refusal
            + ")" + (mine == null || mine instanceof RecordState.NonVersioned ? "" : "; its state here was " + mine)
            + advice + JsonForm.toJson(RecordHeader.body(v), t.versions));
    }

    /**
     * The state a record value's header holds, or null when the header does not decode: a
     * refusal may be of just such a value (INVALID_CHANGE of iterations an overflow left), and
     * its warning must still be logged and the record rolled back.
     */
    private static RecordState stateOf(MemorySegment value, Key<?> key) {
        try {
            return RecordHeader.decode(value, key).state();
        } catch (dev.cairn.CorruptionException e) {
            return null;
        }
    }

    /**
     * True when the record bytes of this node's value {@code local} differ from those of the
     * server's {@code server} (after each one's record header: its schema version number is each
     * database's own). A copy in another schema version differs too.
     */
    private static boolean dataDiffers(MemorySegment local, Message.Pushed server) {
        if (server.removed()) return true;
        MemorySegment mine = RecordHeader.body(local);
        MemorySegment theirs = RecordHeader.body(MemorySegment.ofArray(server.value()));
        int header = 3; // record-format.md §3: tag 0xC1, the writer's version as u16
        return mine.byteSize() < header || theirs.byteSize() < header
            || mine.asSlice(header).mismatch(theirs.asSlice(header)) != -1;
    }

    /** Stores the server's state of one record (in the current batch), with index updates and events. */
    private void put(Message.Pushed p, Message.SchemaDef schema) {
        Key<?> key = p.key();
        WriteTxn txn = db.txn();
        TreeState t = db.existingTree(key.tree());
        if (t == null) {
            if (p.removed()) return;
            t = createTree(schema);
        }
        skipIdsUsedByALaterCopy(t, key);
        byte[] rk = Layout.recordKey(key.id(), key.revision());
        MemorySegment old = txn.get(t.dataTree, rk);
        MemorySegment oldBody = old == null ? null : MemorySegment.ofArray(Layout.copy(RecordHeader.body(old)));
        if (p.removed()) {
            // Also for a revision this node never had: it must not make that revision again.
            Database.noteRemovedRevision(txn, t.versioned, key);
            if (old == null) return;
            db.indexUnchecked(t, key, oldBody, null);
            txn.delete(t.dataTree, rk);
            // In the order of a local remove (database-layout.md §5): the removal, then the check-out it ends.
            db.event(new Event.RecordChanged(key, ChangeKind.REMOVED, true));
            if (txn.delete(Layout.CHECKOUTS, Layout.checkoutKey(t.name, key.id(), key.revision()))) {
                db.event(new Event.BorrowChanged(key, new BorrowState.Free()));
            }
            // A check-out asked for can never be granted now (the server answers it Free), and
            // the holder or queue this node was told of is gone with the record.
            setOther(key, new BorrowState.Free());
            db.afterCommit(() -> {
                CheckOutRequest r = requested.remove(key);
                if (r != null) r.fail(new RecordNotFoundException("check-out of " + key
                    + ": the record was removed on the server"));
            });
            return;
        }
        RecordHeader header = serverHeader(t, p);
        Arrival arrival = arrival(t, key, schema);
        byte[] value = p.value().clone();
        if (header.atIterationLimit()) {
            // Stored as the server holds it (the replicas stay alike, and it reads as before), but
            // no change can follow it here: each is refused naming the record (database-layout.md §5).
            LOG.log(System.Logger.Level.WARNING, "record " + key + " from the server has metaIteration "
                + header.metaIteration() + ", at or above ITERATION_MAX " + dev.cairn.internal.Limits.ITERATION_MAX
                + " (a server before its check of iterations took it from a client): it is stored, but this node "
                + "refuses to change it (it can be removed)");
        }
        long bodyOffset = value.length - RecordHeader.body(MemorySegment.ofArray(value)).byteSize();
        // record-format.md §3: the header is tag 0xC1, then the writer's version as u16 little-endian.
        value[(int) bodyOffset + 1] = (byte) arrival.version;
        value[(int) bodyOffset + 2] = (byte) (arrival.version >>> 8);
        MemorySegment newBody = RecordHeader.body(MemorySegment.ofArray(value));
        RecordCodec.versionOf(newBody);
        if (arrival.migrate) {
            // database-layout.md §8: a version the tree migrated away from is migrated on arrival,
            // on this replica alone; the server keeps the record as its writer sent it.
            byte[] migrated;
            try {
                migrated = t.migration.migrate(key, newBody, t.versions);
            } catch (RuntimeException e) {
                // The application's code failed: stop the sync as for a record it cannot read,
                // rather than retry the same record on every reconnection.
                throw new SchemaMismatchException("tree " + t.name + ": the migration failed on record " + key
                    + ", which arrives in schema version " + arrival.version + ": " + e
                    + " (nothing was changed; fix the migration)", e);
            }
            value = header.encode(migrated);
            if (value.length > dev.cairn.internal.Limits.RECORD_BYTES_MAX) {
                throw new SchemaMismatchException("tree " + t.name + ": record " + key + " migrated on arrival is "
                    + value.length + " bytes (expected: <= RECORD_BYTES_MAX " + dev.cairn.internal.Limits.RECORD_BYTES_MAX
                    + "; nothing was changed)");
            }
            newBody = RecordHeader.body(MemorySegment.ofArray(value));
        } else if (arrival.version < t.dataFromVersion) {
            db.setDataFrom(t, arrival.version);
        }
        if (old != null && old.mismatch(MemorySegment.ofArray(value)) == -1) return; // already so (a catch-up resends it)
        // A revision noted as removed here is back: this node's removal of it refused, or its own
        // new revision of that number refused (and noted) and made since by the id's owner.
        // Whatever brought it, the note goes.
        if (old == null) Database.unnoteRemovedRevision(txn, key);
        db.indexUnchecked(t, key, oldBody, newBody);
        txn.put(t.dataTree, rk, value);
        db.event(new Event.RecordChanged(key, old == null ? ChangeKind.CREATED : ChangeKind.CHANGED, true));
    }

    /**
     * The header of a record from the server, which a server checks before it takes a change
     * (sync-protocol.md §5.1): one that does not decode is the server's protocol error, not a
     * corruption of this database (stored, the tree could not be exported and imported back).
     * One that fits the other versioning flag (a state kind, or a revision above 0 in a tree
     * that is not versioned here) says the server holds the tree with that flag: this node took
     * its own from its record class, and the server refuses a SchemaDef with the other one
     * (TREE_MISMATCH) only once this node sends a change of the tree (probe 125).
     *
     * @throws IllegalArgumentException naming the record and the fault
     * @throws SchemaMismatchException naming the tree and both flags
     */
    private static RecordHeader serverHeader(TreeState t, Message.Pushed p) {
        Key<?> key = p.key();
        String from = "record " + key + " from the server: ";
        if (!t.versioned && key.revision() > 0) {
            throw versioningMismatch(t, key, "revision " + key.revision());
        }
        RecordHeader h;
        try {
            h = RecordHeader.decode(MemorySegment.ofArray(p.value()), key);
        } catch (dev.cairn.CorruptionException e) {
            throw new IllegalArgumentException(from + e.getMessage(), e);
        }
        if (t.versioned == (h.stateKind() == RecordHeader.NON_VERSIONED)) {
            throw versioningMismatch(t, key, h.stateKind() == RecordHeader.NON_VERSIONED ? "state NonVersioned"
                : "state " + (h.stateKind() == 1 ? "Draft" : "Released"));
        }
        return h;
    }

    private static SchemaMismatchException versioningMismatch(TreeState t, Key<?> key, String what) {
        return new SchemaMismatchException("tree " + t.name + " is " + (t.versioned ? "" : "not ") + "versioned in this"
            + " database but " + (t.versioned ? "not " : "") + "versioned on the server (its record " + key + " arrives with "
            + what + "): the record class declared versioned = " + t.versioned + " when this database made the tree, and"
            + " a tree's versioning never changes. Nothing was stored; sync stops. Declare versioned = " + !t.versioned
            + ", in a folder that never opened tree " + t.name + " with versioned = " + t.versioned);
    }

    /**
     * The server issues an id once, to one node, so a record can arrive with an id this node's
     * pool still offers only when this database is an older copy of the node: restored from a
     * backup taken while the node was connected, which the server cannot tell from the node
     * itself (sync-protocol.md §5.7). The node after the copy handed out every id of the pool up to
     * that one (a pool hands them out in ascending order); handed out again, an insert would
     * replace that node's record here and, as the same client, on the server and every node.
     * So they leave the pool, in the batch that stores the record.
     */
    private void skipIdsUsedByALaterCopy(TreeState t, Key<?> key) {
        if (!db.poolSeen(t).contains(key.id())) return;
        KeyPool pool = db.pool(t);
        long before = pool.available();
        pool.takeBelow(key.id() + 1);
        laterCopyIds.add(t.name, key.id(), before - pool.available()); // said at caughtUp or sessionEnded
    }

    /** The local version of an arriving record's schema, and whether the tree's arrival migration must rewrite it. */
    private record Arrival(int version, boolean migrate) { }

    /**
     * Maps an arriving record's schema to a local version, adding it as the next version when it
     * is new. A version from dataFromVersion on is readable by every record class opened on the
     * tree (checked as it was added, or as the class was opened, Database.openTree), except the
     * ones in TreeState.unreadable. Any other must be readable by each of them, or be migrated
     * by the tree's arrival migration.
     *
     * @throws SchemaMismatchException naming the tree, record and both schemas otherwise
     */
    private Arrival arrival(TreeState t, Key<?> key, Message.SchemaDef def) {
        Schema schema = schemaOf(def);
        int known = t.versions.versionOf(schema); // t.versions follows the batch (set below, reset on abort)
        if (known >= t.dataFromVersion && !t.unreadable.contains(known)) return new Arrival(known, false);
        boolean unreadable = false;
        for (Schema reader : t.readers) {
            List<Evolution.Mismatch> m = Evolution.mismatches(schema, reader);
            if (m.isEmpty()) continue;
            unreadable = true;
            if (t.migration == null) {
                throw new SchemaMismatchException("tree " + t.name + ": record " + key + " arrives in schema "
                    + Long.toHexString(schema.fingerprint()) + " which " + reader.name() + " cannot read at "
                    + m.getFirst().path() + ": " + m.getFirst().reason()
                    + " (nothing was changed; upgrade the application, or open the tree with a migration)");
            }
        }
        int version = known > 0 ? known : addVersion(t, schema);
        if (unreadable && t.unreadable.add(version)) {
            // The records after this one in the version are migrated too, not taken as readable.
            db.onAbort(() -> t.unreadable.remove(version));
        }
        return new Arrival(version, unreadable);
    }

    private int addVersion(TreeState t, Schema schema) {
        SchemaVersions versions = db.loadVersions(db.txn(), t.name);
        int v = versions.versionOf(schema);
        if (v > 0) return v;
        int added = versions.add(schema);
        db.txn().put(Layout.SCHEMAS, Layout.schemaKey(t.name, added), schema.toBytes());
        SchemaVersions before = t.versions;
        t.versions = versions;
        db.onAbort(() -> t.versions = before);
        return added;
    }

    private TreeState createTree(Message.SchemaDef def) {
        String name = Layout.checkTreeName(def.tree());
        WriteTxn txn = db.txn();
        txn.put(Layout.CATALOG, Layout.utf8(name), Layout.catalogEntry(def.versioned(), 1));
        txn.createTree(Layout.dataTree(name));
        txn.put(Layout.POOLS, Layout.utf8(name), KeyPool.empty().toBytes());
        Schema schema = schemaOf(def);
        SchemaVersions versions = new SchemaVersions();
        versions.add(schema);
        txn.put(Layout.SCHEMAS, Layout.schemaKey(name, 1), schema.toBytes());
        TreeState created = new TreeState(name, def.versioned(), versions, KeyPool.empty());
        db.treeCreated(created);
        return created;
    }

    @Override
    public void caughtUp(long serverSeq, Set<String> trees) {
        db.write(() -> {
            advance(serverSeq);
            db.txn().put(Layout.NODE, SYNC_TREES, encodeTrees(trees));
            return null;
        }, true);
        laterCopyIds.say(String.valueOf(db.nodeId()));
    }

    /**
     * A catch-up's mark (sync-protocol.md §4.1 step 4): {@code seq} becomes syncSeq and {@code
     * trees} syncTrees, as at CaughtUp, so that a connection cut before its CaughtUp resumes
     * after {@code seq}; the epochSeq key keeps {@code serverSeq}, the state of the server those
     * records come from, with the connection's run. In a full catch-up (a tree added to the set,
     * §5.6) {@code seq} may be below the stored syncSeq, which held only for the trees stored
     * before: it is stored lower, since the records of the added trees above {@code seq} have
     * not arrived, and kept higher they would never come (the next Hello would resume past them).
     */
    @Override
    public void caughtUpTo(long seq, long serverSeq, Set<String> trees) {
        db.write(() -> {
            Seqs now = seqs();
            db.txn().put(Layout.NODE, SYNC_SEQ, Layout.longBytes(seq));
            // Never below what the node's records came from before (the server checked the
            // Hello's epochSeq against its sequence, so serverSeq is not below it anyway).
            long high = Math.max(serverSeq, Math.max(now.sync(), now.high()));
            if (high > seq) {
                db.txn().put(Layout.NODE, EPOCH_SEQ, Layout.longBytes(high));
            } else {
                db.txn().delete(Layout.NODE, EPOCH_SEQ);
                high = 0;
            }
            storeEpoch(seq);
            db.txn().put(Layout.NODE, SYNC_TREES, encodeTrees(trees));
            setSeqs(new Seqs(seq, high));
            return null;
        }, true);
    }

    @Override
    public void keysReceived(Message.Keys keys) {
        db.write(() -> {
            TreeState t = db.existingTree(keys.tree());
            if (t == null) return null;
            refuseHeldIds(t, keys);
            db.pool(t).add(keys.from(), keys.toExclusive());
            db.event(new Event.KeysReceived(keys.tree(), keys.from(), keys.toExclusive()));
            return null;
        }, true);
        synchronized (demand) {
            demand.notifyAll();
        }
    }

    /**
     * The server issues ranges ascending, each above every id it issued before (sync-protocol.md
     * §5.2; its Hello check of the ids a node holds, §4.4, rests on the same rule), so a range
     * that starts below an id this node holds (its key pool's, a record's of any revision) was
     * issued before or overlaps ids in use: taken, inserts would overwrite records. Ids of removed
     * records lie below the pool's ids, or below the highest the pool was ever issued
     * ({@link KeyPool#issuedHigh}, kept once the pool is used up).
     *
     * @throws IllegalArgumentException naming the range and what it overlaps (a protocol error of the server)
     */
    private void refuseHeldIds(TreeState t, Message.Keys keys) {
        KeyPool pool = db.pool(t);
        int recordHigh = 0;
        if (db.txn().hasTree(t.dataTree)) {
            try (dev.cairn.store.Cursor c = db.txn().cursor(t.dataTree)) {
                if (c.last()) recordHigh = Layout.idOf(c.key()) + 1;
            }
        }
        if (keys.from() >= Math.max(pool.issuedHigh(), Math.max(pool.high(), recordHigh))) return;
        throw new IllegalArgumentException("range [" + keys.from() + ", " + keys.toExclusive() + ") of tree " + t.name
            + " is not above the ids this node holds (its key pool " + pool + (recordHigh > 0 ? ", records up to id "
            + (recordHigh - 1) : ", no records") + "): a server issues ids ascending and never twice, so these were "
            + "issued before; refused, nothing stored");
    }

    /**
     * Ids left in the pool of {@code tree}, less what inserts are waiting for. The link applies
     * the messages of one read in one write batch and asks for more ids right after each
     * (ClientSession.pump): inside that batch a range just received is in the batch's copy of
     * the pool only, so that copy counts. (Reading the committed pool there, a first link asked
     * for a second range right after the first arrived, and every node got two.)
     */
    @Override
    public long idsAvailable(String tree) {
        TreeState t = db.existingTree(tree);
        if (t == null) return 0;
        return db.poolSeen(t).available() - demand.getOrDefault(tree, 0L);
    }

    @Override
    public long idReserve() {
        return db.idReserve();
    }

    @Override
    public Set<String> trees() {
        return db.treeNames();
    }

    @Override
    public void borrow(Message.Borrow b) {
        Key<?> key = b.key();
        UUID me = db.nodeId();
        BorrowState state;
        int position = b.queue().indexOf(me);
        if (b.holder().equals(me)) {
            if (checkingIn.contains(key)) return; // predates this node's check-in
            state = new BorrowState.Mine();
        } else if (position >= 0) {
            state = new BorrowState.Waiting(b.holder(), position + 1);
        } else if (!b.holder().equals(Message.NONE)) {
            state = new BorrowState.HeldBy(b.holder(), b.holderName());
        } else {
            state = new BorrowState.Free();
        }
        if (!b.holder().equals(me)) checkingIn.remove(key);
        db.write(() -> {
            byte[] ck = Layout.checkoutKey(key.tree(), key.id(), key.revision());
            MemorySegment stored = db.txn().get(Layout.CHECKOUTS, ck);
            UUID storedHolder = stored == null ? Message.NONE : Layout.checkoutHolder(stored);
            String storedName = stored == null ? "" : Layout.checkoutHolderName(stored);
            String name = b.holder().equals(me) ? "" : b.holderName();
            if (b.holder().equals(Message.NONE)) {
                if (stored != null) db.txn().delete(Layout.CHECKOUTS, ck);
            } else if (!b.holder().equals(storedHolder)) {
                db.txn().put(Layout.CHECKOUTS, ck, Layout.checkoutValue(b.holder(), System.currentTimeMillis(), name));
            } else if (!name.equals(storedName)) {
                // The holder's name, so that a reopened node shows the holder as it was told (a row of an older Cairn has none).
                db.txn().put(Layout.CHECKOUTS, ck, Layout.checkoutValue(b.holder(), Layout.checkoutSince(stored), name));
            }
            // A reconnect's snapshot repeats the states this node already has: no event, and the
            // stored holder keeps the time this node first saw it.
            if (!sameState(state, knownState(key, storedHolder, storedName, me))) db.event(new Event.BorrowChanged(key, state));
            setOther(key, state);
            // After the commit: whoever the future wakes must see the stored holder.
            db.afterCommit(() -> {
                if (state instanceof BorrowState.Mine) {
                    CheckOutRequest r = requested.remove(key);
                    if (r != null) r.grant();
                }
            });
            return null;
        }, true);
    }

    /**
     * Records what this node was told of {@code key} (Mine and Free keep nothing in {@link #others}),
     * in {@link #othersInBatch} until the write batch commits: the link applies several messages
     * in one batch, and the later ones must see what the earlier ones said.
     */
    private void setOther(Key<?> key, BorrowState state) {
        Object batch = db.batch();
        if (othersBatch != batch) {
            // A batch whose end did not get to clear it (an earlier after-commit step threw) left nothing that counts.
            othersInBatch.clear();
            othersBatch = batch;
            db.afterCommit(() -> {
                othersInBatch.forEach((k, told) -> {
                    if (told instanceof BorrowState.Mine || told instanceof BorrowState.Free) others.remove(k);
                    else others.put(k, told);
                });
                othersInBatch.clear();
                othersBatch = null;
            });
            db.onAbort(() -> {
                othersInBatch.clear();
                othersBatch = null;
            });
        }
        othersInBatch.put(key, state);
    }

    /** True when {@code told} says what {@code known} said: also a holder whose name was unknown (a row of an older Cairn). */
    private static boolean sameState(BorrowState told, BorrowState known) {
        if (told instanceof BorrowState.HeldBy(var holder, var name) && known instanceof BorrowState.HeldBy(var was, var wasName)) {
            return holder.equals(was) && (name.equals(wasName) || wasName.isEmpty());
        }
        return told.equals(known);
    }

    /** The state this node last knew of {@code key}, in the write batch in progress: as {@link Database#borrowState} reads it. */
    private BorrowState knownState(Key<?> key, UUID storedHolder, String storedName, UUID me) {
        if (storedHolder.equals(me)) return new BorrowState.Mine();
        BorrowState told = othersBatch == db.batch() ? othersInBatch.get(key) : null;
        BorrowState known = told == null ? others.get(key)
            : told instanceof BorrowState.Mine || told instanceof BorrowState.Free ? null : told;
        if (known != null) return known;
        return storedHolder.equals(Message.NONE) ? new BorrowState.Free() : new BorrowState.HeldBy(storedHolder, storedName);
    }

    @Override
    public Set<Key<?>> heldHere() {
        UUID me = db.nodeId();
        return storedCheckOuts(me::equals);
    }

    @Override
    public boolean holdsHere(Key<?> key) {
        UUID me = db.nodeId();
        return db.readOrWrite(r -> {
            MemorySegment c = r.get(Layout.CHECKOUTS, Layout.checkoutKey(key.tree(), key.id(), key.revision()));
            return c != null && Layout.checkoutHolder(c).equals(me);
        });
    }

    @Override
    public Set<Key<?>> heldElsewhere() {
        UUID me = db.nodeId();
        return storedCheckOuts(holder -> !holder.equals(me));
    }

    /** The records whose stored check-out row names a holder {@code which} accepts. */
    private Set<Key<?>> storedCheckOuts(java.util.function.Predicate<UUID> which) {
        return db.readOrWrite(r -> {
            Set<Key<?>> held = new HashSet<>();
            try (Cursor c = r.cursor(Layout.CHECKOUTS)) {
                for (boolean ok = c.first(); ok; ok = c.next()) {
                    if (!which.test(Layout.checkoutHolder(c.value()))) continue;
                    byte[] k = Layout.copy(c.key());
                    ByteBuffer b = ByteBuffer.wrap(k, k.length - 8, 8);
                    held.add(new Key<>(new String(k, 0, k.length - 9, StandardCharsets.UTF_8), b.getInt(), b.getInt()));
                }
            }
            return held;
        });
    }

    @Override
    public void connectionChanged(boolean connected, UUID server, String reason) {
        // Not through a write: a link that stops because the store refuses writes must still say so.
        db.announce(connected ? new Event.Connected(server) : new Event.Disconnected(reason));
    }

    /** Reads on a snapshot (for tests and tools): the stored last-synced sequence. */
    long storedSeq(ReadTxn r) {
        MemorySegment s = r.get(Layout.NODE, SYNC_SEQ);
        return s == null ? 0 : ByteBuffer.wrap(Layout.copy(s)).getLong();
    }
}
