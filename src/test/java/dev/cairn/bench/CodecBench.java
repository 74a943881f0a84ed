package dev.cairn.bench;

import dev.cairn.schema.FieldPath;
import dev.cairn.schema.RecordCodec;
import dev.cairn.schema.Schema;
import dev.cairn.schema.SchemaVersions;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Codec figures for the WORKLOAD {@code Part}: encode, full decode, one int field, stringEquals,
 * in operations per second on one thread, after warm-up. Run: {@code main(["--quick"])} for a
 * short run.
 */
public final class CodecBench {
    /** The WORKLOAD record. */
    public record Part(String name, String manufacturer, int stock, long priceCents,
        List<String> tags) { }

    private static final String[] TAGS = {"smd", "tht", "rohs", "0402", "0603", "0805", "1206",
        "auto", "lowesr",
        "hivolt", "precise", "pbfree", "reel", "tray", "cuttape", "esd", "ceramic", "film", "thick",
            "thin"};
    private static final String[] SUFFIXES = {"R10K", "R4K7", "R220", "R1M0", "C10N", "C1U0",
        "C22P", "C100"};
    private static final String[] MAKERS = {"Vishay", "Murata", "Yageo", "Kemet", "Bourns",
        "Nexperia", "Panasonic"};

    private CodecBench() { }

    /** Parts shaped like the WORKLOAD data set: 16-char names, 12-char makers, 3 distinct tags. */
    static Part[] parts(int n) {
        SplittableRandom rnd = new SplittableRandom(20_240_601L);
        Part[] parts = new Part[n];
        for (int i = 0; i < n; i++) {
            String name = String.format("PART-%06d-%s", i % 1_000_000,
                SUFFIXES[rnd.nextInt(SUFFIXES.length)]);
            String maker = String.format("%-8.8s-%c%dX", MAKERS[rnd.nextInt(MAKERS.length)], 'A'
                + i % 5, i % 10)
                .replace(' ', '_');
            int t1 = rnd.nextInt(TAGS.length);
            int t2 = (t1 + 1 + rnd.nextInt(TAGS.length - 1)) % TAGS.length;
            int t3 = t1;
            while (t3 == t1 || t3 == t2) t3 = rnd.nextInt(TAGS.length);
            parts[i] = new Part(name, maker, rnd.nextInt(100_000), rnd.nextLong(1, 10_000_000),
                List.of(TAGS[t1], TAGS[t2], TAGS[t3]));
        }
        return parts;
    }

    public static void main(String[] args) {
        boolean quick = args.length > 0 && args[0].equals("--quick");
        long roundNanos = quick ? 200_000_000L : 500_000_000L;
        int rounds = quick ? 3 : 7;
        SchemaVersions versions = new SchemaVersions();
        versions.add(Schema.derive(Part.class));
        RecordCodec<Part> codec = RecordCodec.of(Part.class, "Part", versions);
        Part[] parts = parts(4096);
        MemorySegment[] encoded = new MemorySegment[parts.length];
        long totalBytes = 0;
        for (int i = 0; i < parts.length; i++) {
            encoded[i] = MemorySegment.ofArray(codec.encode(parts[i]));
            totalBytes += encoded[i].byteSize();
        }
        // The same records in one native segment, read-only slices: what the store hands out.
        MemorySegment arena = java.lang.foreign.Arena.ofAuto().allocate(totalBytes);
        MemorySegment[] mapped = new MemorySegment[parts.length];
        long at = 0;
        for (int i = 0; i < parts.length; i++) {
            MemorySegment.copy(encoded[i], 0, arena, at, encoded[i].byteSize());
            mapped[i] = arena.asSlice(at, encoded[i].byteSize()).asReadOnly();
            at += encoded[i].byteSize();
        }
        FieldPath stock = codec.field("stock");
        FieldPath name = codec.field("name");
        String probe = parts[7].name();
        System.out.printf("Part: %.1f bytes encoded on average; %d rounds of %d ms thread CPU time, best and median%n",
            (double) totalBytes / parts.length, rounds, roundNanos / 1_000_000);
        Loop encode = n -> {
            long sink = 0;
            for (int i = 0; i < n; i++) sink += codec.encode(parts[i & 4095]).length;
            return sink;
        };
        Loop decode = n -> {
            long sink = 0;
            for (int i = 0; i < n; i++) sink += codec.decode(encoded[i & 4095]).stock();
            return sink;
        };
        Loop decodeNative = n -> {
            long sink = 0;
            for (int i = 0; i < n; i++) sink += codec.decode(mapped[i & 4095]).stock();
            return sink;
        };
        Loop getInt = n -> {
            long sink = 0;
            for (int i = 0; i < n; i++) sink += codec.getInt(encoded[i & 4095], stock);
            return sink;
        };
        Loop stringEquals = n -> {
            long sink = 0;
            for (int i = 0; i < n; i++) sink += codec.stringEquals(encoded[i & 4095], name, probe)
                ? 1 : 0;
            return sink;
        };
        double decodeBest = 0;
        double getIntBest = 0;
        String[] names = {"encode", "decode (full)", "getInt(stock)", "stringEquals(name)",
            "decode (native r/o)"};
        Loop[] loops = {encode, decode, getInt, stringEquals, decodeNative};
        for (int k = 0; k < loops.length; k++) {
            run(roundNanos, loops[k]);
            double[] results = new double[rounds];
            for (int r = 0; r < rounds; r++) results[r] = run(roundNanos, loops[k]);
            java.util.Arrays.sort(results);
            System.out.printf("%-20s best %,14.0f ops/s   median %,14.0f ops/s%n", names[k],
                results[rounds - 1],
                results[rounds / 2]);
            if (k == 1) decodeBest = results[rounds - 1];
            if (k == 2) getIntBest = results[rounds - 1];
        }
        System.out.printf("getInt / full decode: %.1fx%n", getIntBest / decodeBest);
        allocation(codec, parts);
    }

    /** Bytes allocated per encode, against the size of the returned array. */
    private static void allocation(RecordCodec<Part> codec, Part[] parts) {
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        long output = 0;
        int n = 100_000;
        long before = threads.getThreadAllocatedBytes(id);
        for (int i = 0; i < n; i++) output += codec.encode(parts[i & 4095]).length;
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        System.out.printf("encode allocates %.1f bytes/op; the returned arrays take %.1f bytes/op"
            + " (16-byte header + data, 8-byte aligned)%n", (double) allocated / n,
            arrayBytes(output, n));
        before = threads.getThreadAllocatedBytes(id);
        long sink = 0;
        for (int i = 0; i < n; i++) sink += codec.decode(MemorySegment.ofArray(codec.encode(parts[i & 4095]))).stock();
        if (sink == 42) System.out.print("");
    }

    private static double arrayBytes(long outputBytes, int n) {
        double average = (double) outputBytes / n;
        return Math.ceil((16 + average) / 8) * 8;
    }

    private interface Loop {
        long run(int n);
    }

    /**
     * Operations per second of this thread's CPU time (not wall time): the machine may be shared,
     * and a thread that is descheduled is not slower, only waiting.
     */
    private static double run(long runNanos, Loop loop) {
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long blackhole = 0;
        long ops = 0;
        long start = threads.getCurrentThreadCpuTime();
        long elapsed;
        int batch = 1 << 14;
        do {
            blackhole += loop.run(batch);
            ops += batch;
            elapsed = threads.getCurrentThreadCpuTime() - start;
        } while (elapsed < runNanos);
        if (blackhole == 42) System.out.print("");
        return ops * 1e9 / elapsed;
    }
}
