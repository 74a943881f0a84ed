package dev.cairn.store;

import dev.cairn.testing.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Short and long-held readers check whole snapshots while one writer moves money between
 * accounts (the total never changes), deletes and opens accounts, aborts, churns a second tree,
 * takes checkpoints every few commits and backs up: the stress on page reuse (§6), where a page
 * freed and rewritten under a reader that can still see it would show as a wrong total, a
 * fingerprint that differs from the one the writer recorded for that txn, or a value whose
 * padding does not match its balance.
 */
class ConcurrentReadersStressTest {
    private static final ValueLayout.OfLong LONG_BE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final String ACCT = "acct";
    private static final String CHURN = "churn";
    private static final int ACCOUNTS = 2000;
    private static final long START_BALANCE = 1000;
    private static final long TOTAL = ACCOUNTS * START_BALANCE;

    @TempDir Path dir;

    /** Count and a hash of every (id, balance) of a snapshot of the accounts tree. */
    record Fingerprint(long count, long hash) { }

    @Test
    void readersSeeWholeSnapshotsWhilePagesAreFreedAndReused() throws Exception {
        int commits = "1".equals(System.getenv("CAIRN_LONG")) ? 40_000 : 3_000;
        Map<Long, Fingerprint> byTxn = new ConcurrentHashMap<>();
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong checkedSnapshots = new AtomicLong();
        AtomicLong heldAcrossCommits = new AtomicLong();
        Path data = dir.resolve("db");
        // Small checkpoints: pages freed since the last one are reused soon and often.
        StoreOptions options = StoreOptions.defaults().withDurable(false).withCheckpointBytes(64 << 10);
        TreeMap<Long, Long> model = new TreeMap<>();
        try (Store store = Store.open(data, options)) {
            store.verifyAfterCommit = false;
            try (WriteTxn w = store.beginWrite()) {
                w.createTree(ACCT);
                w.createTree(CHURN);
                for (long i = 0; i < ACCOUNTS; i++) {
                    model.put(i * 4, START_BALANCE);
                    w.put(ACCT, key(i * 4), value(i * 4, START_BALANCE, (int) (i % 97)));
                }
                byTxn.put(w.txnId(), fingerprint(model));
                w.commit();
            }
            List<Thread> readers = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                long seed = r;
                readers.add(Thread.ofPlatform().name("reader-" + r).start(() -> {
                    try {
                        readUntilDone(store, byTxn, done, new SplittableRandom(seed), checkedSnapshots, heldAcrossCommits);
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                }));
            }
            try {
                write(store, model, byTxn, commits, failure);
            } finally {
                done.set(true);
                for (Thread t : readers) t.join(60_000);
            }
            if (failure.get() != null) throw new AssertionError("a reader failed", failure.get());
            VerifyReport report = store.verify();
            assertTrue(report.ok(), report.problems().toString());
        }
        assertTrue(checkedSnapshots.get() > 50, "readers checked only " + checkedSnapshots.get() + " snapshots");
        assertTrue(heldAcrossCommits.get() > 0, "no reader held its snapshot across a commit");
        try (Store store = Store.open(data, options); ReadTxn r = store.beginRead()) {
            assertEquals(fingerprint(model), scan(r, false));
            assertTrue(store.verify().ok());
        }
    }

    private void write(Store store, TreeMap<Long, Long> model, Map<Long, Fingerprint> byTxn, int commits,
                       AtomicReference<Throwable> failure) {
        SplittableRandom rnd = new SplittableRandom(42);
        long nextId = ACCOUNTS * 4L + 1;
        for (int c = 0; c < commits && failure.get() == null; c++) {
            TreeMap<Long, Long> next = new TreeMap<>(model);
            boolean abort = rnd.nextInt(10) == 0;
            try (WriteTxn w = store.beginWrite()) {
                int moves = 1 + rnd.nextInt(12);
                for (int m = 0; m < moves; m++) {
                    long from = anyKey(next, rnd);
                    long to = anyKey(next, rnd);
                    int kind = rnd.nextInt(40);
                    if (kind == 0 && from != to && next.size() > ACCOUNTS / 2) {
                        // close an account: its balance moves to another
                        next.merge(to, next.remove(from), Long::sum);
                        assertTrue(w.delete(ACCT, key(from)));
                        w.put(ACCT, key(to), value(to, next.get(to), padding(rnd)));
                    } else if (kind == 1) {
                        // open an account with money from another
                        long id = nextId;
                        nextId += 1 + rnd.nextInt(3);
                        long amount = next.get(from) / 2;
                        next.put(from, next.get(from) - amount);
                        next.put(id, amount);
                        w.put(ACCT, key(from), value(from, next.get(from), padding(rnd)));
                        w.put(ACCT, key(id), value(id, amount, padding(rnd)));
                    } else {
                        long amount = rnd.nextLong(-50, 51);
                        next.put(from, next.get(from) - amount);
                        next.put(to, next.get(to) + amount);
                        w.put(ACCT, key(from), value(from, next.get(from), padding(rnd)));
                        w.put(ACCT, key(to), value(to, next.get(to), padding(rnd)));
                    }
                }
                if (rnd.nextInt(25) == 0) churn(w, rnd);
                if (abort) {
                    w.abort();
                    continue;
                }
                byTxn.put(w.txnId(), fingerprint(next));
                w.commit();
            }
            model.clear();
            model.putAll(next);
            if (c % 1000 == 999) {
                Path copy = dir.resolve("backup-" + c);
                store.backup(copy);
                try (Store b = Store.open(copy); ReadTxn r = b.beginRead()) {
                    assertEquals(fingerprint(model), scan(r, false), "backup after commit " + c);
                    VerifyReport report = b.verify();
                    assertTrue(report.ok(), report.problems().toString());
                }
                TestFiles.deleteTree(copy);
            }
        }
    }

    /** Rewrites a second tree wholesale, so whole runs of pages are freed and reused. */
    private static void churn(WriteTxn w, SplittableRandom rnd) {
        w.dropTree(CHURN);
        w.createTree(CHURN);
        int n = rnd.nextInt(400);
        for (int i = 0; i < n; i++) {
            byte[] v = new byte[rnd.nextInt(20) == 0 ? 6000 : rnd.nextInt(200)];
            rnd.nextBytes(v);
            w.put(CHURN, key(rnd.nextLong()), v);
        }
    }

    private static void readUntilDone(Store store, Map<Long, Fingerprint> byTxn, AtomicBoolean done, SplittableRandom rnd,
                                      AtomicLong checked, AtomicLong heldAcrossCommits) {
        while (!done.get()) {
            try (ReadTxn r = store.beginRead()) {
                Fingerprint expected = byTxn.get(r.txnId());
                assertNotNull(expected, "no fingerprint for txn " + r.txnId());
                switch (rnd.nextInt(4)) {
                    case 0 -> assertEquals(expected, scan(r, false), "forward scan of txn " + r.txnId());
                    case 1 -> assertEquals(expected, scan(r, true), "backward scan of txn " + r.txnId());
                    case 2 -> pointReads(r, rnd);
                    default -> {
                        // hold the snapshot while the writer goes on, then check it again
                        assertEquals(expected, scan(r, false), "txn " + r.txnId());
                        long deadline = System.nanoTime() + 20_000_000L;
                        while (System.nanoTime() < deadline && !done.get()) pointReads(r, rnd);
                        try (ReadTxn newer = store.beginRead()) {
                            if (newer.txnId() > r.txnId()) heldAcrossCommits.incrementAndGet();
                        }
                        assertEquals(expected, scan(r, rnd.nextBoolean()), "txn " + r.txnId() + " after holding it");
                    }
                }
                assertEquals(expected.count(), r.count(ACCT), "count of txn " + r.txnId());
                checked.incrementAndGet();
            }
        }
    }

    /** Seeks to random keys; every value found must be whole (its padding matches its balance). */
    private static void pointReads(ReadTxn r, SplittableRandom rnd) {
        try (Cursor c = r.cursor(ACCT)) {
            for (int i = 0; i < 200; i++) {
                long probe = rnd.nextLong(ACCOUNTS * 6L);
                if (c.seek(key(probe))) {
                    long id = c.key().get(LONG_BE, 0);
                    assertTrue(id >= probe, "seek(" + probe + ") gave " + id);
                    long balance = checkedBalance(id, c.value());
                    MemorySegment v = r.get(ACCT, key(id));
                    assertNotNull(v, "key " + id + " found by seek but not by get");
                    assertEquals(balance, checkedBalance(id, v));
                }
            }
        }
    }

    private static Fingerprint scan(ReadTxn r, boolean backward) {
        long count = 0, hash = 0, sum = 0, previous = backward ? Long.MAX_VALUE : -1;
        try (Cursor c = r.cursor(ACCT)) {
            for (boolean ok = backward ? c.last() : c.first(); ok; ok = backward ? c.prev() : c.next()) {
                long id = c.key().get(LONG_BE, 0);
                assertTrue(backward ? id < previous : id > previous, "keys out of order: " + previous + " then " + id);
                previous = id;
                long balance = checkedBalance(id, c.value());
                count++;
                sum += balance;
                hash += mix(id, balance);
            }
        }
        assertEquals(TOTAL, sum, "total of txn " + r.txnId());
        return new Fingerprint(count, hash);
    }

    private static Fingerprint fingerprint(TreeMap<Long, Long> model) {
        long hash = 0;
        for (var e : model.entrySet()) hash += mix(e.getKey(), e.getValue());
        return new Fingerprint(model.size(), hash);
    }

    private static long mix(long id, long balance) {
        long h = id * 0x9E3779B97F4A7C15L + balance;
        return h ^ (h >>> 29) * 0xBF58476D1CE4E5B9L;
    }

    private static long anyKey(TreeMap<Long, Long> accounts, SplittableRandom rnd) {
        Long k = accounts.ceilingKey(rnd.nextLong(accounts.lastKey() + 1));
        return k != null ? k : accounts.firstKey();
    }

    private static int padding(SplittableRandom rnd) {
        return rnd.nextInt(50) == 0 ? 3000 + rnd.nextInt(5000) : rnd.nextInt(120);
    }

    static byte[] key(long id) {
        byte[] k = new byte[8];
        MemorySegment.ofArray(k).set(LONG_BE, 0, id);
        return k;
    }

    /** Balance, then padding bytes derived from (id, balance): a value mixed from two writes shows. */
    private static byte[] value(long id, long balance, int paddingBytes) {
        byte[] v = new byte[8 + paddingBytes];
        MemorySegment.ofArray(v).set(LONG_BE, 0, balance);
        for (int j = 0; j < paddingBytes; j++) v[8 + j] = (byte) (id * 31 + balance + j);
        return v;
    }

    private static long checkedBalance(long id, MemorySegment v) {
        assertTrue(v.byteSize() >= 8, "value of " + id + " has " + v.byteSize() + " bytes");
        long balance = v.get(LONG_BE, 0);
        for (long j = 0; j < v.byteSize() - 8; j++) {
            byte b = v.get(ValueLayout.JAVA_BYTE, 8 + j);
            if (b != (byte) (id * 31 + balance + j)) {
                fail("value of key " + id + " (balance " + balance + ", " + v.byteSize() + " bytes) differs at byte " + (8 + j));
            }
        }
        return balance;
    }
}
