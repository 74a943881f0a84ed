package dev.cairn.sync.net;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Cairn;
import dev.cairn.Tree;
import dev.cairn.sync.SyncException;
import dev.cairn.testing.Fixtures.Part;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
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
