package dev.cairn.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static dev.cairn.store.StoreTest.b;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Thread.interrupt closes a FileChannel for every thread; an application that cancels a task
 * while it commits (Future.cancel(true), shutdownNow) must not lose the commit nor leave the
 * database refusing writes (StoreFile).
 */
class InterruptTest {
    @TempDir Path dir;

    private static byte[] key(long i) {
        return java.nio.ByteBuffer.allocate(8).putLong(i).array();
    }

    @Test
    void anInterruptedThreadCommitsAndTheStoreGoesOn() {
        try (Store store = Store.open(dir)) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                w.commit();
            }
            Thread.currentThread().interrupt();
            try (WriteTxn w = store.beginWrite()) {
                w.put("t", b("a"), b("1"));
                w.commit();
            }
            assertTrue(Thread.interrupted(), "the caller's interrupt is kept");
            try (WriteTxn w = store.beginWrite()) {
                w.put("t", b("b"), b("2"));
                w.commit();
            }
            try (ReadTxn r = store.beginRead()) {
                assertEquals(2, r.count("t"));
            }
        } finally {
            Thread.interrupted();
        }
        Thread.currentThread().interrupt();
        try (Store store = Store.open(dir); ReadTxn r = store.beginRead()) {
            assertTrue(Thread.currentThread().isInterrupted(), "open keeps the interrupt too");
            assertNotNull(r.get("t", b("a")));
            assertNotNull(r.get("t", b("b")));
            assertTrue(store.verify().ok(), () -> store.verify().problems().toString());
        } finally {
            Thread.interrupted();
        }
    }

    /**
     * A writer task interrupted again and again while it commits, with checkpoints (small
     * checkpointBytes) and the file growing (remaps): every commit it reported is there, in the
     * open store and after a reopen, and the store verifies.
     */
    @Test
    void commitsSurviveInterruptsArrivingAtAnyMoment() throws Exception {
        StoreOptions options = StoreOptions.defaults().withCheckpointBytes(64 << 10);
        AtomicLong committed = new AtomicLong();
        int commits = 400;
        try (Store store = Store.open(dir, options)) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                w.commit();
            }
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                Future<?> writer = pool.submit(() -> {
                    for (int c = 0; c < commits; c++) {
                        try (WriteTxn w = store.beginWrite()) {
                            for (int i = 0; i < 20; i++) w.put("t", key(c * 20L + i), new byte[300]);
                            w.commit();
                        }
                        committed.set(c + 1);
                        Thread.interrupted(); // the next "task" starts without the last one's interrupt
                    }
                    return null;
                });
                Thread writerThread = null;
                while (!writer.isDone()) {
                    // The executor's thread: interrupt it as cancel(true) would, again and again.
                    for (Thread t : Thread.getAllStackTraces().keySet()) {
                        if (t.getName().startsWith("pool-") && t.getState() != Thread.State.TERMINATED
                                && java.util.Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getClassName().startsWith("dev.cairn.store"))) {
                            writerThread = t;
                        }
                    }
                    if (writerThread != null) writerThread.interrupt();
                    Thread.sleep(1);
                }
                writer.get(); // throws if a commit failed
            } finally {
                pool.shutdownNow();
                assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
            }
            assertEquals(commits, committed.get());
            try (WriteTxn w = store.beginWrite()) { // the store still takes writes
                w.put("t", b("after"), b("x"));
                w.commit();
            }
            assertTrue(store.verify().ok(), () -> store.verify().problems().toString());
            // Each interrupt that closed the data file released its lock; the reopened channel took it
            // again, so with the lock file gone another process is still kept out (FolderLock).
            java.nio.file.Files.delete(dir.resolve(Store.LOCK_FILE));
            String child = dev.cairn.testing.ChildJvm.run(FolderLockTest.Child.class.getName(), dir.toString()).strip();
            assertTrue(child.startsWith("locked: "), child);
        }
        try (Store store = Store.open(dir); ReadTxn r = store.beginRead()) {
            assertEquals(commits * 20L + 1, r.count("t"));
            for (long i = 0; i < commits * 20L; i += 97) assertNotNull(r.get("t", key(i)), "key " + i);
            assertArrayEquals(b("x"), toBytes(r.get("t", b("after"))));
            assertTrue(store.verify().ok(), () -> store.verify().problems().toString());
        }
    }

    private static byte[] toBytes(java.lang.foreign.MemorySegment s) {
        return s.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }
}
