package dev.cairn.store;

import dev.cairn.testing.TestFiles;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Random sequences of store operations over three trees, checked step by step against
 * TreeMap models; verify after every commit and at the end.
 */
class StoreModelProperties {
    static final List<String> TREES = List.of("a", "b", "c");
    static final Comparator<byte[]> ORDER = Arrays::compareUnsigned;

    sealed interface Action permits Put, Delete, Seek, Scan, BulkPut, BulkDelete, Commit, Abort, Reopen { }
    record Put(String tree, int key, int keyBytes, int valueBytes) implements Action { }
    record Delete(String tree, int key, int keyBytes) implements Action { }
    record Seek(String tree, int key, int keyBytes) implements Action { }
    record Scan(String tree, boolean backward) implements Action { }
    record BulkPut(String tree, int fromKey, int keys, int keyBytes, int valueBytes) implements Action { }
    record BulkDelete(String tree, int fromKey, int keys) implements Action { }
    record Commit() implements Action { }
    record Abort() implements Action { }
    record Reopen() implements Action { }

    /**
     * Key k of the given length. Shapes that make slot heads (the first 8 key bytes) tie: odd
     * lengths pad with zero bytes (so k, k 0 and k 0 0 share a head), and lengths >= 12 that are
     * a multiple of 3 start with one 8-byte prefix (every such key has the same head).
     */
    static byte[] key(int k, int keyBytes) {
        byte[] key = new byte[keyBytes];
        int at = 0;
        if (keyBytes >= 12 && keyBytes % 3 == 0) {
            for (; at < 8; at++) key[at] = (byte) "samehead".charAt(at);
        }
        byte filler = keyBytes % 2 == 1 ? 0 : (byte) 'x';
        for (int i = 0; at < keyBytes; i++, at++) key[at] = i < 4 ? (byte) (k >>> (24 - 8 * i)) : filler;
        return key;
    }

    static byte[] value(int valueBytes, int seed) {
        byte[] v = new byte[valueBytes];
        for (int i = 0; i < valueBytes; i++) v[i] = (byte) (seed * 31 + i);
        return v;
    }

    @Provide
    Arbitrary<List<Action>> actions() {
        Arbitrary<String> tree = Arbitraries.of(TREES);
        Arbitrary<Integer> k = Arbitraries.integers().between(0, 300);
        Arbitrary<Integer> keyBytes = Arbitraries.frequencyOf(
            Tuple.of(6, Arbitraries.just(4)), Tuple.of(3, Arbitraries.integers().between(5, 64)),
            Tuple.of(1, Arbitraries.of(300, 1024)));
        Arbitrary<Integer> valueBytes = Arbitraries.frequencyOf(
            Tuple.of(3, Arbitraries.just(0)), Tuple.of(8, Arbitraries.integers().between(1, 120)),
            Tuple.of(2, Arbitraries.integers().between(500, 1400)), Tuple.of(2, Arbitraries.integers().between(1400, 9000)),
            Tuple.of(1, Arbitraries.just(70_000)));
        Arbitrary<Action> put = Combinators.combine(tree, k, keyBytes, valueBytes).as(Put::new);
        Arbitrary<Action> delete = Combinators.combine(tree, k, keyBytes).as(Delete::new);
        Arbitrary<Action> seek = Combinators.combine(tree, k, keyBytes).as(Seek::new);
        Arbitrary<Action> scan = Combinators.combine(tree, Arbitraries.of(true, false)).as(Scan::new);
        Arbitrary<Action> bulkPut = Combinators.combine(tree, k, Arbitraries.integers().between(20, 400), keyBytes,
            Arbitraries.integers().between(0, 200)).as(BulkPut::new);
        Arbitrary<Action> bulkDelete = Combinators.combine(tree, k, Arbitraries.integers().between(20, 300)).as(BulkDelete::new);
        return Arbitraries.frequencyOf(
            Tuple.of(10, put), Tuple.of(5, delete), Tuple.of(3, seek), Tuple.of(1, scan), Tuple.of(2, bulkPut),
            Tuple.of(2, bulkDelete), Tuple.of(3, Arbitraries.just(new Commit())), Tuple.of(1, Arbitraries.just(new Abort())),
            Tuple.of(1, Arbitraries.just(new Reopen()))
        ).list().ofMaxSize(80);
    }

    @Property(tries = 60)
    void storeMatchesModel(@ForAll("actions") List<Action> actions) throws IOException {
        Path dir = Files.createTempDirectory("cairn-model");
        try {
            new Run(dir).run(actions);
        } finally {
            TestFiles.deleteTree(dir);
        }
    }

    /** One sequence: the store, its open write transaction, committed and working models. */
    static final class Run {
        final Path dir;
        Store store;
        WriteTxn w;
        Map<String, TreeMap<byte[], byte[]>> committed = new TreeMap<>();
        Map<String, TreeMap<byte[], byte[]>> working = new TreeMap<>();
        int seed;

        Run(Path dir) {
            this.dir = dir;
        }

        void run(List<Action> actions) {
            store = Store.open(dir);
            try (WriteTxn first = store.beginWrite()) {
                for (String t : TREES) {
                    first.createTree(t);
                    committed.put(t, new TreeMap<>(ORDER));
                }
                first.commit();
            }
            working = copy(committed);
            try {
                for (Action a : actions) step(a);
                writer().commit();
                w = null;
                committed = copy(working);
                assertMatches(committed);
                VerifyReport report = store.verify();
                assertTrue(report.ok(), report.problems().toString());
            } finally {
                if (w != null) w.close();
                store.close();
            }
        }

        WriteTxn writer() {
            if (w == null) w = store.beginWrite();
            return w;
        }

        void step(Action action) {
            switch (action) {
                case Put(var tree, var k, var kb, var vb) -> {
                    byte[] v = value(vb, ++seed);
                    writer().put(tree, key(k, kb), v);
                    working.get(tree).put(key(k, kb), v);
                }
                case Delete(var tree, var k, var kb) -> {
                    boolean had = working.get(tree).remove(key(k, kb)) != null;
                    assertEquals(had, writer().delete(tree, key(k, kb)), action.toString());
                }
                case Seek(var tree, var k, var kb) -> checkSeek(writer(), working.get(tree), tree, key(k, kb));
                case Scan(var tree, var backward) -> {
                    checkScan(writer(), working.get(tree), tree, backward);
                    checkForEach(writer(), working.get(tree), tree);
                }
                case BulkPut(var tree, var from, var n, var kb, var vb) -> {
                    for (int i = from; i < from + n; i++) {
                        byte[] v = value(vb, ++seed);
                        writer().put(tree, key(i, kb), v);
                        working.get(tree).put(key(i, kb), v);
                    }
                }
                case BulkDelete(var tree, var from, var n) -> {
                    TreeMap<byte[], byte[]> m = working.get(tree);
                    for (byte[] key : m.subMap(key(from, 4), key(from + n, 4)).keySet().toArray(new byte[0][])) {
                        assertTrue(writer().delete(tree, key), action.toString());
                        m.remove(key);
                    }
                }
                case Commit() -> {
                    writer().commit();
                    w = null;
                    committed = copy(working);
                    assertMatches(committed);
                }
                case Abort() -> {
                    writer().abort();
                    w = null;
                    working = copy(committed);
                    assertMatches(committed);
                }
                case Reopen() -> {
                    if (w != null) w.abort();
                    w = null;
                    store.close();
                    store = Store.open(dir);
                    working = copy(committed);
                    assertMatches(committed);
                }
            }
        }

        /** A read transaction sees exactly the committed model, point reads and scans. */
        void assertMatches(Map<String, TreeMap<byte[], byte[]>> model) {
            try (ReadTxn r = store.beginRead()) {
                assertEquals(List.copyOf(model.keySet()), r.treeNames());
                for (var e : model.entrySet()) {
                    assertEquals(e.getValue().size(), r.count(e.getKey()));
                    for (var kv : e.getValue().entrySet()) {
                        assertArrayEquals(kv.getValue(), bytes(r.get(e.getKey(), kv.getKey())));
                    }
                    checkScan(r, e.getValue(), e.getKey(), false);
                    checkForEach(r, e.getValue(), e.getKey());
                }
            }
        }
    }

    static Map<String, TreeMap<byte[], byte[]>> copy(Map<String, TreeMap<byte[], byte[]>> m) {
        Map<String, TreeMap<byte[], byte[]>> c = new TreeMap<>();
        m.forEach((k, v) -> c.put(k, new TreeMap<>(v)));
        return c;
    }

    static byte[] bytes(MemorySegment s) {
        return s == null ? null : s.toArray(ValueLayout.JAVA_BYTE);
    }

    static void checkScan(ReadTxn r, TreeMap<byte[], byte[]> model, String tree, boolean backward) {
        try (Cursor c = r.cursor(tree)) {
            var expected = (backward ? model.descendingMap() : model).entrySet().iterator();
            for (boolean ok = backward ? c.last() : c.first(); ok; ok = backward ? c.prev() : c.next()) {
                assertTrue(expected.hasNext(), "cursor has more keys than the model");
                var e = expected.next();
                assertArrayEquals(e.getKey(), bytes(c.key()));
                assertArrayEquals(e.getValue(), bytes(c.value()));
            }
            assertFalse(expected.hasNext(), "cursor ended before the model");
        }
    }

    /** forEach visits exactly the model's entries, in order. */
    static void checkForEach(ReadTxn r, TreeMap<byte[], byte[]> model, String tree) {
        var expected = model.entrySet().iterator();
        long visited = r.forEach(tree, (k, v) -> {
            assertTrue(expected.hasNext(), "forEach has more keys than the model");
            var e = expected.next();
            assertArrayEquals(e.getKey(), bytes(k));
            assertArrayEquals(e.getValue(), bytes(v));
            return true;
        });
        assertFalse(expected.hasNext(), "forEach ended before the model");
        assertEquals(model.size(), visited);
    }

    /**
     * forEachRemaining from a seek visits the model's tail in order; a visitor that returns false
     * stops the scan there (possibly leaves later) and leaves the cursor on that entry.
     */
    static void checkSeekThenForEach(ReadTxn r, TreeMap<byte[], byte[]> model, String tree, byte[] key) {
        var tail = List.copyOf(model.tailMap(key, true).entrySet());
        int stopAfter = 1 + Math.floorMod(Arrays.hashCode(key), 150);
        try (Cursor c = r.cursor(tree)) {
            assertEquals(!tail.isEmpty(), c.seek(key));
            int[] seen = {0};
            long visited = c.forEachRemaining((k, v) -> {
                assertTrue(seen[0] < tail.size(), "forEachRemaining has more keys than the model");
                var e = tail.get(seen[0]++);
                assertArrayEquals(e.getKey(), bytes(k));
                assertArrayEquals(e.getValue(), bytes(v));
                return seen[0] < stopAfter;
            });
            assertEquals(Math.min(stopAfter, tail.size()), visited);
            if (stopAfter <= tail.size()) {
                assertArrayEquals(tail.get(stopAfter - 1).getKey(), bytes(c.key()), "cursor stays on the entry that stopped the scan");
                assertEquals(stopAfter < tail.size(), c.next());
                if (stopAfter < tail.size()) assertArrayEquals(tail.get(stopAfter).getKey(), bytes(c.key()));
            } else {
                assertThrows(IllegalStateException.class, c::key, "positioned nowhere after the last entry");
            }
        }
    }

    static void checkSeek(ReadTxn r, TreeMap<byte[], byte[]> model, String tree, byte[] key) {
        checkSeekThenForEach(r, model, tree, key);
        try (Cursor c = r.cursor(tree)) {
            byte[] ceiling = model.ceilingKey(key);
            assertEquals(ceiling != null, c.seek(key));
            if (ceiling == null) return;
            assertArrayEquals(ceiling, bytes(c.key()));
            byte[] k = ceiling;
            for (int i = 0; i < 3; i++) {
                byte[] next = model.higherKey(k);
                assertEquals(next != null, c.next());
                if (next == null) return;
                assertArrayEquals(next, bytes(c.key()));
                k = next;
            }
            for (int i = 0; i < 5; i++) {
                byte[] prev = model.lowerKey(k);
                assertEquals(prev != null, c.prev());
                if (prev == null) return;
                assertArrayEquals(prev, bytes(c.key()));
                k = prev;
            }
        }
    }
}
