package dev.cairn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.index.Hit;
import dev.cairn.index.MultiNameIndex;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Four readers and one writer for a few seconds: readers always see whole, valid records, and
 * query a shared index handle while it changes.
 */
class ConcurrencyTest {
    static final int RECORDS_MAX = 2_000;
    static final long RUN_MILLIS = 3_000;

    @TempDir Path dir;

    /** A record whose components all derive from {@code n}, so a torn or mixed record shows. */
    static Part consistent(int n) {
        return new Part("P-" + n, "M-" + (n % 50), n, n * 3L, List.of("s" + n, "t" + (n % 7)));
    }

    static void assertConsistent(Part p) {
        int n = p.stock();
        assertEquals(consistent(n), p);
    }

    @Test
    void readersSeeWholeRecordsWhileAWriterChangesThem() throws Exception {
        try (Cairn db = Cairn.open(dir)) {
            Tree<Part> parts = db.tree(Part.class);
            AtomicReferenceArray<Key<Part>> keys = new AtomicReferenceArray<>(RECORDS_MAX);
            AtomicLong written = new AtomicLong();
            AtomicBoolean stop = new AtomicBoolean();
            List<Throwable> failures = new CopyOnWriteArrayList<>();
            FieldHandle stock = parts.field("stock");
            MultiNameIndex<Part> names = parts.register(new MultiNameIndex<>(p -> List.of(p.name())));
            FieldHandle name = parts.field("name");
            long[] reads = new long[4];
            List<Thread> threads = new ArrayList<>();
            threads.add(Thread.ofPlatform().name("writer").start(() -> {
                SplittableRandom rnd = new SplittableRandom(1);
                try {
                    int count = 0;
                    while (!stop.get()) {
                        if (count < RECORDS_MAX && (count < 50 || rnd.nextInt(4) == 0)) {
                            Key<Part> k = parts.insert(consistent(rnd.nextInt(1_000_000)));
                            parts.checkOut(k).join();
                            keys.set(count++, k);
                        } else {
                            Key<Part> k = keys.get(rnd.nextInt(count));
                            parts.update(k, consistent(rnd.nextInt(1_000_000)));
                        }
                        written.incrementAndGet();
                    }
                } catch (Throwable t) {
                    failures.add(t);
                }
            }));
            while (keys.get(0) == null && failures.isEmpty()) Thread.onSpinWait();
            for (int r = 0; r < 4; r++) {
                int reader = r;
                threads.add(Thread.ofPlatform().name("reader-" + r).start(() -> {
                    SplittableRandom rnd = new SplittableRandom(100 + reader);
                    try {
                        while (!stop.get()) {
                            int known = 0;
                            while (known < RECORDS_MAX && keys.get(known) != null) known++;
                            Key<Part> k = keys.get(rnd.nextInt(known));
                            switch (rnd.nextInt(12)) {
                                case 10, 11 -> {
                                    for (Hit<Part> hit : names.search("P-" + rnd.nextInt(1000), 5)) {
                                        assertTrue(hit.name().startsWith("P-"), hit.toString());
                                        assertEquals(Part.class, parts.find(hit.key()).map(Object::getClass)
                                            .orElse(Part.class));
                                    }
                                }
                                case 0 -> {
                                    int[] last = {-1};
                                    parts.forEach((key, p) -> {
                                        assertTrue(key.id() > last[0], "key order");
                                        last[0] = key.id();
                                        assertConsistent(p);
                                    });
                                }
                                case 1, 2, 3 -> parts.read(k, v -> {
                                    int n = v.getInt(stock);
                                    assertTrue(v.stringEquals(name, "P-" + n), "name of stock " + n);
                                    return null;
                                });
                                default -> {
                                    Optional<Part> p = parts.find(k);
                                    assertTrue(p.isPresent(), k + " present");
                                    assertConsistent(p.get());
                                }
                            }
                            reads[reader]++;
                        }
                    } catch (Throwable t) {
                        failures.add(t);
                    }
                }));
            }
            Thread.sleep(RUN_MILLIS);
            stop.set(true);
            for (Thread t : threads) t.join(30_000);
            if (!failures.isEmpty()) throw new AssertionError(failures.get(0));
            assertTrue(written.get() > 20, "writes " + written.get());
            for (long n : reads) assertTrue(n > 50, "reads " + n);
            System.out.printf("concurrency: %d writes, reads %d %d %d %d%n", written.get(), reads[0], reads[1],
                reads[2], reads[3]);
        }
    }

    /**
     * Tasks cancelled with cancel(true) and shutdownNow while they insert (an application's
     * cancel button): the interrupts land inside commits, yet every insert that returned is
     * stored, and the database takes writes afterwards without a reopen (a FileChannel closes
     * itself on an interrupt; the store opens it again).
     */
    @Test
    void writesOfCancelledTasksAreKeptAndTheDatabaseGoesOn() throws Exception {
        long expected;
        try (Cairn db = Cairn.open(dir)) {
            Tree<Part> parts = db.tree(Part.class);
            List<Key<Part>> stored = new CopyOnWriteArrayList<>();
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
            for (int round = 0; round < 20; round++) {
                List<java.util.concurrent.Future<?>> tasks = new ArrayList<>();
                for (int t = 0; t < 2; t++) {
                    int base = round * 1_000 + t * 500;
                    tasks.add(pool.submit(() -> {
                        for (int i = 0; i < 500 && !Thread.currentThread().isInterrupted(); i++) {
                            stored.add(parts.insert(consistent(base + i)));
                        }
                    }));
                }
                Thread.sleep(2);
                for (java.util.concurrent.Future<?> f : tasks) f.cancel(true);
            }
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS));
            Key<Part> after = parts.insert(consistent(7));
            assertEquals(consistent(7), parts.get(after));
            for (Key<Part> k : stored) assertConsistent(parts.get(k));
            assertEquals(stored.size() + 1, parts.size());
            expected = stored.size() + 1;
        }
        try (Cairn db = Cairn.open(dir)) {
            assertEquals(expected, db.tree(Part.class).size(), "after a reopen");
        }
    }
}
