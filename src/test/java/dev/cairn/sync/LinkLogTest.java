package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.sync.net.SyncClient;
import dev.cairn.testing.LogLines;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node's link names its database folder and its server in every log line: with several
 * Cairn instances in one JVM, "INFO: connection closed; retrying in 50 ms" named neither.
 */
@Timeout(60)
class LinkLogTest {
    @TempDir Path dir;

    @Test
    void theLinksLogLinesNameTheDatabaseFolderAndTheServer() {
        try (LogLines log = new LogLines(SyncClient.class); SyncFixture f = new SyncFixture(dir)) {
            List<String> lines = log.lines;
            f.connected("a");
            String prefix = "sync of " + dir.resolve("a") + " with 127.0.0.1:" + f.port() + ": ";
            f.server.close();
            await("the link says it retries", () -> lines.stream().anyMatch(l -> l.startsWith(prefix)
                && l.endsWith("; retrying in 50 ms")));
            assertTrue(lines.stream().filter(l -> l.contains("retrying in")).allMatch(l -> l.startsWith(prefix)), lines.toString());
        }
    }

    /**
     * A connection that ends without an Error from the server (it was killed, or something
     * between closed it) says so in its Disconnected event (probe 101: "disconnected from
     * ADDRESS" and no more); a server that stops says SHUTDOWN.
     */
    @Test
    void aDisconnectedEventSaysHowTheConnectionEnded() throws Exception {
        try (SyncFixture f = new SyncFixture(dir); dev.cairn.testing.SyncProxy proxy = new dev.cairn.testing.SyncProxy(f.port())) {
            dev.cairn.Cairn a = f.open("a");
            a.connect("127.0.0.1", proxy.port()).orTimeout(20, java.util.concurrent.TimeUnit.SECONDS).join();
            proxy.pairs.getLast().cut();
            String cut = "disconnected from 127.0.0.1:" + proxy.port() + ": the connection was closed by the server's end,"
                + " without an error";
            await("the Disconnected says the connection was closed", () -> f.events.get(a).stream()
                .anyMatch(e -> e instanceof dev.cairn.Event.Disconnected d && d.reason().equals(cut)), 20_000,
                () -> f.events.get(a).toString());
            await("connected again", () -> f.events.get(a).stream().filter(e -> e instanceof dev.cairn.Event.Connected).count() == 2);
            f.server.close();
            await("the Disconnected names the shutdown", () -> f.events.get(a).stream().anyMatch(e -> e instanceof
                dev.cairn.Event.Disconnected d && d.reason().equals("disconnected from 127.0.0.1:" + proxy.port()
                + ": SHUTDOWN: server shutting down")), 20_000, () -> f.events.get(a).toString());
        }
    }

    /**
     * A close inside a frame says that it may be the server closing a slow reader: such a server
     * cannot send its TOO_SLOW before the rest of a frame it began, and probe 119's slow nodes,
     * closed so again and again, said only "closed by the server's end, without an error".
     */
    @Test
    void aCloseInsideAFrameSaysItMayBeTheServerClosingASlowReader() throws Exception {
        try (SyncFixture f = new SyncFixture(dir); dev.cairn.testing.SyncProxy proxy = new dev.cairn.testing.SyncProxy(f.port())) {
            dev.cairn.Cairn a = f.connected("a");
            dev.cairn.Cairn b = f.open("b");
            b.connect("127.0.0.1", proxy.port()).orTimeout(20, java.util.concurrent.TimeUnit.SECONDS).join();
            proxy.downBytesPerSecond = 100_000;
            a.tree(dev.cairn.testing.Fixtures.Part.class).insert(
                new dev.cairn.testing.Fixtures.Part("P-" + "x".repeat(1_000_000), "m", 1, 1, List.of()));
            await("the server has the record", () -> f.server.sequence() == 1, 20_000);
            Thread.sleep(1_000); // about 100 KB of its 1 MB frame has reached b
            proxy.pairs.getLast().cut();
            String cut = "disconnected from 127.0.0.1:" + proxy.port() + ": the connection was closed by the server's end inside a"
                + " frame, without an error (a server that stopped, or one that closed this node as too slow a reader: its journal"
                + " says which)";
            await("the Disconnected says the close came inside a frame", () -> f.events.get(b).stream()
                .anyMatch(e -> e instanceof dev.cairn.Event.Disconnected d && d.reason().equals(cut)), 20_000,
                () -> f.events.get(b).toString());
        }
    }
}
