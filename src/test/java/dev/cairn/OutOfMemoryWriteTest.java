package dev.cairn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cairn.testing.ChildJvm;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An application whose heap runs out at random moments inside its write batches (a thread of its
 * own fills the heap, holds it full for a while, then frees part of it): afterwards the database
 * verifies, every batch that returned is there, and no batch that threw is there, not even in part
 * (before, a batch whose heap ran out after its commit was durable threw, and an application
 * would write it again). Probe 94 found 10 of 12 databases damaged, a log frame's txn id used
 * twice, data pages written over: the store's "stop writing" step made an error text first and
 * itself ran out of memory, leaving the store writing on and its write slot held.
 */
class OutOfMemoryWriteTest {
    /** Kept when the test fails: the journal (with OOM_TEST_DEBUG, what each batch threw) and the database. */
    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS) Path dir;

    @TreeSpec(name = "Item")
    public record Item(String tag, int ver, String blob) { }

    @Test
    void batchesThatRunOutOfMemoryLeaveNoDamage() throws Exception {
        runs(List.of("-Xmx32m", "-Xmx64m"), 8);
    }

    @Test
    @Tag("long")
    void batchesThatRunOutOfMemoryLeaveNoDamageOverManyRuns() throws Exception {
        runs(List.of("-Xmx32m", "-Xmx64m", "-Xmx96m", "-Xmx128m", "-Xmx32m", "-Xmx64m", "-Xmx96m", "-Xmx128m"), 10);
    }

    private void runs(List<String> heaps, int seconds) throws Exception {
        int run = 0;
        for (String heap : heaps) {
            run++;
            Path db = dir.resolve("db" + run);
            Path journal = dir.resolve("journal" + run);
            Process child = ChildJvm.startWithHeap(heap, Child.class.getName(), db.toString(), journal.toString(),
                Integer.toString(run), Integer.toString(seconds));
            child.getInputStream().transferTo(OutputStream.nullOutputStream());
            boolean ended = child.waitFor(seconds + 90L, TimeUnit.SECONDS);
            if (!ended) child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            String context = "run " + run + " at " + heap + " (" + db + ")";
            assertTrue(ended, context + ": the application did not end");
            assertEquals(0, child.exitValue(), context + ": the application's exit status");
            check(db, Files.readAllLines(journal), context);
        }
    }

    /** One batch of the journal: its ops ("I tag ver len", "U tag ver len", "R tag") and whether it returned. */
    private static final class Batch {
        final List<String[]> ops = new ArrayList<>();
        boolean returned;
    }

    private static void check(Path db, List<String> journal, String context) {
        Map<Integer, Batch> batches = new java.util.TreeMap<>();
        for (String line : journal) {
            String[] f = line.split(" ");
            if (f[0].equals("T")) {
                Batch b = new Batch();
                for (int i = 2; i < f.length; i++) b.ops.add(f[i].split(":"));
                batches.put(Integer.parseInt(f[1]), b);
            } else if (f[0].equals("K")) {
                batches.get(Integer.parseInt(f[1])).returned = true;
            }
        }
        // The state each batch that returned leaves (tag -> "ver:len"); a batch that threw leaves
        // either the state before it or after it, and its records are never touched again.
        Map<String, String> expected = new HashMap<>();
        List<Map<String, String[]>> doubtful = new ArrayList<>(); // per batch that threw: tag -> {before, after}
        List<Integer> doubtfulBatches = new ArrayList<>();
        int returned = 0;
        for (var entry : batches.entrySet()) {
            Batch b = entry.getValue();
            Map<String, String[]> change = new HashMap<>();
            for (String[] op : b.ops) {
                String before = expected.get(op[1]);
                String after = op[0].equals("R") ? null : op[2] + ":" + op[3];
                change.put(op[1], new String[] {before, after});
            }
            if (b.returned) {
                returned++;
                change.forEach((tag, s) -> {
                    if (s[1] == null) expected.remove(tag); else expected.put(tag, s[1]);
                });
            } else {
                change.keySet().forEach(expected::remove);
                doubtful.add(change);
                doubtfulBatches.add(entry.getKey());
            }
        }
        Map<String, String> actual = new HashMap<>();
        try (Cairn c = Cairn.open(db)) {
            Tree<Item> t = c.tree(Item.class);
            for (Key<Item> k : t.keys()) {
                Item it = t.get(k);
                String blob = Child.blob(it.ver(), it.blob().length());
                assertEquals(blob, it.blob(), context + ": the value of " + it.tag() + " version " + it.ver());
                assertEquals(null, actual.put(it.tag(), it.ver() + ":" + it.blob().length()), context + ": two records " + it.tag());
            }
        }
        try (dev.cairn.store.Store store = dev.cairn.store.Store.open(db)) {
            assertEquals(List.of(), store.verify().problems(), context + ": the database verifies");
        }
        expected.forEach((tag, state) -> assertEquals(state, actual.get(tag), context + ": record " + tag
            + " as the last batch that returned left it"));
        Set<String> known = new HashSet<>(expected.keySet());
        for (int d = 0; d < doubtful.size(); d++) {
            Map<String, String[]> change = doubtful.get(d);
            int applied = 0;
            for (var e : change.entrySet()) {
                String now = actual.get(e.getKey());
                boolean isAfter = java.util.Objects.equals(now, e.getValue()[1]);
                boolean isBefore = java.util.Objects.equals(now, e.getValue()[0]);
                if (!isAfter && !isBefore) fail(context + ": record " + e.getKey() + " is " + now + ", neither before nor after its batch");
                if (isAfter && !isBefore) applied++;
                if (isBefore && !isAfter) applied--;
                known.add(e.getKey());
            }
            int decided = (int) change.values().stream().filter(s -> !java.util.Objects.equals(s[0], s[1])).count();
            assertTrue(Math.abs(applied) == decided, context + ": a batch that threw is there in part: " + change.keySet());
            String why = " at batch " + doubtfulBatches.get(d) + ":"; // what it threw, with OOM_TEST_DEBUG set
            assertTrue(applied == -decided, context + ": a batch that threw is stored: " + change.keySet()
                + journal.stream().filter(l -> l.startsWith("E threw") && l.contains(why)).toList());
        }
        for (String tag : actual.keySet()) assertTrue(known.contains(tag), context + ": record " + tag + " was never written");
        assertTrue(returned > 0, context + ": no batch returned");
        System.out.printf("%s: %d batches, %d returned, %d threw, %d records%n", context, batches.size(), returned,
            doubtful.size(), actual.size());
    }

    /** The application: write batches for the given seconds while its own thread keeps filling the heap. */
    public static final class Child {
        /** OOM_TEST_DEBUG set: every failure goes into the journal ("E" lines) and the database is verified after each. */
        private static final boolean DEBUG = System.getenv("OOM_TEST_DEBUG") != null;
        private static volatile boolean stop;
        private static volatile boolean ballastPaused;

        /** Thread.sleep may allocate; this must not, in a handler of OutOfMemoryError. */
        private static void pause(long millis) {
            java.util.concurrent.locks.LockSupport.parkNanos(millis * 1_000_000);
        }

        /** A debugging line with the failure's stack, retried while the heap is full. */
        private static void event(OutputStream journal, String what, int batch, Object detail, Throwable e) {
            for (int i = 0; i < 500; i++) {
                try {
                    StringBuilder b = new StringBuilder("E ").append(what).append(" at batch ").append(batch);
                    if (detail != null) b.append(": ").append(detail);
                    if (e != null) {
                        b.append(": ").append(e);
                        for (StackTraceElement f : e.getStackTrace()) b.append(" | ").append(f);
                    }
                    journal.write(b.append('\n').toString().getBytes(StandardCharsets.UTF_8));
                    return;
                } catch (OutOfMemoryError | IOException again) {
                    pause(10);
                }
            }
        }
        private static final List<byte[]> ballast = new ArrayList<>();

        /** The records of a batch that threw are never touched again; retried until the heap has room for the loop. */
        private static void forget(Set<String> touched, Map<String, Key<Item>> clean, List<String> cleanTags) {
            while (true) {
                try {
                    for (String tag : touched) {
                        clean.remove(tag);
                        cleanTags.remove(tag);
                    }
                    return;
                } catch (OutOfMemoryError e) {
                    pause(10);
                }
            }
        }

        static String blob(int ver, int len) {
            return String.valueOf((char) ('a' + ver % 26)).repeat(len);
        }

        public static void main(String[] args) throws Exception {
            // Loads LockSupport while the heap has room: loading a class takes heap, and a first
            // pause in a handler ran out of it there, so a batch that returned could lose its "K"
            // line and be counted as one that threw (seen as "a batch that threw is stored").
            pause(0);
            Path db = Path.of(args[0]);
            long seed = Long.parseLong(args[2]);
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[3]));
            Random r = new Random(seed);
            try (OutputStream journal = new FileOutputStream(args[1])) {
                run(db, journal, seed, end, r);
            } catch (OutOfMemoryError e) {
                // The application's own steps ran out (rarely, a handler's first run): what the
                // journal holds so far is what the test checks.
            }
            System.exit(0);
        }

        private static void run(Path db, OutputStream journal, long seed, long end, Random r) throws Exception {
            Cairn c = Cairn.open(db);
            Tree<Item> t = c.tree(Item.class);
            long stuckSince = 0;
            Map<String, Key<Item>> clean = new HashMap<>(); // records no batch that threw touched
            List<String> cleanTags = new ArrayList<>();
            Map<String, Key<Item>> inserted = new HashMap<>(); // by the batch under way
            Thread filler = new Thread(() -> fill(new Random(seed)), "ballast");
            filler.setDaemon(true);
            int batch = 0;
            Set<String> touched = null;
            while (System.nanoTime() < end) {
                try {
                    touched = null;
                    batch++;
                    // The first batches run with room, so every class they use is loaded: a class
                    // whose initialization runs out of memory is unusable for the JVM's life.
                    if (batch == 30) filler.start();
                    List<String> ops;
                    try {
                        ops = new ArrayList<>();
                        touched = new HashSet<>();
                        int n = 1 + r.nextInt(20);
                        for (int i = 0; i < n; i++) {
                            int len = r.nextInt(10) < 8 ? r.nextInt(3000) : r.nextInt(200_000);
                            if (r.nextInt(10) < 3 && !cleanTags.isEmpty()) {
                                String tag = cleanTags.get(r.nextInt(cleanTags.size()));
                                if (!touched.add(tag)) continue;
                                ops.add(r.nextBoolean() ? "R:" + tag : "U:" + tag + ":" + batch + ":" + len);
                            } else {
                                String tag = "b" + batch + "-" + i;
                                touched.add(tag);
                                ops.add("I:" + tag + ":" + batch + ":" + len);
                            }
                        }
                    } catch (OutOfMemoryError e) {
                        pause(20);
                        continue;
                    }
                    // Every step below that allocates outside the batch is retried until it gets
                    // through (the filler frees memory soon): the journal must say what was tried
                    // and what returned, and records of a batch that threw are never touched again.
                    while (true) {
                        try {
                            journal.write(("T " + batch + " " + String.join(" ", ops) + "\n").getBytes(StandardCharsets.UTF_8));
                            break;
                        } catch (OutOfMemoryError e) {
                            pause(10);
                        }
                    }
                    inserted.clear();
                    boolean ok;
                    try {
                        for (String op : ops) {
                            String[] f = op.split(":");
                            if (!f[0].equals("I")) t.checkOut(clean.get(f[1])).get(10, TimeUnit.SECONDS);
                        }
                        List<String> batchOps = ops;
                        Tree<Item> tree = t;
                        c.write(() -> {
                            for (String op : batchOps) {
                                String[] f = op.split(":");
                                switch (f[0]) {
                                    case "I" -> inserted.put(f[1], tree.insert(new Item(f[1], Integer.parseInt(f[2]),
                                        blob(Integer.parseInt(f[2]), Integer.parseInt(f[3])))));
                                    case "U" -> tree.update(clean.get(f[1]), new Item(f[1], Integer.parseInt(f[2]),
                                        blob(Integer.parseInt(f[2]), Integer.parseInt(f[3]))));
                                    default -> tree.remove(clean.get(f[1]));
                                }
                            }
                        });
                        ok = true;
                    } catch (Throwable e) {
                        ok = false;
                        if (DEBUG) event(journal, "threw", batch, null, e);
                    }
                    if (ok) {
                        while (true) {
                            try {
                                journal.write(("K " + batch + "\n").getBytes(StandardCharsets.UTF_8));
                                break;
                            } catch (OutOfMemoryError e) {
                                pause(10);
                            }
                        }
                        while (true) {
                            try {
                                for (String op : ops) {
                                    String tag = op.substring(2).split(":")[0];
                                    if (op.startsWith("I")) {
                                        if (clean.put(tag, inserted.get(tag)) == null) cleanTags.add(tag);
                                    } else if (op.startsWith("R")) {
                                        clean.remove(tag);
                                        cleanTags.remove(tag);
                                    }
                                }
                                break;
                            } catch (OutOfMemoryError e) {
                                pause(10);
                            }
                        }
                    } else {
                        forget(touched, clean, cleanTags);
                        // As the refusal says after a failed commit: close and reopen. Both must
                        // work once the heap has room (a write slot left held made close refuse
                        // for ever, and the folder stayed locked).
                        try {
                            try {
                                c.close();
                            } catch (RuntimeException e) {
                                if (e.getMessage() != null && e.getMessage().contains("write transaction is open")) throw e;
                            }
                            if (DEBUG) {
                                ballastPaused = true;
                                try (dev.cairn.store.Store store = dev.cairn.store.Store.open(db)) {
                                    List<String> problems = store.verify().problems();
                                    event(journal, "verified", batch, problems, null);
                                    if (!problems.isEmpty()) System.exit(4);
                                } finally {
                                    ballastPaused = false;
                                }
                            }
                            c = Cairn.open(db);
                            t = c.tree(Item.class);
                            stuckSince = 0;
                        } catch (Throwable e) {
                            if (DEBUG) event(journal, "close/reopen threw", batch, null, e);
                            if (stuckSince == 0) stuckSince = System.nanoTime();
                            if (System.nanoTime() - stuckSince > TimeUnit.SECONDS.toNanos(10)) {
                                System.err.println("cannot close and reopen for 10 s: " + e);
                                System.exit(3);
                            }
                            pause(10);
                        }
                    }
                } catch (OutOfMemoryError e) {
                    // Out of memory in this loop's own steps (a handler's first run can need a
                    // little heap): the batch, if it got as far, counts as one that threw.
                    if (touched != null) forget(touched, clean, cleanTags);
                }
            }
            stop = true;
            synchronized (ballast) {
                ballast.clear();
            }
            for (int i = 0; i < 500; i++) {
                try {
                    c.close();
                    break;
                } catch (OutOfMemoryError e) {
                    pause(10);
                } catch (RuntimeException e) {
                    break; // a store stopped by a failed commit may refuse; the files are what the test checks
                }
            }
        }

        /** Fills the heap with 64 KiB arrays until it runs out, holds it 50-450 ms, frees 20-100% of it; again. */
        private static void fill(Random r) {
            while (!stop) {
                try {
                    while (!stop) {
                        if (ballastPaused) {
                            synchronized (ballast) {
                                ballast.clear();
                            }
                            pause(5);
                            continue;
                        }
                        byte[] b = new byte[64 * 1024];
                        synchronized (ballast) {
                            ballast.add(b);
                        }
                    }
                } catch (OutOfMemoryError full) {
                    try {
                        pause(50 + r.nextInt(400));
                        synchronized (ballast) {
                            int keep = ballast.size() * r.nextInt(80) / 100;
                            while (ballast.size() > keep) ballast.removeLast();
                        }
                    } catch (Throwable e) {
                        synchronized (ballast) {
                            ballast.clear();
                        }
                    }
                }
            }
        }
    }
}
