package dev.cairn.sync;

import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.Tree;
import dev.cairn.testing.Fixtures.Part;
import dev.cairn.testing.SyncProxy;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A linked node whose network resets every connection attempt retries with its backoff (50 ms
 * doubling to 5 s), however much the application writes meanwhile: a write wakes the link, but
 * does not bring the next attempt forward (probe 79: a node writing 10 records a second tried to
 * connect 10 times a second while the link was down).
 */
@Timeout(60)
class ReconnectBackoffTest {
    @TempDir Path dir;

    @Test
    void writesWhileTheNetworkIsDownDoNotShortenTheBackoff() throws Exception {
        try (SyncFixture f = new SyncFixture(dir); SyncProxy proxy = new SyncProxy(f.port())) {
            Cairn a = f.open("a");
            a.connect("127.0.0.1", proxy.port()).orTimeout(20, TimeUnit.SECONDS).join();
            Tree<Part> parts = a.tree(Part.class);
            proxy.resetNew = true;
            proxy.pairs.getFirst().cut();
            SyncFixture.await("a notices", () -> !a.isConnected());
            long start = System.nanoTime();
            for (int i = 0; i < 30; i++) {
                parts.insert(part(i));
                Thread.sleep(100);
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            int attempts = proxy.reset.get();
            // 50, 100, 200, 400, 800, 1600 ms...: about 7 attempts in 3 s, not one per write.
            assertTrue(attempts >= 3 && attempts <= 9, attempts + " attempts in " + millis + " ms of 30 writes");
            proxy.resetNew = false;
            Cairn b = f.connected("b");
            SyncFixture.await("b gets a's writes once a is back", () -> b.tree(Part.class).size() == 30);
            assertEquals(30, parts.size());
        }
    }
}
