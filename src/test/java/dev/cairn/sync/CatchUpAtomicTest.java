package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cairn.Cairn;
import dev.cairn.CairnServer;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.internal.Limits;
import dev.cairn.testing.Fixtures.Part;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that was offline while another wrote batches catches up in one transaction
 * (sync-protocol.md §4.1 step 4): a reader on it sees its old state, then the server's, never a
 * mix. Before, each read pass of the catch-up (up to 1 MiB) was applied on its own, so a reader
 * saw records of a batch updated and others of it not.
 */
@Timeout(300)
class CatchUpAtomicTest {
    @TempDir Path dir;

    /**
     * Records of ~1.5 KB, so that a catch-up of 2,000 takes several read passes but stays well
     * under CATCH_UP_KEPT_BYTES (the test JVM has 4 GiB) and, on loopback, CATCH_UP_HELD_MILLIS.
     */
    private static final String NAME = "n".repeat(1_500);

    @Test
    void aNodeCatchingUpGoesFromItsOldStateToTheServersInOneStep() throws Exception {
        int n = 2_000;
        try (CairnServer server = CairnServer.start(dir.resolve("server"), new InetSocketAddress("127.0.0.1", 0),
                SyncFixture.APP, 1000, Limits.PENDING_BYTES_MAX);
             Cairn a = Cairn.open(dir.resolve("a"), SyncFixture.options("a").withIdReserve(3000));
             Cairn b = Cairn.open(dir.resolve("b"), SyncFixture.options("b"));
             Cairn c = Cairn.open(dir.resolve("c"), SyncFixture.options("c"))) {
            a.connect("127.0.0.1", server.port()).orTimeout(30, TimeUnit.SECONDS).join();
            b.connect("127.0.0.1", server.port()).orTimeout(30, TimeUnit.SECONDS).join();
            c.connect("127.0.0.1", server.port()).orTimeout(30, TimeUnit.SECONDS).join();
            Tree<Part> pc = c.tree(Part.class);
            Tree<Part> pa = a.tree(Part.class);
            Tree<Part> pb = b.tree(Part.class);
            List<Key<Part>> keys = SyncFixture.insertCheckedOut(a, pa, IntStream.range(0, n).mapToObj(i -> part(i, 0)).toList());
            SyncFixture.await("b has them", () -> pb.size() == n, 60_000);

            // Every state a had after a batch (b's catch-up should take it from one to a's last).
            int[] stock = new int[n];
            Set<List<Integer>> states = ConcurrentHashMap.newKeySet();
            states.add(list(stock));
            SnapshotReader reader = new SnapshotReader(pb, states::contains);
            int round = 0;
            for (int cycle = 0; cycle < 3; cycle++) {
                b.disconnect();
                SyncFixture.await("b is offline", () -> !b.isConnected());
                // Batches of 600, each rewriting half of the one before: a catch-up applied in
                // parts shows records of one batch next to older ones it rewrote.
                for (int batch = 0; batch < 8; batch++) {
                    int r = ++round;
                    int from = batch * 300;
                    for (int i = from; i < from + 600; i++) stock[i % n] = r;
                    states.add(list(stock));
                    a.write(() -> {
                        for (int i = from; i < from + 600; i++) pa.update(keys.get(i % n), part(i % n, r));
                    });
                }
                List<Integer> last = list(stock);
                // c is live: once it has a's last batch, the server has every one, and b's catch-up brings them all.
                SyncFixture.await("c has a's batches", () -> SnapshotReader.stocksOf(pc).equals(last), 60_000);
                b.connect("127.0.0.1", server.port()).orTimeout(60, TimeUnit.SECONDS).join();
                SyncFixture.await("b has cycle " + cycle, () -> reader.stocks().equals(last), 60_000);
            }
            reader.stop();
        }
    }

    private static Part part(int i, int stock) {
        return new Part(NAME + i, "m", stock, i, List.of());
    }

    private static List<Integer> list(int[] stock) {
        return Arrays.stream(stock).boxed().toList();
    }
}
