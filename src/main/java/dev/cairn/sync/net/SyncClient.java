package dev.cairn.sync.net;

import dev.cairn.Key;
import dev.cairn.internal.HeapShortage;
import dev.cairn.internal.Limits;
import dev.cairn.sync.ClientSession;
import dev.cairn.sync.ErrorCode;
import dev.cairn.sync.FrameCodec;
import dev.cairn.sync.Heartbeat;
import dev.cairn.sync.Message;
import dev.cairn.sync.ProtocolException;
import dev.cairn.sync.Replica;
import dev.cairn.sync.SyncException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A node's link to a server: one thread that connects, runs a {@link ClientSession} per
 * connection, and reconnects with bounded exponential backoff (spec/sync-protocol.md §4.1).
 *
 * <ul>
 *   <li>Only the link thread touches the socket and the session; other threads post commands.
 *   <li>{@link #start()} completes once linked, caught up and with the outbox acknowledged.
 *   <li>A database that never linked: if the first attempt fails (unknown host, refused,
 *       closed before the link, or no Welcome within {@link Limits#HELLO_MILLIS}), the future
 *       fails and the client stops (until it links, it refuses inserts, so it must not wait
 *       silently). A linked database (a server id is stored, from this process or an earlier
 *       one) works offline, so every failed attempt or drop is retried, 50 ms doubling to 5 s
 *       (reset by a link), until {@link #close()}; a Welcome that does not come in time is a
 *       drop. A link that ends with the same error as the one before it (a change the server
 *       refuses with {@code Error(PROTOCOL)} is sent again on every connection) does not reset
 *       the backoff: such a node reconnects every 5 s, not in a tight loop.
 *   <li>A refusal about the server at the address (another server, one restored from a
 *       backup, another app id or protocol version: {@code Failure.retryLater}) fails a waiting
 *       connect; a linked database then retries every 5 s and announces it once (a
 *       {@code Disconnected} event). Any other permanent failure (an unreadable schema, another
 *       connection of this node that replaced this one: a copy of its database) stops the client.
 *   <li>After the Welcome, a frame that does not decode or that the node cannot apply (a Keys
 *       range of ids it holds) is a protocol error of the server (sync-protocol.md §4.1): told
 *       with {@code Error(PROTOCOL)}, announced by a {@code Disconnected} event, logged as a
 *       warning once per distinct error, and retried with the backoff.
 *   <li>Heartbeat (protocol version 3 on, sync-protocol.md §4.3): on a connection welcomed as
 *       version 3 or later the link pings when it has sent or received nothing for {@link Limits#PING_MILLIS}
 *       and drops the connection, as any drop, when a Ping had no answer (no byte at all) for
 *       {@code DEAD_MILLIS - PING_MILLIS}, or when the socket took none of its bytes for
 *       {@link Limits#DEAD_MILLIS}: a silent network path is noticed within {@code DEAD_MILLIS}.
 *   <li>A server that refuses the Hello's version with {@code Error(VERSION)} (one older than
 *       this build) is offered the version below at once (6, then 5, 4, 3, 2); a version 6 one gets no
 *       groups (other nodes receive a write batch record by record), a version 5 one gets no
 *       catch-up marks (a catch-up cut short starts over, sync-protocol.md §4.1 step 4), a version 4 one names no server run (sync-protocol.md §4.4), a version 2
 *       connection runs without heartbeat, one below 4 names no server in its Hello (so such a
 *       server checks its sequence before the node can tell it is another server). The next
 *       connection after a drop offers the newest version again, so an upgraded server is used
 *       as one.
 * </ul>
 */
public final class SyncClient implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SyncClient.class.getName());
    static final long BACKOFF_MIN_MILLIS = 50;
    static final long BACKOFF_MAX_MILLIS = 5_000;
    /** Longest wait for the socket when nothing else wakes the link thread. */
    static final long IDLE_MILLIS = 100;
    static final int READ_BYTES_MAX = 1 << 20;
    /**
     * The bytes one socket write takes from the queued frames, copied into {@link #staging}: the
     * JDK copies a heap buffer given to a socket into a direct buffer of its whole size, which for
     * a frame of 16 MiB (or, before, the whole outbox) is that much memory again.
     */
    static final int WRITE_BYTES = 256 * 1024;
    /** How long to wait for the Welcome after the Hello; tests shorten it. */
    static volatile long helloMillis = Limits.HELLO_MILLIS;
    /** Heartbeat timing of the connections that start from now on; tests shorten it. */
    static volatile long pingMillis = Limits.PING_MILLIS;
    static volatile long deadMillis = Limits.DEAD_MILLIS;
    private static final byte[] PING = FrameCodec.encode(new Message.Ping());

    private final Replica replica;
    private final String host;
    private final int port;
    /** host:port, for messages. */
    private final String address;
    /** What every log line of this link starts with: several nodes may log from one JVM. */
    private final String logPrefix;
    private final Set<String> trees;
    private final ConcurrentLinkedQueue<Consumer<ClientSession>> commands = new ConcurrentLinkedQueue<>();
    /** The {@link #finishCheckIns} calls of the current session (link thread only). */
    private final List<CompletableFuture<Void>> finishing = new ArrayList<>();
    private final CompletableFuture<Void> synced = new dev.cairn.internal.CallbackFuture<>();
    private final AtomicLong changesSent = new AtomicLong();
    private final AtomicLong pushesReceived = new AtomicLong();
    private final AtomicLong groupsCut = new AtomicLong();
    private final Object wake = new Object();
    private volatile boolean running = true;
    private volatile boolean connected;
    private volatile boolean outboxDirty = true;
    private volatile SocketChannel channel;
    private volatile Selector selector;
    private Thread thread;
    /** What the next socket write sends, filled from a connection's queued frames (link thread only). */
    private final ByteBuffer staging = ByteBuffer.allocateDirect(WRITE_BYTES);

    public SyncClient(Replica replica, String host, int port, Set<String> trees) {
        this.replica = replica;
        this.host = host;
        this.port = port;
        this.address = host + ":" + port;
        this.logPrefix = "sync of " + replica.directory() + " with " + address + ": ";
        this.trees = Set.copyOf(trees);
    }

    /** Starts the link thread; see the class comment for when the future completes. */
    public CompletableFuture<Void> start() {
        HeapShortage.pause(0); // loads what the handlers' pause needs, while there is room
        thread = Thread.ofPlatform().daemon().name("cairn-sync-" + address).start(this::run);
        return synced;
    }

    public boolean isConnected() {
        return connected;
    }

    /** Changes sent and records received over all connections (for tests: incremental catch-up). */
    public long changesSent() {
        return changesSent.get();
    }

    public long pushesReceived() {
        return pushesReceived.get();
    }

    /**
     * Write batches (groups of the outbox, protocol version 7 and later) larger than the send
     * window (4,096 changes from version 8, 256 on 7; or 4 MiB of values) that
     * went to the server in parts over all connections: other nodes may have seen part of them
     * (sync-protocol.md §4.1 step 3).
     */
    public long groupsCut() {
        return groupsCut.get();
    }

    public void outboxChanged() {
        outboxDirty = true;
        wake();
    }

    /** Whether this client replicates {@code tree}: the server sends Borrows of the trees a client replicates only. */
    public boolean replicates(String tree) {
        return trees.isEmpty() || trees.contains(tree);
    }

    /** The trees this client replicates; empty = all. */
    public Set<String> trees() {
        return trees;
    }

    public void checkOut(Key<?> key) {
        commands.add(s -> s.checkOut(key));
        wake();
    }

    public void checkIn(Key<?> key) {
        commands.add(s -> s.checkIn(key));
        wake();
    }

    /**
     * For a close while connected (sync-protocol.md §5.4): leaves the server's queue of every
     * check-out this process still waits for, by a CheckIn of each (one granted meanwhile, on the
     * link thread, is given back), and waits until the server has answered every check-in of this
     * node, these and those made before (a check-in whose record has a change not yet
     * acknowledged goes out after its Ack), and until every outbox change this connection sends is
     * acknowledged (a change made right before the close goes out now, not at the next
     * link), at most {@code timeoutMillis}. Waiting for the answers,
     * not only for the writes: a socket closed with bytes of the server still unread is reset, and
     * a reset may drop a CheckIn before the server reads it. Returns false when not connected, or
     * not answered in time.
     */
    public boolean finishCheckIns(long timeoutMillis) {
        if (!connected) return false;
        CompletableFuture<Void> answered = new CompletableFuture<>();
        commands.add(s -> {
            for (Key<?> k : replica.requestedCheckOuts()) s.checkIn(k);
            finishing.add(answered);
        });
        wake();
        try {
            answered.get(timeoutMillis, TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException | ExecutionException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * What a refusal's log line adds: that this node goes on. Not when the server's text says
     * it already (SERVER_BEHIND ends "... this node keeps its data and keeps trying"), which
     * the line repeated.
     */
    private static String stillTrying(String reason) {
        return reason.contains("keeps trying") ? "" : "; this node keeps working offline and keeps trying";
    }

    private void wake() {
        Selector sel = selector;
        if (sel != null) sel.wakeup();
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    /**
     * Fails a never-linked node's connect when even saying why ran out of heap: made in advance,
     * since the heap may have no room for it then.
     */
    private static final SyncException LINK_OUT_OF_MEMORY = new SyncException("cannot link: out of memory while"
        + " linking (the heap was full; the application may hold most of it): connect again when it has room");

    /** Fails a connect still waiting when the link's thread ends for a reason it could not say: made in advance, as above. */
    private static final SyncException LINK_ENDED = new SyncException("cannot link: the link ended before the first sync");

    /**
     * The link's thread. Its handlers of an OutOfMemoryError make messages, which can run out of
     * heap themselves: that escaped, the thread died without a word, and connect never completed
     * (probe 94: 9 of 10 first catch-ups under a full heap). So an error escaping the loop waits
     * for the heap to settle and goes on as the loop would have: a never-linked node's connect
     * fails, a linked node's link tries again. However the thread ends, a connect still waiting
     * hears it: the loop's own way of saying so can run out of heap too (probe 95: the link's
     * thread died, and connect stayed pending, in 8 of 12 catch-ups at 32-128 MiB; see HeapShortage).
     */
    private void run() {
        boolean outOfMemory = false;
        try {
            while (true) {
                try {
                    runConnections();
                    return;
                } catch (Error e) {
                    // Out of memory, also behind another error (an InternalError of a lambda's
                    // linkage, probe 95); any other error ends the link below.
                    if (!(e instanceof OutOfMemoryError) && outOfMemoryBehind(e) == null) throw e;
                    outOfMemory = true;
                    HeapShortage.pause(100);
                    try {
                        if (!running) return;
                        if (!linkedDatabase()) {
                            running = false;
                            return;
                        }
                    } catch (OutOfMemoryError again) {
                        // Still no room: wait again, then look again.
                    }
                }
            }
        } catch (RuntimeException | Error e) {
            // Not the loop's to throw (it stops on a RuntimeException and says why): a bug, or
            // an error other than out of memory. Said if the heap allows; connect hears it below.
            running = false;
            try {
                LOG.log(System.Logger.Level.WARNING, logPrefix + "the link stopped", e);
                synced.completeExceptionally(new SyncException("the link to " + address + " stopped: " + e, e));
            } catch (Throwable again) {
                // Out of memory: the message made in advance follows.
            }
        } finally {
            failConnectIfWaiting(outOfMemory ? LINK_OUT_OF_MEMORY : LINK_ENDED);
        }
    }

    /** The OutOfMemoryError among the first causes of {@code e}, if any: how a full heap shows through other exceptions. */
    private static OutOfMemoryError outOfMemoryBehind(Throwable e) {
        Throwable c = e.getCause();
        for (int depth = 0; c != null && depth < 4; depth++, c = c.getCause()) {
            if (c instanceof OutOfMemoryError oom) return oom;
        }
        return null;
    }

    /**
     * Fails a connect still waiting with {@code reason}, retrying while the heap has no room for
     * the completion (it allocates, and runs what waits on it), for at most 60 s.
     */
    private void failConnectIfWaiting(SyncException reason) {
        for (int i = 0; i < 600 && !synced.isDone(); i++) {
            try {
                synced.completeExceptionally(reason);
            } catch (OutOfMemoryError e) {
                HeapShortage.pause(100);
            }
        }
    }

    private void runConnections() {
        long backoff = BACKOFF_MIN_MILLIS;
        while (running) {
            String reason;
            // The Failure (an Error from the server, or one this node found) that ended the connection, if any.
            String ended = null;
            // What makes two endings the same: an Error's code (a BUSY's text names the bytes and
            // time of that attempt: compared as text, each looked new and the backoff never grew,
            // probe 103 saw 326 connections in 30 s), else the text.
            String endedAs = null;
            try {
                session();
                reason = "connection closed";
                if (!linkedDatabase() && running) {
                    stop(new SyncException("cannot link to " + address + ": the server closed the connection before the link was made"));
                    return;
                }
            } catch (ClientSession.Failure f) {
                reason = f.getMessage();
                ended = reason;
                // An operator's release is not something this node repeats: reconnect at once, as for a new ending.
                endedAs = f.serverCode() == ErrorCode.NODE_RELEASED ? null : f.serverCode() >= 0 ? "Error " + f.serverCode() : reason;
                if (f.told() != null && f.told().code() == ErrorCode.PROTOCOL && !reason.equals(toldProtocolError)) {
                    toldProtocolError = reason;
                    LOG.log(System.Logger.Level.WARNING, logPrefix + "the server at " + address + " broke the sync protocol: "
                        + reason + (linkedDatabase() ? "; this node keeps working offline and keeps trying" : ""));
                }
                if (f.versionRefused() && running) {
                    // A server older than this build: it is offered the version below now (it
                    // answered, so no backoff), and the connection after that one the newest again.
                    offer = offered - 1;
                    LOG.log(offer >= lowestOfferTold ? System.Logger.Level.DEBUG : System.Logger.Level.INFO, logPrefix + "the server"
                        + " refused protocol version " + offered + " (" + reason + "); connecting with version " + offer
                        + (offer < 9 ? ", whose changes name no base: a state change this node made offline on a version"
                        + " another node changed since may replace that change (sync-protocol.md §5.1)" : "")
                        + (offer == 7 ? ", whose groups hold at most 256 records: a larger write batch reaches other nodes in parts" : "")
                        + (offer < 7 ? ", without groups: other nodes receive a write batch record by record, and a record"
                        + " changed again before the server acknowledged its last change after the records written in between"
                        + " (sync-protocol.md §9)" : "")
                        + (offer < 6 ? ", without catch-up marks: a catch-up cut short starts over" : "")
                        + (offer < 3 ? ", without heartbeat: a silent network drop goes unnoticed until TCP gives up on "
                        + "data this node sends" : "") + (offer < 4 ? ", and a server that is not the one this "
                        + "database is linked to may be taken for one restored from a backup (SERVER_BEHIND)" : "")
                        + ". Upgrade the server");
                    lowestOfferTold = Math.min(lowestOfferTold, offer);
                    continue;
                }
                if (f.retryLater() && linkedDatabase()) {
                    // A linked database met a server it must not sync with (an operator started
                    // another server, or a backup, at this address). The right one may come back
                    // there: keep trying, and say so once per refusal. A connect still waiting
                    // hears it as its failure (the application asked), and the link goes on.
                    synced.completeExceptionally(f.reason());
                    if (!reason.equals(lastRefusal)) {
                        lastRefusal = reason;
                        LOG.log(System.Logger.Level.WARNING, logPrefix + "refused: " + reason + stillTrying(reason));
                        announce("refused by the server at " + address + ": " + reason + " (still trying)");
                    }
                    backoff = BACKOFF_MAX_MILLIS;
                } else if (f.permanent() || !linkedDatabase()) {
                    if (synced.isDone()) {
                        // Nobody waits on connect's future any more: the application hears it here.
                        LOG.log(System.Logger.Level.WARNING, logPrefix + "stopped for good: " + reason);
                    }
                    // A linked node's link stops (NODE_COPY, REPLACED): said as a refusal that keeps trying is, also
                    // when a connect waits; a never-linked one's first connect hears it through its future.
                    if (synced.isDone() || linkedDatabase()) announce("sync stopped for good: " + reason);
                    stop(f.reason());
                    return;
                }
            } catch (NotACairnServer e) {
                // Retrying cannot help until the address changes or the right server is back there:
                // said as a refusal is (a connect waiting fails, the application hears it once).
                reason = e.getMessage();
                if (!linkedDatabase()) {
                    stop(new SyncException("cannot link to " + address + ": " + reason, e));
                    return;
                }
                synced.completeExceptionally(new SyncException(reason, e));
                if (!reason.equals(lastRefusal)) {
                    lastRefusal = reason;
                    LOG.log(System.Logger.Level.WARNING, logPrefix + "failed: " + reason
                        + "; this node keeps working offline and keeps trying");
                    announce(reason + " (still trying)");
                }
                backoff = BACKOFF_MAX_MILLIS;
            } catch (IOException | UncheckedIOException | ProtocolException e) {
                reason = (socketOpened ? "connection to " + address + " lost: " : "cannot connect to " + address + ": ")
                    + e.getMessage();
                if (!linkedDatabase() && running) {
                    stop(new SyncException("cannot link to " + address + ": " + e.getMessage(), e));
                    return;
                }
            } catch (OutOfMemoryError e) {
                // The heap ran short while this link read or sent a large record (the application
                // may hold most of it at that moment): what the connection allocated is garbage
                // now, so the link tries again after the backoff, as after a lost connection.
                reason = "connection to " + address + " ended: " + outOfMemory(e);
                ended = reason; // short of heap again on the next connection: the backoff grows
                endedAs = reason;
                if (!reason.equals(toldOutOfMemory)) {
                    toldOutOfMemory = reason;
                    LOG.log(System.Logger.Level.WARNING, logPrefix + reason + "; this node keeps working offline and keeps trying");
                }
                if (!linkedDatabase() && running) {
                    stop(new SyncException("cannot link to " + address + ": " + outOfMemory(e), e));
                    return;
                }
            } catch (RuntimeException e) {
                // Out of memory seen through another exception: a try-with-resources whose close
                // threw the JVM's same preallocated OutOfMemoryError ("Self-suppression not
                // permitted", probe 95 stopped a linked node's link so). Handled as out of memory.
                // Not a database that stopped writes because a batch ran out of heap: the
                // refusal's cause is that old error, and retrying could store nothing until the
                // application reopens the database (the link reconnected without end).
                OutOfMemoryError oom = e instanceof dev.cairn.WritesStoppedException ? null : outOfMemoryBehind(e);
                if (oom != null) throw oom;
                if (!running) {
                    // Closed under the link's feet (a disconnect, or the database closing): not a failure to announce.
                    LOG.log(System.Logger.Level.DEBUG, logPrefix + "the link ended while closing", e);
                    break;
                }
                // A local failure (e.g. the database was closed, or a bug): stop, and say why.
                LOG.log(System.Logger.Level.WARNING, logPrefix + "the link stopped", e);
                if (synced.isDone()) announce("sync stopped for good: " + e);
                stop(e);
                return;
            }
            if (!running) break;
            if (sessionLinked) {
                if (endedAs != null && endedAs.equals(lastEnding)) {
                    // Linked, then ended by the same error as the connection before: something
                    // the node sends on every connection is refused (e.g. a change the server
                    // answers with Error(PROTOCOL)). Reconnecting at once would only repeat it:
                    // the backoff goes on growing, and the refusal is told once.
                    if (!endedAs.equals(toldRepeated)) {
                        toldRepeated = endedAs;
                        LOG.log(System.Logger.Level.WARNING, logPrefix + "ended again by: " + ended
                            + "; it repeats on every connection, so the link retries with a growing backoff (up to "
                            + BACKOFF_MAX_MILLIS + " ms)");
                    }
                } else {
                    backoff = BACKOFF_MIN_MILLIS;
                    toldRepeated = null;
                }
                lastRefusal = null;
            }
            lastEnding = endedAs;
            // The first failure of an outage is worth a line; the retries that follow are not.
            LOG.log(backoff == BACKOFF_MIN_MILLIS ? System.Logger.Level.INFO : System.Logger.Level.DEBUG,
                logPrefix + reason + "; retrying in " + backoff + " ms");
            sleep(backoff);
            backoff = Math.min(backoff * 2, BACKOFF_MAX_MILLIS);
        }
        synced.completeExceptionally(new SyncException("disconnected before the first sync"));
    }

    /** What an OutOfMemoryError on the link says: the heap and the record size it must hold. */
    private static String outOfMemory(OutOfMemoryError e) {
        return "out of memory (" + e.getMessage() + ", -Xmx " + (Runtime.getRuntime().maxMemory() >> 20) + " MiB): the link"
            + " holds up to " + (ClientSession.WINDOW_BYTES >> 20) + " MiB of changes in flight plus one record being sent or"
            + " received (up to 16 MiB)" + (ClientSession.CATCH_UP_KEPT_BYTES == 0 ? "" : ", and during a catch-up up to "
            + (ClientSession.CATCH_UP_KEPT_BYTES >> 10) + " KiB of it to apply at once") + ", besides what the application holds";
    }

    /**
     * Publishes a {@code Disconnected} event saying why this link is not syncing; it needs no
     * write, so it is published also when the database refuses writes (the database may be
     * closing: then nothing).
     */
    private void announce(String reason) {
        try {
            replica.connectionChanged(false, null, reason);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, logPrefix + "disconnect event", e);
        }
    }

    /** True once the database has a server id: it works offline, so failed attempts are retried. */
    private boolean linkedDatabase() {
        return replica.serverId() != null;
    }

    private void stop(RuntimeException reason) {
        running = false;
        synced.completeExceptionally(reason);
    }

    /**
     * Waits the backoff out; only a close ends it early. A write, check-out or check-in wakes the
     * link (to send it at once when connected), but does not bring the next attempt forward:
     * else a node writing 10 records a second while its network was down tried to connect 10
     * times a second (probe 79).
     */
    private void sleep(long millis) {
        long until = System.nanoTime() + millis * 1_000_000;
        synchronized (wake) {
            try {
                for (long left = millis; running && left > 0; left = (until - System.nanoTime()) / 1_000_000) {
                    wake.wait(left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running = false;
            }
        }
    }

    /** One connection; sets {@link #sessionLinked} once it is linked or has stored a catch-up mark. */
    private void session() throws IOException {
        sessionLinked = false;
        socketOpened = false;
        try (SocketChannel ch = SocketChannel.open(); Selector sel = Selector.open()) {
            channel = ch;
            selector = sel;
            if (!running) return;
            // Resolved per attempt: a name that did not resolve at boot may resolve later.
            InetSocketAddress target = new InetSocketAddress(host, port);
            if (target.isUnresolved()) throw new IOException("unknown host " + host);
            ch.socket().connect(target, 5_000);
            socketOpened = true;
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ch.configureBlocking(false);
            SelectionKey key = ch.register(sel, SelectionKey.OP_READ);
            // The frames the session queued, written in order; a Change's value is held once, not
            // copied into its frame (the session keeps the values queued under its window's bound).
            ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
            staging.clear();
            int version = offer;
            offered = offer;
            offer = FrameCodec.PROTOCOL_VERSION;
            ClientSession session = new ClientSession(replica, trees,
                m -> Collections.addAll(out, FrameCodec.encodeParts(m)), version);
            // After a connection that ended inside its catch-up, the catch-up is applied as it
            // comes (its marks stored at once) until one reaches CaughtUp: a link that lives less
            // than the bound for keeping it would otherwise never store anything (probe 93).
            if (catchUpCutShort) session.applyCatchUpAsItComes();
            for (Key<?> k : replica.requestedCheckOuts()) session.checkOut(k);
            FrameCodec.Decoder decoder = new FrameCodec.Decoder();
            FirstBytes firstBytes = new FirstBytes();
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            List<Message> messages = new ArrayList<>();
            session.start();
            flush(ch, sel, key, out, null);
            long helloSent = System.nanoTime();
            // Set once the connection is welcomed as version 3 or later (sync-protocol.md §4.3).
            Heartbeat beat = null;
            String failure = null;
            boolean serverBroke = false;
            try {
                while (running) {
                    if (session.state() == ClientSession.State.HELLO_SENT && System.nanoTime() - helloSent > helloMillis * 1_000_000) {
                        throw new IOException("no Welcome within " + helloMillis + " ms of the Hello");
                    }
                    for (Consumer<ClientSession> c; (c = commands.poll()) != null; ) c.accept(session);
                    if (outboxDirty) {
                        outboxDirty = false;
                        session.outboxChanged();
                    }
                    session.pump();
                    flush(ch, sel, key, out, beat);
                    if (!finishing.isEmpty() && session.checkInsAnswered() && session.changesAcknowledged()) {
                        for (CompletableFuture<Void> f : finishing) f.complete(null);
                        finishing.clear();
                    }
                    if (beat != null && beat.pingDue(System.nanoTime())) {
                        out.add(ByteBuffer.wrap(PING));
                        beat.pinged(System.nanoTime());
                        flush(ch, sel, key, out, beat);
                    }
                    sel.select(IDLE_MILLIS);
                    sel.selectedKeys().clear();
                    messages.clear();
                    int total = 0;
                    boolean closedByServer = false;
                    // A frame that does not decode; the frames before it in this read are applied first.
                    ProtocolException badFrame = null;
                    while (total < READ_BYTES_MAX) {
                        buffer.clear();
                        int n = ch.read(buffer);
                        if (n < 0) {
                            closedByServer = true; // after what it sent: an Error before its close says why
                            break;
                        }
                        if (n == 0) break;
                        total += n;
                        buffer.flip();
                        if (session.state() == ClientSession.State.HELLO_SENT) firstBytes.keep(buffer);
                        try {
                            decoder.feed(buffer, messages);
                        } catch (ProtocolException e) {
                            badFrame = e;
                            break;
                        }
                    }
                    if (beat != null) {
                        // Judged right after the read, before this pass's own work (applying
                        // what arrived), which says nothing about the server.
                        long now = System.nanoTime();
                        if (total > 0) {
                            beat.received(now);
                        } else if (!closedByServer && beat.dead(now)) {
                            throw new IOException(beat.deadReason(now));
                        }
                    }
                    // A Pong only shows the server alive (above); it needs no database batch,
                    // which could wait for the application's own write batch.
                    messages.removeIf(m -> m instanceof Message.Pong);
                    long before = session.pushesReceived();
                    // One local transaction per read pass; a Group whose Pushed have not all come
                    // is kept by the session for the next pass (its records apply together), and
                    // so is a catch-up until its end, within bounds: one kept past its time is
                    // applied also when nothing came (a stalled link keeps what it brought).
                    if (!messages.isEmpty() || session.catchUpKeptTooLong()) replica.batch(() -> session.onMessages(messages));
                    pushesReceived.addAndGet(session.pushesReceived() - before);
                    if (badFrame != null) session.badFrame(badFrame);
                    ClientSession.State st = session.state();
                    connected = st == ClientSession.State.CATCHING_UP || st == ClientSession.State.LIVE;
                    if (st == ClientSession.State.LIVE) {
                        sessionLinked = true;
                        if (!synced.isDone() && session.idle()) synced.complete(null);
                    } else if (session.marksStored() > 0) {
                        // A catch-up mark is stored: the next connection resumes after it, so this
                        // one made progress and is retried at once, as a linked one is.
                        sessionLinked = true;
                    }
                    changesSent.set(changesSentBase + session.changesSent());
                    if (groupsCut.get() != groupsCutBase + session.groupsCut()) {
                        groupsCut.set(groupsCutBase + session.groupsCut());
                        LOG.log(System.Logger.Level.INFO, logPrefix + "changes that must travel together went to the server in"
                            + " parts, being more than the send window (" + session.window() + " records on protocol "
                            + session.protocolVersion() + ", " + (ClientSession.WINDOW_BYTES >> 20) + " MiB): a write batch that large, batches that rewrote records"
                            + " of earlier ones not yet sent, or the records this node made before its first link (each go as one"
                            + " group); other nodes may see part of them for a moment ("
                            + groupsCut.get() + " so far)");
                    }
                    if (closedByServer) {
                        // No Error came before the close (it would have ended the session above):
                        // the server stopped, or something between closed the connection. Inside a
                        // frame, it may also be a server that closed this node for reading too slowly:
                        // its Error cannot go before the rest of a frame it began (sync-protocol.md §4.2 step 4).
                        failure = decoder.bufferedBytes() == 0 ? "the connection was closed by the server's end, without an error"
                            : "the connection was closed by the server's end inside a frame, without an error (a server that"
                            + " stopped, or one that closed this node as too slow a reader: its journal says which)";
                        return;
                    }
                    if (beat == null && session.protocolVersion() >= 3) beat = new Heartbeat(pingMillis, deadMillis, System.nanoTime());
                }
            } catch (ClientSession.Failure | IOException | UncheckedIOException | ProtocolException e) {
                failure = e.getMessage();
                if (e instanceof ClientSession.Failure f && f.told() != null) {
                    tell(ch, f.told());
                    // A protocol error of the server ends the connection, maybe before this node
                    // took it as connected (the Welcome in the same read): the event says why all the same.
                    serverBroke = f.told().code() == ErrorCode.PROTOCOL && linkedDatabase();
                }
                if (e instanceof ProtocolException && session.state() == ClientSession.State.HELLO_SENT) {
                    // The answer to the Hello is not a frame: what listens there is no Cairn server.
                    throw new NotACairnServer("the peer at " + address + " is not a Cairn server: its answer to the Hello "
                        + "is no Cairn frame (" + e.getMessage() + "; it began " + firstBytes + ")");
                }
                throw e;
            } catch (OutOfMemoryError e) {
                failure = outOfMemory(e);
                throw e;
            } catch (RuntimeException e) {
                // This node's own failure (its database refusing a write: a full disk): the
                // Disconnected names it, and run() stops the link.
                failure = e.toString();
                throw e;
            } finally {
                // Answers to its CheckIns cannot come on another connection (the next one would not know them).
                for (CompletableFuture<Void> f : finishing) f.completeExceptionally(new SyncException("disconnected"));
                finishing.clear();
                replica.sessionEnded();
                if (session.state() == ClientSession.State.LIVE) catchUpCutShort = false;
                else if (session.wasCatchingUp()) catchUpCutShort = true;
                changesSentBase += session.changesSent();
                groupsCutBase += session.groupsCut();
                if (connected || serverBroke) {
                    connected = false;
                    try {
                        replica.connectionChanged(false, null, "disconnected from " + address
                            + (failure == null ? "" : ": " + failure));
                    } catch (RuntimeException e) {
                        LOG.log(System.Logger.Level.DEBUG, logPrefix + "disconnect event", e);
                    }
                }
            }
        } finally {
            channel = null;
            selector = null;
        }
    }

    /** The answer to a Hello did not decode as frames: the peer speaks another protocol. */
    private static final class NotACairnServer extends IOException {
        private static final long serialVersionUID = 1L;

        NotACairnServer(String message) {
            super(message);
        }
    }

    /** The first bytes a connection received, for a message about a peer that is no Cairn server. */
    private static final class FirstBytes {
        private final byte[] bytes = new byte[24];
        private int count;

        void keep(ByteBuffer b) {
            for (int i = b.position(); i < b.limit() && count < bytes.length; i++) bytes[count++] = b.get(i);
        }

        /** The bytes as text: printable ASCII as it is, others as \xNN. */
        @Override
        public String toString() {
            StringBuilder s = new StringBuilder("\"");
            for (int i = 0; i < count; i++) {
                int c = bytes[i] & 0xFF;
                if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') s.append((char) c);
                else s.append(String.format(java.util.Locale.ROOT, "\\x%02X", c));
            }
            return s.append('"').toString();
        }
    }

    /** Best effort, before the close: one non-blocking write of the Error that says why. */
    private void tell(SocketChannel ch, Message.Error error) {
        try {
            ch.write(ByteBuffer.wrap(FrameCodec.encode(error)));
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, logPrefix + "could not tell the server " + error, e);
        }
    }

    private long changesSentBase;
    private long groupsCutBase;
    /** The last attempt's socket connected (only the link thread touches it): a failure then is a lost connection. */
    private boolean socketOpened;
    /** The last connection got LIVE, or stored a catch-up mark (only the link thread touches it). */
    private boolean sessionLinked;
    /** The last connection ended inside its catch-up: the next applies its catch-up as it comes. */
    private boolean catchUpCutShort;
    /** The version the next Hello offers: the newest, or the one below a version the server just refused (link thread only). */
    private int offer = FrameCodec.PROTOCOL_VERSION;
    /** The version the last Hello offered (link thread only). */
    private int offered;
    /**
     * The lowest version a step down was logged for at INFO (each version once: what it gives up
     * is said once; later connections' step-downs at DEBUG). Link thread only.
     */
    private int lowestOfferTold = FrameCodec.PROTOCOL_VERSION;
    /** The last refusal announced while retrying (link thread only): each is told once. */
    private String lastRefusal;
    /** The last protocol error of the server logged as a warning: each is logged once (link thread only). */
    private String toldProtocolError;
    /** What ended the last connection, when it was a Failure, as compared (an Error's code, else the text; link thread only). */
    private String lastEnding;
    /** The repeated ending last logged (link thread only): each is told once. */
    private String toldRepeated;
    /** The last out-of-memory ending logged: a link short of heap on every attempt says so once. */
    private String toldOutOfMemory;

    /**
     * Writes what the session queued, at most {@link #WRITE_BYTES} per socket write; waits
     * (reading nothing) while the socket buffer is full.
     * With a heartbeat, bytes written count as sent, and a socket that takes none for
     * {@code deadMillis} ends the connection: the server reads whatever arrives, so a send buffer
     * that stays full means nothing gets through (a Ping would not either).
     */
    private void flush(SocketChannel ch, Selector sel, SelectionKey key, ArrayDeque<ByteBuffer> out, Heartbeat beat)
            throws IOException {
        long progress = System.nanoTime();
        while (running) {
            stage(out);
            if (staging.position() == 0) return;
            staging.flip();
            int written = ch.write(staging);
            staging.compact();
            if (written > 0) {
                progress = System.nanoTime();
                if (beat != null) beat.sent(progress);
                continue;
            }
            long stalled = System.nanoTime() - progress;
            if (beat != null && stalled > deadMillis * 1_000_000) {
                throw new IOException(String.format(java.util.Locale.ROOT,
                    "the server took no data for %.1f s (the socket's send buffer stayed full)", stalled / 1e9));
            }
            try {
                key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
                sel.select(IDLE_MILLIS);
                sel.selectedKeys().clear();
                key.interestOps(SelectionKey.OP_READ);
            } catch (CancelledKeyException e) {
                // close() closed the channel under this wait (a disconnect): the connection
                // ended, as a read or write would have said, and not by a failure of this node.
                throw new ClosedChannelException();
            }
        }
    }

    /** Moves bytes of the queued frames, oldest first, into {@link #staging} until it is full or they are all in. */
    private void stage(ArrayDeque<ByteBuffer> out) {
        while (staging.hasRemaining() && !out.isEmpty()) {
            ByteBuffer frame = out.peekFirst();
            int n = Math.min(frame.remaining(), staging.remaining());
            staging.put(staging.position(), frame, frame.position(), n);
            staging.position(staging.position() + n);
            frame.position(frame.position() + n);
            if (!frame.hasRemaining()) out.removeFirst();
        }
    }

    /** Stops the link thread and closes the connection; a connect still waiting fails with "disconnected". Idempotent. */
    @Override
    public void close() {
        close(new SyncException("disconnected"));
    }

    /**
     * As {@link #close()}, failing the future of {@link #start()} with {@code pending} if it has
     * not completed (first, so that the stopping link thread's own reason does not take its place).
     */
    public void close(RuntimeException pending) {
        synced.completeExceptionally(pending);
        running = false;
        wake();
        SocketChannel c = channel;
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, logPrefix + "closing the link", e);
            }
        }
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
