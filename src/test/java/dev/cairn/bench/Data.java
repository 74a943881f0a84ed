package dev.cairn.bench;

import java.util.List;
import java.util.SplittableRandom;

/**
 * The benchmark data set of shared/bench/WORKLOAD.md, generated the same way as the peers'
 * harness so every system stores identical records: one SplittableRandom seeded with
 * {@link #DATA_SEED} draws, per record in id order, a name suffix, a manufacturer, stock,
 * price and three distinct tags.
 */
final class Data {
    static final long DATA_SEED = 20_240_601L;
    static final long READ_SEED = 77_001L;
    static final long READ_SEED_2 = 77_002L;
    static final long WARMUP_SEED = 55_555L;
    static final long VERIFY_SEED = 99_991L;
    static final long UPDATE_SEED = 31_337L;

    private static final String[] TAGS = {
        "smd", "tht", "rohs", "0402", "0603", "0805", "1206", "auto", "lowesr", "hivolt",
        "precise", "pbfree", "reel", "tray", "cuttape", "esd", "ceramic", "film", "thick", "thin"
    };
    private static final String[] SUFFIXES = {
        "R10K", "R4K7", "R220", "R1M0", "C10N", "C1U0", "C22P", "C100", "L4U7", "L10U",
        "D1N4", "DZ51", "QBC5", "QMOS", "UOPA", "UMCU", "F500", "X16M", "K5V0", "J2X5",
        "S3PO", "T0N5", "VREG", "LED1", "FUSE", "RELY", "XTAL", "PTC0", "NTC1", "BEAD",
        "DIOD", "TVS5"
    };
    private static final String[] MAKERS = {"Vishay", "Murata", "Yageo", "Kemet", "Bourns", "Nexperia",
        "Panasonic", "Rohm", "Samsung", "TDK"};
    private static final String[] MANUFACTURERS = manufacturers();

    private Data() { }

    /** 50 names of 12 characters: maker padded or cut to 8 with '_', '-', a letter, a digit, 'X'. */
    private static String[] manufacturers() {
        String[] names = new String[50];
        for (int i = 0; i < names.length; i++) {
            String maker = MAKERS[i % MAKERS.length];
            String eight = (maker + "________").substring(0, 8);
            names[i] = eight + "-" + (char) ('A' + i / 10) + (char) ('0' + i % 10) + "X";
        }
        return names;
    }

    static StoreBench.Part[] generate(int n) {
        SplittableRandom rnd = new SplittableRandom(DATA_SEED);
        StoreBench.Part[] parts = new StoreBench.Part[n];
        for (int i = 0; i < n; i++) {
            String name = String.format("PART-%06d-", i % 1_000_000) + SUFFIXES[rnd.nextInt(SUFFIXES.length)];
            String maker = MANUFACTURERS[rnd.nextInt(MANUFACTURERS.length)];
            int stock = rnd.nextInt(100_000);
            long price = rnd.nextLong(1, 10_000_000);
            int t1 = rnd.nextInt(TAGS.length);
            int t2 = rnd.nextInt(TAGS.length - 1);
            if (t2 >= t1) t2++;
            int t3 = rnd.nextInt(TAGS.length);
            while (t3 == t1 || t3 == t2) t3 = rnd.nextInt(TAGS.length);
            parts[i] = new StoreBench.Part(name, maker, stock, price, List.of(TAGS[t1], TAGS[t2], TAGS[t3]));
        }
        return parts;
    }

    /** count uniformly random ids in [0, n). */
    static long[] randomIds(int n, int count, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        long[] ids = new long[count];
        for (int i = 0; i < count; i++) ids[i] = rnd.nextInt(n);
        return ids;
    }
}
