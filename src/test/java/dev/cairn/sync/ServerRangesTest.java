package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.store.Store;
import dev.cairn.store.WriteTxn;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server's id ranges ({@link ServerRanges}, sync-protocol.md §5.2): issued in order, never twice, kept across a restart. */
class ServerRangesTest {
    private static final UUID A = new UUID(1, 1);
    private static final UUID B = new UUID(2, 2);

    @Test
    void rangesFollowEachOtherBelongToOneClientAndSurviveAReload(@TempDir Path dir) {
        try (Store store = Store.open(dir)) {
            WriteTxn[] txn = {store.beginWrite()};
            txn[0].createTree(ServerRanges.RANGES);
            ServerRanges ranges = new ServerRanges(() -> txn[0]);
            assertEquals(0, ranges.next("Part"));
            ranges.issue("Part", 0, 1000, A);
            ranges.issue("Part", 1000, 2000, B);
            ranges.issue("Bom", 0, 10, B);
            IllegalStateException gap = assertThrows(IllegalStateException.class, () -> ranges.issue("Part", 2500, 3000, A));
            assertEquals("tree Part: range [2500, 3000) does not follow the last issued one (next id 2000)", gap.getMessage());
            assertThrows(IllegalStateException.class, () -> ranges.issue("Part", 0, 500, A), "never twice");
            assertThrows(IllegalStateException.class, () -> ranges.issue("Bom", 10, 10, A), "empty");
            txn[0].commit();
            txn[0].close();

            ServerRanges reloaded = new ServerRanges(() -> txn[0]);
            try (var r = store.beginRead()) {
                reloaded.load(r);
            }
            for (ServerRanges r : new ServerRanges[] {ranges, reloaded}) {
                assertEquals(2000, r.next("Part"));
                assertEquals(10, r.next("Bom"));
                assertEquals(0, r.next("Serial"));
                assertTrue(r.owns("Part", 0, A) && r.owns("Part", 999, A));
                assertFalse(r.owns("Part", 1000, A));
                assertTrue(r.owns("Part", 1999, B));
                assertFalse(r.owns("Part", 2000, B), "not issued yet");
                assertFalse(r.owns("Serial", 0, A));
                assertNull(r.otherBelow("Part", 1000, A), "A's own range only");
                assertEquals(new ServerRanges.Range(1000, 2000, B), r.otherBelow("Part", 1001, A));
            }
        }
    }
}
