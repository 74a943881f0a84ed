package dev.cairn;

import dev.cairn.db.Database;
import dev.cairn.db.GenericTreeImpl;
import dev.cairn.db.TreeImpl;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Flow;
import java.util.function.Consumer;

/**
 * An embedded Cairn database: one folder, many trees of records, each record with metadata,
 * optional revisions, check-outs, indexes and change events (SPEC §3; the stored layout is
 * spec/database-layout.md). Standalone until connected to a server.
 *
 * {@snippet :
 * try (Cairn db = Cairn.open(Path.of("inventory"))) {
 *     Tree<Part> parts = db.tree(Part.class);
 *     Key<Part> k = parts.insert(new Part("R-10K", 100));
 *     parts.checkOut(k).join();
 *     parts.update(k, new Part("R-10K", 99));
 *     parts.checkIn(k);
 * }
 * }
 *
 * <p>Thread-safe. Reads never wait for writes; writes are serialised, and each is durable when
 * it returns. After {@link #close()} every method of the database and of its trees throws
 * {@link IllegalStateException}.
 */
public final class Cairn implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Cairn.class.getName());

    private final Database db;
    private final Options options;
    private final ConcurrentHashMap<Class<?>, TreeImpl<?>> trees = new ConcurrentHashMap<>();
    private volatile dev.cairn.sync.net.SyncClient client;

    /**
     * How this database presents itself.
     *
     * @param nodeName          a readable name of this node (shown to other nodes holding check-outs); not blank
     * @param user              written as {@link RecordMeta#modifiedBy()} of every change
     * @param appId             the application id a server checks on connect; not blank
     *                          (the three: at most 255 bytes of UTF-8 each)
     * @param eventBufferEvents events buffered per subscriber before it overflows (see {@link #events()})
     * @param idReserve         ids per tree a node linked to a server keeps in hand, so that it can
     *                          insert that many records while offline: while connected it asks the
     *                          server for more whenever it holds fewer (1 to 10,000,000)
     */
    public record Options(String nodeName, String user, String appId, int eventBufferEvents, int idReserve) {
        public Options {
            Objects.requireNonNull(nodeName, "nodeName");
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(appId, "appId");
            // Blank, other nodes would see a holder named "" and a console could not name it (release NODE).
            if (nodeName.isBlank()) throw new IllegalArgumentException("nodeName is blank (expected: a readable name of this node)");
            if (appId.isBlank()) throw new IllegalArgumentException("appId is blank (expected: the application's id, as its server has it)");
            checkNameBytes("nodeName", nodeName, "");
            checkNameBytes("user", user, "");
            checkNameBytes("appId", appId, "");
            if (eventBufferEvents < 1) {
                throw new IllegalArgumentException("eventBufferEvents " + eventBufferEvents + " (expected: >= 1)");
            }
            if (idReserve < 1 || idReserve > Database.ID_RESERVE_MAX) {
                throw new IllegalArgumentException("idReserve " + idReserve + " (expected: 1 to " + Database.ID_RESERVE_MAX + ")");
            }
        }

        /**
         * Names are written into records and messages (Limits.NAME_BYTES_MAX): a longer one is
         * refused, by these options and by a server for its app id; {@code why} ends the message.
         */
        static void checkNameBytes(String what, String name, String why) {
            int bytes = name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            if (bytes > dev.cairn.internal.Limits.NAME_BYTES_MAX) {
                throw new IllegalArgumentException(what + " of " + bytes + " bytes of UTF-8 (expected: at most "
                    + dev.cairn.internal.Limits.NAME_BYTES_MAX + why + ")");
            }
        }

        /**
         * nodeName = host name, user = {@code user.name}, appId = "default", 65,536 buffered events,
         * 1,000 ids in reserve.
         */
        public static Options defaults() {
            String host;
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (UnknownHostException e) {
                host = "localhost";
            }
            return new Options(host, System.getProperty("user.name", "unknown"), "default", 65_536,
                Database.ID_RESERVE_DEFAULT);
        }

        public Options withNodeName(String n) {
            return new Options(n, user, appId, eventBufferEvents, idReserve);
        }

        public Options withUser(String u) {
            return new Options(nodeName, u, appId, eventBufferEvents, idReserve);
        }

        public Options withAppId(String a) {
            return new Options(nodeName, user, a, eventBufferEvents, idReserve);
        }

        public Options withEventBufferEvents(int n) {
            return new Options(nodeName, user, appId, n, idReserve);
        }

        public Options withIdReserve(int ids) {
            return new Options(nodeName, user, appId, eventBufferEvents, ids);
        }
    }

    private Cairn(Database db, Options options) {
        this.db = db;
        this.options = options;
        if (dev.cairn.db.SyncReplica.linked(db)) dev.cairn.db.SyncReplica.install(db);
    }

    /** Opens or creates the database in {@code dir} with {@link Options#defaults()}. */
    public static Cairn open(Path dir) {
        return open(dir, Options.defaults());
    }

    /** @throws DatabaseLockedException naming the folder if another process or handle holds it */
    public static Cairn open(Path dir, Options options) {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(options, "options");
        return new Cairn(Database.open(dir, options.nodeName(), options.user(), options.appId(),
            options.eventBufferEvents(), options.idReserve()), options);
    }

    /** This node's UUID, created with the database and stable across reopen. */
    public UUID nodeId() {
        return db.nodeId();
    }

    public Options options() {
        return options;
    }

    public Path directory() {
        return db.directory();
    }

    /**
     * Opens or creates the tree of {@code type} and returns the same {@code Tree} for the same
     * class. The tree name is {@code @TreeSpec(name)} or the simple class name.
     *
     * @throws SchemaMismatchException naming the tree, component and versions if the class's
     *         schema is incompatible with the stored versions, or its versioning flag differs;
     *         naming the class and component if a component's type is unsupported
     * @throws IllegalArgumentException if {@code type} is not a record class
     * @throws IllegalStateException naming the tree if called inside {@link #write(Runnable)}
     *         for a tree that does not exist yet or needs a new schema version
     */
    public <V extends Record> Tree<V> tree(Class<V> type) {
        return tree(type, null);
    }

    /**
     * As {@link #tree(Class)}, but a schema change the evolution rules refuse is accepted by
     * running {@code migration} over every record of the tree, in one durable transaction
     * together with storing the new schema version (a crash leaves the tree unmigrated, and the
     * next open runs it again). Records of every state, released ones included, are rewritten;
     * each counts as a data change. {@code migration} may be null.
     */
    @SuppressWarnings("unchecked")
    public <V extends Record> Tree<V> tree(Class<V> type, Migration<V> migration) {
        Objects.requireNonNull(type, "type");
        db.checkOpen();
        TreeImpl<?> existing = trees.get(type);
        if (existing != null) return (Tree<V>) existing;
        // No lock held while opening: a thread inside a write batch may open trees too. Two
        // threads racing here both open (idempotent: the second finds the schema stored); the
        // first one published wins.
        TreeImpl<V> opened = TreeImpl.open(db, type, migration);
        // Opened inside a write batch, the class joins the tree (its readers, the current schema)
        // only if the batch commits: cached before, a rolled-back batch would leave a Tree whose
        // class the database no longer counts (found by helper-33).
        db.afterCommitOrNow(() -> trees.putIfAbsent(type, opened));
        existing = trees.get(type);
        return existing != null ? (Tree<V>) existing : opened;
    }

    /** The names of every tree of the database, sorted. */
    public Set<String> treeNames() {
        return db.treeNames();
    }

    /** @throws IllegalArgumentException naming the tree if there is no such tree */
    public GenericTree genericTree(String treeName) {
        return GenericTreeImpl.open(db, treeName);
    }

    /**
     * Runs {@code batch} as one durable transaction: every tree operation inside it commits
     * together when it returns, or not at all if it throws. An operation that fails inside it
     * without having changed anything (a duplicate name, a record too large, no check-out) may be
     * caught there and the batch goes on; one that fails after changing part of the batch (an
     * {@code insertAll} refused at its second record, a second index refusing) breaks it: later
     * operations and the end of {@code write} throw {@link CairnException}, and nothing of the
     * batch is stored. Events and index changes are
     * published after the commit. Nested calls join the outer batch. On a linked node the ids
     * of the records a batch inserts come from the node's pool alone (the server's ranges are
     * stored between transactions, not during one): a batch that inserts more records into a
     * tree than the pool holds fails at once with {@link IllegalStateException}, while {@code
     * insertAll} outside a batch waits for ranges. A batch is atomic on this node and, with sync
     * protocol 7 or later (server and nodes), on the other nodes that are connected and caught up: they
     * apply its records in one transaction. Other nodes receive its records in parts, and a
     * reader there may see part of it for a moment, when they get it through a catch-up, when the
     * batch, or the batches that must travel with it (later batches that rewrote its records
     * before they were sent), exceed the send window (4,096 records with protocol 8, 256 with
     * protocol 7 at either end, or 4 MiB of values), when the server
     * refuses one of its changes (the rest is taken), or over protocol 6 or older
     * (spec/database-layout.md §7).
     * {@snippet :
     * db.write(() -> { for (Part p : parts) tree.insert(p); });
     * }
     */
    public void write(Runnable batch) {
        Objects.requireNonNull(batch, "batch");
        db.write(batch);
    }

    /**
     * Writes a consistent copy of this database, as of the last commit, into the folder
     * {@code target} while the application goes on reading and writing (the copy pins that
     * snapshot; writers are held up only while a logged commit is checkpointed first). The copy
     * is built in {@code target/backup.partial}, opened and verified there, and moved into
     * {@code target} only then, so a backup that fails or is killed leaves no folder that could
     * pass for one. Unlike {@code cairn backup} of a folder another process holds, it never fails
     * because writers keep committing. The copy holds the note {@code backup-of.txt}
     * (storage-format.md §8.1). A node's folder restored from it is taken by its server for the
     * node only if the node made no new link after the backup, and refused for good otherwise
     * ({@code NODE_COPY}): README, "Restoring a node from a backup". A {@link #close}
     * meanwhile waits for it to finish.
     *
     * @param target a folder that does not hold a database (it is created if missing), not
     *     inside this database's folder
     * @throws IllegalArgumentException a target that holds a database or a {@code backup.partial}
     *     folder, lies inside this database's folder, or is a file
     * @throws CorruptionException the copy does not verify: this database is damaged (the problems
     *     are in the message; nothing is left in {@code target})
     * @throws CairnException the copy could not be written (a full disk: its reason, and what was removed)
     * @throws IllegalStateException inside {@link #write}, or after {@link #close}
     */
    public void backup(Path target) {
        Objects.requireNonNull(target, "target");
        db.backup(target);
    }

    /**
     * Links this node to a sync server and replicates every tree; see
     * {@link #connect(String, int, Set)}.
     */
    public CompletableFuture<Void> connect(String host, int port) {
        return connect(host, port, Set.of());
    }

    /**
     * Links this node to the sync server at {@code host:port} (spec/sync-protocol.md). The
     * future completes once linked, caught up with the server, with this node's pending
     * changes of the replicated trees acknowledged, and with the ids it keeps in hand for each
     * of its replicated trees ({@code Options.idReserve}), so it can create records even if
     * the connection drops right after. It fails with {@link WrongServerException}
     * (nothing changed) when this database is linked to another server, whatever either has
     * synced (a server older than protocol version 4 cannot tell before its own checks, and may
     * refuse such a node as {@code SERVER_BEHIND} instead); the link then keeps trying every 5 s,
     * so that it syncs once its own server answers at the address again (spec/sync-protocol.md
     * §4.1), and with a
     * {@code SyncException} naming the cause when the server refuses it for good (other
     * application id, ...). A database that never linked also fails at once when the first
     * attempt fails (unknown host, unreachable).
     * A linked database, one that linked in this or any earlier run, keeps working offline and
     * keeps trying with backoff until {@link #disconnect()}: its future completes when the
     * server is back (use a timeout and {@link #isConnected()} to show the state meanwhile).
     * Stages added to the future before it completes ({@code thenApply}, {@code whenComplete},
     * ...) run on a virtual thread of their own, never on the link's thread: they may write, and
     * wait for what the link delivers (a {@code checkOut(k).join()}); added once it is complete,
     * at once on the caller's thread, as any {@code CompletableFuture}'s.
     *
     * <p>{@code trees}: the trees to replicate (empty = all). Changing the set later is allowed:
     * a connection that adds a tree the last caught-up connection did not replicate catches up
     * all its trees from the start, so nothing changed meanwhile is missed (sync-protocol.md §5.6).
     * This node's changes in a tree left out stay pending, and go out
     * on the next connection that replicates that tree (sync-protocol.md §5.6). A never-linked
     * database links with its records: the ids it used are claimed on the server, which
     * refuses the link when another client already has ids of that tree (sync-protocol.md
     * §5.2). Once linked, a database takes ids only from server ranges, and checkOut goes
     * through the server (also while offline: granted on reconnect).
     *
     * @throws IllegalArgumentException when {@code port} is not in 1..65535, or a name in
     *     {@code trees} is not a tree name (blank, NUL, an unpaired surrogate, too long)
     */
    public synchronized CompletableFuture<Void> connect(String host, int port, Set<String> trees) {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(trees, "trees");
        if (port < 1 || port > 65535) throw new IllegalArgumentException("port " + port + " (expected: 1..65535)");
        for (String tree : trees) {
            // Every node and the server refuse such a name: sent in a Hello, it would be refused on every attempt.
            String problem = dev.cairn.internal.TreeNames.problem(tree);
            if (problem != null) throw new IllegalArgumentException("connect with trees " + trees + ": " + problem);
        }
        db.checkOpen();
        if (client != null) client.close();
        dev.cairn.db.SyncReplica replica = dev.cairn.db.SyncReplica.install(db);
        client = new dev.cairn.sync.net.SyncClient(replica, host, port, trees);
        replica.client(client);
        return client.start();
    }

    /**
     * Ends the link to the server (the database stays linked: it reconnects on the next connect).
     * After {@link #close} it does nothing, as close itself (which ended the link) does again.
     */
    public synchronized void disconnect() {
        if (db.isClosed()) return;
        closeClient();
    }

    private void closeClient() {
        closeClient(null);
    }

    /** Stops the link; a {@link #connect} future still waiting fails with {@code pending} (null: "disconnected"). */
    private void closeClient(RuntimeException pending) {
        if (client == null) return;
        if (pending == null) client.close();
        else client.close(pending);
        dev.cairn.db.SyncReplica.install(db).client(null);
        client = null;
    }

    /**
     * True while a connection to the server is up and past the handshake; false after
     * {@link #close} (which ends the link), so a status poll needs no check of its own.
     */
    public boolean isConnected() {
        if (db.isClosed()) return false;
        dev.cairn.sync.net.SyncClient c = client;
        return c != null && c.isConnected();
    }

    /** The link of the last {@link #connect} (counters for tests and tools), or null. */
    public dev.cairn.sync.net.SyncClient syncClient() {
        return client;
    }

    /**
     * Every event, after its commit, in commit order. Each subscriber has a buffer of
     * {@link Options#eventBufferEvents()} events and its own delivery thread, so a slow one never
     * blocks writers or other subscribers. When an event finds a subscriber's buffer full, that
     * subscription ends: its backlog is dropped and it receives
     * {@code onError(EventsLostException)} with the number of events lost. Closing the database
     * completes every subscription after the events it still buffers: {@link #close} does not
     * wait for them, so they may arrive after it returned, when a read of the database throws
     * {@link IllegalStateException} ("is closed"). A subscriber whose {@code onNext} throws broke the Flow rules
     * (Reactive Streams §2.13): its subscription is cancelled, the exception logged, and no
     * {@code onError} follows. (A {@link #subscribe(Consumer)} listener that throws is logged and
     * keeps its subscription.)
     */
    public Flow.Publisher<Event> events() {
        return db.events();
    }

    /**
     * Calls {@code listener} with every event (as {@link #events()}); on overflow the listener
     * is unsubscribed and a warning naming the lost count is logged. {@code close()}
     * unsubscribes. Events of commits before the database's {@link #close} still reach the
     * listener after it returned (without an end signal: use {@link #events()} for
     * {@code onComplete}); a read there then throws {@link IllegalStateException} ("is closed").
     */
    public AutoCloseable subscribe(Consumer<Event> listener) {
        return subscribe(listener, lost -> LOG.log(System.Logger.Level.WARNING,
            "event listener unsubscribed: " + lost.getMessage()));
    }

    /** As {@link #subscribe(Consumer)}, with {@code onLost} receiving the overflow signal. */
    public AutoCloseable subscribe(Consumer<Event> listener, Consumer<EventsLostException> onLost) {
        return db.events().subscribe(listener, onLost);
    }

    /**
     * Closes the database; idempotent. Waits for a running write, and, asleep, up to 10 s for
     * reads running on other threads (a {@code get}, a forEach, scan or read callback); a read
     * still running then fails with {@link IllegalStateException} naming the database and saying
     * it was closed while the read ran. What still waits for the server fails with {@link IllegalStateException} saying
     * the database was closed: the future of a {@link #connect} not yet completed and of every
     * {@link Tree#checkOut} not yet granted (a thread joined on one returns). Connected, the node
     * first leaves the server's queue of each such check-out, so the record passes to the next in
     * line instead of to this node, and lets every {@link Tree#checkIn} and every change made
     * before reach the server, waiting at most {@value #CHECK_INS_MILLIS} ms for the server's
     * answers (what is not acknowledged by then goes at the next connection). Offline, a
     * request stays queued on the server (see {@link Tree#checkOut} for what the next run of this
     * node does with it), and a check-in goes out at the next connection. It does not wait for
     * event subscribers: the events they still buffer reach them afterwards ({@link #events()}).
     * @throws IllegalStateException called inside {@link #write} or inside a forEach, scan or
     *     read callback of this database (close after it returns); nothing is closed then
     */
    @Override
    public void close() {
        db.checkClosable();
        synchronized (this) {
            if (client != null && !db.isClosed()) client.finishCheckIns(CHECK_INS_MILLIS);
            closeClient(new IllegalStateException("the database " + db.directory()
                + " was closed before the link to the server completed"));
        }
        db.close();
    }

    /** How long a close while connected waits for the server's answers to this node's check-ins and changes. */
    public static final long CHECK_INS_MILLIS = 2_000;

    @Override
    public String toString() {
        return "Cairn[" + db.directory() + (db.isClosed() ? ", closed]" : "]");
    }
}
