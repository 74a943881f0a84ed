package dev.cairn.sync.net;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Cairn;
import dev.cairn.Tree;
import dev.cairn.sync.ErrorCode;
import dev.cairn.sync.FrameCodec;
import dev.cairn.sync.Message;
import dev.cairn.sync.SyncException;
import dev.cairn.testing.Fixtures.Part;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A first link to something that takes the Hello and then closes, or says nothing: the connect
 * future fails saying so, and the node, which refuses inserts while a first link is under way
 * (its id pools may be replaced), takes them again. Before, the first kind was retried for ever
 * and the second waited for ever, and inserts stayed refused all the while.
 */
class MisbehavingServerTest {
    @TempDir Path dir;

    @Test
    void aServerThatClosesAfterTheHelloFailsTheFirstLink() throws Exception {
        assertFirstLinkFails(false, "the server closed the connection before the link was made");
    }

    @Test
    void aServerThatNeverWelcomesFailsTheFirstLinkInTime() throws Exception {
        long before = SyncClient.helloMillis;
        SyncClient.helloMillis = 500;
        try {
            assertFirstLinkFails(true, "no Welcome within 500 ms of the Hello");
        } finally {
            SyncClient.helloMillis = before;
        }
    }

    /** An Error and the close right behind it, read in one pass: the Error is what the client reports. */
    @Test
    void anErrorRightBeforeTheCloseIsHeard() throws Exception {
        try (ServerSocket fake = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
             Cairn db = Cairn.open(dir.resolve("told"))) {
            Thread server = Thread.ofPlatform().daemon().start(() -> {
                try (Socket s = fake.accept()) {
                    s.getInputStream().read(new byte[4096]);
                    s.getOutputStream().write(dev.cairn.sync.FrameCodec.encode(
                        new dev.cairn.sync.Message.Error(dev.cairn.sync.ErrorCode.APP_ID, "application id 'x' (expected: 'y')")));
                } catch (IOException e) {
                    // the test is over
                }
            });
            CompletableFuture<Void> link = db.connect("127.0.0.1", fake.getLocalPort());
            ExecutionException e = assertThrows(ExecutionException.class, () -> link.get(10, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("APP_ID: application id 'x' (expected: 'y')"), e.getCause().getMessage());
            server.join(5_000);
        }
    }

    /**
     * A Welcome below the oldest protocol version the node speaks: the node answers Error(VERSION),
     * stores nothing of it (a real server links it afterwards) and does not retry. Before, it took
     * the version as it was and linked to that server.
     */
    @Test
    void aWelcomeBelowTheOldestVersionStopsTheLinkAndStoresNothing() throws Exception {
        try (Cairn db = Cairn.open(dir.resolve("old"))) {
            List<Message> answers = firstLinkTo(db, new Message.Welcome(1, UUID.randomUUID(), 0, UUID.randomUUID()),
                "the server answered with protocol version 1; this node speaks 2 to 9; nothing was changed");
            assertEquals(List.of(new Message.Error(ErrorCode.VERSION,
                "the server answered with protocol version 1; this node speaks 2 to 9; nothing was changed")), answers);
            // Nothing of the fake Welcome was stored: the node links to a real server.
            try (dev.cairn.CairnServer real = dev.cairn.CairnServer.start(dir.resolve("server"), 0)) {
                db.connect("127.0.0.1", real.port()).get(30, TimeUnit.SECONDS);
            }
        }
    }

    /** A message only a client sends: the node tells the server Error(PROTOCOL) before it closes (before, it queued the Error and closed without sending it). */
    @Test
    void aProtocolViolationIsToldToTheServer() throws Exception {
        try (Cairn db = Cairn.open(dir.resolve("violated"))) {
            List<Message> answers = firstLinkTo(db, new Message.Ping(), "protocol: Ping from the server");
            assertEquals(List.of(new Message.Error(ErrorCode.PROTOCOL, "Ping from the server")), answers);
        }
    }

    /**
     * A server that links the node and then ends every connection with Error(PROTOCOL) on the
     * change the node sends again on each: the node backs off (50 ms doubling to 5 s) instead of
     * reconnecting every 50 ms. Before, every connection that got LIVE reset the backoff, so a
     * refused change made the node link and close about 12 times a second, for ever.
     */
    @Test
    void aChangeRefusedOnEveryConnectionBacksOff() throws Exception {
        int made = connectionsIn3s("refused", attempt -> new Message.Error(ErrorCode.PROTOCOL,
            "change of Part/0.0: the record bytes do not decode"));
        // 50 + 100 + 200 + 400 + 800 + 1600 ms between them: 7 at most in 3 s; every 50 ms, 30 or more
        assertTrue(made >= 2 && made <= 8, "connections in 3 s: " + made);
    }

    /**
     * The same with BUSY, whose text names the bytes and time of each attempt: the same ending
     * by its code. Before, each text looked new, the backoff stayed at 50 ms, and a node with a
     * record too large for a small server's heap reconnected ~10 times a second (probe 103: 326
     * connections in 30 s).
     */
    @Test
    void aBusyCloseOnEveryConnectionBacksOffThoughItsTextDiffers() throws Exception {
        int made = connectionsIn3s("busy", attempt -> new Message.Error(ErrorCode.BUSY, "the server holds more than 8388608"
            + " bytes of partly received frames, and this connection's arrives the slowest (" + (1000 + attempt) + " bytes in "
            + attempt + " ms); retry later"));
        assertTrue(made >= 2 && made <= 8, "connections in 3 s: " + made);
    }

    /**
     * A fake server that links the node, then ends each connection with {@code ending(attempt)}
     * once the node sent its pending change: how many connections the node made in 3 s.
     */
    private int connectionsIn3s(String folder, java.util.function.IntFunction<Message.Error> ending) throws Exception {
        List<Long> connections = new CopyOnWriteArrayList<>();
        UUID serverId = UUID.randomUUID();
        try (ServerSocket fake = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
             Cairn db = Cairn.open(dir.resolve(folder))) {
            Tree<Part> parts = db.tree(Part.class);
            parts.insert(new Part("refused", "m", 1, 1L, List.of()));
            Thread server = Thread.ofPlatform().daemon().start(() -> {
                while (true) {
                    try (Socket s = fake.accept()) {
                        connections.add(System.nanoTime());
                        FrameCodec.Decoder decoder = new FrameCodec.Decoder();
                        List<Message> in = new ArrayList<>();
                        byte[] buf = new byte[4096];
                        for (int n; in.isEmpty() && (n = s.getInputStream().read(buf)) >= 0; ) {
                            decoder.feed(ByteBuffer.wrap(buf, 0, n), in);
                        }
                        s.getOutputStream().write(FrameCodec.encode(new Message.Welcome(FrameCodec.PROTOCOL_VERSION, serverId,
                            0, UUID.randomUUID())));
                        s.getOutputStream().write(FrameCodec.encode(new Message.CaughtUp(0)));
                        while (in.stream().noneMatch(m -> m instanceof Message.Change)) {
                            int n = s.getInputStream().read(buf);
                            if (n < 0) break;
                            decoder.feed(ByteBuffer.wrap(buf, 0, n), in);
                        }
                        s.getOutputStream().write(FrameCodec.encode(ending.apply(connections.size())));
                    } catch (IOException e) {
                        if (fake.isClosed()) return; // the test is over
                    }
                }
            });
            db.connect("127.0.0.1", fake.getLocalPort());
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (connections.isEmpty() && System.nanoTime() < until) Thread.sleep(10);
            Thread.sleep(3_000);
            int made = connections.size();
            db.disconnect();
            fake.close();
            server.join(5_000);
            return made;
        }
    }

    /**
     * A fake server that answers the node's Hello with {@code reply}: the first link fails with
     * {@code expected} and is not retried. Returns what the node sent after its Hello.
     */
    private static List<Message> firstLinkTo(Cairn db, Message reply, String expected) throws Exception {
        AtomicInteger accepted = new AtomicInteger();
        List<Message> answers = new CopyOnWriteArrayList<>();
        try (ServerSocket fake = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
            Thread server = Thread.ofPlatform().daemon().start(() -> {
                while (true) {
                    try (Socket s = fake.accept()) {
                        accepted.incrementAndGet();
                        List<Message> hello = new ArrayList<>();
                        FrameCodec.Decoder decoder = new FrameCodec.Decoder();
                        byte[] buf = new byte[4096];
                        for (int n; hello.isEmpty() && (n = s.getInputStream().read(buf)) >= 0; ) {
                            decoder.feed(ByteBuffer.wrap(buf, 0, n), hello);
                        }
                        s.getOutputStream().write(FrameCodec.encode(reply));
                        for (int n; (n = s.getInputStream().read(buf)) >= 0; ) decoder.feed(ByteBuffer.wrap(buf, 0, n), answers);
                    } catch (IOException e) {
                        return; // the listener closed: the test is over
                    }
                }
            });
            CompletableFuture<Void> link = db.connect("127.0.0.1", fake.getLocalPort());
            ExecutionException e = assertThrows(ExecutionException.class, () -> link.get(10, TimeUnit.SECONDS));
            assertInstanceOf(SyncException.class, e.getCause());
            assertTrue(e.getCause().getMessage().endsWith(expected), e.getCause().getMessage());
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (answers.isEmpty() && System.nanoTime() < until) Thread.sleep(10);
            Thread.sleep(300); // a node that retried would be back within its first backoff (50 ms)
            assertEquals(1, accepted.get(), "connections the node made");
            fake.close();
            server.join(5_000);
        }
        return answers;
    }

    private void assertFirstLinkFails(boolean silent, String expected) throws Exception {
        try (ServerSocket fake = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
             Cairn db = Cairn.open(dir.resolve(silent ? "silent" : "closing"))) {
            Thread server = Thread.ofPlatform().daemon().start(() -> {
                try (Socket s = fake.accept()) {
                    s.getInputStream().read(new byte[4096]); // the Hello
                    if (silent) Thread.sleep(30_000);
                } catch (IOException | InterruptedException e) {
                    // the test is over
                }
            });
            Tree<Part> parts = db.tree(Part.class);
            parts.insert(new Part("before", "m", 1, 1L, List.of()));
            CompletableFuture<Void> link = db.connect("127.0.0.1", fake.getLocalPort());
            ExecutionException e = assertThrows(ExecutionException.class, () -> link.get(10, TimeUnit.SECONDS));
            assertInstanceOf(SyncException.class, e.getCause());
            assertTrue(e.getCause().getMessage().endsWith(expected), e.getCause().getMessage());
            parts.insert(new Part("after", "m", 2, 2L, List.of()));
            assertEquals(2, parts.size());
            server.interrupt();
        }
    }
}
