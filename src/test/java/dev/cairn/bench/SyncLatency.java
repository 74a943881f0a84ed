package dev.cairn.bench;

import dev.cairn.Cairn;
import dev.cairn.CairnServer;
import dev.cairn.ChangeKind;
import dev.cairn.Event;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.testing.Fixtures;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Change propagation on loopback: a durable update on node A until node B's listener sees the
 * remote {@code RecordChanged} (A commits, sends; the server commits, pushes; B commits,
 * publishes). Also the time for a batch of inserts to arrive. Not a unit test: run with
 * {@code java -cp build/test-classes:build/classes dev.cairn.bench.SyncLatency [samples]}.
 */
public final class SyncLatency {
    private SyncLatency() { }

    public static void main(String[] args) throws Exception {
        int samples = args.length > 0 ? Integer.parseInt(args[0]) : 300;
        Path dir = Files.createTempDirectory("cairn-sync-latency");
        Cairn.Options o = Cairn.Options.defaults().withAppId("bench");
        try (CairnServer server = CairnServer.start(dir.resolve("server"), 0, "bench");
             Cairn a = Cairn.open(dir.resolve("a"), o.withNodeName("a"));
             Cairn b = Cairn.open(dir.resolve("b"), o.withNodeName("b"))) {
            a.connect("127.0.0.1", server.port()).get(20, TimeUnit.SECONDS);
            b.connect("127.0.0.1", server.port()).get(20, TimeUnit.SECONDS);
            Tree<Part> ta = a.tree(Part.class);
            Key<Part> k = ta.insert(Fixtures.part(1));
            LinkedBlockingQueue<Long> arrivals = new LinkedBlockingQueue<>();
            try (AutoCloseable sub = b.subscribe(e -> {
                if (e instanceof Event.RecordChanged rc && rc.remote() && rc.key().equals(k)
                    && rc.kind() == ChangeKind.CHANGED) {
                    arrivals.offer(System.nanoTime());
                }
            })) {
                ta.checkOut(k).get(10, TimeUnit.SECONDS);
                long[] micros = new long[samples];
                for (int i = 0; i < samples; i++) {
                    long start = System.nanoTime();
                    ta.update(k, Fixtures.part(i + 2));
                    Long seen = arrivals.poll(10, TimeUnit.SECONDS);
                    if (seen == null) throw new AssertionError("update " + i + " did not arrive");
                    micros[i] = (seen - start) / 1_000;
                }
                Arrays.sort(micros);
                System.out.printf("update A -> event on B, %d samples: p50 %d us, p90 %d us, p99 %d us, max %d us%n",
                    samples, micros[samples / 2], micros[samples * 9 / 10], micros[samples * 99 / 100],
                    micros[samples - 1]);
            }
            int n = 10_000;
            Tree<Part> tb = b.tree(Part.class);
            long before = tb.size();
            long start = System.nanoTime();
            ta.insertAll(java.util.stream.IntStream.range(0, n).mapToObj(Fixtures::part).toList());
            while (tb.size() < before + n) Thread.sleep(1);
            long millis = (System.nanoTime() - start) / 1_000_000;
            System.out.printf("insertAll of %d on A until all on B: %d ms (%.0f records/s)%n", n, millis,
                n * 1000.0 / Math.max(1, millis));
        }
    }
}
