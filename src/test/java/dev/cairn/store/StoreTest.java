package dev.cairn.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

class StoreTest {
    @TempDir Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String s(MemorySegment m) {
        return m == null ? null : new String(m.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    @Test
    void putGetCommitReopenReturnsTheSameValues() {
        try (Store store = Store.open(dir)) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                w.put("t", b("a"), b("1"));
                w.put("t", b("b"), b("2"));
                assertEquals("1", s(w.get("t", b("a"))));
                w.commit();
            }
            try (ReadTxn r = store.beginRead()) {
                assertEquals("2", s(r.get("t", b("b"))));
                assertNull(r.get("t", b("c")));
                assertEquals(2, r.count("t"));
                assertEquals(List.of("t"), r.treeNames());
            }
        }
        try (Store store = Store.open(dir)) {
            try (ReadTxn r = store.beginRead()) {
                assertEquals("1", s(r.get("t", b("a"))));
                assertEquals(2, r.count("t"));
            }
            assertTrue(store.verify().ok(), () -> store.verify().problems().toString());
        }
    }

    /**
     * Page buffers go back to the writer's pool when a write transaction ends ({@link PagePool}):
     * nothing a transaction handed out may share them, or the next transaction would rewrite it.
     */
    @Test
    void bytesAWriteTxnHandedOutStayPutWhenTheNextOneReusesItsPageBuffers() {
        try (Store store = Store.open(dir)) {
            List<MemorySegment> held = new ArrayList<>();
            for (int round = 0; round < 2; round++) {
                try (WriteTxn w = store.beginWrite()) {
                    w.createTree("t");
                    for (int i = 0; i < 500; i++) w.put("t", b("k" + (1000 + i)), b("round" + round + "-" + i));
                    if (round == 0) {
                        held.add(w.get("t", b("k1007")));
                        try (Cursor c = w.cursor("t")) {
                            assertTrue(c.seek(b("k1300")));
                            held.add(c.key());
                            held.add(c.value());
                        }
                        w.commit();
                    } else {
                        w.abort(); // this one's buffers go back too
                    }
                }
            }
            try (WriteTxn w = store.beginWrite()) {
                for (int i = 0; i < 500; i++) w.put("t", b("k" + (1000 + i)), b("later-" + i));
                w.commit();
            }
            assertEquals(List.of("round0-7", "k1300", "round0-300"), held.stream().map(StoreTest::s).toList());
        }
    }

    @Test
    void aValueReadInAWriteTxnKeepsItsBytesWhenTheKeyIsRewrittenInPlace() {
        try (Store store = Store.open(dir)) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                for (int i = 0; i < 200; i++) w.put("t", b("k" + (1000 + i)), b("old-" + (1000 + i)));
                w.commit();
            }
            try (WriteTxn w = store.beginWrite()) {
                MemorySegment before = w.get("t", b("k1100"));
                w.put("t", b("k1100"), b("new-1100")); // same length: written over the old value
                MemorySegment dirty = w.get("t", b("k1100"));
                w.put("t", b("k1100"), b("NEW-1100"));
                assertEquals("old-1100", s(before), "a value read before the change keeps its bytes");
                assertEquals("new-1100", s(dirty), "and so does one read from the transaction's own page");
                assertEquals("NEW-1100", s(w.get("t", b("k1100"))));
                assertEquals("old-1099", s(w.get("t", b("k1099"))), "the neighbours are untouched");
                assertEquals("old-1101", s(w.get("t", b("k1101"))));
                w.commit();
            }
            try (ReadTxn r = store.beginRead()) {
                assertEquals("NEW-1100", s(r.get("t", b("k1100"))));
                assertEquals(200, r.count("t"));
            }
            assertTrue(store.verify().ok(), () -> store.verify().problems().toString());
        }
    }

    @Test
    void manyRandomKeysSplitAndMergeAndStayOrdered() {
        Random rnd = new Random(42);
        TreeMap<String, String> model = new TreeMap<>();
        try (Store store = Store.open(dir)) {
            for (int round = 0; round < 20; round++) {
                try (WriteTxn w = store.beginWrite()) {
                    w.createTree("t");
                    for (int i = 0; i < 500; i++) {
                        String k = "k" + rnd.nextInt(3000);
                        if (rnd.nextInt(3) == 0) {
                            assertEquals(model.remove(k) != null, w.delete("t", b(k)));
                        } else {
                            String v = "v".repeat(rnd.nextInt(rnd.nextInt(10) == 0 ? 3000 : 60));
                            model.put(k, v);
                            w.put("t", b(k), b(v));
                        }
                    }
                    w.commit();
                }
                VerifyReport report = store.verify();
                assertTrue(report.ok(), report.problems().toString());
            }
            try (ReadTxn r = store.beginRead(); Cursor c = r.cursor("t")) {
                List<String> keys = new ArrayList<>();
                for (boolean ok = c.first(); ok; ok = c.next()) {
                    keys.add(s(c.key()));
                    assertEquals(model.get(s(c.key())), s(c.value()));
                }
                assertEquals(new ArrayList<>(model.keySet()), keys);
                assertEquals(model.size(), r.count("t"));
                List<String> back = new ArrayList<>();
                for (boolean ok = c.last(); ok; ok = c.prev()) back.add(s(c.key()));
                assertEquals(new ArrayList<>(model.descendingKeySet()), back);
                assertTrue(c.seek(MemorySegment.ofArray(b("k15"))));
                assertEquals(model.ceilingKey("k15"), s(c.key()));
            }
            try (WriteTxn w = store.beginWrite()) {
                for (String k : model.keySet()) assertTrue(w.delete("t", b(k)));
                w.commit();
            }
            try (ReadTxn r = store.beginRead()) {
                assertEquals(0, r.count("t"));
            }
            assertTrue(store.verify().ok(), store.verify().problems().toString());
        }
    }
}
