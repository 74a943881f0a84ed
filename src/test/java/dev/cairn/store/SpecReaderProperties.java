package dev.cairn.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cairn.testing.TestFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * The store's folders read by {@link SpecReader}, a second reader written from
 * spec/storage-format.md alone: after random transactions (puts of small, empty and overflow
 * values, deletes, trees created and dropped, aborts; logged commits, direct commits and
 * checkpoints, by the checkpoint size drawn), the folder of the open store (the data file's last
 * checkpoint plus the log's frames), of the closed store and of the reopened one read as exactly
 * what the store committed.
 */
class SpecReaderProperties {
    private static final List<String> TREES = List.of("parts", "stock", "bom/serials");

    @Property(tries = 40)
    void theSpecReadsWhatTheStoreCommitted(@ForAll long seed) throws IOException {
        SplittableRandom rnd = new SplittableRandom(seed);
        long checkpointBytes = switch (rnd.nextInt(3)) {
            case 0 -> 0; // every commit direct
            case 1 -> 64 << 10;
            default -> StoreOptions.CHECKPOINT_BYTES;
        };
        Path dir = Files.createTempDirectory("cairn-spec");
        Map<String, TreeMap<String, String>> model = new TreeMap<>();
        try {
            StoreOptions options = StoreOptions.defaults().withCheckpointBytes(checkpointBytes);
            Store store = Store.open(dir, options);
            try {
                int transactions = 1 + rnd.nextInt(30);
                for (int t = 0; t < transactions; t++) {
                    Map<String, TreeMap<String, String>> working = copy(model);
                    try (WriteTxn w = store.beginWrite()) {
                        int ops = 1 + rnd.nextInt(rnd.nextInt(10) == 0 ? 400 : 40);
                        for (int i = 0; i < ops; i++) step(w, working, rnd);
                        if (rnd.nextInt(10) == 0) {
                            w.abort();
                            continue;
                        }
                        w.commit();
                    }
                    model = working;
                    if (rnd.nextInt(3) == 0 || t == transactions - 1) {
                        assertEquals(model, SpecReader.read(dir), "the open store's folder after txn " + t + ", checkpointBytes " + checkpointBytes);
                    }
                }
            } finally {
                store.close();
            }
            assertEquals(model, SpecReader.read(dir), "the closed store's folder");
            Store.open(dir, options).close();
            assertEquals(model, SpecReader.read(dir), "the folder after a reopen");
        } finally {
            TestFiles.deleteTree(dir);
        }
    }

    /** One operation, in the store and in the working model. */
    private static void step(WriteTxn w, Map<String, TreeMap<String, String>> working, SplittableRandom rnd) {
        String tree = TREES.get(rnd.nextInt(TREES.size()));
        int op = rnd.nextInt(100);
        if (op < 4) {
            if (!working.containsKey(tree)) {
                w.createTree(tree);
                working.put(tree, new TreeMap<>());
            }
        } else if (op < 6) {
            if (working.containsKey(tree)) {
                w.dropTree(tree);
                working.remove(tree);
            }
        } else if (!working.containsKey(tree)) {
            w.createTree(tree);
            working.put(tree, new TreeMap<>());
        } else if (op < 25 && !working.get(tree).isEmpty()) {
            List<String> keys = new ArrayList<>(working.get(tree).keySet());
            String key = keys.get(rnd.nextInt(keys.size()));
            w.delete(tree, SpecReader.HEX.parseHex(key));
            working.get(tree).remove(key);
        } else {
            byte[] key = key(rnd.nextInt(300));
            byte[] value = new byte[valueBytes(rnd)];
            rnd.nextBytes(value);
            w.put(tree, key, value);
            working.get(tree).put(SpecReader.HEX.formatHex(key), SpecReader.HEX.formatHex(value));
        }
    }

    /** Key k: the same bytes every time, of a length k picks (0 to 1024), so that puts overwrite and heads tie. */
    private static byte[] key(int k) {
        int length = switch (k % 10) {
            case 0 -> k % 3;             // 0 to 2 bytes, the empty key among them
            case 1 -> 1024;
            case 2, 3 -> 8 + k % 40;     // a shared 8-byte head, told apart after it
            default -> 4;
        };
        byte[] key = new byte[length];
        for (int i = 0; i < length; i++) key[i] = (byte) (k % 10 == 2 || k % 10 == 3 ? (i < 8 ? 7 : k * 13 + i) : k * 31 + i);
        return key;
    }

    private static int valueBytes(SplittableRandom rnd) {
        int kind = rnd.nextInt(20);
        if (kind < 3) return 0;
        if (kind < 15) return rnd.nextInt(1, 120);
        if (kind < 18) return rnd.nextInt(500, 1400);         // inline or not, near a third of a page
        if (kind < 19) return rnd.nextInt(1400, 20_000);      // overflow runs
        return rnd.nextInt(100_000, 300_000);                 // runs across chunks of the log limit
    }

    private static Map<String, TreeMap<String, String>> copy(Map<String, TreeMap<String, String>> m) {
        Map<String, TreeMap<String, String>> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(k, new TreeMap<>(v)));
        return out;
    }
}
