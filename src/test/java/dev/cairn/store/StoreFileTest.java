package dev.cairn.store;

import dev.cairn.CairnException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A store's file: errors that name the place, and calls that an interrupt neither fails nor breaks. */
class StoreFileTest {
    @TempDir Path dir;

    private static ByteBuffer bytes(int n, int seed) {
        byte[] b = new byte[n];
        new java.util.Random(seed).nextBytes(b);
        return ByteBuffer.wrap(b);
    }

    /**
     * A file system exception without a reason names only its file: an open refused for its
     * permissions said "cannot open database folder X: X/data.cairn", why only in the cause
     * (probe helper-44). Its kind is said after the file.
     */
    @Test
    void aFileSystemExceptionWithoutAReasonSaysItsKind() {
        String user = System.getProperty("user.name");
        assertEquals("/x/data.cairn: access denied (to user " + user + ": see the owner and permissions of the file and its"
            + " folder)", StoreFile.reason(new java.nio.file.AccessDeniedException("/x/data.cairn")));
        assertEquals("/x/wal.cairn: no such file", StoreFile.reason(new java.nio.file.NoSuchFileException("/x/wal.cairn")));
        assertEquals("/x/lock: Read-only file system",
            StoreFile.reason(new java.nio.file.FileSystemException("/x/lock", null, "Read-only file system")));
        assertEquals("cannot read /x/lock: access denied (to user " + user + ": see the owner and permissions of the file and"
            + " its folder)", StoreFile.cannotRead(Path.of("/x/lock"), new java.nio.file.AccessDeniedException("/x/lock")));
        assertEquals("cannot read /x/wal.cairn: Is a directory",
            StoreFile.cannotRead(Path.of("/x/wal.cairn"), new java.io.IOException("Is a directory")));
    }

    @Test
    void aFailedWriteSaysWhichPageOfWhichFileAndWhy() throws Exception {
        Path full = Path.of("/dev/full"); // every write fails with ENOSPC, as a full disk would
        if (!Files.isWritable(full)) return;
        try (StoreFile file = StoreFile.open(full, WRITE)) {
            CairnException e = assertThrows(CairnException.class, () -> file.writeFully(bytes(4096, 1), 9L * 4096, 12));
            assertTrue(e.getMessage().contains("page 9 of /dev/full") && e.getMessage().contains("No space left"), e.getMessage());
            e = assertThrows(CairnException.class, () -> file.writeFully(bytes(10, 1), 77));
            assertTrue(e.getMessage().contains("/dev/full at byte 77"), e.getMessage());
        }
    }

    @Test
    void anInterruptedThreadsCallsCompleteAndItKeepsItsInterrupt() throws Exception {
        Path path = dir.resolve("f");
        try (StoreFile file = StoreFile.open(path, CREATE, READ, WRITE)) {
            ByteBuffer written = bytes(8192, 2);
            Thread.currentThread().interrupt();
            file.writeFully(written.duplicate(), 4096);
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is kept for the caller");
            file.force();
            assertEquals(4096 + 8192, file.size());
            ByteBuffer back = ByteBuffer.allocate(8192);
            file.readFully(back, 4096);
            assertTrue(Thread.interrupted(), "still interrupted after four calls (and now cleared)");
            assertEquals(written, back);
            file.writeFully(bytes(16, 3), 0); // the channel was never closed: no interrupt status left over
            assertFalse(Thread.currentThread().isInterrupted());
        } finally {
            Thread.interrupted();
        }
    }

    /**
     * Interrupts arriving while a thread is inside a channel call close the channel for every
     * thread; the calls of both threads still complete, on a channel opened again, and every byte
     * they wrote is in the file.
     */
    @Test
    void callsCompleteWhileInterruptsCloseTheChannelUnderThem() throws Exception {
        Path path = dir.resolve("f");
        int rounds = 300;
        int size = 4096;
        try (StoreFile file = StoreFile.open(path, CREATE, READ, WRITE)) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch started = new CountDownLatch(2);
            Thread[] writers = new Thread[2];
            for (int w = 0; w < 2; w++) {
                int writer = w;
                writers[w] = new Thread(() -> {
                    started.countDown();
                    try {
                        for (int r = 0; r < rounds; r++) {
                            file.writeFully(bytes(size, writer * rounds + r), (long) (writer * rounds + r) * size);
                            file.force();
                            Thread.interrupted(); // a cancelled task's next one starts clean
                        }
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                }, "writer-" + w);
                writers[w].start();
            }
            started.await();
            // Only writer 0 is interrupted; writer 1 meets the channel writer 0's interrupts closed.
            while (writers[0].isAlive()) {
                writers[0].interrupt();
                Thread.sleep(0, 200_000);
            }
            for (Thread t : writers) t.join(60_000);
            assertNull(failure.get(), () -> "a call failed: " + failure.get());
            for (int i = 0; i < 2 * rounds; i++) {
                ByteBuffer back = ByteBuffer.allocate(size);
                file.readFully(back, (long) i * size);
                assertArrayEquals(bytes(size, i).array(), Arrays.copyOf(back.array(), size), "block " + i);
            }
        }
    }

    @Test
    void aClosedFileRefusesCalls() throws Exception {
        StoreFile file = StoreFile.open(dir.resolve("f"), CREATE, READ, WRITE);
        file.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, file::force);
        assertTrue(e.getMessage().contains("closed") && e.getMessage().contains(dir.resolve("f").toString()), e.getMessage());
    }
}
