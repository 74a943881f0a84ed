package dev.cairn.store;

import dev.cairn.testing.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static dev.cairn.store.StoreTest.b;
import static dev.cairn.store.StoreTest.s;
import static org.junit.jupiter.api.Assertions.*;

/** Large values, trees, backup while writing, reader segments. */
class StoreFeaturesTest {
    @TempDir Path dir;

    @Test
    void sixteenMebibyteValueRoundTripsInPlaceAndIsFreedOnDelete() {
        byte[] big = new byte[16 << 20];
        new Random(3).nextBytes(big);
        // Freed pages are reused after the next checkpoint (storage-format.md §6): take one per commit.
        try (Store store = Store.open(dir, StoreOptions.defaults().withDurable(false).withCheckpointBytes(0))) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                w.put("t", b("big"), big);
                w.put("t", b("empty"), new byte[0]);
                assertArrayEquals(big, w.get("t", b("big")).toArray(PageLayout.U8));
                w.commit();
            }
            try (ReadTxn r = store.beginRead()) {
                MemorySegment v = r.get("t", b("big"));
                assertTrue(v.isReadOnly());
                assertTrue(v.isMapped(), "a value across 4 MiB chunks is read in place, not copied");
                assertArrayEquals(big, v.toArray(PageLayout.U8));
                assertEquals(0, r.get("t", b("empty")).byteSize());
            }
            long pagesBefore = store.currentSnapshot().meta.pageCount();
            try (WriteTxn w = store.beginWrite()) {
                assertTrue(w.delete("t", b("big")));
                w.commit();
            }
            try (WriteTxn w = store.beginWrite()) {
                w.put("t", b("big2"), big);
                w.commit();
            }
            assertTrue(store.currentSnapshot().meta.pageCount() <= pagesBefore + 12,
                "freed run reused: " + pagesBefore + " -> " + store.currentSnapshot().meta.pageCount());
            assertTrue(store.verify().ok());
            try (ReadTxn r = store.beginRead()) {
                assertTrue(r.get("t", b("big2")).isMapped(), "the value in the reused run is read in place");
            }
        }
        try (Store store = Store.open(dir); ReadTxn r = store.beginRead()) {
            MemorySegment v = r.get("t", b("big2"));
            assertTrue(v.isMapped(), "after a reopen, too");
            assertArrayEquals(big, v.toArray(PageLayout.U8));
        }
    }

    @Test
    void treesAreCreatedListedAndDroppedWithTheirPages() {
        try (Store store = Store.open(dir)) {
            try (WriteTxn w = store.beginWrite()) {
                for (String t : List.of("c", "a", "b")) w.createTree(t);
                w.createTree("a");
                for (int i = 0; i < 2000; i++) w.put("b", b("k" + i), b("v" + i));
                w.put("a", b("x"), b("y"));
                assertEquals(List.of("a", "b", "c"), w.treeNames());
                w.commit();
            }
            try (WriteTxn w = store.beginWrite()) {
                w.dropTree("b");
                assertFalse(w.hasTree("b"));
                assertThrows(IllegalArgumentException.class, () -> w.count("b"));
                w.createTree("b");
                assertEquals(0, w.count("b"));
                w.commit();
            }
            try (ReadTxn r = store.beginRead()) {
                assertEquals(List.of("a", "b", "c"), r.treeNames());
                assertEquals(0, r.count("b"));
                assertEquals("y", s(r.get("a", b("x"))));
            }
            VerifyReport report = store.verify();
            assertTrue(report.ok(), report.problems().toString());
            assertEquals(3, report.treeCount());
        }
    }

    @Test
    void backupWhileTheWriterCommitsOpensAndMatchesItsSnapshot() throws Exception {
        try (Store store = Store.open(dir, StoreOptions.defaults().withDurable(false))) {
            store.verifyAfterCommit = false;
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                for (int i = 0; i < 3000; i++) w.put("t", b("k" + i), b("v0-" + i));
                w.commit();
            }
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread writer = new Thread(() -> {
                try {
                    for (int c = 1; !stop.get() && c < 100_000; c++) {
                        try (WriteTxn w = store.beginWrite()) {
                            for (int j = 0; j < 20; j++) w.put("t", b("k" + ((c * 31 + j * 97) % 4000)), b("v" + c));
                            w.commit();
                        }
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            writer.start();
            Thread.sleep(50);
            Path target = dir.resolveSibling(dir.getFileName() + "-backup");
            try {
                store.backup(target);
                stop.set(true);
                writer.join();
                assertNull(failure.get());
                try (Store copy = Store.open(target)) {
                    VerifyReport report = copy.verify();
                    assertTrue(report.ok(), report.problems().toString());
                    try (ReadTxn r = copy.beginRead()) {
                        TreeMap<String, String> data = TornWriteTest.contents(r);
                        assertTrue(data.size() >= 3000);
                        assertTrue(data.values().stream().noneMatch(String::isEmpty));
                    }
                }
                assertThrows(IllegalArgumentException.class, () -> store.backup(target));
            } finally {
                stop.set(true);
                writer.join();
                TestFiles.deleteTree(target);
            }
        }
    }

    @Test
    void readersOnManyThreadsSeeConsistentCounts() throws Exception {
        try (Store store = Store.open(dir, StoreOptions.defaults().withDurable(false))) {
            store.verifyAfterCommit = false;
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                w.commit();
            }
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicBoolean stop = new AtomicBoolean();
            Thread[] readers = new Thread[3];
            for (int t = 0; t < readers.length; t++) {
                readers[t] = new Thread(() -> {
                    try {
                        while (!stop.get()) {
                            try (ReadTxn r = store.beginRead(); Cursor c = r.cursor("t")) {
                                long n = 0;
                                for (boolean ok = c.first(); ok; ok = c.next()) n++;
                                assertEquals(r.count("t"), n);
                                assertEquals(r.count("t") * 10, r.txnId() < 3 ? 0 : n * 10);
                            }
                        }
                    } catch (Throwable e) {
                        failure.set(e);
                    }
                });
                readers[t].start();
            }
            for (int c = 0; c < 300; c++) {
                try (WriteTxn w = store.beginWrite()) {
                    for (int j = 0; j < 10; j++) w.put("t", b("k" + c + "-" + j), b("v"));
                    w.commit();
                }
            }
            stop.set(true);
            for (Thread t : readers) t.join();
            assertNull(failure.get());
            assertTrue(store.verify().ok());
        }
    }
}
