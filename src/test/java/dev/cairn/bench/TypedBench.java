package dev.cairn.bench;

import dev.cairn.Cairn;
import dev.cairn.FieldHandle;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.schema.FieldPath;
import dev.cairn.schema.RecordCodec;
import dev.cairn.schema.Schema;
import dev.cairn.schema.SchemaVersions;
import dev.cairn.store.ReadTxn;
import dev.cairn.store.Store;
import java.lang.foreign.MemorySegment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * W1–W6 of shared/bench/WORKLOAD.md through {@code Tree<Part>}: {@code main [N]} (default
 * 1,000,000). Prints one line per workload; not part of the tests.
 */
public final class TypedBench {
    private TypedBench() { }

    public record Part(String name, String manufacturer, int stock, long priceCents, List<String> tags) { }

    static volatile long sink;

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        Path dir = Files.createTempDirectory("cairn-typed-bench");
        try {
            run(n, dir);
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    static Part[] data(int n) {
        SplittableRandom rnd = new SplittableRandom(42);
        String[] makers = new String[50];
        for (int i = 0; i < 50; i++) makers[i] = "Maker-" + String.format("%06d", i);
        String[] tags = new String[20];
        for (int i = 0; i < 20; i++) tags[i] = "tag" + i;
        Part[] parts = new Part[n];
        for (int i = 0; i < n; i++) {
            parts[i] = new Part(String.format("PART-%06d-R10K", i), makers[rnd.nextInt(50)], rnd.nextInt(),
                rnd.nextLong(), List.of(tags[rnd.nextInt(20)], tags[rnd.nextInt(20)], tags[rnd.nextInt(20)]));
        }
        return parts;
    }

    static void run(int n, Path dir) throws Exception {
        Part[] data = data(n);
        Cairn db = Cairn.open(dir.resolve("db"));
        Tree<Part> parts = db.tree(Part.class);

        long t0 = System.nanoTime();
        for (int from = 0; from < n; from += 1000) {
            parts.insertAll(Arrays.asList(data).subList(from, Math.min(n, from + 1000)));
        }
        double w1 = n / seconds(t0);
        System.out.printf("W1 bulk load      %,12.0f records/s  (%d records, 1000 per durable txn)%n", w1, n);
        System.out.printf("size after W1     %,12d bytes%n", folderBytes(dir));

        reads(parts, n, 1);
        reads(parts, n, 2);

        FieldHandle stock = parts.field("stock");
        long sum = 0;
        t0 = System.nanoTime();
        long[] acc = {0};
        parts.scan((k, v) -> acc[0] += v.getInt(stock));
        sum += acc[0];
        System.out.printf("W4 scan stock     %,12.0f records/s  (sum %d)%n", n / seconds(t0), sum);

        int updates = 10_000;
        SplittableRandom rnd = new SplittableRandom(7);
        List<Key<Part>> touched = new ArrayList<>();
        long[] micros = new long[updates];
        long w5Start = System.nanoTime();
        for (int i = 0; i < updates; i++) {
            Key<Part> k = parts.key(rnd.nextInt(n), 0);
            long s = System.nanoTime();
            Part p = data[k.id()];
            Tree<Part> tree = parts;
            db.write(() -> {
                tree.checkOut(k);
                tree.update(k, new Part(p.name(), p.manufacturer(), p.stock() + 1, p.priceCents(), p.tags()));
            });
            micros[i] = (System.nanoTime() - s) / 1000;
            touched.add(k);
        }
        double w5 = updates / seconds(w5Start);
        Arrays.sort(micros);
        System.out.printf("W5 updates        %,12.0f ops/s      p50 %d µs, p99 %d µs (check-out + update in one durable txn)%n",
            w5, micros[updates / 2], micros[updates * 99 / 100]);
        System.out.printf("size after W5     %,12d bytes%n", folderBytes(dir));

        db.close();
        t0 = System.nanoTime();
        db = Cairn.open(dir.resolve("db"));
        parts = db.tree(Part.class);
        sink += parts.get(parts.key(n / 2, 0)).stock();
        System.out.printf("W6 reopen + read  %,12.1f ms%n", seconds(t0) * 1000);
        db.close();
        baseline(dir.resolve("db"), n);
        // Typed reads once more, after the baseline, so that the order (JIT, page cache) does not
        // favour either side of the comparison.
        try (Cairn again = Cairn.open(dir.resolve("db"))) {
            Tree<Part> p2 = again.tree(Part.class);
            System.out.println("typed again:");
            reads(p2, n, 1);
            reads(p2, n, 2);
        }
        System.out.printf("peak heap used    %,12d MiB%n",
            (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) >> 20);
    }

    /**
     * The same point reads without the typed layer: {@code Store.get} on the data tree plus the
     * schema part's codec on the record bytes, so the difference to W2/W3 is the typed layer's
     * own cost (key check, snapshot, header).
     */
    static void baseline(Path dbDir, int n) throws InterruptedException {
        try (Store store = Store.open(dbDir)) {
            SchemaVersions versions = new SchemaVersions();
            versions.add(Schema.derive(Part.class));
            RecordCodec<Part> codec = RecordCodec.of(Part.class, "Part", versions);
            FieldPath stock = codec.field("stock");
            for (int threads = 1; threads <= 2; threads++) {
                int perThread = 1_000_000 / threads;
                double[] w2 = new double[3];
                double[] w3 = new double[3];
                for (int run = 0; run < 3; run++) {
                    int seed = run;
                    w2[run] = perThread * threads / timed(threads, t -> {
                        SplittableRandom rnd = new SplittableRandom(30 + t + 100 * seed);
                        long s = 0;
                        for (int i = 0; i < perThread; i++) {
                            try (ReadTxn r = store.beginRead()) {
                                MemorySegment v = r.get("data:Part", recordKey(rnd.nextInt(n)));
                                s += codec.decode(v.asSlice(headerBytes(v))).stock();
                            }
                        }
                        sink += s;
                    });
                    w3[run] = perThread * threads / timed(threads, t -> {
                        SplittableRandom rnd = new SplittableRandom(40 + t + 100 * seed);
                        long s = 0;
                        for (int i = 0; i < perThread; i++) {
                            try (ReadTxn r = store.beginRead()) {
                                MemorySegment v = r.get("data:Part", recordKey(rnd.nextInt(n)));
                                s += codec.getInt(v.asSlice(headerBytes(v)), stock);
                            }
                        }
                        sink += s;
                    });
                }
                System.out.printf("W2 store+codec (%d) %s ops/s%n", threads, median(w2));
                System.out.printf("W3 store+codec (%d) %s ops/s%n", threads, median(w3));
            }
        }
    }

    static byte[] recordKey(int id) {
        return new byte[] {(byte) (id >>> 24), (byte) (id >>> 16), (byte) (id >>> 8), (byte) id, 0, 0, 0, 0};
    }

    /** spec/database-layout.md §3: 56 fixed bytes, then modifiedBy of length u16 at offset 2. */
    static long headerBytes(MemorySegment v) {
        return 56 + Short.toUnsignedInt(v.get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED
            .withOrder(java.nio.ByteOrder.BIG_ENDIAN), 2));
    }

    static void reads(Tree<Part> parts, int n, int threads) throws InterruptedException {
        FieldHandle stock = parts.field("stock");
        int warm = Math.min(200_000, n);
        SplittableRandom w = new SplittableRandom(3);
        for (int i = 0; i < warm; i++) {
            Key<Part> k = parts.key(w.nextInt(n), 0);
            sink += parts.get(k).stock() + parts.read(k, v -> v.getInt(stock));
        }
        int perThread = 1_000_000 / threads;
        double[] w2 = new double[3];
        double[] w3 = new double[3];
        for (int run = 0; run < 3; run++) {
            int seed = run;
            w2[run] = perThread * threads / timed(threads, t -> {
                SplittableRandom rnd = new SplittableRandom(10 + t + 100 * seed);
                long s = 0;
                for (int i = 0; i < perThread; i++) s += parts.get(parts.key(rnd.nextInt(n), 0)).stock();
                sink += s;
            });
            w3[run] = perThread * threads / timed(threads, t -> {
                SplittableRandom rnd = new SplittableRandom(20 + t + 100 * seed);
                long s = 0;
                for (int i = 0; i < perThread; i++) {
                    s += parts.read(parts.key(rnd.nextInt(n), 0), v -> v.getInt(stock));
                }
                sink += s;
            });
        }
        System.out.printf("W2 get (%d thr)    %s ops/s%n", threads, median(w2));
        System.out.printf("W3 read stock (%d) %s ops/s%n", threads, median(w3));
    }

    /** "median (min–max)" of three runs. */
    static String median(double[] runs) {
        double[] s = runs.clone();
        Arrays.sort(s);
        return String.format("%,12.0f (%,.0f–%,.0f)", s[1], s[0], s[2]);
    }

    interface Body {
        void run(int thread);
    }

    static double timed(int threads, Body body) throws InterruptedException {
        List<Thread> ts = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            int id = t;
            ts.add(Thread.ofPlatform().start(() -> body.run(id)));
        }
        for (Thread t : ts) t.join();
        return seconds(t0);
    }

    static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    static long folderBytes(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
