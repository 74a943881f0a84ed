package dev.cairn.sync.net;

import dev.cairn.CairnException;
import dev.cairn.internal.Limits;
import dev.cairn.sync.ErrorCode;
import dev.cairn.sync.FrameCodec;
import dev.cairn.sync.Message;
import dev.cairn.sync.ProtocolException;
import dev.cairn.sync.ServerCore;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Supplier;

/**
 * The server's one network thread: a non-blocking {@link Selector} over the listening socket
 * and every connection, feeding {@link ServerCore} (spec/sync-protocol.md §5).
 *
 * <ul>
 *   <li>Only the loop thread touches the core, the channels and the queues; other threads post
 *       tasks ({@link #call}).
 *   <li>Each pass reads what is ready, hands the decoded messages to the core as one round
 *       (one store commit), then writes. A connection reads at most {@code READ_BYTES_MAX} per
 *       pass, so one busy client cannot starve the others.
 *   <li>A frame is encoded once per pass, however many connections it goes to: their queues
 *       hold read-only views of one buffer ({@link SharedFrame}), so a push to many clients costs
 *       its bytes once. A small frame (at most {@link #SMALL_FRAME_BYTES}) is copied instead into
 *       the queue's last chunk of {@link #CHUNK_BYTES}, so that it costs its bytes and not a few
 *       objects of its own (thousands of snapshot Borrows to each of hundreds of nodes that
 *       reconnect at once took a 256 MiB server's heap that way: probe 114).
 *   <li>Every connection's outbound queue holds at most {@code pendingBytesMax} bytes, and the
 *       queues of all connections together at most {@code queuedBytesMax} (each frame counted
 *       once), a quarter more while the clients holding the excess read it. A client over its
 *       own limit is dropped with {@link ErrorCode#TOO_SLOW}; over the server-wide one,
 *       connections that read a trickle are, until it holds less; and over it and a quarter,
 *       the connections holding the most queued bytes, until it holds less; but never one that
 *       took everything queued for it before this pass (a client that keeps up). A catch-up
 *       that found no room in the queues for {@link #CATCH_UP_WAIT_NANOS} makes room:
 *       connections that read a trickle ({@link #TRICKLE_BYTES_PER_SECOND}) are dropped, until
 *       it fits ({@link #makeRoomForCatchUp}).
 *       A dropped client reconnects and catches up incrementally, so a slow client never
 *       stalls the others, and slow clients together never take the server's heap.
 *   <li>A Hello is taken while the round holds fewer than {@link #ROUND_SENDS_MAX} replies and
 *       pushes to send, and while the queues of all connections with those sends (each counted
 *       as {@link #SEND_BYTES_GUESS} bytes) hold at most half of {@code queuedBytesMax}, or
 *       when it waited {@link #helloWaitNanos} (1 s), one each {@link #HELLO_GAP_NANOS}; else it waits,
 *       read, its connection's later frames behind it, and Hellos go in the order they came. A
 *       Hello costs a snapshot Borrow per record other nodes hold: hundreds of nodes reconnecting
 *       at once while thousands of records were checked out took them all in one pass, and ran
 *       an 80 MiB server out of heap before any could be sent (probe 114).
 *   <li>Inbound, nothing a peer announces is allocated before it arrives (frame buffers grow
 *       with the bytes received); before its Hello is accepted a connection may announce frames
 *       of at most {@link Limits#HELLO_FRAME_BYTES_MAX} and must send the Hello within
 *       {@code helloMillis}; and the partly received frames of all connections together stay
 *       under {@code partialBytesMax}: over it, the connections whose partial frames arrive
 *       slowest (bytes since the frame's first byte per second; frames younger than
 *       {@link Limits#PARTIAL_FRAME_GRACE_MILLIS} last) are closed with {@link ErrorCode#BUSY}
 *       until it holds less. So connections that never finish a frame, or never say Hello,
 *       cannot exhaust the server's memory or sockets, and the ones that dribble pay for the
 *       limit, not a node that sends a record at full speed.
 *   <li>A version 3 (or later) connection that sends nothing for {@code silentMillis} is closed, without an
 *       Error (its peer is gone, or cannot be reached): its client pings when it has nothing else
 *       to send (sync-protocol.md §4.3). Any byte counts, so a client sending a large frame
 *       slowly is alive; what the server queues for a client does not count, so a client busy
 *       reading a long catch-up is judged by what it sends (its Pings). Version 2 connections
 *       are never closed for silence (their clients do not ping).
 * </ul>
 */
public final class SelectorLoop implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SelectorLoop.class.getName());
    private static final int READ_BYTES_MAX = 1 << 20;
    /**
     * Frames read from one connection in a pass (after the 64 KiB read that reaches it): each
     * is an object or a few until the round ends, and a client sending 5-byte frames (Pings)
     * made 200,000 of them in a pass. A node sends at most its window of changes at once.
     */
    static final int READ_FRAMES_MAX = 4_096;
    /**
     * Frames read from a connection before its Hello is answered, the Hello among them (a client
     * sends nothing more until the Welcome): past them, one whose Hello waits is not read until
     * the Hello is taken.
     */
    static final int HELLO_FRAMES_MAX = 64;
    private static final long ACCEPT_PAUSE_NANOS = 100_000_000L;
    /**
     * A client sending a large frame slowly hears nothing meanwhile, and its Ping waits behind the
     * frame: a Pong goes to it when it was sent nothing for this long while a frame of it arrives
     * (sync-protocol.md §4.3). Shorter than the node's wait for an answer; tests shorten it.
     */
    static volatile long pongMillis = Limits.PING_MILLIS;
    private static final Message.Pong PONG = new Message.Pong();
    /** A Hello waits while the round has this many replies and pushes to send (each holds its message until the round ends). */
    static final int ROUND_SENDS_MAX = 16_384;
    /** What a send of the round will queue, as the Hellos' pacing counts it: about a snapshot Borrow's frame. */
    static final int SEND_BYTES_GUESS = 64;
    /**
     * A Hello that waited this long for the queues to drain is taken anyway, one every
     * {@link #HELLO_GAP_NANOS}: clients that stall keep their share of the limit (a slow
     * client's catch-up may fill it), and taken one a second, nodes more than ten places back
     * in line gave up waiting for their Welcome (probe 116: 100 nodes took 55 s to link). The
     * queues that grow past the limit so are shed as always (TOO_SLOW, the slowest first).
     * Tests change it.
     */
    static volatile long helloWaitNanos = 1_000_000_000L;
    /** The least time between two Hellos taken because they waited {@link #helloWaitNanos}. */
    static final long HELLO_GAP_NANOS = 20_000_000L;
    /**
     * Catch-ups that found no room in the queues for this long make room ({@link
     * #makeRoomForCatchUp}): clients that read a trickle kept their share of the limit, and 100
     * reconnecting nodes waited behind 20 of them (64 bytes a second each) for 52 s (probe 116).
     */
    static final long CATCH_UP_WAIT_NANOS = 1_000_000_000L;
    /**
     * How far apart the bytes written to a connection are sampled ({@link Connection#sample}):
     * the rate a client reads is judged over its last 5 to 10 s, frames queued for it all along,
     * before it may be closed to make room for a catch-up ({@link #makeRoomForCatchUp}).
     */
    static final long RATE_WINDOW_NANOS = 5_000_000_000L;
    /**
     * A client that reads less than this a second is closed to make room for a catch-up that
     * waits ({@link #makeRoomForCatchUp}): it would take over a minute to read the 2 MiB a
     * catch-up queues for it. One that reads more keeps its queue, however large its frames: a
     * node reading records of 12 MB at 1 MB/s was closed inside one each time another node's
     * catch-up waited 5 s, when the queue's age alone decided (probe 118).
     */
    static final long TRICKLE_BYTES_PER_SECOND = 32 << 10;
    /** Frames per gathering write: Linux takes at most 1,024 buffers (IOV_MAX) per call. */
    private static final int GATHER_FRAMES = 1024;
    /**
     * Bytes one gathering write offers (past the first frame): the JDK copies every heap buffer
     * it is given into a temporary direct one before the system call, whatever the socket then
     * takes, so offering a slow client's whole queue (up to 64 MiB) would copy it on every try.
     */
    private static final long GATHER_BYTES = 1 << 20;

    private final ServerCore core;
    /** The frames of one gathering write; only the loop thread writes to connections. */
    private final ByteBuffer[] gather = new ByteBuffer[GATHER_FRAMES];
    private final Selector selector;
    private final ServerSocketChannel listener;
    private final long pendingBytesMax;
    private final long queuedBytesMax;
    /**
     * {@link #queuedBytesMax} and a quarter: past it the connections holding the most are
     * closed, however they read; between the two only those that read a trickle are
     * ({@link #shedTrickles}). So one large frame being read steadily and the pushes queued
     * meanwhile pass: a record near the limit held it all for the seconds its reader took, and
     * any push then closed that reader, inside the record, on every connection (probe 120).
     */
    private final long queuedBytesOverMax;
    private final long partialBytesMax;
    private final long helloNanos;
    /** How long a version 3 (or later) connection may send nothing before it is closed. */
    private final long silentNanos;
    /** Bytes held in the decoders of all connections (partly received frames). */
    private long partialBytes;
    /** Bytes of the frames queued on any connection, each frame once (the sum of their {@link SharedFrame#bytes}). */
    private long queuedBytes;
    /** The most {@link #queuedBytes} held at once. */
    private long queuedBytesPeak;
    /** The frames encoded in this pass, by message identity: the core sends one push object to every receiver. */
    private final IdentityHashMap<Message, SharedFrame> encoded = new IdentityHashMap<>();
    /**
     * Socket send buffer of accepted connections, bytes; 0 = the system's. Tests make it small, so
     * that a client that stops reading fills the server's queue rather than the kernel's.
     */
    volatile int sendBufferBytes;
    private long lastSilenceSweep = System.nanoTime();
    private final SelectionKey listenerKey;
    /** When accepting failed (out of file descriptors): nanoTime to try again; 0 while accepting. */
    private long acceptPausedUntil;
    /** Accepts failed since the last one that worked (the warning is logged once per stretch). */
    private long acceptFailures;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final List<Connection> connections = new ArrayList<>();
    /** Connections whose Hello waits to be taken ({@link Connection#held}), in the order they came. */
    private final ArrayDeque<Connection> heldHellos = new ArrayDeque<>();
    /** When a Hello was last handed to the core. */
    private long helloTakenNanos = System.nanoTime();
    private final ByteBuffer readBuffer = ByteBuffer.allocate(64 * 1024);
    private final Thread thread;
    private volatile boolean running = true;
    /** Completes when the loop thread ends: normally after {@link #close}, exceptionally if the loop failed. */
    private final CompletableFuture<Void> ended = new CompletableFuture<>();

    /**
     * One encoded frame, shared by the queues of the connections it goes to: each holds its own
     * read-only view (its own position) of {@link #bytes}, which nobody writes after encoding.
     */
    private static final class SharedFrame {
        final ByteBuffer bytes;
        /** Queue entries that hold this frame; its bytes count in {@link #queuedBytes} while above 0. */
        int holders;

        SharedFrame(byte[] frame) {
            this.bytes = ByteBuffer.wrap(frame).asReadOnlyBuffer();
        }
    }

    /**
     * A queue entry: a view of a shared frame, or (frame null) a chunk of small frames, the view
     * its own buffer; {@code queuedNanos} is when it (a chunk: its first frame) was queued.
     */
    private record Queued(ByteBuffer view, SharedFrame frame, long queuedNanos) { }

    /** Frames of at most this many bytes are copied into a chunk rather than shared. */
    static final int SMALL_FRAME_BYTES = 512;
    /** The bytes of a chunk of small frames. */
    static final int CHUNK_BYTES = 16 << 10;

    private final class Connection implements ServerCore.Outbound {
        final SocketChannel channel;
        final SelectionKey key;
        final FrameCodec.Decoder decoder = new FrameCodec.Decoder();
        final ArrayDeque<Queued> out = new ArrayDeque<>();
        /** Bytes of this connection's queue not written yet (shared frames counted in full). */
        long pending;
        /** Of {@link #pending}, the bytes queued before this pass: 0 for a client that keeps up. */
        long carried;
        /** Bytes written to this connection. */
        long written;
        /** When the queue last moved: a write took bytes of it, or it was empty until a frame came. */
        long progressNanos = System.nanoTime();
        /**
         * The last write left frames because the socket took no more: the queue waits for the
         * selector to say the socket is writable (OP_WRITE) instead of being tried every pass.
         */
        boolean socketFull;
        /** Gathering writes tried (for tests). */
        long writeCalls;
        boolean closing;
        boolean closed;
        ServerCore.Peer peer;
        final long acceptedNanos = System.nanoTime();
        /**
         * {@link #written} sampled at least {@link #RATE_WINDOW_NANOS} apart ({@link #sample}):
         * the older sample starts the window over which the client's rate is judged (5 to 10 s,
         * so that the bytes the socket's buffers took when the queue began do not count).
         */
        long olderNanos = acceptedNanos;
        long olderWritten;
        long newerNanos = acceptedNanos;
        long newerWritten;
        /** Bytes received on this connection. */
        long bytesReceived;
        /** When bytes last arrived (any bytes: a frame in progress counts). */
        long lastReadNanos = acceptedNanos;
        /** When the first byte of the partial frame held by {@link #decoder} arrived. */
        long frameStartNanos;
        /** When a frame was last queued for this client. */
        long lastQueuedNanos = acceptedNanos;
        /** Its Hello and the frames read after it, while the Hello waits to be taken ({@link #heldHellos}); else null. */
        List<Message> held;
        /** Not read (no OP_READ) until its Hello is taken: {@link #held} reached {@link #HELLO_FRAMES_MAX}. */
        boolean readPaused;
        /** When its Hello began to wait. */
        long heldSinceNanos;
        final String remoteAddress;

        Connection(SocketChannel channel, SelectionKey key) {
            this.channel = channel;
            this.key = key;
            this.remoteAddress = remoteAddressOf(channel);
        }

        @Override
        public String remoteAddress() {
            return remoteAddress;
        }

        @Override
        public void send(Message m) {
            if (closed) return;
            // A Hello's snapshot Borrow is one client's own (thousands per client where thousands of
            // records are checked out): not kept for sharing, which held every one until the pass ended.
            SharedFrame frame = m instanceof Message.Borrow b && b.snapshot() ? new SharedFrame(FrameCodec.encode(m))
                : encoded.computeIfAbsent(m, message -> new SharedFrame(FrameCodec.encode(message)));
            if (pending + frame.bytes.limit() > pendingBytesMax) {
                dropTooSlow(this, "more than " + pendingBytesMax + " bytes queued for this client; reconnect and catch up");
                return;
            }
            if (frame.bytes.limit() <= SMALL_FRAME_BYTES) enqueueSmall(frame.bytes);
            else enqueue(frame);
            if (queuedBytes > queuedBytesOverMax) shedQueuedFrames();
        }

        @Override
        public long pendingBytes() {
            return pending;
        }

        @Override
        public void close(String reason) {
            closing = true;
            flush();
        }

        void enqueue(SharedFrame frame) {
            lastQueuedNanos = System.nanoTime();
            if (out.isEmpty()) progressNanos = lastQueuedNanos;
            if (frame.holders++ == 0) {
                queuedBytes += frame.bytes.limit();
                queuedBytesPeak = Math.max(queuedBytesPeak, queuedBytes);
            }
            out.add(new Queued(frame.bytes.duplicate(), frame, lastQueuedNanos));
            pending += frame.bytes.limit();
        }

        /** Appends a small frame to the queue's last chunk, or to a new one when it has no room left. */
        void enqueueSmall(ByteBuffer frame) {
            lastQueuedNanos = System.nanoTime();
            if (out.isEmpty()) progressNanos = lastQueuedNanos;
            int n = frame.limit();
            Queued last = out.peekLast();
            ByteBuffer chunk;
            if (last != null && last.frame() == null && last.view().capacity() - last.view().limit() >= n) {
                chunk = last.view();
            } else {
                chunk = ByteBuffer.allocate(CHUNK_BYTES).limit(0);
                out.add(new Queued(chunk, null, lastQueuedNanos));
            }
            int end = chunk.limit();
            chunk.limit(end + n).put(end, frame, 0, n); // the view's position, what is written, stays
            queuedBytes += n;
            queuedBytesPeak = Math.max(queuedBytesPeak, queuedBytes);
            pending += n;
        }

        /** Takes the first entry off the queue; a frame's bytes stop counting once no queue holds it, a chunk's at once. */
        void dequeue() {
            Queued q = out.removeFirst();
            if (q.frame == null) queuedBytes -= q.view.limit();
            else if (--q.frame.holders == 0) queuedBytes -= q.frame.bytes.limit();
        }

        /** Empties the queue: nothing more of it will be written. */
        void clearQueue() {
            while (!out.isEmpty()) dequeue();
            pending = 0;
            carried = 0;
        }

        /**
         * True when the queue's first frame has been written in part (a frame queued now cannot go
         * before it); for a chunk, when any of it was written (its frames' ends are not kept).
         */
        boolean writingFrame() {
            return !out.isEmpty() && out.peekFirst().view.position() > 0;
        }

        /**
         * Writes the queued frames, many per system call (a gathering write): a round's replies
         * to one client, such as an Ack per change of a batch, would otherwise cost a call each.
         */
        void flush() {
            try {
                socketFull = false;
                while (!out.isEmpty()) {
                    int count = 0;
                    long offered = 0;
                    for (Queued q : out) {
                        if (count == GATHER_FRAMES || (count > 0 && offered >= GATHER_BYTES)) break;
                        gather[count++] = q.view;
                        offered += q.view.remaining();
                    }
                    writeCalls++;
                    long n = channel.write(gather, 0, count);
                    if (n > 0) progressNanos = System.nanoTime();
                    pending -= n;
                    written += n;
                    carried = Math.max(0, carried - n);
                    boolean full = gather[count - 1].hasRemaining();
                    Arrays.fill(gather, 0, count, null);
                    while (!out.isEmpty() && !out.peekFirst().view.hasRemaining()) dequeue();
                    if (full) { // the socket takes no more now: OP_WRITE resumes
                        socketFull = true;
                        break;
                    }
                }
            } catch (IOException e) {
                closeNow();
                return;
            }
            if (out.isEmpty() && closing) {
                closeNow();
            } else if (key.isValid()) {
                key.interestOps((readPaused ? 0 : SelectionKey.OP_READ) | (out.isEmpty() ? 0 : SelectionKey.OP_WRITE));
            }
        }

        /** What it read over its rate window ({@link #sample}), for a closing reason. */
        String readLately(long now) {
            return "read " + (written - olderWritten) + " bytes in the last " + (now - olderNanos) / 1_000_000 + " ms";
        }

        /** Takes a sample of {@link #written} when the last is {@link #RATE_WINDOW_NANOS} old. */
        void sample(long now) {
            if (now - newerNanos < RATE_WINDOW_NANOS) return;
            olderNanos = newerNanos;
            olderWritten = newerWritten;
            newerNanos = now;
            newerWritten = written;
        }

        /** Drops the frame being received and takes its bytes off the server-wide count. */
        void discardPartialFrame() {
            partialBytes -= decoder.bufferedBytes();
            decoder.discard();
        }

        void closeNow() {
            if (closed) return;
            closed = true;
            discardPartialFrame();
            clearQueue();
            key.cancel();
            if (held != null) {
                held = null;
                heldHellos.remove(this);
            }
            try {
                channel.close();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "closing a connection", e);
            }
            core.disconnected(peer);
            connections.remove(this);
        }
    }

    /**
     * Binds {@code address} and starts the loop thread, with the default inbound limits: partial
     * frames up to {@link Limits#PARTIAL_FRAMES_BYTES_MAX} or a quarter of the heap, whichever
     * is less, {@link Limits#HELLO_MILLIS} for the Hello and {@link Limits#SILENT_MILLIS} of
     * silence on a version 3 (or later) connection.
     */
    public SelectorLoop(ServerCore core, InetSocketAddress address, long pendingBytesMax) {
        this(core, address, pendingBytesMax, Math.min(Limits.PARTIAL_FRAMES_BYTES_MAX, Runtime.getRuntime().maxMemory() / 4),
            Limits.HELLO_MILLIS);
    }

    /** {@link Limits#QUEUED_BYTES_MAX} or a quarter of the heap, whichever is less: the default server-wide outbound limit. */
    public static long defaultQueuedBytesMax() {
        return Math.min(Limits.QUEUED_BYTES_MAX, Runtime.getRuntime().maxMemory() / 4);
    }

    /** As below, with {@link Limits#SILENT_MILLIS} of silence on a version 3 (or later) connection. */
    public SelectorLoop(ServerCore core, InetSocketAddress address, long pendingBytesMax, long partialBytesMax,
                        long helloMillis) {
        this(core, address, pendingBytesMax, partialBytesMax, helloMillis, Limits.SILENT_MILLIS);
    }

    /**
     * Binds {@code address} and starts the loop thread.
     *
     * @param partialBytesMax bytes of partly received frames held over all connections
     * @param helloMillis     how long a new connection has to send its Hello
     * @param silentMillis    how long a version 3 (or later) connection may send nothing before it is closed
     */
    public SelectorLoop(ServerCore core, InetSocketAddress address, long pendingBytesMax, long partialBytesMax,
                        long helloMillis, long silentMillis) {
        this(core, address, pendingBytesMax, defaultQueuedBytesMax(), partialBytesMax, helloMillis, silentMillis);
    }

    /**
     * Binds {@code address} and starts the loop thread.
     *
     * @param pendingBytesMax bytes queued for one connection
     * @param queuedBytesMax  bytes queued over all connections, each frame counted once ({@link #defaultQueuedBytesMax})
     * @param partialBytesMax bytes of partly received frames held over all connections
     * @param helloMillis     how long a new connection has to send its Hello
     * @param silentMillis    how long a version 3 (or later) connection may send nothing before it is closed
     */
    public SelectorLoop(ServerCore core, InetSocketAddress address, long pendingBytesMax, long queuedBytesMax,
                        long partialBytesMax, long helloMillis, long silentMillis) {
        this.core = core;
        this.pendingBytesMax = pendingBytesMax;
        this.queuedBytesMax = queuedBytesMax;
        this.queuedBytesOverMax = queuedBytesMax + queuedBytesMax / 4;
        this.partialBytesMax = partialBytesMax;
        this.helloNanos = helloMillis * 1_000_000;
        this.silentNanos = silentMillis * 1_000_000;
        try {
            selector = Selector.open();
            listener = ServerSocketChannel.open();
            listener.bind(address, 1024);
            listener.configureBlocking(false);
            listenerKey = listener.register(selector, SelectionKey.OP_ACCEPT);
        } catch (IOException e) {
            throw new CairnException("sync server cannot listen on " + hostPort(address) + ": " + e.getMessage(), e);
        }
        core.limitCatchUp(() -> queuedBytes, queuedBytesMax);
        // The log formatter reads the time zone data at its first line; out of file descriptors
        // (when the warning that accepts fail is due) it cannot open that file, and the line was lost.
        java.time.ZoneId.systemDefault().getRules();
        thread = Thread.ofPlatform().name("cairn-server-" + port()).daemon(false).start(this::run);
    }

    public int port() {
        return listener.socket().getLocalPort();
    }

    /**
     * Runs {@code body} on the loop thread and waits for its result.
     *
     * @throws IllegalStateException when the loop has ended (closed or failed) before it ran
     *     {@code body}: a task queued then would never run, and the caller would wait for ever
     */
    public <R> R call(Supplier<R> body) {
        CompletableFuture<R> f = new CompletableFuture<>();
        if (!ended.isDone()) {
            tasks.add(() -> {
                try {
                    f.complete(body.get());
                } catch (Throwable t) {
                    f.completeExceptionally(t);
                }
            });
            selector.wakeup();
            CompletableFuture.anyOf(f, ended).exceptionally(t -> null).join();
        }
        if (f.isDone()) return f.join();
        Throwable failure = ended.isCompletedExceptionally() ? ended.exceptionNow() : null;
        throw new IllegalStateException("the sync server on port " + port() + " has stopped"
            + (failure == null ? " (closed)" : " on an error: " + failure), failure);
    }

    private void run() {
        boolean more = false;
        Throwable failure = null;
        try {
            while (running) {
                // A client still catching up gets its next batch at once: waiting here even 1 ms
                // per batch of 256 records made a new node's catch-up 2.5 times slower. The loop
                // does not spin: catch-up stops while a client has 1 MiB queued (ServerCore.endRound).
                if (more) selector.selectNow(); else selector.select(acceptPausedUntil != 0 || !heldHellos.isEmpty() ? 20 : 200);
                for (Runnable t; (t = tasks.poll()) != null; ) t.run();
                takeHeldHellos();
                for (SelectionKey k : selector.selectedKeys()) {
                    if (!k.isValid()) continue;
                    if (k.isAcceptable()) accept();
                    if (k.isValid() && k.isReadable()) read((Connection) k.attachment());
                    if (k.isValid() && k.isWritable()) ((Connection) k.attachment()).flush();
                }
                selector.selectedKeys().clear();
                closeSilentConnections();
                resumeAccepting();
                more = core.endRound();
                if (!more) more = makeRoomForCatchUp();
                if (queuedBytes > queuedBytesMax) shedTrickles();
                if (!more && !heldHellos.isEmpty()) more = roomForHello(heldHellos.peekFirst().heldSinceNanos);
                for (Connection c : List.copyOf(connections)) {
                    if (!c.out.isEmpty() && !c.socketFull) c.flush();
                    c.carried = c.pending;
                }
                encoded.clear();
            }
        } catch (ClosedSelectorException e) {
            LOG.log(System.Logger.Level.DEBUG, "selector closed");
        } catch (IOException | RuntimeException | Error e) {
            failure = e;
            if (e instanceof OutOfMemoryError) freeQueues();
            try {
                LOG.log(System.Logger.Level.ERROR, "sync server loop failed", e);
            } catch (RuntimeException | Error logFailed) {
                e.addSuppressed(logFailed); // the shutdown below must still run, and ended() say why
            }
        } finally {
            try {
                shutdown();
            } catch (RuntimeException | Error e) {
                // The database did not close cleanly: ended() says so (a clean close would complete it normally).
                LOG.log(System.Logger.Level.ERROR, "sync server shutdown failed", e);
                if (failure == null) failure = e; else failure.addSuppressed(e);
            } finally {
                if (failure == null) ended.complete(null); else ended.completeExceptionally(failure);
            }
        }
    }

    /**
     * {@code address} as an operator types it, {@code host:port} ({@code [::1]:7070} for IPv6),
     * not as {@code InetSocketAddress.toString} gives it ({@code /127.0.0.1:7070}).
     */
    public static String hostPort(InetSocketAddress address) {
        String host = address.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    /** Completes when the loop thread has ended: normally after {@link #close}, exceptionally when it failed. */
    public CompletableFuture<Void> ended() {
        return ended;
    }

    /**
     * Accepts every pending connection. If that fails (typically: out of file descriptors, when
     * too many connections are open), the server stops accepting for {@link #ACCEPT_PAUSE_NANOS}
     * and serves the connections it has; the waiting ones stay in the listen backlog.
     */
    private void accept() {
        SocketChannel ch = null;
        try {
            while ((ch = listener.accept()) != null) {
                ch.configureBlocking(false);
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                if (sendBufferBytes > 0) ch.setOption(StandardSocketOptions.SO_SNDBUF, sendBufferBytes);
                SelectionKey key = ch.register(selector, SelectionKey.OP_READ);
                Connection c = new Connection(ch, key);
                key.attach(c);
                c.peer = core.connect(c);
                connections.add(c);
                ch = null;
                if (acceptFailures > 0) {
                    LOG.log(System.Logger.Level.INFO, "accepting connections again (" + connections.size() + " open) after "
                        + acceptFailures + " failed accept(s)");
                    acceptFailures = 0;
                }
            }
        } catch (IOException e) {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            if (acceptFailures++ == 0) { // once until an accept works again: it retries every pause
                String said = "cannot accept connections (" + connections.size() + " open): " + e.getMessage()
                    + "; pausing accepts for " + ACCEPT_PAUSE_NANOS / 1_000_000 + " ms at a time until one works"
                    + " (the connections waiting stay in the listen backlog)";
                try {
                    LOG.log(System.Logger.Level.WARNING, said);
                } catch (RuntimeException | Error logFailed) {
                    // Out of descriptors, a logger may fail to open a file it needs (the time zone
                    // data is loaded at start for it); standard error is open already.
                    System.err.println("cairn server: " + said);
                }
            }
            acceptPausedUntil = System.nanoTime() + ACCEPT_PAUSE_NANOS;
            listenerKey.interestOps(0);
        }
    }

    /** Accepts again once a pause after a failed accept is over. */
    private void resumeAccepting() {
        if (acceptPausedUntil != 0 && System.nanoTime() - acceptPausedUntil >= 0) {
            acceptPausedUntil = 0;
            listenerKey.interestOps(SelectionKey.OP_ACCEPT);
        }
    }

    private void read(Connection c) {
        if (c.closing) return;
        int framesMax = c.peer.greeted() ? READ_FRAMES_MAX : HELLO_FRAMES_MAX;
        int held = c.held == null ? 0 : c.held.size();
        if (held >= framesMax) {
            // Sent more while its Hello waits (a client that does not wait for the Welcome):
            // not read, so not decoded and kept, until the Hello is taken.
            c.readPaused = true;
            c.key.interestOps(c.key.interestOps() & ~SelectionKey.OP_READ);
            return;
        }
        List<Message> messages = new ArrayList<>();
        int total = 0;
        // A client sends nothing after its Hello until the Welcome, so the limit can follow the state.
        c.decoder.limit(c.peer.greeted() ? Limits.FRAME_BYTES_MAX : Limits.HELLO_FRAME_BYTES_MAX);
        try {
            while (total < READ_BYTES_MAX && !c.closed && held + messages.size() < framesMax) {
                readBuffer.clear();
                int n = c.channel.read(readBuffer);
                if (n < 0) {
                    core.closedDuringHello(c.peer, c.bytesReceived, c.held != null || helloWhole(messages));
                    c.closeNow();
                    break;
                }
                if (n == 0) break;
                total += n;
                c.bytesReceived += n;
                c.lastReadNanos = System.nanoTime();
                long before = c.decoder.bufferedBytes();
                int completed = messages.size();
                try {
                    c.decoder.feed(readBuffer.flip(), messages);
                } finally {
                    partialBytes += c.decoder.bufferedBytes() - before;
                }
                if (c.decoder.bufferedBytes() > 0 && (before == 0 || messages.size() > completed)) {
                    c.frameStartNanos = c.lastReadNanos;
                }
                if (partialBytes > partialBytesMax) {
                    shedPartialFrames(c, messages);
                    if (c.closing) return;
                }
            }
        } catch (IOException e) {
            core.closedDuringHello(c.peer, c.bytesReceived, c.held != null || helloWhole(messages));
            c.closeNow();
        } catch (ProtocolException e) {
            drop(c, messages, ErrorCode.PROTOCOL, e.getMessage());
            return;
        }
        if (total > 0 && !c.closed && c.decoder.bufferedBytes() > 0 && c.peer.heartbeat()
            && c.lastReadNanos - c.lastQueuedNanos >= pongMillis * 1_000_000) {
            c.send(PONG);
        }
        deliver(c, messages);
    }

    /**
     * Hands what was read from {@code c} to the core, or holds it back: behind a Hello that waits,
     * or as a Hello that must wait itself (see {@link #roomForHello}).
     */
    private void deliver(Connection c, List<Message> messages) {
        if (c.held != null) {
            c.held.addAll(messages);
            return;
        }
        if (!messages.isEmpty() && messages.getFirst() instanceof Message.Hello && !c.peer.greeted()) {
            if (!heldHellos.isEmpty() || !roomForHello(System.nanoTime())) {
                c.held = new ArrayList<>(messages);
                c.heldSinceNanos = System.nanoTime();
                heldHellos.add(c);
                return;
            }
            helloTakenNanos = System.nanoTime();
        }
        for (Message m : messages) core.onMessage(c.peer, m);
    }

    /**
     * Whether the core takes a Hello now: each costs a snapshot Borrow per record other nodes
     * hold, all held on the heap until the round ends and then queued, so Hellos are taken while
     * the round and the queues have room for them (the class comment says how much).
     */
    private boolean roomForHello(long waitingSince) {
        int sends = core.roundSends();
        if (sends >= ROUND_SENDS_MAX) return false;
        long now = System.nanoTime();
        return queuedBytes + (long) sends * SEND_BYTES_GUESS <= queuedBytesMax / 2
            || now - waitingSince > helloWaitNanos && now - helloTakenNanos > HELLO_GAP_NANOS;
    }

    /** Hands waiting Hellos (and what came after them) to the core, oldest first, while there is room. */
    private void takeHeldHellos() {
        while (!heldHellos.isEmpty() && roomForHello(heldHellos.peekFirst().heldSinceNanos)) {
            helloTakenNanos = System.nanoTime();
            deliverHeld(heldHellos.peekFirst());
        }
    }

    /** Hands {@code c}'s waiting Hello and what came after it to the core, and reads it again. */
    private void deliverHeld(Connection c) {
        heldHellos.remove(c);
        List<Message> messages = c.held;
        c.held = null;
        if (c.readPaused) {
            c.readPaused = false;
            c.key.interestOps(c.key.interestOps() | SelectionKey.OP_READ);
        }
        for (Message m : messages) core.onMessage(c.peer, m);
    }

    /** True when the messages read before a close hold the connection's whole Hello (the first it sends). */
    private static boolean helloWhole(List<Message> messages) {
        return !messages.isEmpty() && messages.getFirst() instanceof Message.Hello;
    }

    /**
     * Closes connections with {@link ErrorCode#BUSY} until the partial frames held fit
     * {@code partialBytesMax} again: first those whose frame arrives slowest (bytes received
     * per second since its first byte) among the frames older than
     * {@link Limits#PARTIAL_FRAME_GRACE_MILLIS}, then the younger ones, slowest first. A frame
     * that dribbles in (a slowloris) is slow by that measure and pays; a node sending a record
     * at full speed is fast, and young, and goes on. {@code reader} is the connection being
     * read, with {@code messages} decoded from it in this pass (handed over if it is closed).
     */
    private void shedPartialFrames(Connection reader, List<Message> messages) {
        long now = System.nanoTime();
        long graceNanos = Limits.PARTIAL_FRAME_GRACE_MILLIS * 1_000_000;
        while (partialBytes > partialBytesMax) {
            Connection victim = null;
            double victimRate = 0;
            boolean victimOld = false;
            for (Connection c : connections) {
                if (c.closing || c.decoder.bufferedBytes() == 0) continue;
                long age = now - c.frameStartNanos;
                boolean old = age >= graceNanos;
                double rate = c.decoder.receivedBytes() * 1e9 / Math.max(age, 1_000_000);
                boolean first = victim == null || old && !victimOld
                    || old == victimOld && (rate < victimRate
                        || rate == victimRate && c.decoder.bufferedBytes() > victim.decoder.bufferedBytes());
                if (first) {
                    victim = c;
                    victimRate = rate;
                    victimOld = old;
                }
            }
            if (victim == null) return; // every partial byte is held by closing connections: freed already
            String text = "the server holds more than " + partialBytesMax + " bytes of partly received frames, and"
                + " this connection's arrives the slowest (" + victim.decoder.receivedBytes() + " bytes in "
                + (now - victim.frameStartNanos) / 1_000_000 + " ms); retry later";
            ServerCore.Peer who = victim.peer;
            // The journal's line says it (UTC-stamped, as the operator reads them); this one is for debugging.
            LOG.log(System.Logger.Level.DEBUG, "closing " + (who.greeted() ? "the connection of node '" + who.clientName()
                + "' (" + who.clientId() + ") from " : "a connection from ") + victim.remoteAddress
                + " whose partial frame arrives the slowest (BUSY): " + text);
            boolean reading = victim == reader;
            drop(victim, reading ? List.copyOf(messages) : List.of(), ErrorCode.BUSY, text, " (from " + victim.remoteAddress + ")");
            if (reading) messages.clear();
        }
    }

    /**
     * Once the queues hold more than {@link #queuedBytesOverMax}: drops the connections that read
     * a trickle ({@link #shedTrickles}), then those that hold the most queued bytes, with {@link
     * ErrorCode#TOO_SLOW}, until the queues of all connections fit {@code queuedBytesMax} again;
     * a connection that took everything queued for it before this pass keeps up and is never
     * dropped for this limit. Frames several queues share are freed with the last of them.
     */
    private void shedQueuedFrames() {
        shedTrickles();
        while (queuedBytes > queuedBytesMax) {
            Connection victim = null;
            for (Connection c : connections) {
                if (c.closed || c.carried == 0) continue;
                if (victim == null || c.pending > victim.pending) victim = c;
            }
            if (victim == null) return;
            dropTooSlow(victim, "the server holds more than " + queuedBytesOverMax + " bytes queued for its clients (its limit, "
                + queuedBytesMax + ", and a quarter), the most of them (" + victim.pending + ") for this client, which "
                + victim.readLately(System.nanoTime()) + "; reconnect and catch up");
        }
    }

    /**
     * When a catch-up has found no room in the queues for {@link #CATCH_UP_WAIT_NANOS}, closes
     * ({@link ErrorCode#TOO_SLOW}) connections that read a trickle ({@link #dropTrickles}) until
     * the catch-up fits ({@link ServerCore#catchUpRoom}); never the waiting catch-up's own
     * connection. Returns whether it closed any (the catch-up goes next pass).
     */
    private boolean makeRoomForCatchUp() {
        long since = core.catchUpWaitingSince();
        long now = System.nanoTime();
        if (since == 0 || now - since < CATCH_UP_WAIT_NANOS) return false;
        return dropTrickles(core.catchUpRoom(), core.catchUpWaiter(), () -> "another node's catch-up waited "
            + (now - since) / 1_000_000 + " ms for room in the server's queues");
    }

    /**
     * Over {@code queuedBytesMax} (and under {@link #queuedBytesOverMax}, where {@link
     * #shedQueuedFrames} takes over): closes connections that read a trickle until the queues
     * fit again ({@link #dropTrickles}). Run once a pass, after the round's frames are queued.
     */
    private void shedTrickles() {
        dropTrickles(queuedBytesMax, null, () -> "the server holds more than " + queuedBytesMax + " bytes queued for its clients");
    }

    /**
     * Closes ({@link ErrorCode#TOO_SLOW}) connections that read a trickle, the one that would
     * take longest to read its queue first, until the queues hold at most {@code target} bytes.
     * A trickle: over its last 5 to 10 s ({@link Connection#sample}), all of them with frames
     * queued, it read less than {@link #TRICKLE_BYTES_PER_SECOND} a second. Never {@code spare},
     * nor one that took everything queued for it before this pass. {@code why} begins each
     * one's reason (made only for one closed: the check runs every pass while over the limit).
     * Returns whether it closed any.
     */
    private boolean dropTrickles(long target, ServerCore.Outbound spare, Supplier<String> why) {
        long now = System.nanoTime();
        boolean made = false;
        while (queuedBytes > 0 && queuedBytes > target) {
            Connection victim = null;
            double longest = 0; // seconds to read what is queued, at the rate read so far
            for (Connection c : connections) {
                if (c == spare || c.closed || c.carried == 0 || c.out.isEmpty()) continue;
                if (c.out.peekFirst().queuedNanos() > c.olderNanos || now - c.olderNanos < RATE_WINDOW_NANOS) continue;
                double seconds = (now - c.olderNanos) / 1e9;
                long read = c.written - c.olderWritten;
                if (read >= TRICKLE_BYTES_PER_SECOND * seconds) continue;
                double toRead = read == 0 ? Double.POSITIVE_INFINITY : c.pending * seconds / read;
                if (victim == null || toRead > longest) {
                    victim = c;
                    longest = toRead;
                }
            }
            if (victim == null) break;
            dropTooSlow(victim, why.get() + " (" + queuedBytes + " bytes queued, limit " + queuedBytesMax + "), and this client "
                + victim.readLately(now) + ", with " + victim.pending + " bytes queued for it all along; reconnect and catch up");
            made = true;
        }
        return made;
    }

    /** Closes {@code c}, whose client reads too slowly, with {@code Error(TOO_SLOW, text)} ({@link #closeWithError}). */
    private void dropTooSlow(Connection c, String text) {
        LOG.log(System.Logger.Level.DEBUG, "dropping a client that reads too slowly (" + c.pending
            + " bytes queued): " + c.peer.clientId() + " at " + c.remoteAddress);
        core.dropped(c.peer, ErrorCode.TOO_SLOW, text);
        closeWithError(c, ErrorCode.TOO_SLOW, text);
    }

    /**
     * Frees {@code c}'s queue now and closes it after {@code Error(code, text)} when the Error can
     * go first (no frame of its queue is half written; else the close alone says it).
     */
    private void closeWithError(Connection c, int code, String text) {
        boolean errorFirst = !c.writingFrame();
        c.clearQueue();
        if (errorFirst) c.enqueue(new SharedFrame(FrameCodec.encode(new Message.Error(code, text))));
        c.closing = true;
        c.flush();
        c.closeNow();
    }

    /** Hands over the messages read so far, then answers Error(code) and closes; the partial frame is dropped now. */
    private void drop(Connection c, List<Message> messages, int code, String text) {
        drop(c, messages, code, text, "");
    }

    /** As above; {@code note} goes to the server's journal line only. */
    private void drop(Connection c, List<Message> messages, int code, String text, String note) {
        if (c.held != null) deliverHeld(c); // its Hello first, however full the round: the Error answers after it
        for (Message m : messages) core.onMessage(c.peer, m);
        core.fail(c.peer, code, text, note);
        c.closing = true;
        c.discardPartialFrame();
    }

    /**
     * Closes connections that have not sent their Hello in time, and version 3 (or later) connections that
     * sent nothing for {@code silentNanos} (checked about every 100 ms: the loop's select waits
     * at most 200 ms). Runs after the pass's reads, so a connection whose bytes waited while the
     * loop was busy (a long commit) is judged by them.
     */
    private void closeSilentConnections() {
        long now = System.nanoTime();
        if (now - lastSilenceSweep < 100_000_000L) return;
        lastSilenceSweep = now;
        for (Connection c : List.copyOf(connections)) {
            c.sample(now);
            if (c.closing) continue;
            if (!c.peer.greeted()) {
                if (c.held == null && now - c.acceptedNanos > helloNanos) {
                    drop(c, List.of(), ErrorCode.PROTOCOL, "no Hello within " + helloNanos / 1_000_000
                        + " ms of the connection (a network that stalled, or a peer that is no Cairn node)");
                }
            } else if (!c.out.isEmpty() && now - c.progressNanos > silentNanos) {
                // It sends (pings) but reads nothing: its queue would hold its share of the
                // server-wide limit for ever, and catch-ups of other nodes wait for that share.
                // "took", not "read": the node may have read a little of what its socket's
                // buffers held, too little for the socket to take more of the queue.
                dropTooSlow(c, "took none of the " + c.pending + " bytes queued for it for " + (now - c.progressNanos) / 1_000_000
                    + " ms (its socket stayed full: it reads too slowly, or not at all); reconnect and catch up");
            } else if (c.peer.heartbeat() && now - c.lastReadNanos > silentNanos) {
                // Its client pings when idle, so it is gone or cannot reach us: an Error would not
                // arrive either. Closing frees its queue and buffers now; its node, if it comes
                // back, reconnects and catches up.
                core.closedFor(c.peer, "nothing received for " + (now - c.lastReadNanos) / 1_000_000
                    + " ms; its node pings when idle, so it is gone or cut off");
                c.clearQueue();
                c.closeNow();
            }
        }
    }

    /** {@code host:port} of the peer, without a host name lookup; "" when the socket does not say. */
    private static String remoteAddressOf(SocketChannel channel) {
        try {
            if (!(channel.getRemoteAddress() instanceof InetSocketAddress a)) return "";
            String host = a.getAddress().getHostAddress();
            return (a.getAddress() instanceof java.net.Inet6Address ? "[" + host + "]" : host) + ":" + a.getPort();
        } catch (IOException e) {
            return "";
        }
    }

    /** Bytes of partly received frames held now, over all connections (for tests). */
    public long partialBytes() {
        return call(() -> partialBytes);
    }

    /** Bytes of outbound frames queued now over all connections, each frame once (for tests). */
    public long queuedBytes() {
        return call(() -> queuedBytes);
    }

    /** The most {@link #queuedBytes} ever held at once (for tests). */
    public long queuedBytesPeak() {
        return call(() -> queuedBytesPeak);
    }

    /** Gathering writes tried so far for each connection (for tests). */
    public List<Long> writeCalls() {
        return call(() -> connections.stream().map(c -> c.writeCalls).toList());
    }

    /** Entries of each connection's queue now: shared frames and chunks of small frames (for tests). */
    public List<Integer> queueEntries() {
        return call(() -> connections.stream().map(c -> c.out.size()).toList());
    }

    /** Frames held behind waiting Hellos, the Hellos counted, over all connections (for tests). */
    public int heldFrames() {
        return call(() -> heldHellos.stream().mapToInt(c -> c.held.size()).sum());
    }

    /** Bytes queued now for each connection, shared frames counted in full for each (for tests). */
    public List<Long> pendingBytes() {
        return call(() -> connections.stream().map(c -> c.pending).toList());
    }

    /**
     * Out of heap: drops every connection's queue and this pass's frames at once, so that the
     * shutdown (closing the database, the log lines, the exit) has room to run. Without it the
     * queues kept the heap full: the loop's own error handling, the console and the SIGTERM
     * handler failed with OutOfMemoryError, and the process served nobody but never exited.
     */
    private void freeQueues() {
        encoded.clear();
        for (Connection c : connections) c.clearQueue();
    }

    private void shutdown() {
        for (Connection c : List.copyOf(connections)) closeWithError(c, ErrorCode.SHUTDOWN, "server shutting down");
        try {
            listener.close();
            selector.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing the listener", e);
        }
        core.close();
    }

    /**
     * Stops the loop, says goodbye to every client, closes the server database, and waits until
     * that is done, however long it takes and even if the caller is interrupted meanwhile (its
     * interrupt status is kept): a caller that starts a server on the folder next must find it
     * free. Idempotent; from the loop's own thread (a task) it only asks the loop to end after
     * this round.
     */
    @Override
    public void close() {
        running = false;
        selector.wakeup();
        if (Thread.currentThread() == thread) return;
        boolean interrupted = false;
        while (true) {
            try {
                if (thread.join(java.time.Duration.ofSeconds(10))) break;
                LOG.log(System.Logger.Level.WARNING, "still waiting for the sync server on port " + port() + " to stop");
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
