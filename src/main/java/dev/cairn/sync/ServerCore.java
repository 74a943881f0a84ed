package dev.cairn.sync;

import dev.cairn.CorruptionException;
import dev.cairn.Key;
import dev.cairn.internal.Limits;
import dev.cairn.internal.TreeNames;
import dev.cairn.schema.Schema;
import dev.cairn.store.Cursor;
import dev.cairn.store.ReadTxn;
import dev.cairn.store.Store;
import dev.cairn.store.WriteTxn;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * The server's state machine (spec/sync-protocol.md §4-§5): records as bytes with their
 * schemas, the change log by server sequence, id ranges, check-outs and one {@link Peer} per
 * connection. No I/O: the Selector loop feeds it messages and sends what it queues.
 *
 * <ul>
 *   <li>Work happens in rounds: {@link #onMessage} calls of one round share one store write
 *       transaction; {@link #endRound} commits it and only then releases the replies and pushes
 *       of the round, so nothing is acknowledged before it is durable.
 *   <li>{@code seq} grows by one per accepted change; the log holds each record once, under
 *       the sequence of its latest change, so catch-up sends every record at most once.
 *   <li>An id range is issued once, to one client, and stored before it is sent.
 *   <li>One connection per client id: an accepted Hello replaces the client's older connection,
 *       which gets {@code Error(REPLACED)} (sync-protocol.md §4.2 step 1).
 *   <li>Not thread-safe: one thread (the Selector loop) owns it.
 * </ul>
 */
public final class ServerCore implements AutoCloseable {
    private static final System.Logger LOGGER = System.getLogger(ServerCore.class.getName());
    private volatile Consumer<String> journal = line -> { };
    /** The server's first tree: a folder that has it holds a server database. */
    public static final String META = "srv.meta";
    /** The first tree of a node database (dev.cairn.db.Layout.NODE; sync does not depend on db). */
    private static final String NODE_TREE = "cairn.node";
    static final String TREES = "srv.trees";
    static final String SCHEMAS = "srv.schemas";
    static final String RECORDS = "srv.records";
    static final String LOG = "srv.log";
    static final String RANGES = ServerRanges.RANGES;
    static final String BORROWS = ServerCheckOuts.BORROWS;
    /** {@code clientId} → {@code confirmed:uuid, issued:uuid}: the node's link tokens (sync-protocol.md §5.7). */
    static final String LINKS = "srv.links";
    /** {@code clientId} → the client's name from its last Hello, so Borrows name holders across restarts. */
    static final String NAMES = "srv.names";
    /**
     * Record key of a revision above 0 → {@code client:uuid}, the client whose CREATED of it this
     * server took: any node may make the next revision of a released record, so the id's range
     * does not say who created it (sync-protocol.md §5.1).
     */
    static final String REVISIONS = "srv.revisions";
    /**
     * {@code index:i64} (0, 1, ...) → {@code firstSeq:i64, epoch:uuid}: one entry per run of the
     * server on this folder, appended when it opens, with the first sequence that run could give
     * (sync-protocol.md §4.4, §7). A backup holds the runs up to its own.
     */
    static final String EPOCHS = "srv.epochs";
    static final byte[] SERVER_ID = ascii("serverId");
    static final byte[] APP_ID = ascii("appId");
    static final byte[] SEQ = ascii("seq");
    /**
     * Catch-up sends more records only while a peer has less than this queued, and a batch stops
     * once its values reach it: 256 records of up to 16 MiB each would go over PENDING_BYTES_MAX
     * and close every client that catches up over them (TOO_SLOW), for ever.
     */
    static final long PUMP_BELOW_BYTES = 1 << 20;
    /** What the connections' queues hold together, each frame once (the transport's count). */
    private java.util.function.LongSupplier queuedBytes = () -> 0;
    /**
     * The transport's limit on {@link #queuedBytes}: catch-up sends a batch only while the queues
     * stay under half of it with the batch (under all of it for a round's first). Each
     * catching-up connection otherwise took up to {@link #PUMP_BELOW_BYTES} in the same round, and
     * 100 fresh nodes (or clients that never read) ran a 128 MiB server out of heap before any
     * was dropped.
     */
    private long queuedBytesMax = Long.MAX_VALUE;
    /** Where the next round starts pumping catch-ups (see {@link #endRound}). */
    private int pumpFrom;
    /**
     * The catch-up that found no room in the queues in the last round (the server-wide limit), the
     * bytes it waits room for, and since when (nanoTime) the rounds have sent no catch-up batch
     * so; null while none waits. The transport makes room once it waited long enough.
     */
    private CatchUpWait catchUpWait;

    private record CatchUpWait(Peer peer, long needs, long sinceNanos) { }
    /**
     * Bytes a Pushed frame takes in a queue beyond its value, at the most (length, tag, sequence,
     * key with a tree name of up to 255 bytes, fingerprint, value length), and what a catch-up
     * batch adds besides its records (CaughtUpTo marks, CaughtUp): a batch is sized to the room
     * in the queues with them counted, so that it never takes the queues over the limit.
     */
    static final int PUSHED_OVERHEAD_BYTES = 320;
    static final int BATCH_OVERHEAD_BYTES = 4 << 10;
    static final int PUMP_RECORDS = 256;
    private static final ValueLayout.OfLong BIG_ENDIAN_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);
    /**
     * Log entries a catch-up batch looks at, at most: entries of trees the client does not
     * replicate, and tombstones a fresh node skips ({@link Peer#removedSkippedThrough}), send
     * nothing, and a log of millions of them would otherwise be walked in one loop pass.
     */
    static final int PUMP_LOOKS_MAX = 4_096;
    /**
     * Bytes of values after which a catch-up batch carries a mark (CaughtUpTo) inside it, not only
     * at its end: a connection that drops before a whole batch (up to ~1 MiB) got through still
     * keeps its progress (probe-56: a link that carried 450 KB per connection never got a mark).
     */
    static final long MARK_BYTES = 32 << 10;

    private final Store store;
    private final UUID serverId;
    private final String appId;
    private final int rangeIds;
    private long seq;
    /** The runs of this database, oldest first; the last is this one (sync-protocol.md §4.4). */
    private final List<Epoch> epochs = new ArrayList<>();
    private final Map<String, Boolean> trees = new HashMap<>();
    private final ServerRanges ranges = new ServerRanges(this::txn);
    private final Map<UUID, String> names = new HashMap<>();
    /** The CHANGED changes taken from each client lately: one sent again after its Ack was lost is known (§5.1). */
    private final TakenChanges taken = new TakenChanges(this::txn);
    private final ServerCheckOuts checkOuts = new ServerCheckOuts(this::txn, c -> names.getOrDefault(c, ""));
    private final List<Peer> peers = new ArrayList<>();
    private final List<Runnable> afterCommit = new ArrayList<>();
    private WriteTxn txn;

    /**
     * One record's check-out as the server keeps it (sync-protocol.md §5.4): its holder (never
     * {@link Message#NONE}), when the holder got it (ms since the epoch, 0 unknown), and the
     * clients waiting for it, first in line first.
     */
    public record CheckOutState(Key<?> key, UUID holder, long sinceMillis, List<UUID> queue) {
        public CheckOutState {
            queue = List.copyOf(queue);
        }
    }

    /** One run of the server on its folder: its id, and the first sequence it could give (the folder's seq + 1 at its open). */
    record Epoch(UUID id, long firstSeq) { }

    /** Where a connection's frames go; implemented by the network layer (or a simulation). */
    public interface Outbound {
        void send(Message m);

        long pendingBytes();

        /** Closes after what is queued has been written. */
        void close(String reason);

        /** Where the connection comes from, for the operator ("" when unknown). */
        default String remoteAddress() {
            return "";
        }
    }

    /**
     * The Changes of a group a connection announced (protocol version 7, sync-protocol.md §4.2):
     * held, neither stored nor acknowledged, until {@code count} of them have come, then taken in
     * that round. Dropped with the connection.
     */
    static final class HeldGroup {
        final int count;
        final List<Message.Change> changes = new ArrayList<>();
        long valueBytes;

        HeldGroup(int count) {
            this.count = count;
        }
    }

    /** The server's view of one connection. */
    public static final class Peer {
        enum State { HELLO, CATCHING_UP, LIVE, CLOSED }

        final Outbound out;
        State state = State.HELLO;
        /** The protocol version of the connection: its Hello's (0 before it). */
        int version;
        UUID clientId;
        String clientName = "";
        /** Who the connection's Hello said it is, for the journal (set before the Hello's checks). */
        String introduced = "a connection";
        /** The journal said why it was closed: its disconnection is no news. */
        boolean closeJournaled;
        /** When its Hello was accepted, in ms since the epoch (0 before). */
        long linkedAtMillis;
        Set<String> treesWanted;
        long cursor;
        /**
         * A node linking for the first time (its Hello names no server, version 5 or later, no
         * sequence seen) holds no record of this server's: its catch-up skips the tombstones of
         * unversioned trees at or below this sequence, the server's when it linked, so its first
         * sync costs the live records, not every removal ever made (probe 121: 98% of a fresh
         * node's catch-up were tombstones). Removals after it are sent: the node may have got the
         * record earlier in the catch-up. 0 for any other connection.
         */
        long removedSkippedThrough;
        /** Records its catch-up sent so far (for the journal's line at CaughtUp). */
        long caughtUpRecords;
        final Set<SchemaRef> schemasSent = new HashSet<>();
        /** The schemas this connection defined (SchemaDef), parsed: its records are checked against them. */
        final Map<SchemaRef, Schema> schemasKnown = new HashMap<>();
        /** The group its last Group opened, whose Changes are held until the last comes; null when none is open. */
        HeldGroup group;
        /** An Error was queued for it this round: nothing more it sent is taken. */
        boolean failing;
        /** A Pong is queued for it this round: more Pings of the round need no other. */
        boolean pongQueued;

        Peer(Outbound out) {
            this.out = out;
        }

        boolean wants(String tree) {
            return treesWanted == null || treesWanted.contains(tree);
        }

        public boolean live() {
            return state == State.LIVE;
        }

        public boolean catchingUp() {
            return state == State.CATCHING_UP;
        }

        /** Past the handshake: its Hello was accepted (and it is not closed). */
        public boolean greeted() {
            return state == State.CATCHING_UP || state == State.LIVE;
        }

        /**
         * Greeted with version 3 or later: the client pings when it has nothing else to send, so
         * a connection that sends nothing for long is dead (sync-protocol.md §4.3). A version 2
         * client does not ping, and its connection is never closed for silence.
         */
        public boolean heartbeat() {
            return greeted() && version >= 3;
        }

        /** The client id of its accepted Hello (null before). */
        public UUID clientId() {
            return clientId;
        }

        /** The node name of its accepted Hello ("" before). */
        public String clientName() {
            return clientName;
        }

        /** When its Hello was accepted, in ms since the epoch (0 before). */
        public long linkedAtMillis() {
            return linkedAtMillis;
        }

        /** Where the connection comes from ("" when unknown). */
        public String remoteAddress() {
            return out.remoteAddress();
        }
    }

    private ServerCore(Store store, String appId, int rangeIds) {
        this.store = store;
        this.rangeIds = rangeIds;
        WriteTxn w = store.beginWrite();
        try {
            // Both trees: a server's folder that an older `cairn verify` opened as a node. Still the server's.
            if (w.hasTree(NODE_TREE) && !w.hasTree(META)) {
                throw new IllegalArgumentException(store.directory() + " holds a node's database (tree " + NODE_TREE
                    + "), not a server's: give the server a folder of its own");
            }
            for (String t : List.of(META, TREES, SCHEMAS, RECORDS, LOG, RANGES, BORROWS, LINKS, NAMES, ServerCheckOuts.BROKEN, REVISIONS,
                    EPOCHS, TakenChanges.TAKEN)) {
                w.createTree(t);
            }
            MemorySegment id = w.get(META, SERVER_ID);
            if (id == null) {
                serverId = UUID.randomUUID();
                w.put(META, SERVER_ID, Bytes.uuid(serverId));
                w.put(META, APP_ID, appId.getBytes(StandardCharsets.UTF_8));
            } else {
                ByteBuffer b = ByteBuffer.wrap(Bytes.copy(id));
                serverId = new UUID(b.getLong(), b.getLong());
            }
            this.appId = new String(Bytes.copy(w.get(META, APP_ID)), StandardCharsets.UTF_8);
            MemorySegment s = w.get(META, SEQ);
            seq = s == null ? 0 : ByteBuffer.wrap(Bytes.copy(s)).getLong();
            load(w);
            taken.load(w);
            // This run: stored before any node can hear of it (a Welcome), so every run a node
            // names is in this folder and in every backup taken during or after that run.
            Epoch run = new Epoch(UUID.randomUUID(), seq + 1);
            w.put(EPOCHS, Bytes.longBytes(epochs.size()), Bytes.concat(Bytes.longBytes(run.firstSeq()), Bytes.uuid(run.id())));
            epochs.add(run);
            w.commit();
        } finally {
            w.close();
        }
    }

    /**
     * Opens the server database in {@code dir}. {@code appId} is fixed when the database is
     * created; a later open with another id is refused.
     */
    public static ServerCore open(Path dir, String appId, int rangeIds) {
        Store store = Store.open(dir);
        try {
            ServerCore core = new ServerCore(store, appId, rangeIds);
            if (!core.appId.equals(appId)) {
                throw new IllegalArgumentException("server database " + dir + " belongs to application '" + core.appId
                    + "' (expected: '" + appId + "')");
            }
            return core;
        } catch (RuntimeException | Error e) {
            store.close();
            throw e;
        }
    }

    private void load(ReadTxn r) {
        try (Cursor c = r.cursor(EPOCHS)) {
            for (boolean ok = c.first(); ok; ok = c.next()) {
                ByteBuffer v = ByteBuffer.wrap(Bytes.copy(c.value()));
                long firstSeq = v.getLong();
                epochs.add(new Epoch(new UUID(v.getLong(), v.getLong()), firstSeq));
            }
        }
        try (Cursor c = r.cursor(TREES)) {
            for (boolean ok = c.first(); ok; ok = c.next()) {
                trees.put(Bytes.utf8(c.key()), c.value().get(ValueLayout.JAVA_BYTE, 0) == 1);
            }
        }
        ranges.load(r);
        try (Cursor c = r.cursor(NAMES)) {
            for (boolean ok = c.first(); ok; ok = c.next()) names.put(Bytes.uuidAt(c.key(), 0), Bytes.utf8(c.value()));
        }
        checkOuts.load(r);
    }

    public UUID serverId() {
        return serverId;
    }

    public String appId() {
        return appId;
    }

    public long seq() {
        return seq;
    }

    /** This run's id, which the Welcome of version 5 carries (sync-protocol.md §4.4). */
    public UUID epoch() {
        return epochs.getLast().id();
    }

    /** The names of the trees this server holds, sorted. */
    public java.util.SortedSet<String> treeNames() {
        return new java.util.TreeSet<>(trees.keySet());
    }

    public List<Peer> peers() {
        return List.copyOf(peers);
    }

    /** Every record's check-out that has a holder, in key order (tree, id, revision). */
    public List<CheckOutState> checkOuts() {
        return checkOuts.all();
    }

    /** The check-out of {@code key}, or null when nobody holds the record. */
    public CheckOutState checkOut(Key<?> key) {
        return checkOuts.of(key);
    }

    /** The clients whose last accepted Hello named them {@code name}, also from before a restart. */
    public List<UUID> clientsNamed(String name) {
        return names.entrySet().stream().filter(e -> e.getValue().equals(name)).map(Map.Entry::getKey).toList();
    }

    /** True when a Hello of {@code client} was accepted once, also before a restart. */
    public boolean knows(UUID client) {
        return names.containsKey(client);
    }

    /** The node name of {@code client}'s last accepted Hello, also from before a restart; "" when never heard. */
    public String clientName(UUID client) {
        return names.getOrDefault(client, "");
    }

    /** A new connection; it must send {@link Message.Hello} first. */
    public Peer connect(Outbound out) {
        Peer p = new Peer(out);
        String from = out.remoteAddress();
        if (!from.isEmpty()) p.introduced = "a connection from " + from;
        peers.add(p);
        return p;
    }

    /**
     * The network layer closed the connection itself, with {@code Error(code, text)} (a client
     * that reads too slowly): the journal says so, naming the node, instead of a plain
     * disconnection. Then as {@link #disconnected}.
     */
    public void dropped(Peer p, int code, String text) {
        closedFor(p, ErrorCode.name(code) + ": " + text);
        disconnected(p);
    }

    /**
     * The transport closes {@code p}'s connection for {@code why} (too slow, or silent too long,
     * when no Error goes: it would not arrive): the journal says why, where it would only say
     * "disconnected". Once per connection.
     */
    public void closedFor(Peer p, String why) {
        if (p.state != Peer.State.CLOSED && !p.closeJournaled) {
            journal(p.introduced + " closed: " + why);
            p.closeJournaled = true;
        }
    }

    /**
     * The peer closed the connection before its Hello was answered, {@code bytes} received: part
     * of its Hello, or ({@code helloWhole}) all of it, in the read that also met the close (a
     * server that was busy, or a connection that waited in the listen backlog): no Hello to
     * refuse or accept, so no other line would say it came.
     */
    public void closedDuringHello(Peer p, long bytes, boolean helloWhole) {
        if (p.state == Peer.State.HELLO && bytes > 0) {
            journal(p.introduced + (helloWhole ? " sent its whole Hello and closed before it was answered, after "
                : " closed in the middle of its Hello, after ") + bytes + " byte" + (bytes == 1 ? "" : "s"));
        }
    }

    /** The connection is gone; its check-outs and queue places stay (sync-protocol.md §5.4). */
    public void disconnected(Peer p) {
        if (p.state != Peer.State.CLOSED && p.state != Peer.State.HELLO && !p.closeJournaled) {
            journal(p.introduced + " disconnected");
        }
        p.state = Peer.State.CLOSED;
        peers.remove(p);
    }

    /**
     * Where the server says, one line each, who linked, who was refused or closed and why, and
     * who went away: for the operator ({@code cairn server} prints them). Called on the loop's
     * thread; must not block.
     */
    public void journal(Consumer<String> sink) {
        journal = java.util.Objects.requireNonNull(sink, "sink");
    }

    private void journal(String line) {
        try {
            journal.accept(dev.cairn.internal.Text.oneLine(line)); // names from peers may hold line ends
        } catch (RuntimeException e) {
            LOGGER.log(System.Logger.Level.DEBUG, "journal", e);
        }
    }

    private WriteTxn txn() {
        if (txn == null) txn = store.beginWrite();
        return txn;
    }

    /** Handles one message of {@code p}; replies are released by {@link #endRound()}. */
    public void onMessage(Peer p, Message m) {
        if (p.state == Peer.State.CLOSED || p.failing) return;
        String badName = treeNameProblem(m);
        if (badName != null) {
            fail(p, ErrorCode.PROTOCOL, badName);
            return;
        }
        if (p.state == Peer.State.HELLO) {
            if (m instanceof Message.Hello h) {
                onHello(p, h);
            } else {
                fail(p, ErrorCode.PROTOCOL, "first message " + m.getClass().getSimpleName() + " (expected: Hello)");
            }
            return;
        }
        switch (m) {
            case Message.SchemaDef d -> onSchema(p, d);
            case Message.Change c -> {
                if (c.baseMeta() != Message.Change.NO_BASE && p.version < 9) {
                    // A version 8 decoder refuses tag 20: no node sends it on such a connection.
                    fail(p, ErrorCode.PROTOCOL, "Change with a base (tag 20) of " + c.key() + " on a protocol version "
                        + p.version + " connection (expected: version 9)");
                    return;
                }
                if (p.group == null) onChange(p, c);
                else hold(p, c);
            }
            case Message.NeedKeys n -> onNeedKeys(p, n.tree());
            case Message.CheckOut c -> onCheckOut(p, c.key());
            case Message.CheckIn c -> onCheckIn(p, c.key());
            case Message.LinkStored s -> onLinkStored(p, s.linkToken());
            case Message.Ping x -> onPing(p);
            case Message.Error e -> later(() -> close(p, "client error " + ErrorCode.name(e.code()) + ": " + e.text()));
            case Message.Hello h -> fail(p, ErrorCode.PROTOCOL, "second Hello");
            case Message.Welcome x -> fail(p, ErrorCode.PROTOCOL, "Welcome from a client");
            case Message.Ack x -> fail(p, ErrorCode.PROTOCOL, "Ack from a client");
            case Message.Refused x -> fail(p, ErrorCode.PROTOCOL, "Refused from a client");
            case Message.Pushed x -> fail(p, ErrorCode.PROTOCOL, "Pushed from a client");
            case Message.CaughtUp x -> fail(p, ErrorCode.PROTOCOL, "CaughtUp from a client");
            case Message.CaughtUpTo x -> fail(p, ErrorCode.PROTOCOL, "CaughtUpTo from a client");
            case Message.Keys x -> fail(p, ErrorCode.PROTOCOL, "Keys from a client");
            case Message.Borrow x -> fail(p, ErrorCode.PROTOCOL, "Borrow from a client");
            case Message.Pong x -> fail(p, ErrorCode.PROTOCOL, "Pong from a client");
            case Message.Group g -> onGroup(p, g);
        }
    }

    /**
     * Answers a Ping with a Pong (after the round, in order with the other replies; a round of
     * Pings alone commits nothing, so it is answered at once), one a round however many Pings
     * came: a Pong only shows the server alive, and a Pong each for a client that sends
     * thousands a second (a flood of 5-byte frames) made as many frames in a pass (probe 116).
     * A version 2 connection knows neither message: a Ping on it is an error, and it is never
     * sent a Pong.
     */
    private void onPing(Peer p) {
        if (p.version < 3) {
            fail(p, ErrorCode.PROTOCOL, "Ping on a protocol version " + p.version + " connection (expected: version 3)");
            return;
        }
        if (p.pongQueued) return;
        p.pongQueued = true;
        later(() -> {
            p.pongQueued = false;
            if (p.state != Peer.State.CLOSED) p.out.send(PONG);
        });
    }

    private static final Message.Pong PONG = new Message.Pong();

    /**
     * Why a tree named in {@code m} breaks the rule for tree names, or null. Every node refuses
     * such a name, so a record or tree under it would stop the sync of every client it reached.
     */
    private static String treeNameProblem(Message m) {
        List<String> names = switch (m) {
            case Message.Hello h -> java.util.stream.Stream.of(h.trees().stream(),
                h.claims().stream().map(Message.Claim::tree), h.ids().stream().map(Message.TreeIds::tree))
                .flatMap(x -> x).toList();
            case Message.SchemaDef d -> List.of(d.tree());
            case Message.Change c -> List.of(c.key().tree());
            case Message.NeedKeys n -> List.of(n.tree());
            case Message.CheckOut c -> List.of(c.key().tree());
            case Message.CheckIn c -> List.of(c.key().tree());
            default -> List.of();
        };
        for (String name : names) {
            String problem = TreeNames.problem(name);
            if (problem != null) return problem;
        }
        return null;
    }

    /** Sends {@code Error(code, text)} to {@code p} and closes it, after this round. */
    public void fail(Peer p, int code, String text) {
        fail(p, code, text, "");
    }

    /**
     * As {@link #fail(Peer, int, String)}; {@code note} is added to the journal line only (the
     * server's folder, or the connection's address: the operator's business, not the client's).
     */
    public void fail(Peer p, int code, String text, String note) {
        p.failing = true;
        p.group = null;
        later(() -> {
            if (p.state == Peer.State.CLOSED) return;
            journal(p.introduced + (p.state == Peer.State.HELLO ? " refused: " : " closed: ") + ErrorCode.name(code)
                + ": " + text + note);
            p.closeJournaled = true;
            p.out.send(new Message.Error(code, text));
            close(p, ErrorCode.name(code) + ": " + text);
        });
    }

    private void close(Peer p, String reason) {
        p.out.close(reason);
        disconnected(p);
    }

    private void later(Runnable r) {
        afterCommit.add(r);
    }

    /**
     * The replies and pushes this round has made so far, each sent when the round ends: what it
     * holds on the heap until then (a Hello adds a Borrow per record others hold).
     */
    public int roundSends() {
        return afterCommit.size();
    }

    private void send(Peer p, Message m) {
        later(() -> {
            if (p.state != Peer.State.CLOSED) p.out.send(m);
        });
    }

    /** Why a SERVER_BEHIND refusal: said to the node without the server's folder, which is the operator's. */
    static final String BEHIND = "this server's database is older than what it served: restored from a backup?";
    /** How every SERVER_BEHIND text ends: what the refusal left as it was. */
    static final String BEHIND_KEPT = "Nothing was changed; this node keeps its data and keeps trying";
    /** What to do about SERVER_BEHIND when this database is the older one (README, Sync: a server restored from a backup). */
    static final String BEHIND_ADVICE = BEHIND_KEPT + ": start the server on its newest database folder";
    /**
     * Why, when the node holds a run, link or ids this database never had. A server started on
     * a backup of this folder while it was away gives out such things too, and this folder, back,
     * cannot tell them from those of a newer state of itself: both copies hold only their own
     * history. So both causes are said, each with what to do (README, Sync).
     */
    static final String BEHIND_OR_RESTORED = "either this server's database is older than what it served (restored "
        + "from a backup?): start the server on its newest database folder; or the node synced with a server started "
        + "on a backup of this database while this one was away, whose sequences and ids this database gives to "
        + "others: what the node made there is on the node only (README, Sync: a node that synced with a restored "
        + "backup)";

    /**
     * The text of a SERVER_BEHIND refusal of the node of {@code h}, which {@code holds} what
     * this database does not have: {@code onlyOlder} when that can only mean this database is
     * the older one (it has the run the node names, and less of it), else both causes.
     */
    private String behind(Message.Hello h, String holds, boolean onlyOlder) {
        String node = "node '" + h.clientName() + "' " + holds;
        if (onlyOlder) return node + " (" + BEHIND + otherServer(h) + "). " + BEHIND_ADVICE;
        return node + ": " + BEHIND_OR_RESTORED + (h.protocolVersion() < 4 ? "; or the node is linked to another "
            + "server (this one is " + serverId + ")" : "") + ". " + BEHIND_KEPT;
    }

    /**
     * The server run the node synced in last (version 5): one this database does not know began
     * after the backup this database was restored from; a known one followed by a run that began
     * at or below the node's sequence was cut short: the node got sequences of it that this
     * database does not have (restored from a backup taken during it), and that this database
     * has since given, or will give, to other changes. Either way the node is refused, and
     * nothing changes. A node that synced with no version 5 server names none.
     */
    private boolean epochOk(Peer p, Message.Hello h) {
        if (h.epoch().equals(Message.NONE)) return true;
        for (int i = 0; i < epochs.size(); i++) {
            if (!epochs.get(i).id().equals(h.epoch())) continue;
            if (i + 1 == epochs.size() || epochs.get(i + 1).firstSeq() > h.epochSeq()) return true;
            // This database has the run and less of it: a copy taken during it, so it is the older one.
            fail(p, ErrorCode.SERVER_BEHIND, behind(h, "has every change up to " + h.epochSeq() + " from a run of this "
                + "server, but this server's database went on from " + (epochs.get(i + 1).firstSeq() - 1) + " after that run",
                true), folderNote());
            return false;
        }
        fail(p, ErrorCode.SERVER_BEHIND, behind(h, "has every change up to " + h.epochSeq() + " from a run of this server "
            + "that this server's database does not know", false), folderNote());
        return false;
    }

    /**
     * The ids the node holds from this server (version 5): ids above the last one this database
     * issued, or a node's key pool whose last id this database does not list as issued to that
     * node (issued again to another, after a restore), were issued by a later state of this
     * database. Served, the node and another would create records with the same ids.
     */
    private boolean idsOk(Peer p, Message.Hello h) {
        for (Message.TreeIds t : h.ids()) {
            int next = ranges.next(t.tree());
            String problem = null;
            if (t.idHigh() > next) {
                problem = "holds ids of tree " + t.tree() + " up to " + (t.idHigh() - 1) + ", but this server's database "
                    + (next == 0 ? "never issued ids of that tree" : "issued that tree's ids only up to " + (next - 1));
            } else if (t.poolHigh() > 0 && !ranges.owns(t.tree(), t.poolHigh() - 1, h.clientId())) {
                problem = "holds id " + (t.poolHigh() - 1) + " of tree " + t.tree() + " from this server, but this "
                    + "server's database lists that id as issued to another node";
            }
            if (problem != null) {
                fail(p, ErrorCode.SERVER_BEHIND, behind(h, problem, false), folderNote());
                return false;
            }
        }
        return true;
    }

    /** Below version 4 the Hello names no server: a SERVER_BEHIND may be a node linked to another one. */
    private String otherServer(Message.Hello h) {
        return h.protocolVersion() < 4 ? " Or the node is linked to another server: this one is " + serverId : "";
    }

    /** The server's folder, for the journal line of a SERVER_BEHIND refusal (not sent to the node). */
    private String folderNote() {
        return " [server database folder: " + store.directory() + "]";
    }

    private void onHello(Peer p, Message.Hello h) {
        p.introduced = "node '" + h.clientName() + "' (" + h.clientId() + ")";
        if (h.protocolVersion() < FrameCodec.PROTOCOL_VERSION_MIN || h.protocolVersion() > FrameCodec.PROTOCOL_VERSION) {
            // A client of a later version offers an older one when refused (sync-protocol.md §4.3).
            fail(p, ErrorCode.VERSION, "protocol version " + h.protocolVersion() + " (expected: "
                + FrameCodec.PROTOCOL_VERSION_MIN + " to " + FrameCodec.PROTOCOL_VERSION + ")");
            return;
        }
        if (h.clientId().equals(Message.NONE)) {
            // The zero UUID means "none" on the wire: as a holder it would read as a free check-out.
            fail(p, ErrorCode.PROTOCOL, "client id is the zero UUID (expected: the node's own random id)");
            return;
        }
        if (!h.serverId().equals(Message.NONE) && !h.serverId().equals(serverId)) {
            // Before every check of the node's state against this server's (lastSeq, link token):
            // those numbers mean nothing here, and their errors would blame a backup or a copy.
            fail(p, ErrorCode.WRONG_SERVER, "server " + serverId + " is not the server this database is linked to ("
                + h.serverId() + "); nothing was changed");
            return;
        }
        if (!h.appId().equals(appId)) {
            fail(p, ErrorCode.APP_ID, "application id '" + h.appId() + "' (expected: '" + appId + "', this server's)");
            return;
        }
        if (!epochOk(p, h)) return;
        long seen = Math.max(h.lastSeq(), h.epochSeq()); // a full catch-up's Hello (lastSeq 0) still names its syncSeq
        if (seen > seq) {
            // The node has seen changes this server no longer has: serving it would re-issue ids
            // and sequences the node already knows under other meanings.
            // A node older than version 4 does not name its server: it may be linked to another one.
            // Past the end of a run this database has (checked above): only this database can be older.
            fail(p, ErrorCode.SERVER_BEHIND, behind(h, "has every change up to " + seen + ", but this server's database "
                + "ends at " + seq, !h.epoch().equals(Message.NONE)), folderNote());
            return;
        }
        if (!idsOk(p, h)) return;
        for (Message.Claim c : h.claims()) {
            ServerRanges.Range r = ranges.otherBelow(c.tree(), c.toExclusive(), h.clientId());
            if (r != null) {
                // The claim is the ids used plus a margin for inserts during the link (probe 125:
                // "used ids [0, 1001)" of a database that had used id 0 alone).
                fail(p, ErrorCode.ID_CONFLICT, "tree " + c.tree() + ": this database, standalone, used ids from 0 up and"
                    + " claims [0, " + c.toExclusive() + ") for them (those it used and a margin), but the server already"
                    + " issued [" + r.from() + ", " + r.toExclusive()
                    + ") to another client; only one standalone database per tree can link with its records (expected: "
                    + "export the tree and import it into a linked database while it is connected: the records get new ids)");
                return;
            }
        }
        UUID token = linkToken(p, h);
        if (token == null) return;
        // One connection per client: this Hello is the node as far as the server can tell (its
        // link token is the current one), and a node makes one connection at a time, so an older
        // connection of this client is dead (a drop the server has not noticed) or a copy of the
        // node's database. Either way it goes; the new one stays (sync-protocol.md §4.2 step 1).
        for (Peer old : List.copyOf(peers)) {
            if (old != p && old.greeted() && old.clientId.equals(h.clientId())) replace(old, h);
        }
        for (Message.Claim c : h.claims()) {
            int next = ranges.next(c.tree());
            if (c.toExclusive() > next) ranges.issue(c.tree(), next, c.toExclusive(), h.clientId());
        }
        p.version = h.protocolVersion();
        p.clientId = h.clientId();
        taken.connected(p.clientId);
        p.clientName = h.clientName();
        p.treesWanted = h.trees().isEmpty() ? null : Set.copyOf(h.trees());
        p.cursor = Math.min(h.lastSeq(), seq);
        // Never linked: no server named, and never synced (a full catch-up of a grown tree set names
        // its syncSeq as epochSeq). A node below version 5 names neither, linked or not.
        boolean fresh = p.version >= 5 && h.serverId().equals(Message.NONE) && h.lastSeq() == 0 && h.epochSeq() == 0;
        p.removedSkippedThrough = fresh ? seq : 0;
        p.state = Peer.State.CATCHING_UP;
        p.linkedAtMillis = System.currentTimeMillis();
        if (!h.clientName().equals(names.put(h.clientId(), h.clientName()))) {
            txn().put(NAMES, Bytes.uuid(h.clientId()), Bytes.utf8(h.clientName()));
        }
        // The Welcome names the connection's version, the Hello's: a version 2 client is sent
        // nothing it does not know.
        send(p, new Message.Welcome(p.version, serverId, seq, token, epoch()));
        journal(p.introduced + " linked: protocol " + p.version + ", catching up from sequence " + h.lastSeq()
            + " of " + seq + ", trees " + treeList(h.trees()));
        // The Borrows of records others hold or a break freed first, then the node's own, each
        // after the record's latest state where the catch-up has not sent it. A node of before
        // this order ends the snapshot at its first frame that is not a snapshot Borrow, and
        // asks again for every record it holds that the snapshot has not named by then (§4.1
        // step 5): a record whose check-out was broken, named after such a Pushed, it took back,
        // and its change made under the broken check-out was taken (probe 111).
        List<Message.Borrow> snapshot = checkOuts.snapshotFor(p.clientId, p::wants);
        for (Message.Borrow b : snapshot) {
            if (!b.holder().equals(p.clientId)) send(p, b);
        }
        for (Message.Borrow b : snapshot) {
            if (!b.holder().equals(p.clientId)) continue;
            sendLatestToHolder(p, b.key());
            send(p, b);
        }
    }

    /**
     * Before a Borrow that makes {@code p}, still catching up, the holder of {@code key}: the
     * record's latest state, when the catch-up has not sent it yet. A holder edits what it holds,
     * and a change made on an older state was taken over the newer one (before bases), or is
     * refused CHANGED_SINCE (from version 9: probe runs saw it for a record granted to a node
     * while it was away, whose snapshot came before the catch-up). The catch-up sends it again
     * later; the node applies the same state twice.
     */
    private void sendLatestToHolder(Peer p, Key<?> key) {
        if (p.state != Peer.State.CATCHING_UP) return;
        Message.Pushed current = stored(txn(), key);
        if (current.serverSeq() > p.cursor) sendRecord(p, current);
    }

    /** How many trees of a Hello the journal names: a Hello may name 65,535, a line of half a million characters (probe 101). */
    static final int JOURNAL_TREES_MAX = 20;

    /** The trees of a Hello for the journal: "all", or up to {@link #JOURNAL_TREES_MAX} names and how many more. */
    static String treeList(List<String> trees) {
        if (trees.isEmpty()) return "all";
        if (trees.size() <= JOURNAL_TREES_MAX) return String.join(", ", trees);
        return String.join(", ", trees.subList(0, JOURNAL_TREES_MAX)) + " and " + (trees.size() - JOURNAL_TREES_MAX) + " more";
    }

    /**
     * Closes {@code old}, an accepted connection of the client whose Hello {@code h} was just
     * accepted on another one. From now on it is sent nothing but {@code Error(REPLACED)} (no
     * replies to what it sent earlier in this round either: its node retransmits, §5.1), gets
     * no pushes or Borrows, and what it sends is ignored. The check-outs, queue places and id
     * ranges belong to the client, not to the connection, and stay. Two connections of one
     * client would both be served the same check-outs and id ranges: records with the same ids
     * made on two machines.
     */
    private void replace(Peer old, Message.Hello h) {
        old.state = Peer.State.CLOSED;
        peers.remove(old);
        String text = "client id " + h.clientId() + " (node '" + old.clientName + "') connected again"
            + (h.clientName().equals(old.clientName) ? "" : " as node '" + h.clientName() + "'")
            + " on another connection, which replaced this one. A node makes one connection at a time, so two "
            + "machines are using this node's database: each node needs its own database folder, and a copied "
            + "folder must not be used as a second node. This database stops syncing; give this machine a new "
            + "database folder and connect that";
        LOGGER.log(System.Logger.Level.INFO, "client " + h.clientId() + " (node '" + h.clientName()
            + "') connected again: its older connection is closed (REPLACED)");
        later(() -> {
            old.out.send(new Message.Error(ErrorCode.REPLACED, text));
            old.out.close(ErrorCode.name(ErrorCode.REPLACED) + ": " + text);
        });
    }

    /**
     * Checks the Hello's link token and issues the next one (stored in this round, so the
     * Welcome that carries it goes out after it is durable); null after refusing the Hello. A
     * node presents the token of its last link: the confirmed one, or the one issued last if its
     * LinkStored was lost. An older copy of the node (a restored backup, a copied folder)
     * presents an older token: it would reuse ids and overwrite what the node made after the
     * copy, so it is refused and nothing changes. A token's high 64 bits number the node's links
     * (1, 2, ...), so a token newer than any this server knows tells the other case apart: the
     * server's own database is older than its last link with the node (restored from a backup).
     */
    private UUID linkToken(Peer p, Message.Hello h) {
        byte[] k = Bytes.uuid(h.clientId());
        MemorySegment stored = txn().get(LINKS, k);
        UUID confirmed = stored == null ? Message.NONE : Bytes.uuidAt(stored, 0);
        UUID issued = stored == null ? Message.NONE : Bytes.uuidAt(stored, 16);
        boolean lastIssued = !issued.equals(Message.NONE) && h.linkToken().equals(issued);
        long lastLink = Math.max(confirmed.getMostSignificantBits(), issued.getMostSignificantBits());
        if (stored == null && !h.linkToken().equals(Message.NONE)) {
            // This server issued that token (a node linked before tokens existed presents none),
            // and stores every token before the Welcome that carries it: its database is older
            // than the node's first link. Served, the node would be given again the id ranges it
            // holds (sync-protocol.md §5.7).
            fail(p, ErrorCode.SERVER_BEHIND, behind(h, "(" + h.clientId() + ") presents link "
                + h.linkToken().getMostSignificantBits() + ", but this server's database has no link with it", false),
                folderNote());
            return null;
        }
        if (stored != null && !h.linkToken().equals(confirmed) && !lastIssued) {
            long presented = h.linkToken().getMostSignificantBits();
            if (presented > lastLink) {
                fail(p, ErrorCode.SERVER_BEHIND, behind(h, "(" + h.clientId() + ") presents link " + presented
                    + ", but this server's database knows its links only up to " + lastLink, false), folderNote());
                return null;
            }
            // Named as the node that linked since (the server's name for it), not as this copy's Hello says.
            String linked = names.getOrDefault(h.clientId(), h.clientName());
            // Not "older": a byte-identical copy is refused the same way once the other one linked first.
            fail(p, ErrorCode.NODE_COPY, "this database is a copy of node '" + linked + "' (" + h.clientId() + ") as it was"
                + " before the node's last link: the node, or another copy of its database, has linked since (a restored"
                + " backup or a copied folder), so this one would reuse ids and overwrite records. Nothing was changed; give"
                + " this machine a new database folder and connect it");
            return null;
        }
        UUID next = new UUID(lastLink + 1, UUID.randomUUID().getLeastSignificantBits());
        txn().put(LINKS, k, Bytes.concat(Bytes.uuid(lastIssued ? issued : confirmed), Bytes.uuid(next)));
        return next;
    }

    /** The node stored the token its Welcome issued: the token before it is no longer accepted. */
    private void onLinkStored(Peer p, UUID token) {
        byte[] k = Bytes.uuid(p.clientId);
        MemorySegment stored = txn().get(LINKS, k);
        if (stored != null && !token.equals(Message.NONE) && Bytes.uuidAt(stored, 16).equals(token)) {
            txn().put(LINKS, k, Bytes.concat(Bytes.uuid(token), Bytes.uuid(Message.NONE)));
        }
    }

    private void onSchema(Peer p, Message.SchemaDef d) {
        // Stored, a schema that does not parse, or under another fingerprint, would stop the sync
        // of every client that receives a record in it; the server checks what it can without classes.
        Schema schema;
        try {
            schema = Schema.fromBytes(d.schema());
        } catch (CorruptionException e) {
            fail(p, ErrorCode.PROTOCOL, "schema " + Long.toHexString(d.fingerprint()) + " of tree " + d.tree()
                + " does not parse: " + e.getMessage());
            return;
        }
        if (schema.fingerprint() != d.fingerprint()) {
            fail(p, ErrorCode.PROTOCOL, "schema " + Long.toHexString(d.fingerprint()) + " of tree " + d.tree()
                + " is not its fingerprint (the bytes give " + Long.toHexString(schema.fingerprint()) + ")");
            return;
        }
        Boolean versioned = trees.get(d.tree());
        if (versioned != null && versioned != d.versioned()) {
            fail(p, ErrorCode.TREE_MISMATCH, "tree " + d.tree() + " is " + (versioned ? "" : "not ")
                + "versioned on the server, but the client's is " + (d.versioned() ? "" : "not ") + "versioned");
            return;
        }
        if (versioned == null) {
            txn().put(TREES, Bytes.utf8(d.tree()), new byte[] {(byte) (d.versioned() ? 1 : 0)});
            trees.put(d.tree(), d.versioned());
        }
        byte[] key = Bytes.schemaKey(d.tree(), d.fingerprint());
        if (txn().get(SCHEMAS, key) == null) {
            txn().put(SCHEMAS, key, d.schema());
            // Who introduced a schema: the node another one may later stop for good on (§5.5).
            journal(p.introduced + " stored schema " + Long.toHexString(d.fingerprint()) + " (record " + schema.name()
                + ") of tree " + d.tree() + ": version " + schemaCount(d.tree()) + " of that tree on this server");
        }
        p.schemasKnown.put(SchemaRef.of(d), schema);
        p.schemasSent.add(SchemaRef.of(d));
    }

    /** How many schemas of {@code tree} the server stores (in this round's transaction). */
    private int schemaCount(String tree) {
        byte[] name = Bytes.utf8(tree);
        byte[] prefix = Arrays.copyOf(name, name.length + 1);
        int count = 0;
        try (Cursor c = txn().cursor(SCHEMAS)) {
            for (boolean on = c.seek(prefix); on; on = c.next()) {
                byte[] k = c.key().toArray(ValueLayout.JAVA_BYTE);
                if (k.length != prefix.length + 8 || !Arrays.equals(k, 0, prefix.length, prefix, 0, prefix.length)) break;
                count++;
            }
        }
        return count;
    }

    private void onChange(Peer p, Message.Change c) {
        Key<?> key = c.key();
        Schema schema = null;
        if (c.kind() != Message.Kind.REMOVED) {
            schema = p.schemasKnown.get(new SchemaRef(key.tree(), c.fingerprint()));
            if (schema == null) {
                // Out of order, not a fault of this change's value: the node sends a SchemaDef first.
                fail(p, ErrorCode.PROTOCOL, "change of " + key + " names schema " + Long.toHexString(c.fingerprint())
                    + " before its SchemaDef for tree " + key.tree());
                return;
            }
        }
        byte[] rk = Bytes.recordKey(key);
        StoredHead current = storedHead(c);
        if (c.kind() != Message.Kind.REMOVED && key.revision() > 0 && Boolean.FALSE.equals(trees.get(key.tree()))) {
            // No node makes one; stored, it would reach every node, and an export of the tree
            // could not be imported back. (A REMOVED of one, which an older server took, goes through.)
            refuse(p, c, ErrorCode.INVALID_CHANGE, "change of " + key + ": revision " + key.revision()
                + " in tree " + key.tree() + ", which is not versioned (expected: revision 0, the only one of its records)"
                + "; nothing stored, and this node's copy is set to the server's");
            return;
        }
        if (c.kind() != Message.Kind.REMOVED) {
            String wrong = ChangeChecks.valueProblem(c.value(), schema, trees.get(key.tree()), current);
            if (wrong != null) {
                // This change alone is wrong: refused, so the node rolls it back and its later
                // changes still go through (an Error would end every connection at this change).
                refuse(p, c, ErrorCode.INVALID_CHANGE, "change of " + key + ": " + wrong
                    + "; nothing stored, and this node's copy is set to the server's");
                return;
            }
        }
        taken.sending(p.clientId, c.outboxSeq());
        if (ChangeChecks.alreadyStored(c, current)) {
            // A retransmission whose Ack was lost (its check-out may have passed on since): a
            // new sequence would push the same record to every node again, a refusal would
            // report a change that was made.
            send(p, new Message.Ack(c.outboxSeq(), key, current.serverSeq()));
            return;
        }
        long hash = c.kind() != Message.Kind.REMOVED ? TakenChanges.hash(rk, c.value()) : 0;
        if (c.kind() == Message.Kind.CHANGED && taken.taken(p.clientId, c.outboxSeq(), hash)) {
            // Sent again after its Ack was lost, and the record changed since (its check-out
            // broken and passed on, say). Before, it was refused as not checked out, and the
            // node told the application to enter again data the server holds; or, the check-out
            // back with this node, taken again over the newer version (probe 105 F2).
            String by = current.removed() ? "removed since" : "changed since by node '"
                + names.getOrDefault(Bytes.modifiedOn(current.head()), "?") + "'";
            refuse(p, c, ErrorCode.SUPERSEDED, "change of " + key + " sent again: the server took it (its"
                + " acknowledgement did not reach this node), and the record was " + by + "; this node's copy is set to"
                + " the server's version");
            return;
        }
        if (c.kind() == Message.Kind.CREATED && current.removed() && taken.takenInsert(p.clientId, c.outboxSeq(), hash)) {
            // Sent again after its Ack was lost, and another node removed the record since: the
            // insert was made. Refused REMOVED, its node told the application to enter again data
            // that another user removed (probe 125 F2).
            refuse(p, c, ErrorCode.SUPERSEDED, "insert of " + key + " sent again: the server took it (its acknowledgement"
                + " did not reach this node), and the record was removed since on another node; this node removes it too");
            return;
        }
        String refusal = refusal(p, c, current);
        if (refusal != null) {
            refuse(p, c, Integer.parseInt(refusal.substring(0, 2)), refusal.substring(3));
            return;
        }
        if (c.kind() == Message.Kind.CREATED && !current.removed()
                && !(ChangeChecks.lastWriter(current, p.clientId) && createdBy(key, p.clientId))) {
            // A retransmission whose acknowledgement was lost: keep what the server has. Its
            // state goes in the answer itself: an Ack followed by a Pushed left the node with its
            // own version when the connection ended between the two, since the Ack drops the
            // outbox entry and the node skipped the record's newer version while the entry was
            // pending. (Only the node that created a record may send newer data as a CREATED.)
            boolean mine = createdBy(key, p.clientId);
            if (mine && Bytes.metaIteration(c.value()) > 0) {
                // The insert was taken, but the node changed the record since (its entry stays
                // CREATED until the Ack): those changes were made on the inserted version, which
                // another node's change replaced. Answered SUPERSEDED, they were dropped with no
                // word to the application (probe 106).
                refuse(p, c, ErrorCode.CHANGED_SINCE, "insert of " + key + " sent again with this node's later"
                    + " changes (metaIteration " + Bytes.metaIteration(c.value()) + "): the server took the insert, and"
                    + " the record changed since on another node; this node's later changes are refused and its copy set"
                    + " to the server's");
                return;
            }
            String why = mine ? " sent again: the record changed since on another node"
                : ": the record is not this node's (another node made it)";
            refuse(p, c, ErrorCode.SUPERSEDED, "insert of " + key + why
                + ", and the server keeps its version; this node's copy is set to it");
            return;
        }
        if (c.kind() == Message.Kind.CREATED && current.serverSeq() > 0
                && Bytes.createdMillis(c.value()) != Bytes.createdMillis(current.head())) {
            // Not newer data of the record it sent (that keeps its insert's createdMillis) but
            // another record under an id this node used already: a copy of the node restored
            // from a backup, inserting before it had what the node made after the copy. Taken,
            // it would replace on every node a record the server acknowledged (probe 87).
            refuse(p, c, ErrorCode.ID_REUSED, "insert of " + key + ": the server holds another record under this id,"
                + " inserted by this node at " + java.time.Instant.ofEpochMilli(Bytes.createdMillis(current.head()))
                + " (this one at " + java.time.Instant.ofEpochMilli(Bytes.createdMillis(c.value())) + "): this node runs on"
                + " a copy of its folder taken before that insert (restored from a backup) and used the id again; the"
                + " server keeps its record, and this node's copy is set to it");
            return;
        }
        byte[] value = c.value();
        // A tombstone has no schema: stored and pushed with 0, whatever the REMOVED named (§3).
        long fingerprint = c.kind() == Message.Kind.REMOVED ? 0 : c.fingerprint();
        if (c.kind() == Message.Kind.CHANGED && !checkOuts.heldBy(key, p.clientId)) {
            // A change of the state alone from a node without the check-out (refusal() let only
            // that through): its header with the stored data, which a node that migrated its
            // copy locally holds in another schema version (database-layout.md §5, §8).
            byte[] stored = stored(txn(), key).value();
            int from = Bytes.recordBytesStart(value);
            int data = Bytes.recordBytesStart(stored);
            value = Arrays.copyOf(value, from + stored.length - data);
            System.arraycopy(stored, data, value, from, stored.length - data);
            fingerprint = current.fingerprint();
        }
        if (c.kind() == Message.Kind.CHANGED && Bytes.metaIteration(value) <= Bytes.metaIteration(current.head())) {
            // A holder of before version 9 (no base), whose change was made on a version whose
            // state others changed since: stored one above the stored metaIteration, so that no
            // two versions of the record share one (a version 9 node's base names one version).
            // The sender gets the stored record back, as for any change stored otherwise than sent.
            value = value == c.value() ? value.clone() : value;
            ByteBuffer.wrap(value).putLong(Bytes.META_ITERATION_AT, Bytes.metaIteration(current.head()) + 1);
        }
        long s = ++seq;
        WriteTxn w = txn();
        if (current.serverSeq() > 0) w.delete(LOG, Bytes.longBytes(current.serverSeq()));
        w.put(LOG, Bytes.longBytes(s), rk);
        w.put(RECORDS, rk, Bytes.recordValue(s, fingerprint, value));
        w.put(META, SEQ, Bytes.longBytes(s));
        if (c.kind() == Message.Kind.CREATED && key.revision() > 0 && current.serverSeq() == 0) {
            w.put(REVISIONS, rk, Bytes.uuid(p.clientId));
        }
        Message.Pushed now = new Message.Pushed(s, key, fingerprint, value);
        if (c.kind() == Message.Kind.CHANGED) taken.took(p.clientId, c.outboxSeq(), hash);
        else if (c.kind() == Message.Kind.CREATED) taken.tookInsert(p.clientId, c.outboxSeq(), hash);
        send(p, new Message.Ack(c.outboxSeq(), key, s));
        // The sender's data differed from what was stored: it gets the stored record back.
        if (fingerprint != c.fingerprint() || !Arrays.equals(value, c.value())) sendRecord(p, now);
        for (Peer other : peers) {
            if (other != p && other.live() && other.wants(key.tree())) push(other, now);
        }
        // A removed record is free for ever, and its tombstone reaches every node.
        if (c.kind() == Message.Kind.REMOVED) {
            Message.Borrow free = checkOuts.removed(key);
            if (free != null && taking != null) taking.borrows.add(free);
            else if (free != null) broadcastBorrow(free);
        }
    }

    /**
     * A live push of {@code r} to {@code other}: queued now, or, while a group is taken, kept
     * with the group's other pushes to that peer, which go out together after it.
     */
    private void push(Peer other, Message.Pushed r) {
        if (taking == null) sendRecord(other, r);
        else taking.pushes.computeIfAbsent(other, x -> new ArrayList<>()).add(r);
    }

    /**
     * Group(n), version 7 (sync-protocol.md §4.2): the next n Changes of this connection are
     * held until the last has come. One on an older connection, one over the connection's bound
     * (256 on version 7, 4,096 from version 8; the decoder bounds n to 2..GROUP_CHANGES_MAX_V8),
     * or one while a group is open, is a protocol error.
     */
    private void onGroup(Peer p, Message.Group g) {
        if (p.version < 7) {
            fail(p, ErrorCode.PROTOCOL, "Group on a protocol version " + p.version + " connection (expected: version 7)");
            return;
        }
        int max = FrameCodec.groupChangesMax(p.version);
        if (g.count() > max) {
            fail(p, ErrorCode.PROTOCOL, "Group(" + g.count() + ") on a protocol version " + p.version + " connection (expected: 2 to "
                + max + " Changes; " + Limits.GROUP_CHANGES_MAX_V8 + " from version 8)");
            return;
        }
        if (p.group != null) {
            fail(p, ErrorCode.PROTOCOL, "Group(" + g.count() + ") while a Group(" + p.group.count + ") is open, "
                + p.group.changes.size() + " of its Changes received (expected: a Group after the last Change of the one before)");
            return;
        }
        p.group = new HeldGroup(g.count());
    }

    /** A Change of an open group: held (not stored, not acknowledged) until the group's last has come, then all taken. */
    private void hold(Peer p, Message.Change c) {
        HeldGroup g = p.group;
        g.valueBytes += c.value().length;
        if (g.valueBytes > Limits.GROUP_BYTES_MAX) {
            fail(p, ErrorCode.PROTOCOL, "the Changes of a Group(" + g.count + ") hold " + g.valueBytes + " value bytes after "
                + (g.changes.size() + 1) + " of them (expected: <= GROUP_BYTES_MAX " + Limits.GROUP_BYTES_MAX + ")");
            return;
        }
        g.changes.add(c);
        if (g.changes.size() < g.count) return;
        p.group = null;
        takeGroup(p, g.changes);
    }

    /** What taking a group holds back: per live peer the records pushed to it, and the Borrows of removals. */
    private static final class Taking {
        final Map<Peer, List<Message.Pushed>> pushes = new java.util.LinkedHashMap<>();
        final List<Message.Borrow> borrows = new ArrayList<>();
    }

    /** Set while {@link #takeGroup} runs. */
    private Taking taking;

    /**
     * Takes a whole group in this round (its one store transaction): its accepted Changes get
     * consecutive sequences, and each live peer gets the records of its trees together, after a
     * Group(k) on a version 7 connection when k >= 2 (in parts of at most 256 on a version 7
     * connection, sync-protocol.md §4.2 step 6), with nothing else queued between them (the
     * SchemaDef of a record may go right before it); the Borrows that removals cause follow. A
     * refused Change is answered as any (its node rolls it back) and pushes nothing. A member
     * naming a schema not defined on this connection ends it before any member is stored.
     */
    private void takeGroup(Peer p, List<Message.Change> changes) {
        for (Message.Change c : changes) {
            if (c.kind() != Message.Kind.REMOVED && !p.schemasKnown.containsKey(new SchemaRef(c.key().tree(), c.fingerprint()))) {
                fail(p, ErrorCode.PROTOCOL, "change of " + c.key() + " names schema " + Long.toHexString(c.fingerprint())
                    + " before its SchemaDef for tree " + c.key().tree() + "; nothing of its Group(" + changes.size() + ") is stored");
                return;
            }
        }
        Taking t = new Taking();
        taking = t;
        try {
            for (Message.Change c : changes) onChange(p, c);
        } finally {
            taking = null;
        }
        for (Map.Entry<Peer, List<Message.Pushed>> e : t.pushes.entrySet()) {
            Peer other = e.getKey();
            List<Message.Pushed> records = e.getValue();
            // A group of more records than the peer's version allows in one (a version 8 node's
            // batch of over 256 to a version 7 peer, whose decoder refuses more) goes in Group
            // frames of that many, each applied whole there: as that peer's own window cuts it.
            int part = FrameCodec.groupChangesMax(other.version);
            for (int from = 0; from < records.size(); from += part) {
                List<Message.Pushed> some = records.subList(from, Math.min(records.size(), from + part));
                if (other.version >= 7 && some.size() >= 2) send(other, new Message.Group(some.size()));
                for (Message.Pushed r : some) sendRecord(other, r);
            }
        }
        for (Message.Borrow b : t.borrows) broadcastBorrow(b);
    }

    /** Answers {@code c} with a Refused carrying the server's state of its record (§5.1), preceded by that state's schema. */
    private void refuse(Peer p, Message.Change c, int code, String reason) {
        Message.Pushed current = stored(txn(), c.key());
        if (!current.removed()) sendSchema(p, c.key().tree(), current.fingerprint());
        send(p, new Message.Refused(c.outboxSeq(), code, reason, current));
    }

    /** Why {@code c} is refused, as {@code "NN reason"}, or null when it is accepted. */
    private String refusal(Peer p, Message.Change c, StoredHead current) {
        Key<?> key = c.key();
        boolean exists = current.serverSeq() > 0;
        if (c.kind() == Message.Kind.CREATED) {
            if (exists && current.removed()) return ErrorCode.REMOVED + " " + key + " was removed and cannot come back";
            if (!exists) {
                if (ranges.owns(key.tree(), key.id(), p.clientId) || nextOfReleased(key)) return null;
                return ErrorCode.NOT_YOUR_ID + " id " + key.id() + " of tree " + key.tree()
                    + " is not in a range the server issued to this client"
                    + (key.revision() > 0 ? ", and the revision below " + key.revision() + " of it that the server holds"
                        + " (removed ones aside) is not a released record (a new revision copies a released one; if this"
                        + " node released it, that release was refused)" : "");
            }
            UUID creator = key.revision() > 0 ? revisionCreator(key) : null;
            if (creator != null && !creator.equals(p.clientId)) {
                return ErrorCode.REVISION_TAKEN + " revision " + key.revision() + " of " + key.tree() + "/" + key.id()
                    + " was made first by node '" + names.getOrDefault(creator, "?") + "' (" + creator + "); this node's "
                    + "is replaced by it";
            }
            return null;
        }
        if (!exists) {
            // A record removed before its CREATED was sent: remember the id as removed.
            if (c.kind() == Message.Kind.REMOVED && ranges.owns(key.tree(), key.id(), p.clientId)) return null;
            return ErrorCode.UNKNOWN_RECORD + " the server has no record " + key;
        }
        if (current.removed()) {
            if (c.kind() == Message.Kind.REMOVED) return null;
            return ErrorCode.REMOVED + " " + key + " was removed and cannot come back";
        }
        UUID holder = checkOuts.holder(key);
        if (!holder.equals(p.clientId) && !ChangeChecks.stateChangeOnly(c, current, p.clientId)) {
            String since = changedSince(p, c, current);
            if (since != null) return since;
            return ErrorCode.NOT_CHECKED_OUT + " " + key + " is not checked out by this client"
                + (checkOuts.brokenFrom(key, p.clientId) ? " (an administrator broke its check-out)" : "")
                + (holder.equals(Message.NONE) ? "" : " (held by " + names.getOrDefault(holder, "?") + ")");
        }
        if (c.kind() == Message.Kind.CHANGED && !ChangeChecks.madeOnStored(c, current, p.clientId)) {
            // The holder's change, made on a version another node's change replaced since: a
            // change of the state, which needs no check-out (or data of a holder before this one,
            // whose check-out was broken). Taken, it replaced that change on every node, nobody
            // told (probe 106).
            return ErrorCode.CHANGED_SINCE + " " + key + " was changed by node '"
                + names.getOrDefault(Bytes.modifiedOn(current.head()), "?")
                + "' since the version this node changed under its check-out (a change of the state needs no check-out,"
                + " and a change is taken only on the server's latest version); this node's change is refused and its"
                + " copy set to the server's";
        }
        if (Bytes.released(current.head())) {
            boolean dataChanged = c.kind() == Message.Kind.REMOVED
                || Bytes.dataIteration(c.value()) != Bytes.dataIteration(current.head());
            if (dataChanged) return ErrorCode.RELEASED + " " + key + " is released; its data can never change";
            if (!Bytes.released(c.value())) return ErrorCode.RELEASED + " " + key + " is released; it stays released";
        }
        return null;
    }

    /**
     * The refusal of a change from a client without the check-out that another node's change
     * overtook: its {@code dataIteration} does not go past the stored one (a state change, the
     * one kind a node makes without the check-out, or data it changed that the holder changed
     * since too) and it is no change of the state alone on the stored version. Null for a data
     * change beyond the stored one, or from a client whose check-out the administrator broke:
     * those are refused as made without the check-out.
     */
    private String changedSince(Peer p, Message.Change c, StoredHead current) {
        if (c.kind() != Message.Kind.CHANGED || checkOuts.brokenFrom(c.key(), p.clientId)) return null;
        long sentData = Bytes.dataIteration(c.value());
        long storedData = Bytes.dataIteration(current.head());
        if (sentData > storedData) return null;
        UUID by = Bytes.modifiedOn(current.head());
        String who = by.equals(p.clientId) ? "this node (an earlier change)" : "node '" + names.getOrDefault(by, "?") + "'";
        return ErrorCode.CHANGED_SINCE + " " + c.key() + (sentData == storedData ? ": its state was changed by " + who
            + " since the version this node changed (a state change needs no check-out, but one is taken only on the"
            + " server's latest version)" : " was changed by " + who + " (its data, under the check-out) since the"
            + " version this node changed") + "; this node's change is refused and its copy set to the server's";
    }

    /**
     * True for revision {@code r > 0} of an id whose highest revision below {@code r} that the
     * server holds and has not removed is Released: the next revision of a released record,
     * after any revisions made and removed since (tombstones: their numbers are never used
     * again, so a node revises past them, database-layout.md §5). Looks at the id's stored
     * revisions only, however large {@code r} is.
     */
    private boolean nextOfReleased(Key<?> key) {
        if (key.revision() == 0) return false;
        byte[] at = Bytes.recordKey(key);
        int idPrefix = at.length - 4; // tree, 0x00, id
        try (Cursor c = txn().cursor(RECORDS)) {
            for (boolean ok = c.seek(at) ? c.prev() : c.last(); ok; ok = c.prev()) {
                byte[] k = Bytes.copy(c.key());
                if (k.length != at.length || !Arrays.equals(k, 0, idPrefix, at, 0, idPrefix)) return false;
                Message.Pushed below = stored(txn(), Bytes.recordKeyOf(k));
                if (!below.removed()) return Bytes.released(below.value());
            }
        }
        return false;
    }

    /** The client whose CREATED of revision {@code key} (above 0) this server took, or null when not recorded. */
    private UUID revisionCreator(Key<?> key) {
        MemorySegment v = txn().get(REVISIONS, Bytes.recordKey(key));
        return v == null ? null : Bytes.uuidAt(v, 0);
    }

    /**
     * True when {@code client} created the stored record {@code key}: as recorded for a revision
     * above 0, else (revision 0, or a revision stored before the record was kept) when the id lies
     * in a range issued to it.
     */
    private boolean createdBy(Key<?> key, UUID client) {
        UUID creator = key.revision() > 0 ? revisionCreator(key) : null;
        return creator != null ? creator.equals(client) : ranges.owns(key.tree(), key.id(), client);
    }

    private void onNeedKeys(Peer p, String tree) {
        int from = ranges.next(tree);
        long to = Math.min((long) from + rangeIds, Integer.MAX_VALUE);
        if (to <= from) {
            fail(p, ErrorCode.PROTOCOL, "tree " + tree + " has no ids left to issue");
            return;
        }
        ranges.issue(tree, from, (int) to, p.clientId);
        send(p, new Message.Keys(tree, from, (int) to));
    }

    private void onCheckOut(Peer p, Key<?> key) {
        Message.Pushed current = stored(txn(), key);
        if (current.serverSeq() > 0 && current.removed()) {
            // Removed: nobody gets it. A client that has not been sent the removal yet (catching
            // up) gets it now, so that it drops the record and its check-out request fails.
            if (p.state == Peer.State.CATCHING_UP && current.serverSeq() > p.cursor) sendRecord(p, current);
            send(p, checkOuts.free(key));
            return;
        }
        if (current.serverSeq() == 0 && !ranges.issued(key.tree(), key.id())) {
            // No node can hold a record with that id: a well-behaved node asks only for records it
            // holds, stored or on their way (their id lies in an issued range). Stored, the hold
            // would be pushed to every node and kept in each for good.
            send(p, checkOuts.free(key));
            return;
        }
        broadcastBorrow(checkOuts.take(key, p.clientId));
    }

    private void onCheckIn(Peer p, Key<?> key) {
        Message.Borrow b = checkOuts.giveUp(key, p.clientId);
        if (b == null) {
            send(p, checkOuts.free(key));
        } else {
            broadcastBorrow(b);
        }
    }

    /**
     * Takes the check-out of {@code key} from its holder and hands it to the next in line (or
     * frees it). Returns false when nobody held it.
     */
    public boolean breakCheckOut(Key<?> key) {
        Message.Borrow b = checkOuts.breakHolder(key);
        if (b == null) return false;
        broadcastBorrow(b);
        return true;
    }

    /**
     * What {@link #releaseNode} did: the records the node held (now broken), those it waited for,
     * and whether its connection was closed (it was connected).
     */
    public record Released(List<Key<?>> held, List<Key<?>> waited, boolean disconnected) { }

    /** The text of {@link ErrorCode#NODE_RELEASED}. */
    static final String RELEASED_TEXT = "the server's operator released this node (release NODE, for a node that will"
        + " not come back): every check-out it held was broken and it left every queue. It connects again and asks"
        + " again, at the end of each queue, for the check-outs its application still waits for";

    /**
     * Administrator: frees what a node that will not come back (machine retired, folder lost)
     * holds up: it leaves every queue it waits in, then each check-out it holds is broken as by
     * {@link #breakCheckOut} (handed to the next in line, or freed; the node is told if it ever
     * connects again). Every connected client of each record's tree is sent the Borrow. A node
     * that is connected after all is then sent {@link ErrorCode#NODE_RELEASED} and closed: a
     * check-out it waits for would otherwise wait for ever, out of the queue it still believes
     * it is in (no Borrow tells a node it was taken out of a queue); it reconnects and asks again.
     */
    public Released releaseNode(UUID client) {
        List<Key<?>> waited = new ArrayList<>();
        for (Message.Borrow b : checkOuts.leaveEveryQueue(client)) {
            waited.add(b.key());
            broadcastBorrow(b);
        }
        List<Key<?>> held = checkOuts.heldBy(client);
        for (Key<?> k : held) breakCheckOut(k);
        boolean disconnected = false;
        for (Peer p : peers) {
            if (p.greeted() && !p.failing && p.clientId.equals(client)) {
                fail(p, ErrorCode.NODE_RELEASED, RELEASED_TEXT, "");
                disconnected = true;
            }
        }
        // Up to a window of rows, kept for ever otherwise. Not of a node that is connected: it
        // comes back at once, and sends again the changes whose Acks the close cut off, which
        // must be known as taken (else refused, with a false "enter its data again"; probe 115).
        if (!disconnected) taken.forget(client);
        return new Released(List.copyOf(held), List.copyOf(waited), disconnected);
    }

    /** Sends {@code m}, a record's new check-out state, to every client of its tree. */
    private void broadcastBorrow(Message.Borrow m) {
        Key<?> key = m.key();
        for (Peer p : peers) {
            if (p.state == Peer.State.HELLO || !p.wants(key.tree())) continue;
            if (p.clientId.equals(m.holder())) sendLatestToHolder(p, key);
            send(p, m);
        }
    }

    private void sendSchema(Peer p, String tree, long fingerprint) {
        if (p.schemasSent.add(new SchemaRef(tree, fingerprint))) send(p, schemaDef(txn(), tree, fingerprint));
    }

    /** The stored definition of a schema of {@code tree}; every stored record's schema is there. */
    private Message.SchemaDef schemaDef(ReadTxn r, String tree, long fingerprint) {
        MemorySegment s = r.get(SCHEMAS, Bytes.schemaKey(tree, fingerprint));
        if (s == null) {
            throw new CorruptionException("server: schema " + Long.toHexString(fingerprint) + " of tree "
                + tree + " is missing in " + store.directory());
        }
        return new Message.SchemaDef(tree, trees.getOrDefault(tree, false), fingerprint, Bytes.copy(s));
    }

    private void sendRecord(Peer p, Message.Pushed r) {
        if (!r.removed()) sendSchema(p, r.key().tree(), r.fingerprint());
        send(p, r);
    }

    /** The server's state of {@code key}: present, a tombstone, or never stored (seq 0). */
    private static Message.Pushed stored(ReadTxn r, Key<?> key) {
        return stored(key, r.get(RECORDS, Bytes.recordKey(key)));
    }

    /**
     * The record {@code key} whose stored value is {@code v} (null: never stored). Its data is
     * copied once: a record near 16 MiB copied whole and then again without its head took the
     * heap of a -Xmx64m server that held another in a queue (probe 122).
     */
    private static Message.Pushed stored(Key<?> key, MemorySegment v) {
        if (v == null) return new Message.Pushed(0, key, 0, new byte[0]);
        long data = dataBytes(key, v);
        long s = v.get(BIG_ENDIAN_LONG, 0);
        long fp = v.get(BIG_ENDIAN_LONG, 8);
        return new Message.Pushed(s, key, fp, v.asSlice(Bytes.STORED_PREFIX_BYTES, data).toArray(ValueLayout.JAVA_BYTE));
    }

    /**
     * The server's state of {@code c}'s record without its record data, and whether its data is
     * {@code c}'s, compared in place: the checks copy out only the record header.
     */
    private StoredHead storedHead(Message.Change c) {
        Key<?> key = c.key();
        MemorySegment v = txn().get(RECORDS, Bytes.recordKey(key));
        if (v == null) return StoredHead.NEVER;
        int valueBytes = Math.toIntExact(dataBytes(key, v));
        int headBytes = Math.min(valueBytes, ChangeChecks.RECORD_HEADER_BYTES);
        long fingerprint = v.get(BIG_ENDIAN_LONG, 8);
        boolean sent = c.kind() != Message.Kind.REMOVED && valueBytes > 0 && fingerprint == c.fingerprint()
            && valueBytes == c.value().length
            && MemorySegment.mismatch(v, Bytes.STORED_PREFIX_BYTES, v.byteSize(), MemorySegment.ofArray(c.value()), 0, valueBytes) == -1;
        return new StoredHead(v.get(BIG_ENDIAN_LONG, 0), fingerprint,
            v.asSlice(Bytes.STORED_PREFIX_BYTES, headBytes).toArray(ValueLayout.JAVA_BYTE), valueBytes, sent);
    }

    /** The bytes of record {@code key}'s data in its stored value {@code v}: 0 for a tombstone. */
    private static long dataBytes(Key<?> key, MemorySegment v) {
        if (v.byteSize() < Bytes.STORED_PREFIX_BYTES) {
            throw new CorruptionException("server record " + key + ": " + v.byteSize() + " bytes (expected: at least "
                + Bytes.STORED_PREFIX_BYTES + ", its sequence and schema fingerprint)");
        }
        return v.byteSize() - Bytes.STORED_PREFIX_BYTES;
    }

    /**
     * Paces catch-up by what the connections' queues hold together ({@code queued}, read on the
     * loop thread) against the transport's server-wide limit {@code max} (sync-protocol.md §4.2
     * step 2): see {@link #queuedBytesMax}.
     */
    public void limitCatchUp(java.util.function.LongSupplier queued, long max) {
        this.queuedBytes = java.util.Objects.requireNonNull(queued, "queued");
        this.queuedBytesMax = max;
    }

    /**
     * Since when (nanoTime) a catch-up has waited for room in the queues: the rounds since then
     * sent no catch-up batch because the queues held more than {@link #catchUpRoom}. 0 while no
     * catch-up waits so (none waits, or a batch went in the last round).
     */
    public long catchUpWaitingSince() {
        return catchUpWait == null ? 0 : catchUpWait.sinceNanos();
    }

    /**
     * The most bytes the queues may hold for the catch-up that waits ({@link #catchUpWaiter}) to
     * send: the limit less the bytes of its next record, or of a batch ({@link #PUMP_BELOW_BYTES}),
     * whichever is more; one goes anyway when the queues hold nothing.
     */
    public long catchUpRoom() {
        return Math.max(0, queuedBytesMax - (catchUpWait == null ? 0 : catchUpWait.needs()));
    }

    /** The connection of the catch-up that waits for room; null while none waits. */
    public Outbound catchUpWaiter() {
        return catchUpWait == null ? null : catchUpWait.peer().out;
    }

    /**
     * Ends a round: commits its store writes, then releases its replies and pushes, then feeds
     * peers that are catching up. Returns true when a catching-up peer still has more to read.
     */
    public boolean endRound() {
        if (txn != null) {
            try {
                txn.commit();
            } finally {
                txn.close();
                txn = null;
            }
        }
        List<Runnable> actions = new ArrayList<>(afterCommit);
        afterCommit.clear();
        for (Runnable r : actions) r.run();
        boolean more = false;
        List<Peer> all = List.copyOf(peers);
        // From another peer each round, so that under the budget no catch-up waits behind the others for long.
        int from = all.isEmpty() ? 0 : Math.floorMod(pumpFrom++, all.size());
        boolean pumped = false;
        CatchUpWait wait = null;
        for (int i = 0; i < all.size(); i++) {
            Peer p = all.get((from + i) % all.size());
            if (p.state != Peer.State.CATCHING_UP || p.out.pendingBytes() >= PUMP_BELOW_BYTES) continue;
            // The queues of all connections together: catch-ups go on as they drain, not in one
            // go. A batch takes up to PUMP_BELOW_BYTES and fits the room left (a frame counts in
            // full until its last byte is written); one always goes when nothing is queued. The
            // round's first may use the whole limit, so that a slow client holding half of it in
            // live pushes slows catch-ups down but does not stop them.
            long queued = queuedBytes.getAsLong();
            long room = queued == 0 ? Long.MAX_VALUE : (pumped ? queuedBytesMax / 2 : queuedBytesMax) - queued;
            long needs = room < PUMP_BELOW_BYTES ? PUMP_BELOW_BYTES : pump(p, room);
            if (needs > 0) {
                if (!pumped) wait = new CatchUpWait(p, needs, catchUpWait == null ? System.nanoTime() : catchUpWait.sinceNanos());
                break;
            }
            more |= needs == 0;
            pumped = true;
        }
        catchUpWait = wait;
        if (txn != null) return endRound() || more;
        List<Runnable> rest = new ArrayList<>(afterCommit);
        afterCommit.clear();
        for (Runnable r : rest) r.run();
        return more;
    }

    /**
     * Sends the next log records after {@code p.cursor}, at most {@link #PUMP_RECORDS} and about
     * {@link #PUMP_BELOW_BYTES} of values (at least one record), of at most {@link
     * #PUMP_LOOKS_MAX} log entries, less the tombstones a fresh node skips ({@link
     * Peer#removedSkippedThrough}); CaughtUp when none are left.
     * On a version 6 connection a batch that leaves records to send is followed by {@code
     * CaughtUpTo(cursor, seq)}, and one of more than {@link #MARK_BYTES} of values carries one
     * after each such stretch too, at the log place of its last record: the log holds each record once, under its latest change, so every
     * record of the client's trees at or below the cursor has gone out in this catch-up, in its
     * state as of {@code seq} (a later change moves a record above the cursor, where the pump
     * still comes). The node resumes after it if the connection ends before CaughtUp
     * (sync-protocol.md §4.2 step 2). Every batch: it costs 21 bytes, and the node stores it in
     * the local transaction that applies the batch's records anyway.
     *
     * <p>The batch adds at most {@code room} bytes to the queues: a record that would take it
     * past them waits, with its place in the log, for the next batch. Before, the pump refilled a
     * connection whose queue fell under {@link #PUMP_BELOW_BYTES} while the frame being written
     * still counted in full, and two records of 12 MB took a 64 MiB server's queues (16 MiB) over
     * the limit: the client was closed (TOO_SLOW) inside the first and started it again on every
     * connection, for ever (probe 118).
     *
     * @return -1 when the client is caught up (CaughtUp sent), 0 when a batch went and records
     *     are left, else the bytes the next record needs in the queues (nothing was sent)
     */
    private long pump(Peer p, long room) {
        List<Message.Pushed> batch = new ArrayList<>();
        List<Message.SchemaDef> schemas = new ArrayList<>(); // the SchemaDef due before each record, or null
        java.util.Set<SchemaRef> due = new java.util.HashSet<>();
        long[] logSeqs = new long[PUMP_RECORDS]; // the log place of each record of the batch
        long bytes = p.out.pendingBytes();
        long queues = BATCH_OVERHEAD_BYTES; // what the batch will add to the queues
        boolean exhausted;
        try (ReadTxn r = store.beginRead(); Cursor c = r.cursor(LOG)) {
            boolean ok = c.seek(Bytes.longBytes(p.cursor + 1));
            for (int looked = 0; ok && looked < PUMP_LOOKS_MAX && batch.size() < PUMP_RECORDS
                    && (batch.isEmpty() || bytes < PUMP_BELOW_BYTES); ok = c.next(), looked++) {
                long s = c.key().get(BIG_ENDIAN_LONG, 0);
                Key<?> key = Bytes.recordKeyOf(Bytes.copy(c.value()));
                boolean wanted = p.wants(key.tree());
                MemorySegment v = wanted ? r.get(RECORDS, c.value()) : null;
                if (wanted && v == null) {
                    throw new CorruptionException("server log entry " + s + " names record " + key + ", which is not stored");
                }
                long dataBytes = wanted ? dataBytes(key, v) : 0;
                if (wanted && dataBytes == 0 && s <= p.removedSkippedThrough && Boolean.FALSE.equals(trees.get(key.tree()))) {
                    wanted = false; // removed before this node first linked: it never held the record
                }
                if (wanted) {
                    // Sized before it is copied: a record that waits for room is read again by the next batch.
                    SchemaRef ref = dataBytes == 0 ? null : new SchemaRef(key.tree(), v.get(BIG_ENDIAN_LONG, 8));
                    Message.SchemaDef schema = ref != null && !p.schemasSent.contains(ref) && due.add(ref)
                        ? schemaDef(r, key.tree(), ref.fingerprint()) : null;
                    long frames = dataBytes + PUSHED_OVERHEAD_BYTES + (schema == null ? 0 : schema.schema().length + PUSHED_OVERHEAD_BYTES);
                    if (queues + frames > room) { // the record waits for room, its place in the log with it
                        if (batch.isEmpty()) return queues + frames;
                        break;
                    }
                    Message.Pushed m = stored(key, v);
                    queues += frames;
                    logSeqs[batch.size()] = s;
                    batch.add(m);
                    schemas.add(schema);
                    bytes += m.value().length;
                }
                p.cursor = s;
            }
            exhausted = !ok;
            long sinceMark = 0;
            for (int i = 0; i < batch.size(); i++) {
                Message.Pushed m = batch.get(i);
                if (schemas.get(i) != null) {
                    p.schemasSent.add(SchemaRef.of(m));
                    p.out.send(schemas.get(i));
                }
                p.out.send(m);
                p.caughtUpRecords++;
                sinceMark += m.value().length;
                // Every record of the client's trees up to this one's place in the log has gone out.
                if (p.version >= 6 && sinceMark >= MARK_BYTES && i < batch.size() - 1) {
                    p.out.send(new Message.CaughtUpTo(logSeqs[i], seq));
                    sinceMark = 0;
                }
            }
        }
        if (exhausted || p.cursor >= seq) {
            p.cursor = seq;
            p.state = Peer.State.LIVE;
            p.out.send(new Message.CaughtUp(seq));
            journal(p.introduced + " caught up: " + p.caughtUpRecords + " records to sequence " + seq + " in "
                + (System.currentTimeMillis() - p.linkedAtMillis) + " ms");
            return -1;
        }
        if (p.version >= 6) p.out.send(new Message.CaughtUpTo(p.cursor, seq));
        return 0;
    }

    /** Counts of what the server holds, for tests and tools. */
    public long recordCount() {
        try (ReadTxn r = store.beginRead()) {
            return r.count(RECORDS);
        }
    }

    /**
     * A consistent, verified copy of the server's database into {@code target}
     * ({@link Store#backup}). The one method called off the loop thread: it touches only the
     * store, which is thread-safe, so the loop serves and commits meanwhile.
     */
    public void backup(Path target) {
        store.backup(target);
    }

    public Path directory() {
        return store.directory();
    }

    @Override
    public void close() {
        if (txn != null) {
            txn.close();
            txn = null;
        }
        store.close();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
