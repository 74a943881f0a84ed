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
    public record Part(String name, String manufacturer, int stock, long priceCents, List<String> tags) { }

    private static final String[] TAGS = {"smd", "tht", "rohs", "0402", "0603", "0805", "1206", "auto", "lowesr",
        "hivolt", "precise", "pbfree", "reel", "tray", "cuttape", "esd", "ceramic", "film", "thick", "thin"};
    private static final String[] SUFFIXES = {"R10K", "R4K7", "R220", "R1M0", "C10N", "C1U0", "C22P", "C100"};
    private static final String[] MAKERS = {"Vishay", "Murata", "Yageo", "Kemet", "Bourns", "Nexperia", "Panasonic"};

    private CodecBench() { }

    /** Parts shaped like the WORKLOAD data set: 16-char names, 12-char makers, 3 distinct tags. */
    static Part[] parts(int n) {
        SplittableRandom rnd = new SplittableRandom(20_240_601L);
        Part[] parts = new Part[n];
        for (int i = 0; i < n; i++) {
            String name = String.format("PART-%06d-%s", i % 1_000_000, SUFFIXES[rnd.nextInt(SUFFIXES.length)]);
            String maker = String.format("%-8.8s-%c%dX", MAKERS[rnd.nextInt(MAKERS.length)], 'A' + i % 5, i % 10)
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
        long runNanos = quick ? 300_000_000L : 2_000_000_000L;
        SchemaVersions versions = new SchemaVersions();
        versions.add(Schema.derive(Part.class));
        RecordCodec<Part> codec = RecordCodec.of(Part.class, "Part", versions);
        Part[] parts = parts(4096);
        MemorySegment[] encoded = new MemorySegment[parts.length];
        for (int i = 0; i < parts.length; i++) encoded[i] = MemorySegment.ofArray(codec.encode(parts[i]));
        FieldPath stock = codec.field("stock");
        FieldPath name = codec.field("name");
        String probe = parts[7].name();
        System.out.printf("Part encodes to %d bytes (first record)%n", encoded[0].byteSize());
        for (int round = 0; round < 2; round++) {
            boolean print = round == 1;
            report(print, "encode", run(runNanos, n -> {
                long sink = 0;
                for (int i = 0; i < n; i++) sink += codec.encode(parts[i & 4095]).length;
                return sink;
            }));
            report(print, "decode (full)", run(runNanos, n -> {
                long sink = 0;
                for (int i = 0; i < n; i++) sink += codec.decode(encoded[i & 4095]).stock();
                return sink;
            }));
            report(print, "getInt(stock)", run(runNanos, n -> {
                long sink = 0;
                for (int i = 0; i < n; i++) sink += codec.getInt(encoded[i & 4095], stock);
                return sink;
            }));
            report(print, "stringEquals(name)", run(runNanos, n -> {
                long sink = 0;
                for (int i = 0; i < n; i++) sink += codec.stringEquals(encoded[i & 4095], name, probe) ? 1 : 0;
                return sink;
            }));
        }
    }

    private interface Loop {
        long run(int n);
    }

    private static double run(long runNanos, Loop loop) {
        long blackhole = 0;
        long ops = 0;
        long start = System.nanoTime();
        long elapsed;
        int batch = 1 << 16;
        do {
            blackhole += loop.run(batch);
            ops += batch;
            elapsed = System.nanoTime() - start;
        } while (elapsed < runNanos);
        if (blackhole == 42) System.out.print("");
        return ops * 1e9 / elapsed;
    }

    private static void report(boolean print, String what, double opsPerSecond) {
        if (print) System.out.printf("%-20s %,14.0f ops/s%n", what, opsPerSecond);
    }
}
