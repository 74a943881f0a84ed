package dev.cairn.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cairn.testing.TestFiles;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.constraints.IntRange;

/**
 * The log's damage check and refusals (storage-format.md §5.2, §5.4 step 5) against
 * {@link SpecReader#logVerdict}, written from the spec alone: a crash image of a store with
 * logged commits (durable or not, checkpoints between them or not, so that older generations'
 * frames lie past the log's end) gets one kind of damage: bytes flipped, an aligned block
 * zeroed, a run of random bytes, the file cut short, or none. The store must open exactly when
 * the spec's reader says it opens, then holding what that reader holds (one of the committed
 * states: a prefix of the commits, never other bytes), or refuse with the keepBytes the reader
 * computed, changing neither file. And one changed byte in a frame that a forced frame follows
 * is always refused.
 */
class SpecLogProperties {
    enum Damage { NONE, FLIP, FRAME_HEADER_FLIP, ZERO_BLOCK, ZERO_RUN, GARBAGE, CUT }

    @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
    void aDamagedLogOpensOrIsRefusedAsTheSpecSays(@ForAll long seed, @ForAll("damages") Damage damage,
                                                  @ForAll @IntRange(max = 2) int checkpoints, @ForAll @IntRange(max = 3) int lazy)
            throws IOException {
        SplittableRandom rnd = new SplittableRandom(seed);
        boolean durable = lazy > 0; // a quarter not: frames without AFTER_FORCE, which the damage check cannot tell from torn ones
        Path dir = Files.createTempDirectory("cairn-speclog");
        try {
            List<Map<String, TreeMap<String, String>>> states = new ArrayList<>();
            Path image = crashImage(dir, rnd, checkpoints == 0 ? StoreOptions.CHECKPOINT_BYTES : checkpoints == 1 ? 16 << 10 : 4 << 10,
                durable, states);
            byte[] log = Files.readAllBytes(image.resolve(Store.WAL_FILE));
            byte[] damaged = damage(log, damage, rnd);
            Files.write(image.resolve(Store.WAL_FILE), damaged);
            byte[] data = Files.readAllBytes(image.resolve(Store.DATA_FILE));
            SpecReader.LogVerdict verdict = SpecReader.logVerdict(image);
            Statistics.collect(damage, durable, verdict.opens() ? "opens" : "refused");
            Statistics.label("one byte of a frame a forced frame follows").collect(durable && forcedFrameHit(log, damaged));
            Map<String, TreeMap<String, String>> bySpec = verdict.opens() ? SpecReader.read(image) : null;
            String what = damage + ", checkpoints " + checkpoints + ", durable " + durable + ": the spec's reader says "
                + (verdict.opens() ? "it opens" : "it is refused, keep " + verdict.keepBytes()) + " (" + verdict.why() + ")";
            boolean mustRefuse = durable && forcedFrameHit(log, damaged);
            assertTrue(!mustRefuse || !verdict.opens(), what + ": one byte of a frame that a forced frame follows was changed");
            try (Store store = Store.open(image)) {
                assertTrue(verdict.opens(), what + "; the store opened");
                Map<String, TreeMap<String, String>> held = contents(store);
                assertEquals(bySpec, held, what);
                assertTrue(states.contains(held), what + ": the store holds no committed state");
                assertTrue(store.verify().ok(), what + ": " + store.verify().problems());
            } catch (LogRefusedException e) {
                if (verdict.opens()) fail(what + "; the store refused: " + e.getMessage());
                assertEquals(verdict.keepBytes(), e.keepBytes(), what + "; the store refused: " + e.getMessage());
                assertArrayEquals(damaged, Files.readAllBytes(image.resolve(Store.WAL_FILE)), what + ": refusing changed the log");
                assertArrayEquals(data, Files.readAllBytes(image.resolve(Store.DATA_FILE)), what + ": refusing changed the data file");
            }
        } finally {
            TestFiles.deleteTree(dir);
        }
    }

    @Provide
    Arbitrary<Damage> damages() {
        return Arbitraries.frequency(Tuple.of(1, Damage.NONE), Tuple.of(2, Damage.CUT), Tuple.of(4, Damage.FLIP), Tuple.of(4, Damage.FRAME_HEADER_FLIP),
            Tuple.of(4, Damage.ZERO_BLOCK), Tuple.of(2, Damage.ZERO_RUN), Tuple.of(3, Damage.GARBAGE));
    }

    /**
     * Commits a tree's creation and then random transactions, copying the data file and the log
     * after the last (what a crash would leave); records the state after each commit.
     */
    private static Path crashImage(Path dir, SplittableRandom rnd, long checkpointBytes, boolean durable,
                                   List<Map<String, TreeMap<String, String>>> states) throws IOException {
        Path source = dir.resolve("source");
        Path image = dir.resolve("image");
        TreeMap<String, String> model = new TreeMap<>();
        StoreOptions options = StoreOptions.defaults().withCheckpointBytes(checkpointBytes).withDurable(durable);
        try (Store store = Store.open(source, options)) {
            states.add(Map.of()); // the new file's checkpoint: the tree's creation may be only in the log
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                w.commit();
            }
            states.add(Map.of("t", new TreeMap<>()));
            int commits = 2 + rnd.nextInt(30);
            for (int c = 0; c < commits; c++) {
                try (WriteTxn w = store.beginWrite()) {
                    int ops = 1 + rnd.nextInt(12);
                    for (int i = 0; i < ops; i++) {
                        byte[] key = ("k" + rnd.nextInt(80)).getBytes();
                        String hex = SpecReader.HEX.formatHex(key);
                        if (model.containsKey(hex) && rnd.nextInt(4) == 0) {
                            w.delete("t", key);
                            model.remove(hex);
                        } else {
                            byte[] value = new byte[rnd.nextInt(rnd.nextInt(20) == 0 ? 6000 : 90)];
                            rnd.nextBytes(value);
                            w.put("t", key, value);
                            model.put(hex, SpecReader.HEX.formatHex(value));
                        }
                    }
                    w.commit();
                }
                states.add(Map.of("t", new TreeMap<>(model)));
            }
            Files.createDirectories(image);
            Files.copy(source.resolve(Store.DATA_FILE), image.resolve(Store.DATA_FILE));
            Files.copy(source.resolve(Store.WAL_FILE), image.resolve(Store.WAL_FILE));
        }
        return image;
    }

    /**
     * The log with one kind of damage: mostly before the last frame of the header's generation
     * (where a crash cannot tear), else anywhere up to the end of that frame, now and then in the
     * header.
     */
    private static byte[] damage(byte[] log, Damage damage, SplittableRandom rnd) {
        byte[] out = log.clone();
        int[] frames = frames(log);
        int end = rnd.nextInt(10) < 7 ? frames[0] : frames[1];
        int from = rnd.nextInt(12) == 0 ? 0 : WalFile.HEADER_BYTES;
        int at = from + rnd.nextInt(Math.max(1, end - from));
        switch (damage) {
            case NONE -> { }
            case FLIP -> {
                int flips = 1 + rnd.nextInt(rnd.nextBoolean() ? 1 : 3);
                for (int i = 0; i < flips; i++) {
                    int p = i == 0 ? at : from + rnd.nextInt(Math.max(1, end - from));
                    out[p] ^= (byte) (1 + rnd.nextInt(255));
                }
            }
            case FRAME_HEADER_FLIP -> {
                // A byte of the header of the frame that holds byte at: its txn, generation, length, count, flags or CRC.
                java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(log).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                int frame = WalFile.HEADER_BYTES;
                while (frame + WalFile.FRAME_HEADER_BYTES <= log.length && b.getLong(frame + 8) == b.getLong(16)) {
                    int next = frame + WalFile.FRAME_HEADER_BYTES + b.getInt(frame + 16);
                    if (next > at || next + WalFile.FRAME_HEADER_BYTES > log.length) break;
                    frame = next;
                }
                out[Math.min(frame + rnd.nextInt(WalFile.FRAME_HEADER_BYTES), out.length - 1)] ^= (byte) (1 + rnd.nextInt(255));
            }
            case ZERO_BLOCK -> {
                int block = rnd.nextBoolean() ? 512 : 4096; // also the header's, now and then
                int start = at / block * block;
                java.util.Arrays.fill(out, start, Math.min(out.length, start + block), (byte) 0);
            }
            case ZERO_RUN -> java.util.Arrays.fill(out, at, Math.min(out.length, at + 1 + rnd.nextInt(300)), (byte) 0);
            case GARBAGE -> {
                int n = Math.min(out.length - at, 1 + rnd.nextInt(64));
                for (int i = 0; i < n; i++) out[at + i] = (byte) rnd.nextInt(256);
            }
            case CUT -> out = java.util.Arrays.copyOf(out, at);
        }
        return out;
    }

    /**
     * Where the last frame of the header's generation starts and where the 32 bytes after the
     * generation's frames end (the log is undamaged), walking the frames' length fields.
     */
    private static int[] frames(byte[] log) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(log).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        long generation = b.getLong(16);
        int last = WalFile.HEADER_BYTES;
        int at = WalFile.HEADER_BYTES;
        while (at + WalFile.FRAME_HEADER_BYTES <= log.length && b.getLong(at + 8) == generation) {
            last = at;
            at += WalFile.FRAME_HEADER_BYTES + b.getInt(at + 16);
        }
        return new int[] {Math.max(last, WalFile.HEADER_BYTES + 1), Math.min(at + WalFile.FRAME_HEADER_BYTES, log.length)};
    }

    /**
     * Whether the damage changed exactly one byte, inside a frame of the header's generation that
     * a frame with AFTER_FORCE follows: a crash cannot do that, so both checks of §5.2 must
     * refuse it, whichever byte it is (the damage check if the length field held, the search if not).
     */
    private static boolean forcedFrameHit(byte[] log, byte[] damaged) {
        if (log.length != damaged.length) return false;
        int changed = -1;
        for (int i = 0; i < log.length; i++) {
            if (log[i] == damaged[i]) continue;
            if (changed >= 0) return false;
            changed = i;
        }
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(log).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        long generation = b.getLong(16);
        int at = WalFile.HEADER_BYTES;
        while (changed >= at && at + WalFile.FRAME_HEADER_BYTES <= log.length && b.getLong(at + 8) == generation) {
            int next = at + WalFile.FRAME_HEADER_BYTES + b.getInt(at + 16);
            if (changed < next) {
                return next + WalFile.FRAME_HEADER_BYTES <= log.length && b.getLong(next + 8) == generation
                    && b.getInt(next + 24) == (WalFile.FLAG_COMMIT | WalFile.FLAG_AFTER_FORCE);
            }
            at = next;
        }
        return false;
    }

    /** Every tree of the store's current snapshot, keys and values in hex. */
    private static Map<String, TreeMap<String, String>> contents(Store store) {
        Map<String, TreeMap<String, String>> out = new TreeMap<>();
        try (ReadTxn r = store.beginRead()) {
            for (String tree : r.treeNames()) {
                TreeMap<String, String> entries = new TreeMap<>();
                r.forEach(tree, (k, v) -> {
                    entries.put(SpecReader.HEX.formatHex(k.toArray(ValueLayout.JAVA_BYTE)),
                        SpecReader.HEX.formatHex(v.toArray(ValueLayout.JAVA_BYTE)));
                    return true;
                });
                out.put(tree, entries);
            }
        }
        return out;
    }
}
