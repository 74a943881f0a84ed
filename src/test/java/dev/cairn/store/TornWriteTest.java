package dev.cairn.store;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A crash during a commit can leave the newest meta page or some of the commit's pages
 * garbage, half-written or unwritten. Open must then fall back to the previous commit, verify
 * must pass, and the store must take new commits.
 */
class TornWriteTest {
    @TempDir Path dir;

    static Stream<Arguments> faults() {
        List<Arguments> cases = new ArrayList<>();
        for (FaultyPageFile.Fault f : FaultyPageFile.Fault.values()) {
            for (long seed = 1; seed <= 6; seed++) cases.add(Arguments.of(f, seed));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} seed {1}")
    @MethodSource("faults")
    void openFallsBackToThePreviousCommitWhenTheLastOneIsTorn(FaultyPageFile.Fault fault, long seed) {
        FaultyPageFile[] file = new FaultyPageFile[1];
        Random rnd = new Random(seed);
        TreeMap<String, String> before = new TreeMap<>();
        TreeMap<String, String> after;
        long tornTxn;
        try (Store store = Store.open(dir, StoreOptions.defaults(),
                (path, channel, pageBytes, writable) -> file[0] = new FaultyPageFile(path, channel, pageBytes, writable))) {
            store.verifyAfterCommit = false;
            for (int round = 0; round < 3; round++) {
                try (WriteTxn w = store.beginWrite()) {
                    w.createTree("t");
                    for (int i = 0; i < 200; i++) {
                        String k = "k" + rnd.nextInt(400);
                        String v = "v" + round + "-" + "x".repeat(rnd.nextInt(10) == 0 ? 5000 : rnd.nextInt(80));
                        w.put("t", StoreTest.b(k), StoreTest.b(v));
                        before.put(k, v);
                    }
                    w.commit();
                }
            }
            after = new TreeMap<>(before);
            file[0].arm(fault, seed);
            try (WriteTxn w = store.beginWrite()) {
                tornTxn = w.txnId();
                for (int i = 0; i < 100; i++) {
                    String k = "k" + rnd.nextInt(400);
                    if (rnd.nextInt(4) == 0) {
                        w.delete("t", StoreTest.b(k));
                        after.remove(k);
                    } else {
                        String v = "torn-" + "y".repeat(rnd.nextInt(10) == 0 ? 6000 : rnd.nextInt(80));
                        w.put("t", StoreTest.b(k), StoreTest.b(v));
                        after.put(k, v);
                    }
                }
                w.commit();
            }
        }
        String damage = file[0].damage;
        boolean survived = !file[0].torn;
        try (Store store = Store.open(dir)) {
            VerifyReport report = store.verify();
            assertTrue(report.ok(), damage + ": " + report.problems());
            try (ReadTxn r = store.beginRead()) {
                assertEquals(survived, r.txnId() == tornTxn, damage + ": open chose txn " + r.txnId());
                assertEquals(survived ? after : before, contents(r), damage);
            }
            try (WriteTxn w = store.beginWrite()) {
                w.put("t", StoreTest.b("later"), StoreTest.b("commit"));
                w.commit();
            }
        }
        try (Store store = Store.open(dir); ReadTxn r = store.beginRead()) {
            assertEquals("commit", StoreTest.s(r.get("t", StoreTest.b("later"))));
            assertTrue(store.verify().ok());
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
