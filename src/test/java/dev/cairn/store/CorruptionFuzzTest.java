package dev.cairn.store;

import dev.cairn.CorruptionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Random;
import java.util.TreeMap;

import static dev.cairn.store.StoreTest.b;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Flips random bytes of a closed database file. Open, point reads, scans and verify may only
 * throw CorruptionException or return data equal to one of the two last commits (falling back
 * to the previous commit when the newest meta or one of its pages is damaged is the recovery
 * rule). Never another exception, a hang or wrong data.
 */
class CorruptionFuzzTest {
    @TempDir Path dir;

    @Test
    void flippedBytesGiveCorruptionOrCorrectData() throws Exception {
        Random rnd = new Random(11);
        TreeMap<String, String> older = new TreeMap<>();
        long olderTxn;
        long newerTxn;
        // A checkpoint after each commit leaves both commits' metas in the data file.
        try (Store store = Store.open(dir, StoreOptions.defaults().withCheckpointBytes(0))) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                w.createTree("u");
                for (int i = 0; i < 400; i++) {
                    String v = "v" + i + "x".repeat(rnd.nextInt(15) == 0 ? 5000 : rnd.nextInt(90));
                    w.put("t", b("k" + i), b(v));
                    older.put("k" + i, v);
                }
                w.put("u", b("only"), b("one"));
                olderTxn = w.txnId();
                w.commit();
            }
            try (WriteTxn w = store.beginWrite()) {
                w.put("t", b("k7"), b("changed"));
                w.delete("t", b("k8"));
                newerTxn = w.txnId();
                w.commit();
            }
        }
        TreeMap<String, String> newer = new TreeMap<>(older);
        newer.put("k7", "changed");
        newer.remove("k8");
        Path file = dir.resolve(Store.DATA_FILE);
        byte[] original = Files.readAllBytes(file);
        long usedBytes;
        try (Store store = Store.open(dir)) {
            usedBytes = store.currentSnapshot().meta.pageCount() * 4096;
        }
        int detected = 0;
        int intact = 0;
        for (int trial = 0; trial < 150; trial++) {
            byte[] damaged = original.clone();
            int flips = 1 + rnd.nextInt(6);
            StringBuilder what = new StringBuilder("trial " + trial + " flips at");
            for (int f = 0; f < flips; f++) {
                int at = rnd.nextInt((int) usedBytes);
                damaged[at] ^= (byte) (1 + rnd.nextInt(255));
                what.append(' ').append(at).append(" (page ").append(at / 4096).append(')');
            }
            Files.write(file, damaged);
            boolean[] ok = new boolean[1];
            assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
                try (Store store = Store.open(dir)) {
                    try (ReadTxn r = store.beginRead()) {
                        TreeMap<String, String> expected = r.txnId() == newerTxn ? newer : older;
                        assertTrue(r.txnId() == newerTxn || r.txnId() == olderTxn, what + ": txn " + r.txnId());
                        for (var e : expected.entrySet()) {
                            assertEquals(e.getValue(), StoreTest.s(r.get("t", b(e.getKey()))), what.toString());
                        }
                        assertEquals(expected, TornWriteTest.contents(r), what.toString());
                        assertEquals("one", StoreTest.s(r.get("u", b("only"))), what.toString());
                    }
                    ok[0] = store.verify().ok();
                } catch (CorruptionException e) {
                    assertTrue(e.getMessage().contains(Store.DATA_FILE), e.getMessage());
                }
            }, what.toString());
            if (ok[0]) intact++; else detected++;
        }
        assertTrue(detected > 50, "only " + detected + " of 150 damaged files were detected");
        assertTrue(intact > 0, "no flip fell into free space or the older meta");
    }

    /**
     * The same flips in the data file of a crash image whose last commits are still only in the
     * intact log (the default, logged mode): replaying them onto a damaged checkpoint must give
     * exactly the last commit or CorruptionException, never another state.
     */
    @Test
    void flippedDataFileBytesUnderAnIntactLogGiveCorruptionOrTheLastCommit() throws Exception {
        Random rnd = new Random(13);
        TreeMap<String, String> model = new TreeMap<>();
        Path source = dir.resolve("source");
        Path image = dir.resolve("image");
        long lastTxn;
        long usedBytes;
        try (Store store = Store.open(source)) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                for (int i = 0; i < 500; i++) {
                    String v = "v" + i + "x".repeat(rnd.nextInt(15) == 0 ? 5000 : rnd.nextInt(90));
                    w.put("t", b("k" + i), b(v));
                    model.put("k" + i, v);
                }
                w.commit();
            }
        } // close takes a checkpoint: what follows is only in the log
        try (Store store = Store.open(source)) {
            for (int c = 0; c < 12; c++) {
                try (WriteTxn w = store.beginWrite()) {
                    for (int i = 0; i < 20; i++) {
                        String k = "k" + rnd.nextInt(500);
                        if (rnd.nextInt(4) == 0) {
                            w.delete("t", b(k));
                            model.remove(k);
                        } else {
                            String v = "c" + c + "y".repeat(rnd.nextInt(30) == 0 ? 4000 : rnd.nextInt(60));
                            w.put("t", b(k), b(v));
                            model.put(k, v);
                        }
                    }
                    w.commit();
                }
            }
            assertTrue(store.wal.frameBytes() > 0, "the last commits are only in the log");
            lastTxn = store.currentSnapshot().txnId();
            usedBytes = store.currentSnapshot().meta.pageCount() * 4096;
            Files.createDirectories(image);
            Files.copy(source.resolve(Store.DATA_FILE), image.resolve(Store.DATA_FILE));
            Files.copy(source.resolve(Store.WAL_FILE), image.resolve(Store.WAL_FILE));
        }
        byte[] original = Files.readAllBytes(image.resolve(Store.DATA_FILE));
        byte[] log = Files.readAllBytes(image.resolve(Store.WAL_FILE));
        int detected = 0;
        int intact = 0;
        for (int trial = 0; trial < 120; trial++) {
            Path copy = dir.resolve("trial" + trial);
            Files.createDirectories(copy);
            byte[] damaged = original.clone();
            int flips = 1 + rnd.nextInt(6);
            StringBuilder what = new StringBuilder("trial " + trial + " flips at");
            for (int f = 0; f < flips; f++) {
                int at = rnd.nextInt((int) Math.min(usedBytes, damaged.length));
                damaged[at] ^= (byte) (1 + rnd.nextInt(255));
                what.append(' ').append(at).append(" (page ").append(at / 4096).append(')');
            }
            Files.write(copy.resolve(Store.DATA_FILE), damaged);
            Files.write(copy.resolve(Store.WAL_FILE), log);
            boolean[] ok = new boolean[1];
            assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
                try (Store store = Store.open(copy)) {
                    try (ReadTxn r = store.beginRead()) {
                        assertEquals(lastTxn, r.txnId(), what + ": opened at another commit");
                        for (var e : model.entrySet()) {
                            assertEquals(e.getValue(), StoreTest.s(r.get("t", b(e.getKey()))), what.toString());
                        }
                        assertEquals(model, TornWriteTest.contents(r), what.toString());
                    }
                    ok[0] = store.verify().ok();
                } catch (CorruptionException e) {
                    assertTrue(e.getMessage().contains(Store.DATA_FILE) || e.getMessage().contains(Store.WAL_FILE),
                        what + ": " + e.getMessage());
                }
            }, what.toString());
            if (ok[0]) intact++; else detected++;
        }
        assertTrue(detected > 40, "only " + detected + " of 120 damaged files were detected");
        assertTrue(intact > 0, "no flip fell into free space or the older meta");
    }

    @Test
    void aDataFileCutShortIsRefusedNotRolledBack() throws Exception {
        try (Store store = Store.open(dir)) {
            for (int c = 0; c < 30; c++) {
                try (WriteTxn w = store.beginWrite()) {
                    if (c == 0) w.createTree("t");
                    for (int i = 0; i < 200; i++) w.put("t", b(String.format("k%06d", c * 200 + i)), new byte[100]);
                    w.commit();
                }
            }
        } // close takes the checkpoint; the older meta holds an earlier state (here: before every commit)
        Path data = dir.resolve(Store.DATA_FILE);
        long pages;
        try (Store store = Store.open(dir); ReadTxn r = store.beginRead()) {
            pages = r.snapshot.meta.pageCount();
            assertEquals(6000, r.count("t"));
        }
        cutTo(data, pages * 4096); // the sparse tail past the last page: nothing lost
        try (Store store = Store.open(dir); ReadTxn r = store.beginRead()) {
            assertEquals(6000, r.count("t"), "cutting only the file's unused tail loses nothing");
        }
        cutTo(data, (pages / 2) * 4096);
        CorruptionException e = assertThrows(CorruptionException.class, () -> Store.open(dir).close(),
            "a file cut short must not open on its older meta, an empty database");
        assertTrue(e.getMessage().contains("cut short") && e.getMessage().contains("counts " + pages + " pages"),
            e.getMessage());
        assertEquals((pages / 2) * 4096, Files.size(data), "the failed open left the file as it was (mapping would extend it)");
        CorruptionException again = assertThrows(CorruptionException.class, () -> Store.open(dir).close());
        assertEquals(e.getMessage(), again.getMessage(), "so a second open says the same");
    }

    private static void cutTo(Path file, long bytes) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
            c.truncate(bytes);
        }
    }

    /**
     * Flips bytes inside node pages and then fixes their checksums, as a crafted file would:
     * the structural checks must stop every bad offset. Data may differ (the checksum no longer
     * tells), but the only exception allowed is CorruptionException, and nothing may hang.
     */
    @Test
    void craftedPagesWithValidChecksumsGiveCorruptionNeverAnotherException() throws Exception {
        Random rnd = new Random(12);
        try (Store store = Store.open(dir)) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                for (int i = 0; i < 600; i++) w.put("t", b("k" + i), b("v" + "x".repeat(rnd.nextInt(20) == 0 ? 5000 : rnd.nextInt(90))));
                w.commit();
            }
        }
        Path file = dir.resolve(Store.DATA_FILE);
        byte[] original = Files.readAllBytes(file);
        java.lang.foreign.MemorySegment whole = java.lang.foreign.MemorySegment.ofArray(original);
        java.util.List<Integer> nodePages = new java.util.ArrayList<>();
        for (int p = 3; p < 200; p++) {
            byte kind = original[p * 4096 + 4];
            if (kind == PageLayout.KIND_LEAF || kind == PageLayout.KIND_BRANCH) nodePages.add(p);
        }
        assertFalse(nodePages.isEmpty());
        for (int trial = 0; trial < 150; trial++) {
            byte[] damaged = original.clone();
            int page = nodePages.get(rnd.nextInt(nodePages.size()));
            java.lang.foreign.MemorySegment seg = java.lang.foreign.MemorySegment.ofArray(damaged).asSlice(page * 4096L, 4096);
            int flips = 1 + rnd.nextInt(4);
            for (int f = 0; f < flips; f++) {
                // Mostly the header and slot area, where offsets and counts live.
                int at = rnd.nextBoolean() ? 4 + rnd.nextInt(200) : rnd.nextInt(4096);
                damaged[page * 4096 + at] ^= (byte) (1 + rnd.nextInt(255));
            }
            PageLayout.seal(seg, 4096);
            Files.write(file, damaged);
            String what = "trial " + trial + " page " + page;
            assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
                try (Store store = Store.open(dir)) {
                    try (ReadTxn r = store.beginRead(); Cursor c = r.cursor("t")) {
                        for (int i = 0; i < 600; i += 7) r.get("t", b("k" + i));
                        int n = 0;
                        for (boolean ok = c.first(); ok && n < 10_000; ok = c.next(), n++) c.value();
                        for (boolean ok = c.last(); ok && n < 20_000; ok = c.prev(), n++) c.key();
                        c.seek(b("k5"));
                    }
                    store.verify();
                } catch (CorruptionException | IllegalArgumentException e) {
                    if (e instanceof IllegalArgumentException) assertTrue(e.getMessage().contains("no tree named"), what + ": " + e);
                }
            }, what);
        }
        assertNotNull(whole);
    }
}
