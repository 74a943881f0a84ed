package dev.cairn.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.TreeMap;

import static dev.cairn.store.StoreTest.b;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A logged commit writes no free list (storage-format.md §5.1): verify then checks the writer's
 * free pages, backup takes a checkpoint first, and the checkpoint writes the list.
 */
class LoggedSnapshotTest {
    @TempDir Path dir;

    /** Commits that free pages, all logged: the current snapshot's meta names the last checkpoint's list. */
    private static TreeMap<String, String> churn(Store store) {
        TreeMap<String, String> model = new TreeMap<>();
        try (WriteTxn w = store.beginWrite()) {
            w.createTree("t");
            w.commit();
        }
        for (int c = 0; c < 30; c++) {
            try (WriteTxn w = store.beginWrite()) {
                for (int i = 0; i < 40; i++) {
                    String k = "k" + (c * 7 + i) % 300;
                    String v = "v" + c + "x".repeat(100);
                    w.put("t", b(k), b(v));
                    model.put(k, v);
                }
                w.commit();
            }
        }
        return model;
    }

    @Test
    void verifyOfALoggedCommitChecksTheWritersFreePages() {
        try (Store store = Store.open(dir.resolve("db"))) {
            churn(store);
            Snapshot s = store.currentSnapshot();
            assertFalse(s.freeListCurrent, "the commits were logged");
            VerifyReport report = store.verify();
            assertTrue(report.ok(), report.problems().toString());
            assertTrue(report.freePageCount() > 0, "the churn freed pages");
            assertNotEquals(s.meta.freePageCount(), report.freePageCount(), "counted from the writer, not the stale list");
            // The same walk with no free pages given must find the freed pages leaked.
            try (ReadTxn r = store.beginRead()) {
                VerifyReport wrong = new Verifier(store, r, new long[0]).run();
                assertFalse(wrong.ok());
                assertTrue(wrong.problems().getFirst().contains("neither reachable nor free"), wrong.problems().toString());
            }
        }
    }

    @Test
    void backupOfALoggedCommitCheckpointsFirstAndTheCopyHoldsItsFreeList() {
        Path copy = dir.resolve("copy");
        TreeMap<String, String> model;
        try (Store store = Store.open(dir.resolve("db"))) {
            model = churn(store);
            assertTrue(store.wal.frameBytes() > 0);
            store.backup(copy);
            assertEquals(0, store.wal.frameBytes(), "backup took a checkpoint");
            assertTrue(store.currentSnapshot().freeListCurrent);
            assertTrue(store.verify().ok());
        }
        try (Store again = Store.open(copy); ReadTxn r = again.beginRead()) {
            VerifyReport report = again.verify();
            assertTrue(report.ok(), report.problems().toString());
            assertTrue(report.freePageCount() > 0);
            assertEquals(model, TornWriteTest.contents(r));
        }
    }

    @Test
    void theCheckpointWritesTheFreeListThatOpenReads() {
        TreeMap<String, String> model;
        long free;
        try (Store store = Store.open(dir.resolve("db"))) {
            model = churn(store);
            free = store.verify().freePageCount();
        }
        try (Store store = Store.open(dir.resolve("db")); ReadTxn r = store.beginRead()) {
            VerifyReport report = store.verify();
            assertTrue(report.ok(), report.problems().toString());
            assertTrue(store.currentSnapshot().freeListCurrent);
            // Close's checkpoint freed the old list's pages and took pages for the new one.
            assertTrue(Math.abs(report.freePageCount() - free) <= 4, free + " free before close, " + report.freePageCount() + " after");
            assertEquals(model, TornWriteTest.contents(r));
        }
    }

    @Test
    void verifyAndBackupFromTheWritingThreadAreRefusedNotDeadlocked() {
        try (Store store = Store.open(dir.resolve("db"))) {
            churn(store);
            try (WriteTxn w = store.beginWrite()) {
                IllegalStateException e = assertThrows(IllegalStateException.class, store::verify);
                assertTrue(e.getMessage().contains("holds its write transaction"), e.getMessage());
                assertThrows(IllegalStateException.class, () -> store.backup(dir.resolve("copy")));
                w.abort();
            }
        }
    }
}
