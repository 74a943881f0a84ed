package dev.cairn.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static dev.cairn.store.StoreTest.b;
import static org.junit.jupiter.api.Assertions.*;

/** A reader sees exactly its snapshot while the writer commits thousands of times. */
class SnapshotIsolationTest {
    @TempDir Path dir;

    /**
     * The race of §6: a reader reads the current snapshot, then, before it pins it, the writer
     * commits three times, freeing that snapshot's pages and writing over them. The reader must
     * see that its snapshot is no longer current and take the newest one, never the overwritten one.
     */
    @Test
    void aReaderThatPinsTooLateTakesTheNewestSnapshot() {
        try (Store store = Store.open(dir, StoreOptions.defaults().withDurable(false).withCheckpointBytes(0))) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                w.put("t", b("k"), b("v0"));
                w.commit();
            }
            long[] newest = new long[1];
            store.beforePin = () -> {
                store.beforePin = null; // once
                for (int c = 1; c <= 3; c++) {
                    try (WriteTxn w = store.beginWrite()) {
                        w.put("t", b("k"), b("v" + c));
                        newest[0] = w.txnId();
                        w.commit();
                    }
                }
            };
            try (ReadTxn r = store.beginRead()) {
                assertNull(store.beforePin, "the writer ran between reading and pinning");
                assertEquals(newest[0], r.txnId());
                assertEquals("v3", StoreTest.s(r.get("t", b("k"))));
            }
        }
    }

    @Test
    void readerKeepsItsSnapshotWhileTheWriterCommitsThousandsOfTimes() throws Exception {
        try (Store store = Store.open(dir, StoreOptions.defaults().withDurable(false))) {
            store.verifyAfterCommit = false;
            TreeMap<String, String> model = new TreeMap<>();
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                for (int i = 0; i < 500; i++) {
                    w.put("t", b("k" + i), b("v0-" + i + "x".repeat(i % 7 == 0 ? 3000 : 20)));
                    model.put("k" + i, "v0-" + i + "x".repeat(i % 7 == 0 ? 3000 : 20));
                }
                w.commit();
            }
            AtomicBoolean done = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread writer = new Thread(() -> {
                try {
                    for (int c = 1; c <= 2000; c++) {
                        try (WriteTxn w = store.beginWrite()) {
                            for (int j = 0; j < 5; j++) {
                                int i = (c * 7 + j * 131) % 600;
                                if (j == 4) w.delete("t", b("k" + i)); else w.put("t", b("k" + i), b("v" + c + "x".repeat(c % 11 == 0 ? 4000 : 10)));
                            }
                            w.commit();
                        }
                    }
                } catch (Throwable t) {
                    failure.set(t);
                } finally {
                    done.set(true);
                }
            });
            try (ReadTxn r = store.beginRead()) {
                long txn = r.txnId();
                writer.start();
                int rounds = 0;
                while (!done.get() || rounds < 3) {
                    assertEquals(model, TornWriteTest.contents(r), "round " + rounds);
                    assertEquals(txn, r.txnId());
                    rounds++;
                    Thread.sleep(2);
                }
                writer.join();
                assertNull(failure.get());
                assertEquals(model, TornWriteTest.contents(r));
                try (ReadTxn newer = store.beginRead()) {
                    assertTrue(newer.txnId() >= txn + 2000);
                    assertNotEquals(model, TornWriteTest.contents(newer));
                }
            }
            VerifyReport report = store.verify();
            assertTrue(report.ok(), report.problems().toString());
        }
    }
}
