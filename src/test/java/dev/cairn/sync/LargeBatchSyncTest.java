package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.CairnServer;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.internal.Limits;
import dev.cairn.testing.Fixtures.Part;
import dev.cairn.testing.SyncProxy;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Write batches larger than protocol version 7's window of 256 records reach another live node
 * whole on version 8 (sync-protocol.md §3, §4.1 step 3, §9), end to end over sockets, as
 * AtomicBatchSyncTest does for two records: a reader on node b polls b's tree in one read
 * snapshot as fast as it can and must only ever see a state node a had after one of its
 * batches. Before version 8 a group of more than 256 went in parts of 256, each applied on its
 * own: b saw part of a batch.
 */
@Timeout(300)
class LargeBatchSyncTest {
    @TempDir Path dir;

    /** Batches of 1,000 and then 4,000 inserts: b sees each whole or not at all. */
    @Test
    void insertBatchesOf1000And4000ReachAnotherLiveNodeWhole() throws Exception {
        try (CairnServer server = server();
             Cairn a = Cairn.open(dir.resolve("a"), SyncFixture.options("a").withIdReserve(10_000));
             Cairn b = Cairn.open(dir.resolve("b"), SyncFixture.options("b"))) {
            a.connect("127.0.0.1", server.port()).orTimeout(30, TimeUnit.SECONDS).join();
            b.connect("127.0.0.1", server.port()).orTimeout(30, TimeUnit.SECONDS).join();
            Tree<Part> pa = a.tree(Part.class);
            Tree<Part> pb = b.tree(Part.class);
            int[] sizes = {1000, 4000, 1000};
            // Batch r inserts sizes[r - 1] records of stock r: a snapshot of b is whole when each
            // stock it holds has all its batch's records.
            SnapshotReader reader = new SnapshotReader(pb, stocks -> {
                java.util.Map<Integer, Integer> counts = new java.util.HashMap<>();
                for (int s : stocks) counts.merge(s, 1, Integer::sum);
                for (var e : counts.entrySet()) {
                    if (e.getKey() < 1 || e.getKey() > sizes.length || e.getValue() != sizes[e.getKey() - 1]) return false;
                }
                return true;
            });
            for (int r = 1; r <= sizes.length; r++) {
                int round = r;
                a.write(() -> {
                    for (int i = 0; i < sizes[round - 1]; i++) pa.insert(part(i, round));
                });
                int total = java.util.Arrays.stream(sizes, 0, r).sum();
                SyncFixture.await("b has batch " + r, () -> pb.size() == total, 60_000);
            }
            reader.stop();
            assertEquals(0, a.syncClient().groupsCut(), "no batch was cut");
        }
    }

    /**
     * Batches of 200 records, each rewriting half of the one before, written while a is offline:
     * the outbox keeps one entry per record, so they merge into one group of all 1,000 records,
     * which goes whole when a reconnects (three times over). Before version 8 it went in parts
     * of 256.
     */
    @Test
    void backToBackBatchesThatMergeIntoAGroupOf1000StayWhole() throws Exception {
        int n = 1000;
        try (CairnServer server = server();
             Cairn a = Cairn.open(dir.resolve("a"), SyncFixture.options("a").withIdReserve(2000));
             Cairn b = Cairn.open(dir.resolve("b"), SyncFixture.options("b"))) {
            a.connect("127.0.0.1", server.port()).orTimeout(30, TimeUnit.SECONDS).join();
            b.connect("127.0.0.1", server.port()).orTimeout(30, TimeUnit.SECONDS).join();
            Tree<Part> pa = a.tree(Part.class);
            Tree<Part> pb = b.tree(Part.class);
            List<Key<Part>> keys = SyncFixture.insertCheckedOut(a, pa, IntStream.range(0, n).mapToObj(i -> part(i, 0)).toList());
            SyncFixture.await("b has them", () -> pb.size() == n, 60_000);

            // Every state a had after a batch, as b's reader reads it (the stocks in key order).
            Set<List<Integer>> states = ConcurrentHashMap.newKeySet();
            int[] stock = new int[n];
            states.add(list(stock));
            SnapshotReader reader = new SnapshotReader(pb, states::contains);
            int round = 0;
            for (int cycle = 0; cycle < 3; cycle++) {
                a.disconnect();
                for (int batch = 0; batch < 10; batch++) {
                    int r = ++round;
                    int from = batch * 100;
                    a.write(() -> {
                        for (int i = from; i < from + 200; i++) pa.update(keys.get(i % n), part(i % n, r));
                    });
                    for (int i = from; i < from + 200; i++) stock[i % n] = r;
                    states.add(list(stock));
                }
                a.connect("127.0.0.1", server.port()).orTimeout(60, TimeUnit.SECONDS).join();
                List<Integer> last = list(stock);
                SyncFixture.await("b has cycle " + cycle, () -> reader.stocks().equals(last), 60_000);
            }
            reader.stop();
            assertEquals(0, a.syncClient().groupsCut(), "no group was cut");
        }
    }

    /**
     * A node whose server speaks version 7 (the proxy refuses 8 as such a server does) links with
     * 7 and keeps its window of 256: its batch of 600 goes in parts (counted cut). A version 8
     * node's batch of 1,000 reaches it through the version 8 server in Group frames of at most
     * 256 (its decoder refuses more), all of it, in order (sync-protocol.md §4.2 step 6).
     */
    @Test
    void aVersion7ConnectionKeeps256AndGetsABatchOf1000InGroupsOf256() throws Exception {
        try (CairnServer server = server(); SyncProxy proxy = new SyncProxy(server.port());
             Cairn a = Cairn.open(dir.resolve("a"), SyncFixture.options("a").withIdReserve(2000));
             Cairn old = Cairn.open(dir.resolve("old"), SyncFixture.options("old").withIdReserve(2000))) {
            proxy.gate = h -> h.protocolVersion() > 7
                ? new Message.Error(ErrorCode.VERSION, "protocol version " + h.protocolVersion() + " (expected: 2 to 7)") : null;
            a.connect("127.0.0.1", server.port()).orTimeout(30, TimeUnit.SECONDS).join();
            old.connect("127.0.0.1", proxy.port()).orTimeout(30, TimeUnit.SECONDS).join();
            SyncProxy.Pair v7 = proxy.pairs.getLast();
            assertEquals(7, ((Message.Hello) v7.up.getFirst()).protocolVersion());
            Tree<Part> pa = a.tree(Part.class);
            Tree<Part> po = old.tree(Part.class);
            a.write(() -> {
                for (int i = 0; i < 1000; i++) pa.insert(part(i, 1));
            });
            SyncFixture.await("the version 7 node has the batch", () -> po.size() == 1000, 60_000);
            List<Integer> groups = v7.down.stream().filter(m -> m instanceof Message.Group).map(m -> ((Message.Group) m).count())
                .toList();
            assertEquals(List.of(256, 256, 256, 232), groups);

            old.write(() -> {
                for (int i = 0; i < 600; i++) po.insert(part(i, 2));
            });
            SyncFixture.await("a has the version 7 node's batch", () -> pa.size() == 1600, 60_000);
            List<Integer> sent = v7.up.stream().filter(m -> m instanceof Message.Group).map(m -> ((Message.Group) m).count())
                .toList();
            assertTrue(sent.stream().allMatch(c -> c <= 256) && sent.stream().mapToInt(c -> c).sum() == 600, sent.toString());
            assertEquals(1, old.syncClient().groupsCut());
        }
    }

    private CairnServer server() throws java.io.IOException {
        return CairnServer.start(dir.resolve("server"), new InetSocketAddress("127.0.0.1", 0), SyncFixture.APP, 1000,
            Limits.PENDING_BYTES_MAX);
    }

    private static Part part(int i, int stock) {
        return new Part("P" + i, "m", stock, i, List.of());
    }

    private static List<Integer> list(int[] stock) {
        return java.util.Arrays.stream(stock).boxed().toList();
    }
}
