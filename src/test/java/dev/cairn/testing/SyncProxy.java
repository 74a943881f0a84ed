package dev.cairn.testing;

import dev.cairn.sync.FrameCodec;
import dev.cairn.sync.Message;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A TCP proxy to the server on 127.0.0.1 that records the frames each way. {@link #freeze}
 * makes the network silent: nothing more is forwarded either way, on the connections there
 * are and on new ones, and no close is passed on, while every socket stays open (what is
 * sent is read and dropped). After {@link #unfreeze} new connections work again; frozen ones
 * stay silent (their streams lost bytes). {@link #downBytesPerSecond} slows the server's
 * side down; {@link #gate} answers a Hello in the server's place (an older server).
 */
public final class SyncProxy implements AutoCloseable {
    private final ServerSocket listener;
    /** The connections made through the proxy, in order. */
    public final List<Pair> pairs = new CopyOnWriteArrayList<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile boolean frozen;
    /** Bytes per second the server's side is passed on at; 0 = as fast as they come. */
    public volatile int downBytesPerSecond;
    /** Bytes per second the node's side is passed on at; 0 = as fast as they come. */
    public volatile int upBytesPerSecond;
    /** When set, a new connection is closed at once, before any byte (a network that resets every attempt). */
    public volatile boolean resetNew;
    /** The connections closed at once by {@link #resetNew}. */
    public final java.util.concurrent.atomic.AtomicInteger reset = new java.util.concurrent.atomic.AtomicInteger();
    /** Answers a Hello in the server's place when it returns an Error (the Hello then goes no further); null = none. */
    public volatile Function<Message.Hello, Message.Error> gate;

    public SyncProxy(int serverPort) throws IOException {
        listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().name("proxy-accept").start(() -> {
            try {
                while (true) {
                    Socket node = listener.accept();
                    if (resetNew) {
                        reset.incrementAndGet();
                        node.setSoLinger(true, 0);
                        node.close();
                        continue;
                    }
                    Socket server = new Socket(InetAddress.getLoopbackAddress(), serverPort);
                    sockets.add(node);
                    sockets.add(server);
                    Pair p = new Pair(node, server, frozen);
                    pairs.add(p);
                    p.start(gate);
                }
            } catch (IOException closed) {
                // the test ended
            }
        });
    }

    public int port() {
        return listener.getLocalPort();
    }

    public void freeze() {
        frozen = true;
        for (Pair p : pairs) p.frozen = true;
    }

    public void unfreeze() {
        frozen = false;
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : sockets) s.close();
    }

    /** One connection through the proxy: the node's socket and the server's. */
    public final class Pair {
        private final Socket node;
        private final Socket server;
        /** The frames the node sent. */
        public final List<Message> up = new CopyOnWriteArrayList<>();
        /** The frames the server sent (also while frozen or dropped). */
        public final List<Message> down = new CopyOnWriteArrayList<>();
        private volatile boolean frozen;
        /** The server closed its side. */
        public volatile boolean serverClosed;

        Pair(Socket node, Socket server, boolean frozen) {
            this.node = node;
            this.server = server;
            this.frozen = frozen;
        }

        void start(Function<Message.Hello, Message.Error> gate) {
            Thread.ofPlatform().daemon().name("proxy-up").start(() -> {
                FrameCodec.Decoder decoder = new FrameCodec.Decoder();
                ByteArrayOutputStream held = gate == null ? null : new ByteArrayOutputStream();
                byte[] buf = new byte[64 << 10];
                try {
                    InputStream in = node.getInputStream();
                    OutputStream out = server.getOutputStream();
                    for (int n; (n = in.read(buf)) >= 0; ) {
                        List<Message> got = new ArrayList<>();
                        decoder.feed(ByteBuffer.wrap(buf, 0, n), got);
                        up.addAll(got);
                        if (held != null) {
                            held.write(buf, 0, n);
                            if (got.isEmpty()) continue;
                            Message.Error refusal = got.getFirst() instanceof Message.Hello h ? gate.apply(h) : null;
                            if (refusal != null) {
                                node.getOutputStream().write(FrameCodec.encode(refusal));
                                node.close();
                                server.close();
                                return;
                            }
                            if (!frozen) out.write(held.toByteArray());
                            held = null;
                            continue;
                        }
                        if (!frozen) write(out, buf, n, upBytesPerSecond);
                    }
                } catch (IOException e) {
                    // closed
                } finally {
                    if (!frozen) closeQuietly(server);
                }
            });
            Thread.ofPlatform().daemon().name("proxy-down").start(() -> {
                FrameCodec.Decoder decoder = new FrameCodec.Decoder();
                byte[] buf = new byte[64 << 10];
                try {
                    InputStream in = server.getInputStream();
                    OutputStream out = node.getOutputStream();
                    while (true) {
                        int n;
                        try {
                            n = in.read(buf);
                        } catch (IOException e) {
                            n = -1;
                        }
                        if (n < 0) {
                            serverClosed = true;
                            break;
                        }
                        List<Message> got = new ArrayList<>();
                        decoder.feed(ByteBuffer.wrap(buf, 0, n), got);
                        down.addAll(got);
                        if (frozen) continue;
                        write(out, buf, n, downBytesPerSecond);
                    }
                } catch (IOException e) {
                    // the node's side is closed
                } finally {
                    if (!frozen) closeQuietly(node);
                }
            });
        }

        /**
         * Ends the connection on the node's side only: the server's side stays open, and what
         * it sends is recorded, not passed on (a network drop the server has not noticed).
         */
        public void drop() {
            frozen = true;
            closeQuietly(node);
        }

        /** Ends the connection on both sides (a server restart, as the node sees it). */
        public void cut() {
            closeQuietly(node);
            closeQuietly(server);
        }

        private static void closeQuietly(Socket s) {
            try {
                s.close();
            } catch (IOException e) {
                // already closed
            }
        }
    }

    /** Passes {@code n} bytes on, at {@code rate} bytes per second (0: at once). */
    private static void write(OutputStream out, byte[] buf, int n, int rate) throws IOException {
        int step = rate == 0 ? n : 16 << 10;
        for (int at = 0; at < n; at += step) {
            int len = Math.min(step, n - at);
            out.write(buf, at, len);
            if (rate != 0) sleep(len * 1000L / rate);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
