package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static dev.cairn.sync.SyncFixture.contents;
import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.CairnServer;
import dev.cairn.Key;
import dev.cairn.NoIdsLeftException;
import dev.cairn.Tree;
import dev.cairn.testing.Fixtures.Part;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Several clients changing at once, a server restart under load, a client that never reads. */
@Timeout(120)
class SyncLoadTest {
    @TempDir Path dir;

    @Test
    void threeClientsConvergeOnRandomInsertsUpdatesAndRemoves() throws Exception {
        runRandomClients(3, 60, Long.getLong("cairn.seed", System.nanoTime()));
    }

    @Tag("long")
    @Test
    void fiveClientsConvergeOnManyRandomChanges() throws Exception {
        runRandomClients(5, 600, Long.getLong("cairn.seed", System.nanoTime()));
    }

    private void runRandomClients(int clientCount, int opsPerClient, long seed) throws Exception {
        System.out.println("SyncLoadTest seed=" + seed);
        try (SyncFixture f = new SyncFixture(dir)) {
            List<Cairn> dbs = new ArrayList<>();
            for (int i = 0; i < clientCount; i++) dbs.add(f.connected("c" + i));
            Tree<Part> first = dbs.getFirst().tree(Part.class);
            for (int i = 0; i < 10; i++) first.insert(part(i));
            await("everyone has the seed records", () -> dbs.stream().allMatch(d -> d.tree(Part.class).size() == 10));
            List<Thread> threads = new ArrayList<>();
            List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int i = 0; i < clientCount; i++) {
                Cairn db = dbs.get(i);
                Random rnd = new Random(seed + i);
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        randomOps(db.tree(Part.class), rnd, opsPerClient);
                    } catch (Throwable t) {
                        errors.add(t);
                    }
                }));
            }
            for (Thread t : threads) t.join();
            assertTrue(errors.isEmpty(), () -> "seed " + seed + ": " + errors);
            List<Tree<Part>> trees = dbs.stream().map(d -> d.tree(Part.class)).toList();
            SyncFixture.awaitSame(trees);
            long live = trees.getFirst().size();
            for (Tree<Part> t : trees) {
                for (Key<Part> k : t.keys()) assertEquals(trees.getFirst().meta(k), t.meta(k), "meta of " + k);
            }
            assertTrue(live > 0);
        }
    }

    private static void randomOps(Tree<Part> t, Random rnd, int ops) {
        for (int i = 0; i < ops; i++) {
            int choice = rnd.nextInt(10);
            List<Key<Part>> keys = t.keys();
            if (choice < 4 || keys.isEmpty()) {
                t.insert(part(rnd.nextInt(100_000)));
                continue;
            }
            Key<Part> k = keys.get(rnd.nextInt(keys.size()));
            try {
                t.checkOut(k).orTimeout(300, TimeUnit.MILLISECONDS).join();
            } catch (RuntimeException e) {
                t.checkIn(k);          // leave the queue
                continue;
            }
            try {
                if (choice < 8) {
                    t.update(k, part(rnd.nextInt(100_000)));
                    t.checkIn(k);
                } else {
                    t.remove(k);
                }
            } catch (dev.cairn.RecordNotFoundException | dev.cairn.NotCheckedOutException e) {
                // removed or taken by another client between our steps
                t.checkIn(k);
            }
        }
    }

    @Test
    void serverRestartUnderLoadAndClientsReconnectAndConverge() throws Exception {
        try (SyncFixture f = new SyncFixture(dir, 200)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger inserted = new AtomicInteger();
            List<Thread> writers = new ArrayList<>();
            for (Cairn c : List.of(a, b)) {
                Tree<Part> t = c.tree(Part.class);
                writers.add(Thread.ofPlatform().start(() -> {
                    int i = 0;
                    while (!stop.get()) {
                        try {
                            t.insert(part(i++));
                            inserted.incrementAndGet();
                        } catch (NoIdsLeftException noIdsWhileOffline) {
                            sleep(5);
                        }
                        sleep(1);
                    }
                }));
            }
            sleep(400);
            f.restartServer();
            sleep(400);
            f.restartServer();
            sleep(400);
            stop.set(true);
            for (Thread w : writers) w.join();
            Tree<Part> ta = a.tree(Part.class);
            Tree<Part> tb = b.tree(Part.class);
            await("both reconnected", () -> a.isConnected() && b.isConnected());
            await("everything arrived", () -> ta.size() == inserted.get() && tb.size() == inserted.get());
            SyncFixture.awaitSame(List.of(ta, tb));
            assertTrue(inserted.get() > 50, "inserted " + inserted.get());
            await("server has every record", () -> f.server.sequence() >= inserted.get());
        }
    }

    @Test
    void aClientThatNeverReadsIsDroppedAndTheOthersGoOn() throws Exception {
        Path serverDir = dir.resolve("server");
        try (CairnServer server = CairnServer.start(serverDir, new InetSocketAddress("127.0.0.1", 0), SyncFixture.APP,
            1000, 256 * 1024);
             Cairn a = Cairn.open(dir.resolve("a"), Cairn.Options.defaults().withAppId(SyncFixture.APP));
             Cairn b = Cairn.open(dir.resolve("b"), Cairn.Options.defaults().withAppId(SyncFixture.APP));
             Socket slow = new Socket()) {
            slow.setReceiveBufferSize(4096);
            slow.connect(new InetSocketAddress("127.0.0.1", server.port()));
            OutputStream out = slow.getOutputStream();
            out.write(FrameCodec.encode(new Message.Hello(FrameCodec.PROTOCOL_VERSION, SyncFixture.APP, UUID.randomUUID(),
                "slow", 0, List.of(), List.of(), new byte[0], Message.NONE)));
            out.flush();
            a.connect("127.0.0.1", server.port()).orTimeout(20, TimeUnit.SECONDS).join();
            b.connect("127.0.0.1", server.port()).orTimeout(20, TimeUnit.SECONDS).join();
            await("three clients", () -> server.clientCount() == 3);
            Tree<Part> ta = a.tree(Part.class);
            int total = 0;
            for (int round = 0; round < 15 && server.clientCount() == 3; round++) {
                List<Part> batch = new ArrayList<>();
                for (int i = 0; i < 2000; i++) batch.add(part(total + i));
                ta.insertAll(batch);
                total += batch.size();
                int expected = total;
                await("b keeps up", () -> b.tree(Part.class).size() == expected, 60_000);
            }
            await("the slow client was dropped", () -> server.clientCount() == 2);
            assertEquals(total, b.tree(Part.class).size());
            Map<String, String> ca = contents(ta);
            assertEquals(ca, contents(b.tree(Part.class)));
        }
    }

    @Test
    void incrementalCatchUpSendsOnlyWhatChanged() {
        try (SyncFixture f = new SyncFixture(dir, 1000)) {
            Cairn a = f.connected("a");
            Tree<Part> ta = a.tree(Part.class);
            ta.insertAll(java.util.stream.IntStream.range(0, 500).mapToObj(i -> part(i)).toList());
            Cairn c = f.open("c");
            c.connect("127.0.0.1", f.port(), Set.of()).orTimeout(20, TimeUnit.SECONDS).join();
            await("c has all", () -> c.tree(Part.class).size() == 500);
            await("c counted them", () -> c.syncClient().pushesReceived() >= 500);
            c.disconnect();
            ta.insert(part(1000));
            c.connect("127.0.0.1", f.port()).orTimeout(20, TimeUnit.SECONDS).join();
            await("c has the new one", () -> c.tree(Part.class).size() == 501);
            await("c counted it", () -> c.syncClient().pushesReceived() >= 1);
            sleep(100);
            assertEquals(1, c.syncClient().pushesReceived(), "a reconnect sends only what changed");
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
