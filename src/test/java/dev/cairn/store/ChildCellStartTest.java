package dev.cairn.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;

import static dev.cairn.store.PageLayout.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Child cell starts and packed cells (storage-format.md §4.1): what a commit writes, what verify
 * checks, and whether a point read's guess of where a cell lies finds it.
 */
class ChildCellStartTest {
    @TempDir Path dir;

    /** Keys (id << 32) as 8 big-endian bytes, the shape of Cairn's (id, revision) keys. */
    private static byte[] key(long id) {
        return ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN).putLong(id << 32).array();
    }

    private static byte[] value(SplittableRandom random) {
        byte[] v = new byte[60 + random.nextInt(20)];
        random.nextBytes(v);
        return v;
    }

    /** How a test tree is loaded: ids 0..n-1 in key order or shuffled, or random 64-bit keys. */
    private enum Load { ASCENDING, SHUFFLED, RANDOM_KEYS }

    /** n keys in batches of 1,000 into tree t; with deletes, every tenth key of a batch is deleted again. */
    private static void load(Store store, int n, Load load, boolean deletes, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) ids[i] = load == Load.RANDOM_KEYS ? random.nextLong() >>> 32 : i;
        if (load == Load.SHUFFLED) {
            for (int i = n - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                long t = ids[i];
                ids[i] = ids[j];
                ids[j] = t;
            }
        }
        try (WriteTxn w = store.beginWrite()) {
            w.createTree("t");
            w.commit();
        }
        for (int from = 0; from < n; from += 1000) {
            try (WriteTxn w = store.beginWrite()) {
                for (int i = from; i < Math.min(n, from + 1000); i++) w.put("t", key(ids[i]), value(random));
                if (deletes) for (int i = from; i < Math.min(n, from + 1000); i += 10) w.delete("t", key(ids[i]));
                w.commit();
            }
        }
    }

    /** Calls visit for every node page of tree t with its parent's record of it and the head range its separators allow. */
    private interface NodeVisitor {
        void visit(MemorySegment page, long id, int recordedCellStart, long low, long high, boolean bounded);
    }

    private static void walk(Store store, ReadTxn r, NodeVisitor visitor) {
        Snapshot.TreeRef tree = r.tree("t");
        walk(store, r, tree.root(), 0, 0, 0, false, visitor);
    }

    private static void walk(Store store, ReadTxn r, long id, int recorded, long low, long high, boolean bounded, NodeVisitor visitor) {
        MemorySegment page = store.pageFile.page(r.snapshot.chunks, id);
        visitor.visit(page, id, recorded, low, high, bounded);
        if (NodePage.isLeaf(page)) return;
        int n = count(page);
        for (int i = 0; i < n; i++) {
            long childLow = i > 0 ? NodePage.head(page, i) : low;
            boolean childBounded = i + 1 < n || bounded;
            long childHigh = i + 1 < n ? NodePage.head(page, i + 1) : high;
            walk(store, r, NodePage.child(page, i), NodePage.childCellStart(page, i), childLow, childHigh, childBounded, visitor);
        }
    }

    /**
     * After commits of every kind of load, each branch cell records its child's cell start
     * exactly when the child is a leaf with its cells packed in slot order and the guess works
     * for it: for nearly every leaf of ids loaded in either order, for few leaves of random keys
     * (evenly random, but not evenly spread within one page). A leaf with a record is packed;
     * the writer leaves most leaves of random keys unpacked (packing them would gain nothing).
     */
    @Test
    void branchCellsRecordCellStartsWhereTheGuessWorksAndCellsArePacked() {
        for (int round = 0; round < 4; round++) {
            Load load = round < 3 ? Load.values()[round] : Load.SHUFFLED;
            boolean deletes = round == 3;
            try (Store store = Store.open(dir.resolve("round" + round))) {
                load(store, 20_000, load, deletes, 1);
                assertTrue(store.childCellStarts(), "a new file has read version 3");
                int[] pages = new int[4];
                try (ReadTxn r = store.beginRead()) {
                    long root = r.tree("t").root();
                    walk(store, r, (page, id, recorded, low, high, bounded) -> {
                        pages[NodePage.isLeaf(page) ? 0 : 1]++;
                        byte[] bytes = page.toArray(U8);
                        boolean packed = PageBuffer.isPackedInSlotOrder(bytes);
                        if (NodePage.isLeaf(page) && !packed) pages[3]++;
                        if (id == root) return;
                        int cellStart = page.get(U16, CELL_START_OFFSET) & 0xFFFF;
                        assertTrue(recorded == 0 || recorded == cellStart, load + ": page " + id + " recorded " + recorded);
                        assertTrue(recorded == 0 || packed, load + ": page " + id + " has a record, so its cells are packed in slot order");
                        assertEquals(CellGuess.toRecord(bytes), recorded, load + ": page " + id);
                        if (!NodePage.isLeaf(page)) assertEquals(0, recorded, load + ": branch page " + id);
                        if (recorded != 0) pages[2]++;
                    });
                }
                assertTrue(pages[0] > 100 && pages[1] > 1, load + ": leaves " + pages[0] + ", branches " + pages[1]);
                double recorded = (double) pages[2] / pages[0];
                String what = load + (deletes ? " with deletes" : "") + ": " + pages[2] + " of " + pages[0]
                    + " leaves with a cell start recorded";
                // A tenth of the ids deleted at random spreads the rest unevenly: no share expected.
                if (load == Load.RANDOM_KEYS) {
                    assertTrue(recorded < 0.2, what);
                    assertTrue(pages[3] > pages[0] / 2, load + ": " + pages[3] + " of " + pages[0] + " leaves left unpacked");
                }
                if (!deletes && load != Load.RANDOM_KEYS) assertTrue(recorded > 0.9, what);
                assertTrue(store.verify().ok(), store.verify().problems().toString());
            }
        }
    }

    @Test
    void verifyNamesABranchCellWhoseCellStartIsWrong() throws IOException {
        long branch;
        int pageBytes;
        try (Store store = Store.open(dir)) {
            load(store, 5_000, Load.ASCENDING, false, 2);
            pageBytes = store.pageFile.pageBytes;
            try (ReadTxn r = store.beginRead()) {
                branch = r.tree("t").root();
                assertFalse(NodePage.isLeaf(store.pageFile.page(r.snapshot.chunks, branch)), "the root is a branch");
            }
        }
        // Change the cell start a branch records for its second child, with a checksum to match.
        Path data = dir.resolve(Store.DATA_FILE);
        try (FileChannel c = FileChannel.open(data, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.allocate(pageBytes);
            c.read(buffer, branch * pageBytes);
            byte[] page = buffer.array();
            int recorded = PageBuffer.childCellStart(page, 1);
            PageBuffer.setChildCellStart(page, 1, recorded + 8);
            PageBuffer.seal(page);
            c.write(ByteBuffer.wrap(page), branch * pageBytes);
        }
        try (Store store = Store.open(dir)) {
            VerifyReport report = store.verify();
            assertFalse(report.ok());
            assertTrue(report.problems().stream().anyMatch(p -> p.contains("page " + branch + " slot 1 records cell start")),
                report.problems().toString());
            // A read through that cell still finds its key: the cell start is only a guess's input.
            try (ReadTxn r = store.beginRead()) {
                for (long id = 0; id < 5_000; id += 7) assertNotNull(r.get("t", MemorySegment.ofArray(key(id))), "key " + id);
            }
        }
    }

    /**
     * The guess of Snapshot.locate (CellGuess.touch), with the head ranges a read has from the
     * separators, loads the lines a read needs of a key's cell for nearly every key of ids
     * loaded in key order or shuffled (their cells went in in no order; the commits packed them).
     */
    @Test
    void theGuessFindsTheCellOfNearlyEveryKey() {
        for (Load load : new Load[] {Load.ASCENDING, Load.SHUFFLED}) {
            try (Store store = Store.open(dir.resolve(load.name()))) {
                load(store, 20_000, load, false, 3);
                int pageBytes = store.pageFile.pageBytes;
                long[] found = new long[2];
                try (ReadTxn r = store.beginRead()) {
                    walk(store, r, (page, id, recorded, low, high, bounded) -> {
                        if (!NodePage.isLeaf(page)) return;
                        for (int i = 0; i < count(page); i++) {
                            found[bounded && recorded != 0 && CellGuess.finds(page, i, pageBytes, low, high) ? 0 : 1]++;
                        }
                    });
                }
                assertEquals(20_000, found[0] + found[1]);
                assertTrue(found[0] > 0.9 * 20_000, load + ": the guess found " + found[0] + " of 20,000 cells");
            }
        }
    }
}
