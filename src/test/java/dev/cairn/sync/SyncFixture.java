package dev.cairn.sync;

import dev.cairn.Cairn;
import dev.cairn.CairnServer;
import dev.cairn.Event;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.testing.Fixtures;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** A server and its clients on 127.0.0.1 in a temporary folder, closed at the end. */
final class SyncFixture implements AutoCloseable {
    static final String APP = "test-app";
    final Path dir;
    CairnServer server;
    final List<Cairn> clients = new ArrayList<>();
    final Map<Cairn, List<Event>> events = new java.util.IdentityHashMap<>();
    private final int rangeIds;
    private int port;

    SyncFixture(Path dir) {
        this(dir, 50);
    }

    SyncFixture(Path dir, int rangeIds) {
        this.dir = dir;
        this.rangeIds = rangeIds;
        startServer();
    }

    void startServer() {
        server = CairnServer.start(dir.resolve("server"), new InetSocketAddress("127.0.0.1", port), APP, rangeIds,
            dev.cairn.internal.Limits.PENDING_BYTES_MAX);
        port = server.port();
    }

    void restartServer() {
        server.close();
        startServer();
    }

    int port() {
        return port;
    }

    Cairn open(String name) {
        return open(name, APP);
    }

    Cairn open(String name, String appId) {
        return open(name, options(name).withAppId(appId));
    }

    /** The options {@link #open(String)} uses: node and user named {@code name}, this fixture's app. */
    static Cairn.Options options(String name) {
        return Cairn.Options.defaults().withNodeName(name).withUser(name).withAppId(APP);
    }

    Cairn open(String name, Cairn.Options options) {
        Cairn c = Cairn.open(dir.resolve(name), options);
        clients.add(c);
        List<Event> list = new CopyOnWriteArrayList<>();
        events.put(c, list);
        c.subscribe(list::add);
        return c;
    }

    Cairn reopen(Cairn c, String name) {
        clients.remove(c);
        c.close();
        return open(name);
    }

    /** The server's check-out of {@code k} (holder and queue), or null when it is free. */
    CairnServer.CheckOut checkOutOf(Key<?> k) {
        return server.checkOuts().stream().filter(c -> c.key().equals(k)).findFirst().orElse(null);
    }

    /** Three connected nodes a, b and c, their Part trees, and a part a made, all hold, and a checked out. */
    record HeldByA(Cairn a, Cairn b, Cairn c, Tree<Fixtures.Part> pa, Tree<Fixtures.Part> pb, Tree<Fixtures.Part> pc,
                   Key<Fixtures.Part> key) { }

    HeldByA heldByA() {
        Cairn a = connected("a");
        Cairn b = connected("b");
        Cairn c = connected("c");
        Tree<Fixtures.Part> pa = a.tree(Fixtures.Part.class);
        Tree<Fixtures.Part> pb = b.tree(Fixtures.Part.class);
        Tree<Fixtures.Part> pc = c.tree(Fixtures.Part.class);
        Key<Fixtures.Part> k = pa.insert(Fixtures.part(1));
        await("b and c have it", () -> pb.contains(k) && pc.contains(k));
        pa.checkOut(k).orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join();
        return new HeldByA(a, b, c, pa, pb, pc, k);
    }

    Cairn connected(String name) {
        Cairn c = open(name);
        c.connect("127.0.0.1", port).orTimeout(20, java.util.concurrent.TimeUnit.SECONDS).join();
        return c;
    }

    /** The frame of a Hello from a new client of {@link #APP}, for tests that talk to a server over a raw socket. */
    static byte[] helloFrame(String clientName) {
        return FrameCodec.encode(new Message.Hello(FrameCodec.PROTOCOL_VERSION, APP, java.util.UUID.randomUUID(), clientName,
            0, List.of(), List.of(), new byte[0], Message.NONE));
    }

    /** Reads a raw socket until {@code count} messages have arrived or the server closed it; returns what arrived. */
    static List<Message> readMessages(java.net.Socket s, int count) throws java.io.IOException {
        FrameCodec.Decoder decoder = new FrameCodec.Decoder();
        List<Message> out = new ArrayList<>();
        byte[] buf = new byte[64 << 10];
        while (out.size() < count) {
            int n = s.getInputStream().read(buf);
            if (n < 0) break;
            decoder.feed(java.nio.ByteBuffer.wrap(buf, 0, n), out);
        }
        return out;
    }

    /**
     * Reads messages until the {@code count}-th of {@code type} arrived (the server still serves
     * the connection), failing if the server closes it first (or the socket's read timeout passes).
     */
    static List<Message> readUntil(java.net.Socket s, int count, Class<? extends Message> type) throws java.io.IOException {
        FrameCodec.Decoder decoder = new FrameCodec.Decoder();
        List<Message> out = new ArrayList<>();
        byte[] buf = new byte[64 << 10];
        while (out.stream().filter(type::isInstance).count() < count) {
            int n = s.getInputStream().read(buf);
            if (n < 0) throw new AssertionError("the server closed the connection before " + count + " " + type.getSimpleName()
                + ": " + out);
            decoder.feed(java.nio.ByteBuffer.wrap(buf, 0, n), out);
        }
        return out;
    }

    static void await(String what, BooleanSupplier condition) {
        await(what, condition, 20_000);
    }

    static void await(String what, BooleanSupplier condition, long millis) {
        await(what, condition, millis, () -> "");
    }

    static void await(String what, BooleanSupplier condition, long millis, Supplier<String> detail) {
        dev.cairn.testing.Await.until(what, condition, millis, detail);
    }

    /** The contents of a tree as key -> value.toString(), in key order. */
    static <V extends Record> Map<String, String> contents(Tree<V> t) {
        Map<String, String> m = new TreeMap<>();
        t.forEach((k, v) -> m.put(k.toString(), v.toString()));
        return m;
    }

    /** Inserts {@code values} into {@code tree} of {@code node} in one write batch and checks every one out (waits for the grants). */
    static <V extends Record> List<Key<V>> insertCheckedOut(Cairn node, Tree<V> tree, List<V> values) {
        List<Key<V>> keys = new java.util.ArrayList<>();
        node.write(() -> {
            for (V v : values) keys.add(tree.insert(v));
        });
        java.util.concurrent.CompletableFuture.allOf(keys.stream().map(tree::checkOut).toArray(java.util.concurrent.CompletableFuture[]::new))
            .orTimeout(60, java.util.concurrent.TimeUnit.SECONDS).join();
        return keys;
    }

    static <V extends Record> void awaitSame(List<Tree<V>> trees) {
        Supplier<String> diff = () -> {
            Map<String, String> first = contents(trees.getFirst());
            for (Tree<V> t : trees) {
                if (!contents(t).equals(first)) return "differ";
            }
            return null;
        };
        await("replicas converge", () -> diff.get() == null);
    }

    static Key<?> any(Key<?> k) {
        return k;
    }

    @Override
    public void close() {
        for (Cairn c : clients) {
            try {
                c.close();
            } catch (RuntimeException e) {
                // already closed by the test
            }
        }
        server.close();
    }
}
