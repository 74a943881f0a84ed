package dev.cairn.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

import static dev.cairn.store.StoreTest.b;
import static org.junit.jupiter.api.Assertions.*;

/** The compacting copy (storage-format.md §8.2): same trees and entries, live pages only. */
class CompactCopyTest {
    @TempDir Path dir;

    @Test
    void aCompactedCopyHoldsEveryEntryInAFractionOfTheSpace() throws Exception {
        Path source = dir.resolve("source");
        Map<String, TreeMap<String, String>> model = new HashMap<>();
        Random rnd = new Random(21);
        try (Store store = Store.open(source)) {
            try (WriteTxn w = store.beginWrite()) {
                for (String tree : new String[] {"parts", "stock", "empty"}) {
                    w.createTree(tree);
                    model.put(tree, new TreeMap<>());
                }
                w.commit();
            }
            for (int c = 0; c < 40; c++) {
                try (WriteTxn w = store.beginWrite()) {
                    for (int i = 0; i < 500; i++) {
                        String tree = i % 3 == 0 ? "stock" : "parts";
                        String k = "k" + rnd.nextInt(20_000);
                        String v = "v" + c + "-" + "x".repeat(rnd.nextInt(rnd.nextInt(50) == 0 ? 9000 : 200));
                        w.put(tree, b(k), b(v));
                        model.get(tree).put(k, v);
                    }
                    w.commit();
                }
            }
            // Delete nine in ten: the data file keeps its size, the copy should not.
            try (WriteTxn w = store.beginWrite()) {
                for (var tree : model.entrySet()) {
                    var it = tree.getValue().keySet().iterator();
                    for (int n = 0; it.hasNext(); n++) {
                        String k = it.next();
                        if (n % 10 == 0) continue;
                        assertTrue(w.delete(tree.getKey(), b(k)));
                        it.remove();
                    }
                }
                w.commit();
            }
            Path copy = dir.resolve("copy");
            store.compactTo(copy);
            try (Store compacted = Store.open(copy); ReadTxn r = compacted.beginRead()) {
                assertEquals(model.keySet(), new java.util.HashSet<>(r.treeNames()));
                for (var e : model.entrySet()) assertEquals(e.getValue(), contents(r, e.getKey()), e.getKey());
                VerifyReport report = compacted.verify();
                assertTrue(report.ok(), report.problems().toString());
                VerifyReport before = store.verify();
                assertTrue(report.pageCount() * 4 < before.pageCount(),
                    "copy has " + report.pageCount() + " pages, the source " + before.pageCount());
                assertTrue(report.freePageCount() < 16, report.freePageCount() + " free pages in the copy");
                assertNotEquals(store.databaseId(), compacted.databaseId());
            }
            assertEquals(java.util.List.of(Store.DATA_FILE, Store.LOCK_FILE, Store.WAL_FILE), sortedNames(copy),
                "the build folder is gone");
            // The source goes on as before.
            try (WriteTxn w = store.beginWrite()) {
                w.put("empty", b("now"), b("not"));
                w.commit();
            }
            assertThrows(IllegalArgumentException.class, () -> store.compactTo(copy), "a target holding a database");
        }
    }

    /** Writers keep committing during the copy; it holds exactly the state when it began. */
    @Test
    void theCopyIsTheSnapshotItBeganOnWhileWritersCommit() throws Exception {
        Path source = dir.resolve("busy");
        Map<Integer, TreeMap<String, String>> states = new ConcurrentHashMap<>();
        TreeMap<String, String> model = new TreeMap<>();
        try (Store store = Store.open(source, StoreOptions.defaults().withDurable(false))) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                for (int i = 0; i < 20_000; i++) {
                    w.put("t", b(String.format("k%06d", i)), b("v".repeat(100)));
                    model.put(String.format("k%06d", i), "v".repeat(100));
                }
                w.commit();
            }
            states.put(model.size(), new TreeMap<>(model));
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    for (int c = 0; c < 300; c++) {
                        try (WriteTxn w = store.beginWrite()) {
                            w.put("t", b("w" + c), b("c" + c));
                            w.delete("t", b(String.format("k%06d", c * 7)));
                            w.commit();
                        }
                        model.put("w" + c, "c" + c);
                        model.remove(String.format("k%06d", c * 7));
                        states.put(300_000 + c, new TreeMap<>(model));
                        Thread.sleep(1);
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            Path copy = dir.resolve("busy-copy");
            store.compactTo(copy);
            writer.join();
            assertNull(failure.get());
            try (Store compacted = Store.open(copy); ReadTxn r = compacted.beginRead()) {
                TreeMap<String, String> got = contents(r, "t");
                assertTrue(states.containsValue(got), "the copy is no committed state (" + got.size() + " entries)");
                assertTrue(compacted.verify().ok());
            }
        }
    }

    /** A damaged page met halfway through the copy: the error names it, and the target is left empty. */
    @Test
    void aCopyThatMeetsDamageLeavesNothingBehind() throws Exception {
        Path source = dir.resolve("damaged");
        long leaf;
        try (Store store = Store.open(source)) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                for (int i = 0; i < 5000; i++) w.put("t", b(String.format("k%05d", i)), b("v".repeat(60)));
                w.commit();
            }
            try (ReadTxn r = store.beginRead()) {
                Snapshot.TreeRef t = r.tree("t");
                java.lang.foreign.MemorySegment root = r.node(t.root(), t.rootTxn());
                assertFalse(NodePage.isLeaf(root), "5000 entries fill more than one leaf");
                leaf = NodePage.child(root, PageLayout.count(root) / 2); // a leaf in the middle of the tree
            }
        }
        int pageBytes = StoreOptions.defaults().pageBytes();
        try (var channel = java.nio.channels.FileChannel.open(source.resolve(Store.DATA_FILE), java.nio.file.StandardOpenOption.WRITE)) {
            channel.write(java.nio.ByteBuffer.wrap(new byte[] {0x55, 0x55}), leaf * pageBytes + pageBytes / 2);
        }
        Path target = dir.resolve("from-damaged");
        try (Store store = Store.open(source)) {
            for (int attempt = 0; attempt < 2; attempt++) {
                dev.cairn.CorruptionException e = assertThrows(dev.cairn.CorruptionException.class, () -> store.compactTo(target));
                assertTrue(e.getMessage().contains("page " + leaf), e.getMessage());
                assertFalse(java.nio.file.Files.exists(target), "attempt " + attempt + " left the folder it made behind");
            }
        }
    }

    @Test
    void anUnfinishedBuildFolderIsNamedNotReused() throws Exception {
        try (Store store = Store.open(dir.resolve("db"))) {
            Path target = dir.resolve("target");
            Files.createDirectories(target.resolve(CompactCopy.BUILD_DIR));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> store.compactTo(target));
            assertTrue(e.getMessage().contains(CompactCopy.BUILD_DIR), e.getMessage());
            assertTrue(Files.isDirectory(target.resolve(CompactCopy.BUILD_DIR)), "left as it was");
        }
    }

    private static TreeMap<String, String> contents(ReadTxn r, String tree) {
        TreeMap<String, String> m = new TreeMap<>();
        try (Cursor c = r.cursor(tree)) {
            for (boolean ok = c.first(); ok; ok = c.next()) m.put(StoreTest.s(c.key()), StoreTest.s(c.value()));
        }
        assertEquals(m.size(), r.count(tree));
        return m;
    }

    private static java.util.List<String> sortedNames(Path folder) throws Exception {
        try (var files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
