package dev.cairn.bench;

import dev.cairn.store.ReadTxn;
import dev.cairn.store.Store;
import dev.cairn.store.WriteTxn;
import dev.cairn.testing.TestFiles;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Workloads W1–W6 of shared/bench/WORKLOAD.md against the store directly: keys are 8 bytes
 * big-endian (id, revision 0); values are parts in the peers' length-prefixed layout (all
 * big-endian): int32 stock, int64 priceCents, u16-len name, u16-len manufacturer, u8 tag
 * count, tags as u16-len strings. One read transaction per point read.
 * Usage: {@code StoreBench [N]} (default 1,000,000).
 */
public final class StoreBench {
    private static final String TREE = "parts";
    private static final ValueLayout.OfInt INT_BE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong LONG_BE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort SHORT_BE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static long sink;

    private StoreBench() { }

    /** The benchmark record. */
    record Part(String name, String manufacturer, int stock, long priceCents, List<String> tags) { }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0].replace("_", "").replace(",", "")) : 1_000_000;
        int reads = 1_000_000;
        int updates = 10_000;
        Part[] parts = Data.generate(n);
        long[] readKeys = Data.randomIds(n, reads, Data.READ_SEED);
        long[] readKeys2 = Data.randomIds(n, reads, Data.READ_SEED_2);
        long[] warmKeys = Data.randomIds(n, 200_000, Data.WARMUP_SEED);
        SplittableRandom ur = new SplittableRandom(Data.UPDATE_SEED);
        int[] updIds = new int[updates];
        Part[] updParts = new Part[updates];
        for (int j = 0; j < updates; j++) {
            int id = ur.nextInt(n);
            Part p = parts[id];
            updIds[j] = id;
            updParts[j] = new Part(p.name(), p.manufacturer(), ur.nextInt(100_000), ur.nextLong(1, 10_000_000), p.tags());
        }
        long expectedSum = 0;
        for (Part p : parts) expectedSum += p.stock();

        Path dir = Files.createTempDirectory("cairn-bench-");
        List<String[]> rows = new ArrayList<>();
        try {
            Store store = Store.open(dir);
            long t0 = System.nanoTime();
            for (int from = 0; from < n; from += 1000) {
                try (WriteTxn w = store.beginWrite()) {
                    if (from == 0) w.createTree(TREE);
                    for (int i = from; i < Math.min(n, from + 1000); i++) w.put(TREE, key(i), encode(parts[i]));
                    w.commit();
                }
            }
            long t1 = System.nanoTime();
            rows.add(row("W1 bulk load, 1,000/txn durable", rate(n, t1 - t0), "records/s"));
            rows.add(row("size after W1", mib(fileBytes(dir)), "MiB"));

            long warmNanos = 3_000_000_000L;
            warm(store, warmKeys, false, warmNanos);
            rows.add(row("W2 random get, decoded, 1 thread (median of 3 passes, min-max)", timedPasses(store, readKeys, false), "ops/s"));

            rows.add(row("W2 random get, decoded, 2 threads (total)", twoThreads(store, readKeys, readKeys2, warmKeys, warmNanos), "ops/s"));

            warm(store, warmKeys, true, warmNanos);
            rows.add(row("W3 random get, stock only, 1 thread (median of 3 passes, min-max)", timedPasses(store, readKeys, true), "ops/s"));

            check(scan(store), expectedSum, "W4 warm-up scan");
            t0 = System.nanoTime();
            long sum = scan(store);
            t1 = System.nanoTime();
            check(sum, expectedSum, "W4 scan");
            rows.add(row("W4 full scan, sum stock", rate(n, t1 - t0), "records/s"));

            long[] lat = new long[updates];
            t0 = System.nanoTime();
            for (int j = 0; j < updates; j++) {
                long s = System.nanoTime();
                try (WriteTxn w = store.beginWrite()) {
                    w.put(TREE, key(updIds[j]), encode(updParts[j]));
                    w.commit();
                }
                lat[j] = System.nanoTime() - s;
            }
            t1 = System.nanoTime();
            for (int j = 0; j < updates; j++) parts[updIds[j]] = updParts[j];
            Arrays.sort(lat);
            rows.add(row("W5 durable single update", rate(updates, t1 - t0), "ops/s"));
            rows.add(row("W5 latency p50", String.format("%.0f", lat[updates / 2] / 1e3), "µs"));
            rows.add(row("W5 latency p99", String.format("%.0f", lat[(int) (updates * 0.99)] / 1e3), "µs"));
            rows.add(row("size after W5", mib(fileBytes(dir)), "MiB"));
            try (ReadTxn r = store.beginRead()) {
                for (int j = 0; j < updates; j += 97) {
                    Part got = decode(r.get(TREE, key(updIds[j])));
                    if (!got.equals(parts[updIds[j]])) throw new IllegalStateException("after W5, id " + updIds[j] + ": " + got);
                }
            }
            store.close();

            int probe = new SplittableRandom(Data.VERIFY_SEED + 1).nextInt(n);
            System.gc();
            t0 = System.nanoTime();
            Store again = Store.open(dir);
            Part got;
            try (ReadTxn r = again.beginRead()) {
                got = decode(r.get(TREE, key(probe)));
            }
            t1 = System.nanoTime();
            if (!got.equals(parts[probe])) throw new IllegalStateException("after reopen got " + got);
            rows.add(row("W6 reopen + first read", String.format("%.2f", (t1 - t0) / 1e6), "ms"));
            long after = 0;
            for (Part p : parts) after += p.stock();
            check(scan(again), after, "scan after reopen");
            again.close();
            rows.add(row("peak RSS (VmHWM)", String.valueOf(peakRssMib()), "MiB"));
        } finally {
            TestFiles.deleteTree(dir);
        }
        System.out.printf("%nCairn store benchmark, N = %,d (sink %d)%n%n", n, sink);
        System.out.println("| metric | value | unit |");
        System.out.println("|---|---|---|");
        for (String[] r : rows) System.out.printf("| %s | %s | %s |%n", r[0], r[1], r[2]);
    }

    // ---------------------------------------------------------------- workloads

    private static long getLoop(Store store, long[] ids, boolean stockOnly) {
        long c = 0;
        byte[] key = new byte[8];
        MemorySegment k = MemorySegment.ofArray(key);
        for (long id : ids) {
            k.set(LONG_BE, 0, id << 32);
            try (ReadTxn r = store.beginRead()) {
                MemorySegment v = r.get(TREE, k);
                if (stockOnly) {
                    c += v.get(INT_BE, 0);
                } else {
                    c += decode(v).name().length();
                }
            }
        }
        return c;
    }

    /** Three timed passes over the keys; the median rate with the range. */
    private static String timedPasses(Store store, long[] ids, boolean stockOnly) {
        double[] rates = new double[3];
        for (int pass = 0; pass < rates.length; pass++) {
            long t0 = System.nanoTime();
            sink += getLoop(store, ids, stockOnly);
            rates[pass] = ids.length / ((System.nanoTime() - t0) / 1e9);
        }
        Arrays.sort(rates);
        return String.format("%,.0f (%,.0f-%,.0f)", rates[1], rates[0], rates[2]);
    }

    private static void warm(Store store, long[] warmKeys, boolean stockOnly, long nanos) {
        long start = System.nanoTime();
        do {
            sink += getLoop(store, warmKeys, stockOnly);
        } while (System.nanoTime() - start < nanos);
    }

    private static String twoThreads(Store store, long[] a, long[] b, long[] warmKeys, long warmNanos) throws Exception {
        long[][] keys = {a, b};
        long[] nanos = new long[2];
        java.util.concurrent.CyclicBarrier ready = new java.util.concurrent.CyclicBarrier(3);
        Thread[] ts = new Thread[2];
        Throwable[] err = new Throwable[2];
        for (int t = 0; t < 2; t++) {
            int ti = t;
            ts[t] = new Thread(() -> {
                try {
                    warm(store, warmKeys, false, warmNanos);
                    ready.await();
                    sink += getLoop(store, keys[ti], false);
                } catch (Throwable e) {
                    err[ti] = e;
                }
            });
            ts[t].start();
        }
        ready.await();
        long t0 = System.nanoTime();
        for (Thread t : ts) t.join();
        long t1 = System.nanoTime();
        for (Throwable e : err) if (e != null) throw new IllegalStateException("reader failed", e);
        nanos[0] = t1 - t0;
        return rate(a.length + b.length, nanos[0]);
    }

    private static long scan(Store store) {
        long[] sum = {0};
        try (ReadTxn r = store.beginRead()) {
            r.forEach(TREE, (k, v) -> {
                sum[0] += v.get(INT_BE, 0);
                return true;
            });
        }
        return sum[0];
    }

    private static void check(long actual, long expected, String what) {
        if (actual != expected) throw new IllegalStateException(what + ": sum " + actual + " (expected: " + expected + ")");
    }

    // ---------------------------------------------------------------- codec (peers' layout)

    static byte[] key(int id) {
        byte[] k = new byte[8];
        MemorySegment.ofArray(k).set(LONG_BE, 0, (long) id << 32);
        return k;
    }

    static byte[] encode(Part p) {
        byte[] name = p.name().getBytes(StandardCharsets.UTF_8);
        byte[] mfr = p.manufacturer().getBytes(StandardCharsets.UTF_8);
        byte[][] tags = new byte[p.tags().size()][];
        int size = 12 + 2 + name.length + 2 + mfr.length + 1;
        for (int i = 0; i < tags.length; i++) {
            tags[i] = p.tags().get(i).getBytes(StandardCharsets.UTF_8);
            size += 2 + tags[i].length;
        }
        byte[] out = new byte[size];
        MemorySegment s = MemorySegment.ofArray(out);
        s.set(INT_BE, 0, p.stock());
        s.set(LONG_BE, 4, p.priceCents());
        int at = putString(s, 12, name);
        at = putString(s, at, mfr);
        s.set(ValueLayout.JAVA_BYTE, at++, (byte) tags.length);
        for (byte[] t : tags) at = putString(s, at, t);
        return out;
    }

    private static int putString(MemorySegment s, int at, byte[] bytes) {
        s.set(SHORT_BE, at, (short) bytes.length);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, s, at + 2, bytes.length);
        return at + 2 + bytes.length;
    }

    static Part decode(MemorySegment v) {
        int stock = v.get(INT_BE, 0);
        long price = v.get(LONG_BE, 4);
        long[] at = {12};
        String name = getString(v, at);
        String mfr = getString(v, at);
        int count = v.get(ValueLayout.JAVA_BYTE, at[0]++) & 0xFF;
        String[] tags = new String[count];
        for (int i = 0; i < count; i++) tags[i] = getString(v, at);
        return new Part(name, mfr, stock, price, List.of(tags));
    }

    private static String getString(MemorySegment v, long[] at) {
        int len = v.get(SHORT_BE, at[0]) & 0xFFFF;
        byte[] b = v.asSlice(at[0] + 2, len).toArray(ValueLayout.JAVA_BYTE);
        at[0] += 2 + len;
        return new String(b, StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- reporting

    private static String[] row(String metric, String value, String unit) {
        System.out.printf("  %-45s %12s %s%n", metric, value, unit);
        return new String[] {metric, value, unit};
    }

    private static String rate(long count, long nanos) {
        return String.format("%,.0f", count / (nanos / 1e9));
    }

    private static String mib(long bytes) {
        return String.format("%.1f", bytes / 1048576.0);
    }

    private static long fileBytes(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            long total = 0;
            for (Path p : files.toList()) total += Files.size(p);
            return total;
        }
    }

    private static long peakRssMib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
        }
        return -1;
    }
}
