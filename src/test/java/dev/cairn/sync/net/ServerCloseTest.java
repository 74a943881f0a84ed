package dev.cairn.sync.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.CairnServer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CairnServer.close returns once the server database is closed, also when the caller is
 * interrupted (a shutdown task under shutdownNow): before, an interrupt made it return at once,
 * with the folder still locked, so a restart right after was refused (probe 35).
 */
class ServerCloseTest {
    @TempDir Path dir;

    @Test
    void closeFromAnInterruptedThreadReturnsOnlyOnceTheFolderIsFree() {
        for (int round = 0; round < 3; round++) {
            CairnServer server = CairnServer.start(dir, 0);
            Thread.currentThread().interrupt();
            try {
                server.close();
                assertTrue(Thread.currentThread().isInterrupted(), "the caller's interrupt is kept");
            } finally {
                Thread.interrupted();
            }
            server.close(); // idempotent
        }
        try (CairnServer again = CairnServer.start(dir, 0)) { // a restart at once finds the folder free
            assertEquals(0, again.sequence());
        }
    }
}
