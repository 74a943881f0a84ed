package dev.cairn.store;

import dev.cairn.DatabaseLockedException;
import dev.cairn.internal.Limits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static dev.cairn.store.StoreTest.b;
import static org.junit.jupiter.api.Assertions.*;

/** Wrong uses of the store API get clear exceptions that name what was wrong. */
class StoreMisuseTest {
    @TempDir Path dir;

    @Test
    void secondOpenOfTheSameFolderIsLocked() {
        try (Store store = Store.open(dir)) {
            DatabaseLockedException e = assertThrows(DatabaseLockedException.class, () -> Store.open(dir));
            assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
        }
        Store.open(dir).close();
    }

    /** A path that is a file, and a data file that is not Cairn's: said plainly, without the file's raw bytes. */
    @Test
    void aFileWhereTheFolderShouldBeOrAForeignDataFileIsNamed() throws Exception {
        Path file = java.nio.file.Files.writeString(dir.resolve("notes.txt"), "x");
        dev.cairn.CairnException e = assertThrows(dev.cairn.CairnException.class, () -> Store.open(file));
        assertTrue(e.getMessage().endsWith(file + ": it is a file, not a folder"), e.getMessage());

        Path zeros = java.nio.file.Files.createDirectories(dir.resolve("zeros"));
        java.nio.file.Files.write(zeros.resolve(Store.DATA_FILE), new byte[3 * 4096]);
        e = assertThrows(dev.cairn.CorruptionException.class, () -> Store.open(zeros));
        assertTrue(e.getMessage().contains("magic is 00 00 00 00 00 00 00 00 (expected: \"CAIRN-DB\")"), e.getMessage());
        assertTrue(e.getMessage().chars().allMatch(c -> c >= 0x20), "control characters in: " + e.getMessage());

        Path text = java.nio.file.Files.createDirectories(dir.resolve("text"));
        java.nio.file.Files.writeString(text.resolve(Store.DATA_FILE), "SQLite format 3\0" + "x".repeat(3 * 4096));
        e = assertThrows(dev.cairn.CorruptionException.class, () -> Store.open(text));
        assertTrue(e.getMessage().contains("magic is \"SQLite f\""), e.getMessage());
    }

    @Test
    void usingATransactionAfterCommitOrCloseThrows() {
        try (Store store = Store.open(dir)) {
            WriteTxn w = store.beginWrite();
            w.createTree("t");
            w.commit();
            assertTrue(assertThrows(IllegalStateException.class, () -> w.put("t", b("k"), b("v"))).getMessage().contains("closed"));
            assertThrows(IllegalStateException.class, w::commit);
            w.close();
            w.abort();
            ReadTxn r = store.beginRead();
            Cursor c = r.cursor("t");
            r.close();
            r.close();
            assertThrows(IllegalStateException.class, () -> r.get("t", b("k")));
            assertThrows(IllegalStateException.class, () -> r.count("t"));
            assertThrows(IllegalStateException.class, c::first);
        }
    }

    @Test
    void usingAClosedStoreThrows() {
        Store store = Store.open(dir);
        ReadTxn r = store.beginRead();
        store.close();
        store.close();
        assertTrue(assertThrows(IllegalStateException.class, store::beginRead).getMessage().contains("closed"));
        assertThrows(IllegalStateException.class, store::beginWrite);
        assertThrows(IllegalStateException.class, store::verify);
        assertThrows(IllegalStateException.class, r::treeNames);
        r.close();
    }

    @Test
    void closingWithAnOpenWriteTransactionIsRefused() {
        Store store = Store.open(dir);
        WriteTxn w = store.beginWrite();
        assertTrue(assertThrows(IllegalStateException.class, store::close).getMessage().contains("write transaction"));
        w.abort();
        store.close();
    }

    @Test
    void beginWriteTwiceOnOneThreadThrowsInsteadOfDeadlocking() {
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            assertTrue(assertThrows(IllegalStateException.class, store::beginWrite).getMessage().contains("already holds"));
            w.abort();
        }
    }

    @Test
    void oversizedKeysValuesAndBadTreeNamesAreRefused() {
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            w.createTree("t");
            byte[] longKey = new byte[Limits.KEY_BYTES_MAX + 1];
            assertTrue(assertThrows(IllegalArgumentException.class, () -> w.put("t", longKey, b("v"))).getMessage().contains("1025"));
            assertThrows(IllegalArgumentException.class, () -> w.get("t", longKey));
            assertThrows(IllegalArgumentException.class, () -> w.put("t", null, b("v")));
            assertThrows(IllegalArgumentException.class, () -> w.put("t", b("k"), (byte[]) null));
            assertThrows(IllegalArgumentException.class, () -> w.createTree(" "));
            assertThrows(IllegalArgumentException.class, () -> w.createTree(null));
            // "a\uD800" would be stored as "a?" (String.getBytes), the same tree as "a?".
            assertTrue(assertThrows(IllegalArgumentException.class, () -> w.createTree("a\uD800")).getMessage()
                .contains("unpaired surrogate at index 1"));
            w.createTree("a\uD83D\uDE00");
            assertTrue(w.treeNames().contains("a\uD83D\uDE00"), "a surrogate pair is fine");
            assertThrows(IllegalArgumentException.class, () -> w.createTree("x".repeat(Limits.TREE_NAME_BYTES_MAX + 1)));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> w.put("nope", b("k"), b("v"))).getMessage().contains("nope"));
            assertThrows(IllegalArgumentException.class, () -> w.dropTree("nope"));
            assertThrows(IllegalArgumentException.class, () -> w.cursor("nope"));
            assertFalse(w.hasTree("nope"));
            w.put("t", new byte[Limits.KEY_BYTES_MAX], b("max key is fine"));
            assertEquals("max key is fine", StoreTest.s(w.get("t", new byte[Limits.KEY_BYTES_MAX])));
            w.abort();
        }
    }

    @Test
    void cursorPositionedNowhereSaysSo() {
        try (Store store = Store.open(dir)) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                w.commit();
            }
            try (ReadTxn r = store.beginRead(); Cursor c = r.cursor("t")) {
                assertFalse(c.first());
                assertFalse(c.next());
                assertThrows(IllegalStateException.class, c::key);
            }
        }
    }

    @Test
    void invalidOptionsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new StoreOptions(true, 1000));
        assertThrows(IllegalArgumentException.class, () -> Store.open(null));
    }

    @Test
    void afterDetectingDamageTheStoreRefusesWritesUntilReopened() throws Exception {
        try (Store store = Store.open(dir)) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                for (int i = 0; i < 300; i++) w.put("t", b("k" + i), b("value " + i));
                w.commit();
            }
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("other");
                w.commit();
            }
        }
        Path file = dir.resolve(Store.DATA_FILE);
        byte[] bytes = java.nio.file.Files.readAllBytes(file);
        bytes[3 * 4096 + 4000] ^= 0x55;
        java.nio.file.Files.write(file, bytes);
        try (Store store = Store.open(dir)) {
            dev.cairn.CorruptionException e = assertThrows(dev.cairn.CorruptionException.class, () -> {
                try (ReadTxn r = store.beginRead(); Cursor c = r.cursor("t")) {
                    for (boolean ok = c.first(); ok; ok = c.next()) c.value();
                }
            });
            assertTrue(e.getMessage().contains("page 3") && e.getMessage().contains("checksum"), e.getMessage());
            assertThrows(dev.cairn.CorruptionException.class, store::beginWrite);
            assertFalse(store.verify().ok());
        }
    }

    @Test
    void scanMisuseIsRefused() {
        try (Store store = Store.open(dir)) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                for (int i = 0; i < 2_000; i++) w.put("t", b("key-" + (10_000 + i)), b("value-" + i));
                w.commit();
            }
            ReadTxn r = store.beginRead();
            assertThrows(IllegalArgumentException.class, () -> r.forEach("t", null));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> r.forEach("none", (k, v) -> true))
                .getMessage().contains("none"));
            int[] visits = {0};
            // A visitor that closes its transaction stops the scan at once (the pages it would read next may be reused).
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> r.forEach("t", (k, v) -> {
                visits[0]++;
                r.close();
                return true;
            }));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            assertEquals(1, visits[0]);
            assertThrows(IllegalStateException.class, () -> r.forEach("t", (k, v) -> true));
        }
    }

    /**
     * Probe 104: a write transaction handed to another thread made that thread's beginWrite and
     * verify wait for ever (for itself); a closed write transaction's message named its base
     * snapshot's txn id; a cursor of a read transaction kept moving after the store closed.
     */
    @Test
    void aHandedOnWriteTransactionItsClosedMessageAndCursorsAfterClose() throws Exception {
        Store store = Store.open(dir);
        try {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                for (int i = 0; i < 200; i++) w.put("t", b("key-" + (10_000 + i)), b("value-" + i));
                w.commit();
            }
            WriteTxn w = store.beginWrite();
            long id = w.txnId();
            java.util.concurrent.CompletableFuture<String> worker = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                w.put("t", b("key-20000"), b("from the worker"));
                String said = assertThrows(IllegalStateException.class, store::beginWrite).getMessage();
                assertThrows(IllegalStateException.class, store::verify);
                w.commit();
                return said;
            });
            assertTrue(worker.get(30, java.util.concurrent.TimeUnit.SECONDS).contains("already holds the write transaction"));
            assertEquals("write transaction " + id + " of " + dir + " is closed",
                assertThrows(IllegalStateException.class, () -> w.put("t", b("k"), b("v"))).getMessage());
            ReadTxn r = store.beginRead();
            Cursor c = r.cursor("t");
            assertTrue(c.first());
            store.close();
            assertThrows(IllegalStateException.class, c::next);
        } finally {
            store.close();
        }
    }
}
