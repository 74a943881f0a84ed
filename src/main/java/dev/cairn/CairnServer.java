package dev.cairn;

import dev.cairn.internal.Limits;
import dev.cairn.sync.ServerCore;
import dev.cairn.sync.net.SelectorLoop;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The sync server (SPEC §4, spec/sync-protocol.md), embeddable: it keeps its own database in
 * one folder (records as bytes with their schemas; it needs no application classes) and serves
 * any number of clients over one non-blocking Selector thread.
 *
 * {@snippet :
 * try (CairnServer server = CairnServer.start(Path.of("server-data"), 7070, "inventory")) {
 *     try (Cairn db = Cairn.open(Path.of("client"), Cairn.Options.defaults().withAppId("inventory"))) {
 *         db.connect("127.0.0.1", server.port()).join();
 *     }
 * }
 * }
 *
 * <p>The server's UUID is created with its database and never changes; its application id is
 * fixed at creation too (starting it later with another id is refused). Binds 127.0.0.1 unless
 * an address is given.
 */
public final class CairnServer implements AutoCloseable {
    /** Ids per range handed to a client (sync-protocol.md §5.2). */
    public static final int RANGE_IDS = 1000;

    /** A node as this server knows it: its id and the name of its last accepted Hello ("" if never heard). */
    public record Node(UUID id, String name) {
        public Node {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(name, "name");
        }
    }

    /**
     * A record checked out on this server: its holder, since when it holds it (null when unknown:
     * taken under a server version that did not record it), and the nodes waiting for it, first
     * in line first (sync-protocol.md §5.4).
     */
    public record CheckOut(Key<?> key, Node holder, Instant since, List<Node> queue) {
        public CheckOut {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(holder, "holder");
            queue = List.copyOf(queue);
        }
    }

    /**
     * A client connected and past its handshake: its node, where it connects from ("" when
     * unknown), whether it is live (caught up, sent every change as it is made) or still
     * catching up, and since when it is linked.
     */
    public record Client(Node node, String address, boolean live, Instant since) { }

    /**
     * What {@link #breakCheckOutWithResult} did: the check-out it broke (null when nobody held
     * the record: nothing changed) and the record's check-out after the break (null: free).
     */
    public record BreakResult(CheckOut before, CheckOut after) { }

    private final SelectorLoop loop;
    private final ServerCore core;
    private final UUID serverId;

    private CairnServer(SelectorLoop loop, ServerCore core) {
        this.loop = loop;
        this.core = core;
        this.serverId = core.serverId();
    }

    /** Starts a server for application id "default" on 127.0.0.1; port 0 = any free port. */
    public static CairnServer start(Path dir, int port) {
        return start(dir, port, "default");
    }

    /**
     * Starts a server for {@code appId} on 127.0.0.1; port 0 = any free port.
     *
     * @throws IllegalArgumentException if the database in {@code dir} belongs to another app id
     * @throws CairnException if the port cannot be bound
     */
    public static CairnServer start(Path dir, int port, String appId) {
        return start(dir, new InetSocketAddress("127.0.0.1", port), appId, RANGE_IDS, Limits.PENDING_BYTES_MAX);
    }

    /** As {@link #start(Path, int, String)} on {@code address}, with the id range size and queue limit given. */
    public static CairnServer start(Path dir, InetSocketAddress address, String appId, int rangeIds,
                                    long pendingBytesMax) {
        return start(dir, address, appId, rangeIds, pendingBytesMax, null);
    }

    /** As above, with {@code journal} (null: none) set before the server accepts its first connection. */
    private static CairnServer start(Path dir, InetSocketAddress address, String appId, int rangeIds,
                                     long pendingBytesMax, Consumer<String> journal) {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(appId, "appId");
        if (appId.isBlank()) throw new IllegalArgumentException("appId is blank (expected: the application's id, as its nodes have it)");
        Cairn.Options.checkNameBytes("appId", appId, ", as its nodes have it");
        if (rangeIds < 1) throw new IllegalArgumentException("rangeIds " + rangeIds + " (expected: >= 1)");
        if (address.isUnresolved()) {
            // Checked before the database is opened, which would create one in a new folder.
            throw new IllegalArgumentException("cannot resolve host '" + address.getHostString() + "'");
        }
        if (address.getPort() != 0) checkBindable(address);
        ServerCore core = ServerCore.open(dir, appId, rangeIds);
        if (journal != null) core.journal(journal);
        try {
            return new CairnServer(new SelectorLoop(core, address, pendingBytesMax), core);
        } catch (RuntimeException e) {
            core.close();
            throw e;
        }
    }

    /**
     * Binds and releases {@code address} before the database is opened, which would create one
     * in a new folder: a port in use must leave no empty server database behind. (The loop binds
     * it again; another process taking the port in between still gets the loop's error.)
     */
    private static void checkBindable(InetSocketAddress address) {
        try (java.nio.channels.ServerSocketChannel probe = java.nio.channels.ServerSocketChannel.open()) {
            probe.bind(address);
        } catch (java.io.IOException e) {
            throw new CairnException("sync server cannot listen on " + SelectorLoop.hostPort(address) + ": "
                + e.getMessage(), e);
        }
    }

    /**
     * The {@code server} command: starts on {@code host:port}, prints one line with the address
     * and server id (and, when {@code consoleHint}, that the console takes {@code help}), hands
     * the server to {@code whileServing} (the operator console) with an action that stops it as
     * SIGTERM does, and serves until it is stopped (Ctrl-C / SIGTERM or that action close it
     * cleanly) or its loop fails (then it throws). Every line it prints starts with its UTC time.
     */
    public static void runUntilShutdown(Path dir, String host, int port, String appId, PrintStream out,
                                        BiConsumer<CairnServer, Runnable> whileServing, boolean consoleHint) {
        // Journal lines from before the listening line (nodes retrying link at once) follow it.
        List<String> early = new ArrayList<>();
        AtomicBoolean listening = new AtomicBoolean();
        CairnServer server = start(dir, new InetSocketAddress(host, port), appId, RANGE_IDS, Limits.PENDING_BYTES_MAX, line -> {
            String stamped = stamped(line);
            synchronized (out) {
                if (!listening.get()) {
                    early.add(stamped);
                    return;
                }
                out.println(stamped);
                out.flush();
            }
        });
        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean stopping = new AtomicBoolean();
        Consumer<String> stop = why -> {
            if (stopping.compareAndSet(false, true)) {
                try {
                    stopOnShutdown(server, out, why);
                } finally {
                    stopped.countDown();
                }
            } else {
                // A stop is under way (SIGTERM after the stop command): the JVM halts when the
                // shutdown hook returns, so the hook waits for the database to be closed.
                awaitQuietly(stopped);
            }
        };
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop.accept("shutdown requested"), "cairn-server-shutdown"));
        // A loop that fails ends the command (and so the process) instead of leaving it running
        // deaf; a stop ends it once the database is closed and said so.
        server.loop.ended().whenComplete((done, failure) -> {
            if (!stopping.get()) stopped.countDown();
        });
        synchronized (out) {
            out.println(stamped("cairn server " + server.serverId() + " for app '" + appId + "' listening on " + host
                + ":" + server.port() + ", data in " + dir + (consoleHint ? " (type help for the console's commands)" : "")));
            early.forEach(out::println);
            listening.set(true);
            out.flush();
        }
        whileServing.accept(server, () -> stop.accept("stop command"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.close();
        }
        if (server.loop.ended().isCompletedExceptionally()) {
            Throwable cause = server.loop.ended().exceptionNow();
            throw new CairnException("the sync server stopped: " + cause, cause);
        }
    }

    /** {@code line} after the UTC time, as the server prints each of its lines. */
    private static String stamped(String line) {
        return Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS) + " " + line;
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(SHUTDOWN_WAIT_SECONDS + 5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** How long a shutdown (SIGTERM, Ctrl-C) waits for the loop to say goodbye to clients and close the database. */
    static final long SHUTDOWN_WAIT_SECONDS = 30;

    /**
     * What the {@code server} command does when the JVM shuts down (SIGTERM, Ctrl-C) or the
     * operator types {@code stop}: says so and {@code why}, stops the loop, waits for it to close
     * the database, and says how that went. Silent when the loop had already ended (it failed,
     * and the command reports that).
     */
    static void stopOnShutdown(CairnServer server, PrintStream out, String why) {
        if (server.loop.ended().isDone()) return;
        out.println(stamped("cairn server stopping (" + why + "): closing connections and the database"));
        out.flush();
        server.close();
        try {
            server.loop.ended().get(SHUTDOWN_WAIT_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
            out.println(stamped("cairn server stopped; database closed cleanly"));
        } catch (java.util.concurrent.TimeoutException e) {
            out.println(stamped("cairn server: the loop did not stop within " + SHUTDOWN_WAIT_SECONDS + " s; exiting"
                + " without closing the database (every acknowledged change is in its log; the next start replays it)"));
        } catch (java.util.concurrent.ExecutionException e) {
            out.println(stamped("cairn server stopped on an error: " + e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        out.flush();
    }

    /** The bound port. */
    public int port() {
        return loop.port();
    }

    /**
     * Writes a consistent copy of the server's database, as of its last commit, into the folder
     * {@code target} while the server serves on (it runs on the caller's thread): built in
     * {@code target/backup.partial}, opened and verified there, and moved into {@code target}
     * only then. Unlike {@code cairn backup} run beside the server, it never fails because
     * nodes keep sending changes. Restoring it is described in the README (nodes that synced
     * after the backup are refused with {@code SERVER_BEHIND}). A {@link #close} meanwhile waits
     * for it to finish. The console's {@code backup TARGET} calls it.
     *
     * @throws IllegalArgumentException a target that holds a database or a {@code backup.partial}
     *     folder, lies inside the server's folder, or is a file
     * @throws CorruptionException the copy does not verify: the server's database is damaged
     *     (the problems are in the message; nothing is left in {@code target})
     * @throws CairnException the copy could not be written (a full disk: its reason)
     * @throws IllegalStateException the server is closed
     */
    public void backup(Path target) {
        Objects.requireNonNull(target, "target");
        core.backup(target);
    }

    /** This server's UUID, stable across restarts. */
    public UUID serverId() {
        return serverId;
    }

    /**
     * Administrator: takes the check-out of {@code tree/id.revision} from its holder and hands it
     * to the next client in its queue (or frees it). Every connected client is told. The old
     * holder, if it was offline (or missed the news), is told when it next connects, also when the
     * record is free again by then: it does not take the record back, and a change it made under
     * the broken check-out is refused (sync-protocol.md §5.4). Returns false when nobody held it.
     */
    public boolean breakCheckOut(String tree, int id, int revision) {
        return breakCheckOutWithResult(tree, id, revision).before() != null;
    }

    /**
     * As {@link #breakCheckOut}, saying what it did: the check-out as it was and as it is after
     * the break, read in the same step as the break.
     *
     * @throws IllegalArgumentException if {@code id} or {@code revision} is negative or {@code tree} blank
     */
    public BreakResult breakCheckOutWithResult(String tree, int id, int revision) {
        Key<?> key = new Key<>(tree, id, revision);
        return loop.call(() -> {
            CheckOut before = checkOutOf(core.checkOut(key));
            core.breakCheckOut(key);
            return new BreakResult(before, checkOutOf(core.checkOut(key)));
        });
    }

    /**
     * What {@link #releaseNode} did: the records the node held, whose check-outs were broken, the
     * records whose queues it left, and whether its connection was closed (it was connected).
     */
    public record Released(Node node, List<Key<?>> held, List<Key<?>> waited, boolean disconnected) { }

    /**
     * Administrator, for a node that will not come back (its machine retired, its folder lost):
     * takes it out of every queue it waits in, then breaks every check-out it holds as
     * {@link #breakCheckOut} does (each record goes to the next in line, or is free). Every
     * connected client is told; the node, if it ever connects again, is told as after a break.
     * A node connected after all is disconnected ({@code NODE_RELEASED}): it connects again and
     * asks again, at the end of each queue, for the check-outs its application still waits for.
     */
    public Released releaseNode(UUID node) {
        if (node == null) throw new IllegalArgumentException("node is null");
        return loop.call(() -> {
            ServerCore.Released r = core.releaseNode(node);
            return new Released(nodeOf(node), r.held(), r.waited(), r.disconnected());
        });
    }

    /** True when a node with this id linked to this server once (its Hello was accepted), also before a restart. */
    public boolean everLinked(UUID node) {
        if (node == null) throw new IllegalArgumentException("node is null");
        return loop.call(() -> core.knows(node));
    }

    /** The nodes whose name is {@code name} (as their last connection named them), also offline ones. */
    public List<Node> nodesNamed(String name) {
        return loop.call(() -> core.clientsNamed(name).stream().map(this::nodeOf).toList());
    }

    /** The records checked out on this server, with holder, since when and queue, in key order. */
    public List<CheckOut> checkOuts() {
        return loop.call(() -> core.checkOuts().stream().map(this::checkOutOf).toList());
    }

    /** The clients connected and past the handshake, in the order they connected. */
    public List<Client> clients() {
        return loop.call(() -> core.peers().stream().filter(ServerCore.Peer::greeted)
            .map(p -> new Client(new Node(p.clientId(), p.clientName()), p.remoteAddress(), p.live(),
                Instant.ofEpochMilli(p.linkedAtMillis())))
            .toList());
    }

    /** How many clients are connected and past the handshake. */
    public int clientCount() {
        return loop.call(() -> (int) core.peers().stream().filter(ServerCore.Peer::greeted).count());
    }

    /** On the loop thread: the public form of a check-out, with the nodes' names (null for null). */
    private CheckOut checkOutOf(ServerCore.CheckOutState c) {
        if (c == null) return null;
        return new CheckOut(c.key(), nodeOf(c.holder()), c.sinceMillis() == 0 ? null : Instant.ofEpochMilli(c.sinceMillis()),
            c.queue().stream().map(this::nodeOf).toList());
    }

    private Node nodeOf(UUID client) {
        return new Node(client, core.clientName(client));
    }

    /** The names of the trees this server holds (every tree a client has sent records or schemas of), sorted. */
    public java.util.SortedSet<String> trees() {
        return loop.call(core::treeNames);
    }

    /** The server's change sequence: how many changes it has accepted. */
    public long sequence() {
        return loop.call(core::seq);
    }

    /** Stops serving and closes the server database. Idempotent. */
    @Override
    public void close() {
        loop.close();
    }
}
