package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.CairnServer;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.internal.Limits;
import dev.cairn.testing.Fixtures.Part;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A write batch is applied whole on other nodes (protocol version 7, sync-protocol.md §4.1 step
 * 3, §4.2, §5.3; the outbox's groups, database-layout.md §6), end to end over sockets: node a
 * swaps the names of two records in one batch, thousands of times; node b reads both in one
 * snapshot as fast as it can and must never see them holding one name. Before version 7 b
 * applied each record in a transaction of its own (probe 70: 185,723 torn reads in 21 M; this
 * test, with every outbox entry a group of its own: 294 in 671,345).
 */
@Timeout(180)
class AtomicBatchSyncTest {
    private static final int SWAPS = 2000;
    @TempDir Path dir;

    @Test
    void aSwapOfTwoNamesInOneBatchIsNeverSeenTornOnAnotherNode() throws Exception {
        try (CairnServer server = CairnServer.start(dir.resolve("server"), new InetSocketAddress("127.0.0.1", 0),
                SyncFixture.APP, 100, Limits.PENDING_BYTES_MAX);
             Cairn a = Cairn.open(dir.resolve("a"), SyncFixture.options("a"));
             Cairn b = Cairn.open(dir.resolve("b"), SyncFixture.options("b"))) {
            a.connect("127.0.0.1", server.port()).orTimeout(30, TimeUnit.SECONDS).join();
            Tree<Part> pa = a.tree(Part.class);
            Key<Part> x = pa.insert(part("left", 0));
            Key<Part> y = pa.insert(part("right", 0));
            pa.checkOut(x).orTimeout(10, TimeUnit.SECONDS).join();
            pa.checkOut(y).orTimeout(10, TimeUnit.SECONDS).join();

            b.connect("127.0.0.1", server.port()).orTimeout(30, TimeUnit.SECONDS).join();
            Tree<Part> pb = b.tree(Part.class);
            SyncFixture.await("b has both", () -> pb.contains(x) && pb.contains(y));

            AtomicBoolean writing = new AtomicBoolean(true);
            AtomicLong polls = new AtomicLong();
            AtomicLong torn = new AtomicLong();
            List<String> firstTorn = new java.util.concurrent.CopyOnWriteArrayList<>();
            Thread reader = Thread.ofPlatform().start(() -> {
                while (writing.get() || polls.get() < 1000) {
                    List<String> names = new ArrayList<>(2);
                    pb.forEach((k, v) -> names.add(v.name() + "@" + v.stock()));
                    polls.incrementAndGet();
                    if (names.size() == 2 && names.get(0).split("@")[0].equals(names.get(1).split("@")[0])) {
                        if (torn.incrementAndGet() == 1) firstTorn.add(names.toString());
                    }
                }
            });
            for (int i = 1; i <= SWAPS; i++) {
                int round = i;
                a.write(() -> {
                    Part px = pa.get(x);
                    Part py = pa.get(y);
                    pa.update(x, part(py.name(), round));
                    pa.update(y, part(px.name(), round));
                });
            }
            Part lastX = pa.get(x);
            SyncFixture.await("b has a's last swap", () -> lastX.equals(pb.get(x)) && pa.get(y).equals(pb.get(y)));
            writing.set(false);
            reader.join(60_000);
            assertEquals(0, torn.get(), torn.get() + " of " + polls.get() + " reads saw both records with one name, first "
                + firstTorn);
            assertTrue(polls.get() >= 1000, polls.get() + " reads");
            assertEquals(0, a.syncClient().groupsCut());
        }
    }

    private static Part part(String name, int round) {
        return new Part(name, "m", round, round, List.of());
    }
}
