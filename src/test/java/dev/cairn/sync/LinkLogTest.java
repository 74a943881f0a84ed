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
}
