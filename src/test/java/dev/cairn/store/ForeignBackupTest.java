package dev.cairn.store;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backup taken without the writer's help (as the command line does when another process holds
 * the database) is one committed snapshot, however busy the writer is.
 */
class ForeignBackupTest {
    @TempDir Path dir;

    private static byte[] key(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] number(long n) {
        return ByteBuffer.allocate(8).putLong(n).array();
    }

    /** Probe 61: copies that failed under a busy writer were reported as "damaged", alarming about a sound folder. */
    @Test
    void aBackupThatFailsBecauseTheFolderChangedSaysItIsNotDamagedAndWhatToDo() throws Exception {
        String said = ForeignBackup.noConsistentCopy(Path.of("big"), "page 7: kind leaf", true);
        assertTrue(said.startsWith("backup of big failed: the database in it is NOT damaged, but none of 8 copies was"
            + " consistent: the process that holds it open committed while each copy was being read"), said);
        assertTrue(said.contains("(what the check found in the last copy, not in the database: page 7: kind leaf)"), said);
        assertTrue(said.contains("Take the backup at a quieter time"), said);
        String many = ForeignBackup.noConsistentCopy(Path.of("big"), "catalog: page 9: checksum; page 3 leaked; page 4 leaked", true);
        assertTrue(many.contains("(what the check found in the last copy, not in the database: catalog: page 9: checksum, and 2"
            + " more)"), many);
        assertTrue(said.contains("or stop the application or server that holds big for as long as the copy takes"), said);
        assertTrue(said.endsWith("or back up from inside that process, which never fails for its commits: the server console's"
            + " backup TARGET, Cairn.backup in an application"), said);
        // Copies tell apart: a commit in between changes the log's bytes.
        Path a = dir.resolve("a");
        Files.write(a, new byte[100]);
        Path log = dir.resolve("log");
        Files.write(log, new byte[] {1, 2, 3});
        long before = ForeignBackup.fingerprint(a, log);
        assertEquals(before, ForeignBackup.fingerprint(a, log), "the same files look the same");
        Files.write(log, new byte[] {1, 2, 4});
        assertNotEquals(before, ForeignBackup.fingerprint(a, log), "a changed log looks different");
    }

    @Test
    void copiesTakenWhileAWriterCommitsAreEachOneCommittedSnapshot() throws Exception {
        Path source = dir.resolve("source");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong commits = new AtomicLong();
        try (Store store = Store.open(source, StoreOptions.defaults().withDurable(false))) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                w.commit();
            }
            // Commit n sets "count" = n and rewrites keys k0..k(n mod 200): a snapshot is
            // consistent when every key below the count's window holds that same n.
            Thread writer = Thread.ofPlatform().start(() -> {
                for (long n = 1; !stop.get() && n <= 20_000; n++) {
                    try (WriteTxn w = store.beginWrite()) {
                        w.put("t", key("count"), number(n));
                        for (int i = 0; i < 50; i++) w.put("t", key("k" + (n * 50 + i) % 400), number(n));
                        w.commit();
                    }
                    commits.set(n);
                }
            });
            for (int copy = 0; copy < 4; copy++) {
                while (commits.get() < 50L * (copy + 1)) Thread.onSpinWait();
                Path target = dir.resolve("copy" + copy);
                ForeignBackup.copy(source, target);
                try (Store c = Store.open(target); ReadTxn r = c.beginRead()) {
                    assertTrue(c.verify().ok(), c.verify().problems().toString());
                    long n = r.get("t", key("count")).asByteBuffer().getLong();
                    assertTrue(n >= 1, "count " + n);
                    for (int i = 0; i < 50; i++) {
                        var v = r.get("t", key("k" + (n * 50 + i) % 400));
                        assertNotNull(v, "copy " + copy + " at count " + n + " lacks key " + i);
                        assertEquals(n, v.asByteBuffer().getLong(), "copy " + copy + ": half-applied commit " + n);
                    }
                }
            }
            stop.set(true);
            writer.join();
        }
    }

    @Test
    void refusesATargetThatHoldsADatabaseAndASourceThatHoldsNone() {
        Path source = dir.resolve("source");
        try (Store store = Store.open(source)) {
            assertNotNull(store);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> ForeignBackup.copy(dir.resolve("nothing"), dir.resolve("t")));
        assertTrue(e.getMessage().contains("no database in"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ForeignBackup.copy(source, source));
        assertTrue(e.getMessage().contains("is the database folder"), e.getMessage());
        Path other = dir.resolve("other");
        try (Store store = Store.open(other)) {
            assertNotNull(store);
        }
        e = assertThrows(IllegalArgumentException.class, () -> ForeignBackup.copy(source, other));
        assertTrue(e.getMessage().contains("already holds a database"), e.getMessage());
    }

    @Test
    void refusesATargetHoldingOnlyALogWhichWouldBeReplayedOntoTheCopy() throws Exception {
        Path source = dir.resolve("source");
        Path target = dir.resolve("target");
        Files.createDirectories(target);
        Files.write(target.resolve(Store.WAL_FILE), new byte[] {1, 2, 3}); // left by an earlier database
        try (Store store = Store.open(source)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> store.backup(target));
            assertTrue(e.getMessage().contains("already holds a database (" + Store.WAL_FILE + ")"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ForeignBackup.copy(source, target));
        assertTrue(e.getMessage().contains("already holds a database (" + Store.WAL_FILE + ")"), e.getMessage());
        assertFalse(Files.exists(target.resolve(Store.DATA_FILE)), "nothing was copied");
    }

    /**
     * The worst a concurrent writer can do to a copy: pages of the copy come from a later state
     * than its meta pages. Such a mix must either fail the check or read as one committed state.
     */
    @Test
    void copiesMixingPagesOfTwoStatesFailTheCheckOrReadConsistently() throws Exception {
        Path source = dir.resolve("source");
        Path older = dir.resolve("older.bin");
        Path newer = dir.resolve("newer.bin");
        // A checkpoint after every commit: freed pages are reused at once, so the two data files
        // differ in pages reachable from the older one's metas.
        try (Store store = Store.open(source, StoreOptions.defaults().withDurable(false).withCheckpointBytes(0))) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                w.commit();
            }
            for (long n = 1; n <= 300; n++) {
                commit(store, n);
                if (n == 200) java.nio.file.Files.copy(source.resolve(Store.DATA_FILE), older);
            }
        }
        java.nio.file.Files.copy(source.resolve(Store.DATA_FILE), newer);
        byte[] a = java.nio.file.Files.readAllBytes(older);
        byte[] b = java.nio.file.Files.readAllBytes(newer);
        java.util.Random random = new java.util.Random(42);
        int detected = 0;
        for (int round = 0; round < 40; round++) {
            byte[] mix = a.clone();
            for (int page = 3; page < a.length / 4096; page++) {
                if (random.nextInt(4) == 0) System.arraycopy(b, page * 4096, mix, page * 4096, 4096);
            }
            Path target = dir.resolve("mix" + round);
            java.nio.file.Files.createDirectories(target);
            java.nio.file.Files.write(target.resolve(Store.DATA_FILE), mix);
            String problem = ForeignBackup.check(target);
            if (problem != null) {
                detected++;
                continue;
            }
            try (Store c = Store.open(target); ReadTxn r = c.beginRead(); Cursor all = r.cursor("t")) {
                long n = r.get("t", key("count")).asByteBuffer().getLong();
                long entries = 0;
                for (boolean more = all.first(); more; more = all.next()) entries++;
                assertEquals(r.count("t"), entries, "round " + round + ": every entry of the copy reads");
                for (int i = 0; i < 50; i++) {
                    assertEquals(n, r.get("t", key("k" + (n * 50 + i) % 400)).asByteBuffer().getLong(),
                        "round " + round + ": a copy that passed the check reads a half-applied commit " + n);
                }
            }
        }
        assertTrue(detected > 0, "no mixed copy failed the check: the test does not exercise it");
    }

    private static void commit(Store store, long n) {
        try (WriteTxn w = store.beginWrite()) {
            w.put("t", key("count"), number(n));
            for (int i = 0; i < 50; i++) w.put("t", key("k" + (n * 50 + i) % 400), number(n));
            w.commit();
        }
    }
}
