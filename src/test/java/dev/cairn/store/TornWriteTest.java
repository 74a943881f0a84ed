package dev.cairn.store;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A power cut at any write or force of a commit (and of the checkpoint after it) leaves each
 * unforced write kept, lost, torn or garbage (see {@link CrashingFiles}). Open must then give
 * the state before the commit or after it, the state after it whenever the commit had been
 * acknowledged (its log force returned), verify must pass, and the store must take new commits.
 */
class TornWriteTest {
    /** Crash points tried per mode: the commit and checkpoint take fewer calls than this. */
    static final int CRASH_POINTS = 24;
    @TempDir Path dir;

    @ParameterizedTest(name = "checkpoint every {0} bytes of log")
    @ValueSource(longs = {0, StoreOptions.CHECKPOINT_BYTES})
    void aCrashAnywhereInACommitLeavesItWholeOrAbsent(long checkpointBytes) {
        int before = 0;
        int after = 0;
        int pastTheEnd = 0;
        for (int crashAt = 0; crashAt < CRASH_POINTS; crashAt++) {
            for (long seed = 1; seed <= 3; seed++) {
                CrashingFiles files = new CrashingFiles();
                if (crashOnce(files, dir.resolve(crashAt + "-" + seed), checkpointBytes, crashAt, seed)) after++; else before++;
                if (files.crashedAfterTheLastCall) pastTheEnd++;
            }
        }
        assertTrue(before > 0 && after > 0, "outcomes: " + before + " before, " + after + " after: the crash points miss a case");
        assertTrue(pastTheEnd > 0, "every crash point hit a call: raise CRASH_POINTS to cover the whole commit");
    }

    /** True if the commit survived the crash. */
    private static boolean crashOnce(CrashingFiles files, Path dir, long checkpointBytes, int crashAt, long seed) {
        Random rnd = new Random(seed);
        TreeMap<String, String> before = new TreeMap<>();
        TreeMap<String, String> after;
        long tornTxn;
        boolean returnedAlive;
        StoreOptions options = StoreOptions.defaults().withCheckpointBytes(checkpointBytes);
        try (Store store = Store.open(dir, options, files::pageFile, files::walFile)) {
            store.verifyAfterCommit = false;
            commitThreeRounds(store, rnd, before);
            after = new TreeMap<>(before);
            files.arm(crashAt, seed);
            try (WriteTxn w = store.beginWrite()) {
                tornTxn = w.txnId();
                change(w, rnd, after, "torn-");
                w.commit();
            }
            // Commit (and any checkpoint after it) returned before the power cut: acknowledged.
            returnedAlive = !files.dead;
            if (!files.dead) files.crashNow();
        }
        String what = "crash at call " + crashAt + " seed " + seed + " (" + files.story + ")";
        // A logged commit is acknowledged once the log's force returned; a direct one, once
        // commit returned.
        boolean acknowledged = files.logForced || returnedAlive;
        boolean survived;
        TreeMap<String, String> bySpec = bySpec(dir, what);
        try (Store store = Store.open(dir)) {
            VerifyReport report = store.verify();
            assertTrue(report.ok(), what + ": " + report.problems());
            try (ReadTxn r = store.beginRead()) {
                TreeMap<String, String> found = contents(r);
                assertSameState(found, bySpec, what);
                survived = found.equals(after);
                assertTrue(survived || found.equals(before), what + ": open chose txn " + r.txnId() + ", neither before nor after");
                assertEquals(survived, r.txnId() == tornTxn, what + ": txn " + r.txnId());
                if (acknowledged) assertTrue(survived, what + ": the acknowledged commit " + tornTxn + " is lost");
            }
        }
        assertTakesACommit(dir, what);
        return survived;
    }

    /**
     * A power cut anywhere in a run of durable commits of every kind: logged ones, direct ones
     * (a value past the log limit), the checkpoints and log generations between them, and the
     * first logged commit after a direct one (which starts a generation). Open must never refuse
     * (no crash leaves what the recovery checks refuse), must verify, and must give the state
     * after one of the commits, no older than the last one whose commit returned. (The cut
     * lands inside a commit, which then survives or not: the single-commit test above checks both.)
     */
    @ParameterizedTest(name = "checkpoint every {0} bytes of log")
    @ValueSource(longs = {0, 64 << 10, StoreOptions.CHECKPOINT_BYTES})
    void aPowerCutAmongCommitsOfEveryKindKeepsEveryAcknowledgedOne(long checkpointBytes) {
        int trials = "1".equals(System.getenv("CAIRN_LONG")) ? 60 : 12;
        int acknowledged = 0;
        int loggedAfterDirect = 0;
        for (int trial = 0; trial < trials; trial++) {
            Outcome o = powerCutAmongCommits(dir.resolve("many-" + trial), checkpointBytes, trial);
            acknowledged += o.acknowledged();
            if (o.loggedAfterDirect()) loggedAfterDirect++;
        }
        assertTrue(acknowledged >= 3 * trials, "only " + acknowledged + " commits acknowledged before the cuts of " + trials
            + " trials: the cuts come too early to test a run of commits");
        if (checkpointBytes > 0) {
            assertTrue(loggedAfterDirect > 0, "no trial acknowledged a logged commit after a direct one before the cut");
        }
    }

    /** What one trial saw: commits acknowledged before the cut; was a logged one acknowledged after a direct one. */
    private record Outcome(int acknowledged, boolean loggedAfterDirect) { }

    private static Outcome powerCutAmongCommits(Path folder, long checkpointBytes, long seed) {
        Random rnd = new Random(seed * 7919 + checkpointBytes);
        StoreOptions options = StoreOptions.defaults().withCheckpointBytes(checkpointBytes);
        List<TreeMap<String, String>> states = new ArrayList<>();
        TreeMap<String, String> model = new TreeMap<>();
        try (Store store = Store.open(folder, options)) {
            commitThreeRounds(store, rnd, model);
        }
        states.add(new TreeMap<>(model));
        int acknowledged = 0;
        boolean directAcknowledged = false;
        boolean loggedAfterDirect = false;
        CrashingFiles files = new CrashingFiles();
        try (Store store = Store.open(folder, options, files::pageFile, files::walFile)) {
            store.verifyAfterCommit = false;
            files.arm(rnd.nextInt(400), seed);
            for (int c = 0; c < 40 && !files.dead; c++) {
                boolean direct = rnd.nextInt(4) == 0;
                try (WriteTxn w = store.beginWrite()) {
                    if (direct) {
                        // Past the 1 MiB log limit: a direct commit.
                        String v = "big-" + c + "-" + "z".repeat((1 << 20) + rnd.nextInt(1000));
                        w.put("t", StoreTest.b("big"), StoreTest.b(v));
                        model.put("big", v);
                    } else {
                        change(w, rnd, model, "c" + c + "-");
                    }
                    w.commit();
                }
                states.add(new TreeMap<>(model));
                if (!files.dead) {
                    acknowledged = states.size() - 1;
                    if (!direct && directAcknowledged) loggedAfterDirect = true;
                    directAcknowledged |= direct;
                }
            }
            if (!files.dead) files.crashNow();
        }
        String what = "seed " + seed + ", checkpoint every " + checkpointBytes + " bytes (" + files.story + ")";
        int found;
        TreeMap<String, String> bySpec = bySpec(folder, what);
        try (Store store = Store.open(folder); ReadTxn r = store.beginRead()) {
            VerifyReport report = store.verify();
            assertTrue(report.ok(), what + ": " + report.problems());
            assertSameState(contents(r), bySpec, what);
            found = states.indexOf(contents(r));
        } catch (dev.cairn.CorruptionException e) {
            throw new AssertionError(what + ": open refused after a power cut: " + e.getMessage(), e);
        }
        assertTrue(found >= 0, what + ": open gave no committed state");
        assertTrue(found >= acknowledged, what + ": state " + found + " is older than the last acknowledged commit, " + acknowledged);
        assertTakesACommit(folder, what);
        return new Outcome(acknowledged, loggedAfterDirect);
    }

    /**
     * A power cut after unforced commits ({@code durable = false}): each of their frames may be
     * kept, lost, torn or garbage independently, so an intact frame can follow a torn one. Open
     * must read that as the log's end (those frames do not claim a force before them), never
     * refuse, and give the state it opened with or the state after one of the commits.
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6})
    void aPowerCutAfterUnforcedCommitsOpensAsOneOfThem(long seed) {
        Random rnd = new Random(seed);
        List<TreeMap<String, String>> states = new ArrayList<>();
        TreeMap<String, String> model = new TreeMap<>();
        CrashingFiles files = new CrashingFiles();
        Path folder = dir.resolve("nd-" + seed);
        try (Store store = Store.open(folder)) {
            commitThreeRounds(store, rnd, model);
        }
        int lost = 0;
        for (int round = 0; round < 4; round++) {
            // What open finds is on disk: a close checkpointed it, or the open's replay forced it.
            states.clear();
            states.add(new TreeMap<>(model));
            try (Store store = Store.open(folder, StoreOptions.defaults().withDurable(false), files::pageFile, files::walFile)) {
                store.verifyAfterCommit = false;
                files.arm(20 + rnd.nextInt(150), seed * 100 + round);
                for (int c = 0; c < 8 && !files.dead; c++) {
                    try (WriteTxn w = store.beginWrite()) {
                        change(w, rnd, model, "unforced-" + round + "-" + c + "-");
                        w.commit();
                    }
                    states.add(new TreeMap<>(model));
                }
                if (!files.dead) files.crashNow();
            }
            String what = "seed " + seed + " round " + round + " (" + files.story + ")";
            files = new CrashingFiles();
            TreeMap<String, String> bySpec = bySpec(folder, what);
            try (Store store = Store.open(folder); ReadTxn r = store.beginRead()) {
                assertTrue(store.verify().ok(), what + ": " + store.verify().problems());
                TreeMap<String, String> found = contents(r);
                assertSameState(found, bySpec, what);
                int k = states.indexOf(found);
                assertTrue(k >= 0, what + ": open gave no committed state (txn " + r.txnId() + ")");
                if (k < states.size() - 1) lost++;
                model = found;
            }
        }
        assertTrue(lost > 0, "seed " + seed + ": no round lost an unforced commit, so none tested a torn frame");
    }

    /** Three commits of 200 random puts into tree "t" (some values overflow), recorded in model. */
    static void commitThreeRounds(Store store, Random rnd, TreeMap<String, String> model) {
        for (int round = 0; round < 3; round++) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                for (int i = 0; i < 200; i++) {
                    String k = "k" + rnd.nextInt(400);
                    String v = "v" + round + "-" + "x".repeat(rnd.nextInt(10) == 0 ? 5000 : rnd.nextInt(80));
                    w.put("t", StoreTest.b(k), StoreTest.b(v));
                    model.put(k, v);
                }
                w.commit();
            }
        }
    }

    /** 100 random puts (values starting with prefix) and deletes in tree "t", recorded in model. */
    static void change(WriteTxn w, Random rnd, TreeMap<String, String> model, String prefix) {
        for (int i = 0; i < 100; i++) {
            String k = "k" + rnd.nextInt(400);
            if (rnd.nextInt(4) == 0) {
                w.delete("t", StoreTest.b(k));
                model.remove(k);
            } else {
                String v = prefix + "y".repeat(rnd.nextInt(10) == 0 ? 6000 : rnd.nextInt(80));
                w.put("t", StoreTest.b(k), StoreTest.b(v));
                model.put(k, v);
            }
        }
    }

    /** Tree "t" as a reader written from the spec recovers the folder (§5.4), read before the store opens it. */
    static TreeMap<String, String> bySpec(Path dir, String what) {
        try {
            return SpecReader.readText(dir, "t");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(what, e);
        }
    }

    static void assertSameState(TreeMap<String, String> store, TreeMap<String, String> spec, String what) {
        assertTrue(store.equals(spec), () -> what + ": the store and the spec's reader recover different states: "
            + SpecReader.difference(store, spec));
    }

    /** The reopened store takes a commit, which a further reopen finds, and verifies. */
    static void assertTakesACommit(Path dir, String what) {
        try (Store store = Store.open(dir)) {
            try (WriteTxn w = store.beginWrite()) {
                w.put("t", StoreTest.b("later"), StoreTest.b("commit"));
                w.commit();
            }
        }
        try (Store store = Store.open(dir); ReadTxn r = store.beginRead()) {
            assertEquals("commit", StoreTest.s(r.get("t", StoreTest.b("later"))), what);
            assertTrue(store.verify().ok(), what);
        }
    }

    static TreeMap<String, String> contents(ReadTxn r) {
        TreeMap<String, String> m = new TreeMap<>();
        try (Cursor c = r.cursor("t")) {
            for (boolean ok = c.first(); ok; ok = c.next()) m.put(StoreTest.s(c.key()), StoreTest.s(c.value()));
        }
        assertEquals(m.size(), r.count("t"));
        return m;
    }
}
