package dev.cairn.sync.net;

import dev.cairn.CairnException;
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
 *   <li>Every connection's outbound queue holds at most {@code pendingBytesMax} bytes; a client
 *       that reads slower than that is dropped (it reconnects and catches up incrementally),
 *       so a slow client never stalls the others or grows the server's memory.
 * </ul>
 */
public final class SelectorLoop implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SelectorLoop.class.getName());
    private static final int READ_BYTES_MAX = 1 << 20;

    private final ServerCore core;
    private final Selector selector;
    private final ServerSocketChannel listener;
    private final long pendingBytesMax;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final List<Connection> connections = new ArrayList<>();
    private final ByteBuffer readBuffer = ByteBuffer.allocate(64 * 1024);
    private final Thread thread;
    private volatile boolean running = true;

    private final class Connection implements ServerCore.Outbound {
        final SocketChannel channel;
        final SelectionKey key;
        final FrameCodec.Decoder decoder = new FrameCodec.Decoder();
        final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
        long pending;
        boolean closing;
        boolean closed;
        ServerCore.Peer peer;

        Connection(SocketChannel channel, SelectionKey key) {
            this.channel = channel;
            this.key = key;
        }

        @Override
        public void send(Message m) {
            if (closed) return;
            byte[] frame = FrameCodec.encode(m);
            if (pending + frame.length > pendingBytesMax) {
                LOG.log(System.Logger.Level.INFO, "dropping a client that reads too slowly ("
                    + pending + " bytes queued)");
                out.clear();
                out.add(ByteBuffer.wrap(FrameCodec.encode(new Message.Error(ErrorCode.TOO_SLOW,
                    "more than " + pendingBytesMax + " bytes queued for this client; reconnect and catch up"))));
                closing = true;
                core.disconnected(peer);
                flush();
                if (!closed) closeNow();
                return;
            }
            out.add(ByteBuffer.wrap(frame));
            pending += frame.length;
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

        void flush() {
            try {
                while (!out.isEmpty()) {
                    ByteBuffer b = out.peekFirst();
                    int n = channel.write(b);
                    pending -= n;
                    if (b.hasRemaining()) break;
                    out.removeFirst();
                }
            } catch (IOException e) {
                closeNow();
                return;
            }
            if (out.isEmpty() && closing) {
                closeNow();
            } else if (key.isValid()) {
                key.interestOps(out.isEmpty() ? SelectionKey.OP_READ : SelectionKey.OP_READ | SelectionKey.OP_WRITE);
            }
        }

        void closeNow() {
            if (closed) return;
            closed = true;
            key.cancel();
            try {
                channel.close();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "closing a connection", e);
            }
            core.disconnected(peer);
            connections.remove(this);
        }
    }

    /** Binds {@code address} and starts the loop thread. */
    public SelectorLoop(ServerCore core, InetSocketAddress address, long pendingBytesMax) {
        this.core = core;
        this.pendingBytesMax = pendingBytesMax;
        try {
            selector = Selector.open();
            listener = ServerSocketChannel.open();
            listener.bind(address, 1024);
            listener.configureBlocking(false);
            listener.register(selector, SelectionKey.OP_ACCEPT);
        } catch (IOException e) {
            throw new CairnException("sync server cannot listen on " + address + ": " + e.getMessage(), e);
        }
        thread = Thread.ofPlatform().name("cairn-server-" + port()).daemon(false).start(this::run);
    }

    public int port() {
        return listener.socket().getLocalPort();
    }

    /** Runs {@code body} on the loop thread and waits for its result. */
    public <R> R call(Supplier<R> body) {
        CompletableFuture<R> f = new CompletableFuture<>();
        tasks.add(() -> {
            try {
                f.complete(body.get());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        selector.wakeup();
        return f.join();
    }

    private void run() {
        boolean more = false;
        try {
            while (running) {
                selector.select(more ? 1 : 200);
                for (Runnable t; (t = tasks.poll()) != null; ) t.run();
                for (SelectionKey k : selector.selectedKeys()) {
                    if (!k.isValid()) continue;
                    if (k.isAcceptable()) accept();
                    if (k.isValid() && k.isReadable()) read((Connection) k.attachment());
                    if (k.isValid() && k.isWritable()) ((Connection) k.attachment()).flush();
                }
                selector.selectedKeys().clear();
                more = core.endRound();
                for (Connection c : List.copyOf(connections)) {
                    if (!c.out.isEmpty()) c.flush();
                }
            }
        } catch (ClosedSelectorException e) {
            LOG.log(System.Logger.Level.DEBUG, "selector closed");
        } catch (IOException | RuntimeException | Error e) {
            LOG.log(System.Logger.Level.ERROR, "sync server loop failed", e);
        } finally {
            shutdown();
        }
    }

    private void accept() throws IOException {
        for (SocketChannel ch; (ch = listener.accept()) != null; ) {
            ch.configureBlocking(false);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            SelectionKey key = ch.register(selector, SelectionKey.OP_READ);
            Connection c = new Connection(ch, key);
            key.attach(c);
            c.peer = core.connect(c);
            connections.add(c);
        }
    }

    private void read(Connection c) {
        if (c.closing) return;
        List<Message> messages = new ArrayList<>();
        int total = 0;
        try {
            while (total < READ_BYTES_MAX) {
                readBuffer.clear();
                int n = c.channel.read(readBuffer);
                if (n < 0) {
                    c.closeNow();
                    break;
                }
                if (n == 0) break;
                total += n;
                c.decoder.feed(readBuffer.flip(), messages);
            }
        } catch (IOException e) {
            c.closeNow();
        } catch (ProtocolException e) {
            for (Message m : messages) core.onMessage(c.peer, m);
            core.fail(c.peer, ErrorCode.PROTOCOL, e.getMessage());
            c.closing = true;
            return;
        }
        for (Message m : messages) core.onMessage(c.peer, m);
    }

    private void shutdown() {
        for (Connection c : List.copyOf(connections)) {
            c.out.clear();
            c.out.add(ByteBuffer.wrap(FrameCodec.encode(new Message.Error(ErrorCode.SHUTDOWN, "server shutting down"))));
            c.closing = true;
            c.flush();
            c.closeNow();
        }
        try {
            listener.close();
            selector.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing the listener", e);
        }
        core.close();
    }

    /** Stops the loop, says goodbye to every client, closes the server database. Idempotent. */
    @Override
    public void close() {
        if (!running) return;
        running = false;
        selector.wakeup();
        if (Thread.currentThread() != thread) {
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
