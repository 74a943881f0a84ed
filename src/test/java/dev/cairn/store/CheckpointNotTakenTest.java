package dev.cairn.store;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.CairnException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint that cannot write its free list (a full device) is not taken: it gives the list's
 * pages back, and the store writes on, its commits in the log, until a checkpoint goes through.
 * Before, it stopped writes until a reopen, and so did a backup tried while the database's own
 * device was full (it takes a checkpoint first): a backup that failed to copy anything left the
 * database, or a server, unable to write (probe 112).
 */
class CheckpointNotTakenTest {
    @TempDir Path dir;

    /** Fails the next write of a page: the device is full until {@link WriteFailureTest.FullDevice#free}. */
    private static void fillUp(WriteFailureTest.FullDevice device) {
        device.arm(0);
    }

    private static Store open(Path dir, WriteFailureTest.FullDevice device, long checkpointBytes) {
        Store store = Store.open(dir, StoreOptions.defaults().withCheckpointBytes(checkpointBytes), device::pageFile, device::walFile);
        store.verifyAfterCommit = true;
        return store;
    }

    @Test
    void aBackupWhoseCheckpointFailsCopiesNothingAndTheDatabaseWritesOn() {
        Random rnd = new Random(7);
        TreeMap<String, String> model = new TreeMap<>();
        WriteFailureTest.FullDevice device = new WriteFailureTest.FullDevice(false);
        Path target = dir.resolve("backup");
        try (Store store = open(dir.resolve("db"), device, StoreOptions.CHECKPOINT_BYTES)) {
            TornWriteTest.commitThreeRounds(store, rnd, model);
            try (WriteTxn w = store.beginWrite()) {
                TornWriteTest.change(w, rnd, model, "logged-");
                w.commit(); // a logged commit: the backup takes a checkpoint first
            }
            fillUp(device);
            CairnException e = assertThrows(CairnException.class, () -> store.backup(target));
            assertTrue(e.getMessage().startsWith("backup of " + dir.resolve("db") + ": the checkpoint a backup takes first"
                + " in this database failed, so nothing was copied (this database writes on; retry once the cause is gone): "
                + "injected failure of a write of page "), e.getMessage());
            assertFalse(Files.exists(target.resolve("data.cairn")), "nothing copied");
            device.free();
            try (WriteTxn w = store.beginWrite()) {
                TornWriteTest.change(w, rnd, model, "after-");
                w.commit();
            }
            assertTrue(store.backup(target).ok());
            try (ReadTxn r = store.beginRead()) {
                assertEquals(model, TornWriteTest.contents(r));
            }
        }
        try (Store copy = Store.open(target); ReadTxn r = copy.beginRead()) {
            assertEquals(model, TornWriteTest.contents(r));
            assertTrue(copy.verify().ok());
        }
    }

    @Test
    void aCheckpointThatCannotWriteItsFreeListIsTriedAgainAfterTheNextCommits() {
        Random rnd = new Random(11);
        TreeMap<String, String> model = new TreeMap<>();
        WriteFailureTest.FullDevice device = new WriteFailureTest.FullDevice(false);
        Path db = dir.resolve("db");
        long dataBytes;
        try (Store store = open(db, device, 64 << 10)) {
            TornWriteTest.commitThreeRounds(store, rnd, model);
            // Logged commits until one is followed by a checkpoint whose free list meets the full device.
            device.armCheckpointList();
            int commits = 0;
            while (!device.full) {
                assertTrue(commits++ < 100, "no checkpoint in 100 commits");
                try (WriteTxn w = store.beginWrite()) {
                    TornWriteTest.change(w, rnd, model, "c" + commits + "-");
                    w.commit(); // returns: the commit is in the log
                }
            }
            assertTrue(device.failedInCheckpointList, "the failure was not a checkpoint's free list");
            device.free();
            // Writes go on: the log holds them; the checkpoint is tried again after each commit.
            for (int i = 0; i < 20; i++) {
                try (WriteTxn w = store.beginWrite()) {
                    TornWriteTest.change(w, rnd, model, "then" + i + "-");
                    w.commit();
                }
            }
            assertTrue(store.verify().ok());
            dataBytes = Files.size(db.resolve("data.cairn"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        assertTrue(dataBytes > 0);
        try (Store reopened = Store.open(db); ReadTxn r = reopened.beginRead()) {
            assertEquals(model, TornWriteTest.contents(r));
            assertTrue(reopened.verify().ok());
        }
    }
}
