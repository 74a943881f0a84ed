package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.Event;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node pointed at an address where another kind of server answers (here: HTTP) is told that
 * the peer is no Cairn server, with the bytes it answered. Before, a node that never linked
 * failed with "frame length 1213486160 (expected: 1..16777216)", and a linked node's connect
 * never completed and published no event (probe helper-43).
 */
@Timeout(60)
class NotACairnServerTest {
    @TempDir Path dir;

    /** Answers every connection with an HTTP error, as a web server does to bytes it cannot parse. */
    private static final class HttpPeer implements AutoCloseable {
        final ServerSocket socket;
        final Thread thread;

        HttpPeer() throws IOException {
            socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            thread = Thread.ofPlatform().daemon().start(() -> {
                while (!socket.isClosed()) {
                    try (Socket s = socket.accept()) {
                        InputStream in = s.getInputStream();
                        in.read(new byte[512]);
                        s.getOutputStream().write("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                        s.getOutputStream().flush();
                    } catch (IOException e) {
                        // closed: the test is over
                    }
                }
            });
        }

        int port() {
            return socket.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    @Test
    void aNodeThatNeverLinkedIsToldThePeerIsNoCairnServer() throws IOException {
        try (SyncFixture f = new SyncFixture(dir); HttpPeer http = new HttpPeer()) {
            Cairn n = f.open("n");
            CompletionException e = assertThrows(CompletionException.class,
                () -> n.connect("127.0.0.1", http.port()).orTimeout(20, TimeUnit.SECONDS).join());
            String message = e.getCause().getMessage();
            assertInstanceOf(SyncException.class, e.getCause(), message);
            assertTrue(message.startsWith("cannot link to 127.0.0.1:" + http.port() + ": the peer at 127.0.0.1:" + http.port()
                + " is not a Cairn server"), message);
            assertTrue(message.endsWith("it began \"HTTP/1.1 400 Bad Request\")"), message);
        }
    }

    @Test
    void aLinkedNodeIsToldAtItsConnectAndByAnEventAndKeepsTrying() throws IOException {
        try (SyncFixture f = new SyncFixture(dir); HttpPeer http = new HttpPeer()) {
            Cairn a = f.reopen(f.connected("a"), "a");
            CompletionException e = assertThrows(CompletionException.class,
                () -> a.connect("127.0.0.1", http.port()).orTimeout(20, TimeUnit.SECONDS).join());
            assertTrue(e.getCause().getMessage().startsWith("the peer at 127.0.0.1:" + http.port() + " is not a Cairn server"),
                e.getCause().getMessage());
            await("a was told by an event", () -> f.events.get(a).stream().anyMatch(ev -> ev instanceof Event.Disconnected d
                && d.reason().contains("is not a Cairn server") && d.reason().endsWith("(still trying)")), 15_000,
                () -> "" + f.events.get(a));
        }
    }
}
