package dev.cairn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.db.Database;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A close while another thread is inside a scan callback (Cairn.close): it waits, asleep, for the
 * read to end, at most {@link Database#CLOSE_WAIT_READS_MILLIS}; a read it then cuts off fails
 * naming the database and the close. Before, close spun on Thread.yield for those 10 s (7.5 s of
 * CPU seen on 2 cores) and the reader got the JDK's bare "Already closed".
 */
@Timeout(60)
class CloseDuringReadTest {
    @TreeSpec(name = "Item")
    record Item(int no, long value) { }

    @TempDir Path dir;

    @Test
    void closeWaitsAsleepForAReadThatDoesNotEndThenTheReadFailsNamingTheDatabase() throws Exception {
        Cairn db = Cairn.open(dir);
        Tree<Item> items = filled(db);
        FieldHandle value = items.field("value");
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch closeReturned = new CountDownLatch(1);
        AtomicReference<Throwable> readFailed = new AtomicReference<>();
        Thread reader = Thread.ofPlatform().name("report").start(() -> {
            try {
                items.scan((k, v) -> {
                    if (k.id() == 10) {
                        inside.countDown();
                        awaitQuietly(closeReturned);
                    }
                    v.getLong(value);
                });
            } catch (Throwable e) {
                readFailed.set(e);
            }
        });
        assertTrue(inside.await(20, TimeUnit.SECONDS));
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long cpuBefore = threads.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        db.close();
        long wallMillis = (System.nanoTime() - start) / 1_000_000;
        long cpuMillis = (threads.getCurrentThreadCpuTime() - cpuBefore) / 1_000_000;
        closeReturned.countDown();
        reader.join(20_000);

        assertTrue(wallMillis >= Database.CLOSE_WAIT_READS_MILLIS - 100, "close waited its bound: " + wallMillis + " ms");
        assertTrue(wallMillis < Database.CLOSE_WAIT_READS_MILLIS + 5_000, "and then closed: " + wallMillis + " ms");
        assertTrue(cpuMillis < 1_000, "close slept while it waited: " + cpuMillis + " ms of CPU in " + wallMillis + " ms");
        IllegalStateException cutOff = assertInstanceOf(IllegalStateException.class, readFailed.get());
        assertEquals("database " + dir + " was closed while this read ran (close waits 10 s for running reads, then "
            + "closes); the read did not finish (expected: end reads before close)", cutOff.getMessage());
        assertInstanceOf(IllegalStateException.class, cutOff.getCause(), "the JDK's exception is kept as the cause");
    }

    @Test
    void closeWaitsForAShortReadWhichEndsNormally() throws Exception {
        Cairn db = Cairn.open(dir);
        Tree<Item> items = filled(db);
        FieldHandle value = items.field("value");
        CountDownLatch inside = new CountDownLatch(1);
        AtomicLong sum = new AtomicLong();
        AtomicReference<Throwable> readFailed = new AtomicReference<>();
        Thread reader = Thread.ofPlatform().name("short report").start(() -> {
            try {
                items.scan((k, v) -> {
                    if (k.id() == 10) {
                        inside.countDown();
                        sleepQuietly(500);
                    }
                    sum.addAndGet(v.getLong(value));
                });
            } catch (Throwable e) {
                readFailed.set(e);
            }
        });
        assertTrue(inside.await(20, TimeUnit.SECONDS));
        long start = System.nanoTime();
        db.close();
        long wallMillis = (System.nanoTime() - start) / 1_000_000;
        reader.join(20_000);

        assertNull(readFailed.get(), "the read ended normally");
        assertEquals(100L * 99 / 2 * 3, sum.get(), "and saw every record");
        assertTrue(wallMillis >= 200 && wallMillis < Database.CLOSE_WAIT_READS_MILLIS,
            "close waited for the read only: " + wallMillis + " ms");
        IllegalStateException closed = assertThrows(IllegalStateException.class, items::size);
        assertEquals("database " + dir + " is closed", closed.getMessage());
    }

    private static Tree<Item> filled(Cairn db) {
        Tree<Item> items = db.tree(Item.class);
        db.write(() -> {
            for (int i = 0; i < 100; i++) items.insert(new Item(i, 3L * i));
        });
        return items;
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
