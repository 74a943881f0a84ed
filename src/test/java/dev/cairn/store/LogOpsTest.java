package dev.cairn.store;

import dev.cairn.CorruptionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.TreeMap;

import static dev.cairn.store.StoreTest.b;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The ops a write transaction records for its log frame (storage-format.md §5.2): applied to
 * the snapshot the transaction started from, they give exactly its result; damaged ops give a
 * {@link CorruptionException} naming the op, never another exception or a half-read op.
 */
class LogOpsTest {
    @TempDir Path dir;

    @Test
    void recordedOpsAppliedToTheSameStartGiveTheSameTrees() {
        Random rnd = new Random(1);
        for (int trial = 0; trial < 20; trial++) {
            Path a = dir.resolve("a" + trial);
            Path b = dir.resolve("b" + trial);
            byte[] ops;
            int count;
            TreeMap<String, TreeMap<String, String>> expected;
            StoreOptions options = StoreOptions.defaults().withCheckpointBytes(64L << 20);
            try (Store source = Store.open(a, options); Store target = Store.open(b, options)) {
                seed(source);
                seed(target);
                try (WriteTxn w = source.beginWrite()) {
                    randomOps(w, rnd);
                    LogOps recorded = w.loggedOps();
                    assertNotNull(recorded, "a small transaction is logged");
                    ops = Arrays.copyOf(recorded.bytes(), recorded.size());
                    count = recorded.count();
                    w.commit();
                }
                try (ReadTxn r = source.beginRead()) {
                    expected = contents(r);
                }
                try (WriteTxn w = target.beginWrite()) {
                    LogOps.apply(ByteBuffer.wrap(ops), count, w, "trial " + trial);
                    w.commit();
                }
                try (ReadTxn r = target.beginRead()) {
                    assertEquals(expected, contents(r), "trial " + trial);
                }
                assertTrue(target.verify().ok());
            }
        }
    }

    @Test
    void aTransactionBeyondTheLogLimitStopsRecording() {
        try (Store store = Store.open(dir.resolve("big"), StoreOptions.defaults().withCheckpointBytes(100_000))) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                w.put("t", b("small"), new byte[10]);
                assertNotNull(w.loggedOps());
                w.put("t", b("large"), new byte[100_000]);
                assertNull(w.loggedOps(), "ops beyond the limit: the commit goes to the data file");
                w.put("t", b("after"), new byte[10]);
                assertNull(w.loggedOps(), "recording does not resume");
                w.commit();
            }
            try (ReadTxn r = store.beginRead()) {
                assertEquals(100_000, r.get("t", b("large")).byteSize());
                assertEquals(10, r.get("t", b("after")).byteSize());
            }
        }
    }

    @Test
    void damagedOpsAreRefusedByOpAndByte() {
        Random rnd = new Random(2);
        byte[] ops;
        int count;
        try (Store store = Store.open(dir.resolve("src"))) {
            seed(store);
            try (WriteTxn w = store.beginWrite()) {
                randomOps(w, rnd);
                ops = Arrays.copyOf(w.loggedOps().bytes(), w.loggedOps().size());
                count = w.loggedOps().count();
                w.abort();
            }
        }
        int refused = 0;
        try (Store store = Store.open(dir.resolve("fuzz"))) {
            seed(store);
            for (int trial = 0; trial < 400; trial++) {
                byte[] damaged = ops.clone();
                switch (trial % 3) {
                    case 0 -> damaged[rnd.nextInt(damaged.length)] ^= (byte) (1 + rnd.nextInt(255));
                    case 1 -> damaged = Arrays.copyOf(damaged, rnd.nextInt(damaged.length));
                    default -> {
                        for (int i = 0; i < 4; i++) damaged[rnd.nextInt(damaged.length)] = (byte) rnd.nextInt();
                    }
                }
                try (WriteTxn w = store.beginWrite()) {
                    LogOps.apply(ByteBuffer.wrap(damaged), count, w, "trial " + trial);
                } catch (CorruptionException e) {
                    assertTrue(e.getMessage().startsWith("trial " + trial + ": "), e.getMessage());
                    refused++;
                }
            }
        }
        // The rest changed a key or value byte, which still applies: the checksum of the log
        // frame is what catches those.
        assertTrue(refused > 100, "only " + refused + " of 400 damaged op lists were refused");
    }

    private static void seed(Store store) {
        try (WriteTxn w = store.beginWrite()) {
            w.createTree("t");
            w.createTree("u");
            for (int i = 0; i < 300; i++) w.put("t", b("k" + i), b("v" + i));
            w.commit();
        }
    }

    /** Puts, deletes (present and absent keys), tree creation and drop, in a random mix. */
    private static void randomOps(WriteTxn w, Random rnd) {
        w.createTree("new");
        for (int i = 0; i < 200; i++) {
            String tree = rnd.nextInt(5) == 0 ? "new" : rnd.nextBoolean() ? "t" : "u";
            String k = "k" + rnd.nextInt(400);
            if (rnd.nextInt(3) == 0) {
                w.delete(tree, b(k));
            } else {
                w.put(tree, b(k), b("w" + "z".repeat(rnd.nextInt(rnd.nextInt(20) == 0 ? 9000 : 50))));
            }
        }
        if (rnd.nextBoolean()) w.dropTree("u");
    }

    private static TreeMap<String, TreeMap<String, String>> contents(ReadTxn r) {
        TreeMap<String, TreeMap<String, String>> all = new TreeMap<>();
        for (String tree : r.treeNames()) {
            TreeMap<String, String> m = new TreeMap<>();
            try (Cursor c = r.cursor(tree)) {
                for (boolean ok = c.first(); ok; ok = c.next()) m.put(StoreTest.s(c.key()), StoreTest.s(c.value()));
            }
            all.put(tree, m);
        }
        return all;
    }
}
