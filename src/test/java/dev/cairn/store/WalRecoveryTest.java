package dev.cairn.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;

import static dev.cairn.store.StoreTest.b;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The data file and its log after commits that freed and reused pages since the last
 * checkpoint (storage-format.md §5, §6): the data file alone opens as the last checkpoint; with
 * the log it opens as the last commit; with a damaged log, as the last commit before the damage.
 */
class WalRecoveryTest {
    @TempDir Path dir;

    /** The state after each commit; index 0 is the checkpoint the commits follow. */
    private final List<TreeMap<String, String>> states = new ArrayList<>();
    /** Where the crash image's log frames end. */
    private long logEnd;

    /** Commits 40 transactions after a checkpoint, copying the folder (a crash image) after the last. */
    private Path crashImage(Random rnd) throws Exception {
        Path source = dir.resolve("source");
        TreeMap<String, String> model = new TreeMap<>();
        try (Store store = Store.open(source)) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                for (int i = 0; i < 600; i++) {
                    String v = "v0-" + "x".repeat(rnd.nextInt(120));
                    w.put("t", b("k" + i), b(v));
                    model.put("k" + i, v);
                }
                w.commit();
            }
        }
        states.add(new TreeMap<>(model));
        Path image = dir.resolve("image");
        try (Store store = Store.open(source)) {
            for (int c = 1; c <= 40; c++) {
                try (WriteTxn w = store.beginWrite()) {
                    for (int i = 0; i < 30; i++) {
                        String k = "k" + rnd.nextInt(600);
                        if (rnd.nextInt(5) == 0) {
                            w.delete("t", b(k));
                            model.remove(k);
                        } else {
                            String v = "v" + c + "-" + "y".repeat(rnd.nextInt(rnd.nextInt(30) == 0 ? 6000 : 120));
                            w.put("t", b(k), b(v));
                            model.put(k, v);
                        }
                    }
                    w.commit();
                }
                states.add(new TreeMap<>(model));
            }
            assertTrue(store.wal.frameBytes() > 0, "the commits are still in the log");
            logEnd = WalFile.HEADER_BYTES + store.wal.frameBytes();
            Files.createDirectories(image);
            Files.copy(source.resolve(Store.DATA_FILE), image.resolve(Store.DATA_FILE));
            Files.copy(source.resolve(Store.WAL_FILE), image.resolve(Store.WAL_FILE));
        }
        return image;
    }

    @Test
    void theDataFileAloneOpensAsTheLastCheckpointAndWithItsLogAsTheLastCommit() throws Exception {
        Path image = crashImage(new Random(1));
        Path withLog = dir.resolve("with-log");
        Path alone = dir.resolve("alone");
        copy(image, withLog, true);
        copy(image, alone, false);
        try (Store store = Store.open(withLog); ReadTxn r = store.beginRead()) {
            assertTrue(store.verify().ok(), store.verify().problems().toString());
            assertEquals(states.getLast(), TornWriteTest.contents(r));
        }
        try (Store store = Store.open(alone); ReadTxn r = store.beginRead()) {
            assertTrue(store.verify().ok(), "pages the checkpoint reaches were reused before the next checkpoint: "
                + store.verify().problems());
            assertEquals(states.getFirst(), TornWriteTest.contents(r));
        }
    }

    @Test
    void aDamagedLogOpensAsTheLastCommitBeforeTheDamage() throws Exception {
        Path image = crashImage(new Random(2));
        byte[] log = Files.readAllBytes(image.resolve(Store.WAL_FILE));
        Random rnd = new Random(3);
        int older = 0;
        for (int trial = 0; trial < 30; trial++) {
            Path copy = dir.resolve("trial" + trial);
            copy(image, copy, false);
            byte[] damaged = log.clone();
            int at = WalFile.HEADER_BYTES + rnd.nextInt((int) logEnd - WalFile.HEADER_BYTES);
            damaged[at] ^= (byte) (1 + rnd.nextInt(255));
            Files.write(copy.resolve(Store.WAL_FILE), damaged);
            try (Store store = Store.open(copy); ReadTxn r = store.beginRead()) {
                assertTrue(store.verify().ok(), "trial " + trial + ": " + store.verify().problems());
                TreeMap<String, String> found = TornWriteTest.contents(r);
                int k = states.indexOf(found);
                assertTrue(k >= 0, "trial " + trial + " (byte " + at + "): the store holds no committed state");
                if (k < states.size() - 1) older++;
            }
        }
        assertTrue(older > 20, "only " + older + " of 30 damaged logs lost commits: the damage missed the frames");
    }

    @Test
    void aDamagedLogHeaderIsRefusedAndWithoutTheLogTheDatabaseOpensAtTheCheckpoint() throws Exception {
        Path image = crashImage(new Random(5));
        Path copy = dir.resolve("damaged-header");
        copy(image, copy, true);
        byte[] log = Files.readAllBytes(copy.resolve(Store.WAL_FILE));
        log[30] ^= 0x40;
        Files.write(copy.resolve(Store.WAL_FILE), log);
        byte[] dataBefore = Files.readAllBytes(copy.resolve(Store.DATA_FILE));
        dev.cairn.CorruptionException e = assertThrows(dev.cairn.CorruptionException.class, () -> Store.open(copy));
        assertTrue(e.getMessage().contains(Store.WAL_FILE) && e.getMessage().contains("log header"), e.getMessage());
        assertArrayEquals(dataBefore, Files.readAllBytes(copy.resolve(Store.DATA_FILE)), "refusing changed the data file");
        assertArrayEquals(log, Files.readAllBytes(copy.resolve(Store.WAL_FILE)), "refusing changed the log");
        Files.move(copy.resolve(Store.WAL_FILE), dir.resolve("moved-away.wal"));
        try (Store store = Store.open(copy); ReadTxn r = store.beginRead()) {
            assertEquals(states.getFirst(), TornWriteTest.contents(r));
        }
    }

    @Test
    void aCommitBeyondTheLogLimitGoesToTheDataFileAndLaterCommitsToTheLogAgain() throws Exception {
        byte[] big = new byte[16 << 20];
        new Random(4).nextBytes(big);
        Path source = dir.resolve("big");
        Path image = dir.resolve("big-image");
        try (Store store = Store.open(source)) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                w.put("t", b("small"), b("s"));
                w.commit();
            }
            assertTrue(store.wal.frameBytes() > 0, "a small commit is logged");
            try (WriteTxn w = store.beginWrite()) {
                w.put("t", b("big"), big);
                w.commit();
            }
            assertEquals(0, store.wal.frameBytes(), "the large commit is not logged, and it took the checkpoint");
            assertTrue(Files.size(source.resolve(Store.WAL_FILE)) < 4 << 20, "the log did not grow");
            try (WriteTxn w = store.beginWrite()) {
                w.put("t", b("after"), b("a"));
                w.commit();
            }
            assertTrue(store.wal.frameBytes() > 0, "the next small commit is logged");
            // The data file alone: the direct commit is its checkpoint.
            Files.createDirectories(image);
            Files.copy(source.resolve(Store.DATA_FILE), image.resolve(Store.DATA_FILE));
        }
        try (Store store = Store.open(image); ReadTxn r = store.beginRead()) {
            assertArrayEquals(big, r.get("t", b("big")).toArray(PageLayout.U8));
            assertEquals("s", StoreTest.s(r.get("t", b("small"))));
            assertNull(r.get("t", b("after")), "only in the log, which the image lacks");
            assertTrue(store.verify().ok(), store.verify().problems().toString());
        }
        try (Store store = Store.open(source); ReadTxn r = store.beginRead()) {
            assertArrayEquals(big, r.get("t", b("big")).toArray(PageLayout.U8));
            assertEquals("a", StoreTest.s(r.get("t", b("after"))));
        }
    }

    @Test
    void commitsThatSkippedTheForceSurviveAProcessCrash() throws Exception {
        Path source = dir.resolve("nd");
        Path image = dir.resolve("nd-image");
        TreeMap<String, String> model = new TreeMap<>();
        try (Store store = Store.open(source, StoreOptions.defaults().withDurable(false))) {
            for (int c = 0; c < 20; c++) {
                try (WriteTxn w = store.beginWrite()) {
                    w.createTree("t");
                    w.put("t", b("k" + c), b("v" + c));
                    model.put("k" + c, "v" + c);
                    w.commit();
                }
            }
            // The process dies here: the OS still holds every write, so a copy is what it leaves.
            Files.createDirectories(image);
            Files.copy(source.resolve(Store.DATA_FILE), image.resolve(Store.DATA_FILE));
            Files.copy(source.resolve(Store.WAL_FILE), image.resolve(Store.WAL_FILE));
        }
        try (Store store = Store.open(image); ReadTxn r = store.beginRead()) {
            assertEquals(model, TornWriteTest.contents(r));
        }
    }

    private static void copy(Path image, Path target, boolean withLog) throws Exception {
        Files.createDirectories(target);
        Files.copy(image.resolve(Store.DATA_FILE), target.resolve(Store.DATA_FILE));
        if (withLog) Files.copy(image.resolve(Store.WAL_FILE), target.resolve(Store.WAL_FILE));
    }
}
