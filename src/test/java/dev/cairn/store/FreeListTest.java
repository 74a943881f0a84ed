package dev.cairn.store;

import dev.cairn.CorruptionException;
import dev.cairn.internal.Limits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The free list a checkpoint writes (storage-format.md §4.4), as the first writer after open reads it back. */
class FreeListTest {
    @TempDir
    Path dir;

    /** Loads keys, then rewrites every one: the old pages are free at the checkpoint of close. */
    private void churn() {
        try (Store store = Store.open(dir)) {
            for (int round = 0; round < 2; round++) {
                try (WriteTxn w = store.beginWrite()) {
                    if (round == 0) w.createTree("t");
                    for (int i = 0; i < 40_000; i++) {
                        byte[] key = ByteBuffer.allocate(8).putLong((long) i << 20).array();
                        w.put("t", key, new byte[40 + round]);
                    }
                    w.commit();
                }
            }
        }
    }

    private static long[] readFreeList(Store store) {
        return Recovery.readFreeList(store, new ReadTxn(store, store.currentSnapshot()));
    }

    @Test
    void openReadsBackEveryFreePageOfAChainOfSeveralPages() {
        churn();
        try (Store store = Store.open(dir)) {
            MetaPage.Meta meta = store.currentSnapshot().meta;
            long[] free = readFreeList(store);
            int perPage = (store.pageFile.pageBytes - PageLayout.HEADER_BYTES) / 8;
            assertTrue(free.length > perPage, free.length + " free pages: the list spans more than one page");
            assertEquals(meta.freePageCount(), free.length);
            assertEquals(free.length, Arrays.stream(free).distinct().count(), "no page twice");
            assertTrue(Arrays.stream(free).allMatch(p -> p >= PageLayout.FIRST_DATA_PAGE && p < meta.pageCount()));
            VerifyReport report = store.verify();
            assertTrue(report.ok(), report.problems().toString());
            assertEquals(free.length, report.freePageCount(), "verify counts the same free pages");
        }
    }

    /** The newest checkpoint's free-list head and page count, read without writing. */
    private long[] headAndPageCount() {
        try (Store store = Store.open(dir)) {
            long head = store.currentSnapshot().meta.freeHead();
            assertNotEquals(0, head, "the churn left a free list");
            return new long[] {head, store.currentSnapshot().meta.pageCount()};
        }
    }

    /** Makes entry 3 of the free-list page name a page past the file's end; the checksum is made to match. */
    private void damageEntry3(long head, long pageCount) throws IOException {
        int pageBytes = Limits.PAGE_BYTES;
        try (FileChannel c = FileChannel.open(dir.resolve(Store.DATA_FILE), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.allocate(pageBytes);
            c.read(buffer, head * pageBytes);
            byte[] page = buffer.array();
            ByteBuffer.wrap(page).order(ByteOrder.LITTLE_ENDIAN).putLong(PageLayout.HEADER_BYTES + 3 * 8, pageCount + 5);
            PageBuffer.seal(page);
            c.write(ByteBuffer.wrap(page), head * pageBytes);
        }
    }

    @Test
    void aFreeListEntryOutsideTheFileIsCorruptionNamingItsPage() throws IOException {
        churn();
        long[] hp = headAndPageCount();
        long head = hp[0];
        long pageCount = hp[1];
        damageEntry3(head, pageCount);
        // Readers never need the free list: the database opens and reads as before.
        try (Store store = Store.open(dir)) {
            try (ReadTxn r = store.beginRead()) {
                assertEquals(40_000, r.count("t"));
                for (int i = 0; i < 40_000; i += 997) {
                    MemorySegment v = r.get("t", ByteBuffer.allocate(8).putLong((long) i << 20).array());
                    assertNotNull(v, "key " + i);
                    assertEquals(41, v.byteSize(), "key " + i);
                }
            }
            VerifyReport report = store.verify();
            assertFalse(report.ok(), "verify reports the damaged free list");
            assertTrue(report.problems().toString().contains("free page " + (pageCount + 5) + " out of range"), report.problems().toString());
            // The first writer reads it, and is refused naming the entry and the page; so is the next.
            CorruptionException e = assertThrows(CorruptionException.class, store::beginWrite);
            assertTrue(e.getMessage().contains("free-list entry 3 is page " + (pageCount + 5)), e.getMessage());
            assertTrue(e.getMessage().contains("page " + head + ":"), "names the page: " + e.getMessage());
            assertTrue(e.getMessage().contains("nothing can be written"), e.getMessage());
            assertThrows(CorruptionException.class, store::beginWrite);
            try (ReadTxn r = store.beginRead()) {
                assertEquals(40_000, r.count("t"), "still readable after the refusal");
            }
        }
    }

    public record Item(String name, int n) { }

    /**
     * Through the API too (probe 124: Cairn.open wrote at every open, so the free list's damage
     * refused the open, and export with it): the database opens without a write, reads, exports,
     * and refuses the first write, naming the page.
     */
    @Test
    void aDatabaseWithADamagedFreeListOpensReadsAndExportsThroughTheApi() throws IOException {
        try (dev.cairn.Cairn c = dev.cairn.Cairn.open(dir)) {
            dev.cairn.Tree<Item> t = c.tree(Item.class);
            List<Item> items = new java.util.ArrayList<>();
            for (int i = 0; i < 20_000; i++) items.add(new Item("item-" + i, i));
            List<dev.cairn.Key<Item>> keys = t.insertAll(items);
            for (int i = 0; i < keys.size(); i += 2) {
                t.checkOut(keys.get(i)).join(); // at once: a database that never linked holds every record
                t.remove(keys.get(i));
            }
        }
        long[] hp = headAndPageCount();
        damageEntry3(hp[0], hp[1]);
        try (dev.cairn.Cairn c = dev.cairn.Cairn.open(dir)) {
            dev.cairn.Tree<Item> t = c.tree(Item.class);
            assertEquals(10_000, t.size());
            List<dev.cairn.Key<Item>> keys = t.keys();
            for (int i = 0; i < keys.size(); i += 999) assertEquals(new Item("item-" + (2 * i + 1), 2 * i + 1), t.get(keys.get(i)));
            CorruptionException e = assertThrows(CorruptionException.class, () -> t.insert(new Item("new", 1)));
            assertTrue(e.getMessage().contains("nothing can be written") && e.getMessage().contains("page " + hp[0] + ":"),
                e.getMessage());
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        int code = dev.cairn.tools.Main.run(new String[] {"export", dir.toString(), "Item"}, new java.io.PrintStream(out, true),
            new java.io.PrintStream(err, true));
        assertEquals(0, code, err.toString());
        assertEquals(10_001, out.toString().lines().count(), "every record and the end line");
        // verify checks the records too, and says what makes a whole copy
        out.reset();
        code = dev.cairn.tools.Main.run(new String[] {"verify", dir.toString()}, new java.io.PrintStream(out, true),
            new java.io.PrintStream(err, true));
        assertEquals(1, code, out.toString());
        assertTrue(out.toString().contains(", 10000 records checked\nEvery tree and record checks out: only the free list"
            + " is damaged, so the database reads but refuses writes. cairn compact " + dir + " NEW writes a copy"), out.toString());
        Path copy = dir.resolveSibling(dir.getFileName() + "-compacted");
        code = dev.cairn.tools.Main.run(new String[] {"compact", dir.toString(), copy.toString()}, new java.io.PrintStream(out, true),
            new java.io.PrintStream(err, true));
        assertEquals(0, code, out + " " + err);
        try (dev.cairn.Cairn c = dev.cairn.Cairn.open(copy)) {
            dev.cairn.Tree<Item> t = c.tree(Item.class);
            assertEquals(10_000, t.size());
            t.insert(new Item("new", 1)); // the copy takes writes
            assertEquals(10_001, t.size());
        } finally {
            try (var files = java.nio.file.Files.list(copy)) {
                for (Path f : files.toList()) java.nio.file.Files.delete(f);
            }
            java.nio.file.Files.delete(copy);
        }
    }

    @Test
    void openRefusesADamagedFreeListWhenTheLogHasCommitsToReplay() throws IOException {
        churn();
        long[] hp = headAndPageCount();
        // A logged commit, then a crash after it returned: the log holds it, the data file does not.
        CrashingFiles files = new CrashingFiles();
        try (Store store = Store.open(dir, StoreOptions.defaults(), files::pageFile, files::walFile)) {
            try (WriteTxn w = store.beginWrite()) {
                w.put("t", new byte[] {1}, new byte[] {2});
                w.commit();
            }
            files.crashNow();
        }
        damageEntry3(hp[0], hp[1]);
        CorruptionException e = assertThrows(CorruptionException.class, () -> Store.open(dir).close());
        assertTrue(e.getMessage().contains("free-list entry 3 is page " + (hp[1] + 5)), e.getMessage());
        assertTrue(e.getMessage().contains("page " + hp[0] + ":"), "names the page: " + e.getMessage());
    }

    @Test
    void verifyOfAnUnreadableFreeListNamesTheDamageAndCountsTheLeakInOneLine() throws IOException {
        churn();
        long[] hp = headAndPageCount();
        int pageBytes = Limits.PAGE_BYTES;
        try (FileChannel c = FileChannel.open(dir.resolve(Store.DATA_FILE), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            long at = hp[0] * pageBytes + PageLayout.HEADER_BYTES + 5;
            c.read(one, at);
            one.put(0, (byte) (one.get(0) ^ 0x40)).rewind();
            c.write(one, at); // the checksum no longer matches
        }
        try (Store store = Store.open(dir)) {
            VerifyReport report = store.verify();
            List<String> problems = report.problems();
            assertFalse(report.ok());
            assertTrue(problems.getFirst().startsWith("free list: page " + hp[0] + ": checksum"), problems.toString());
            assertEquals(1 + Verifier.LEAKS_LISTED + 1, problems.size(), "the damage, 20 leaked pages, one count: " + problems);
            String last = problems.getLast();
            assertTrue(last.matches("\\d+ more pages are neither reachable nor free \\(\\d+ leaked in all; the free list could not be read whole.*"), last);
            long inAll = Long.parseLong(last.replaceAll(".*\\((\\d+) leaked in all.*", "$1"));
            // Every free page, and every free-list page after the damaged head, is unaccounted for.
            long free = store.currentSnapshot().meta.freePageCount();
            long perPage = (pageBytes - PageLayout.HEADER_BYTES) / 8;
            assertTrue(free > perPage, "the list spans more than one page");
            assertEquals(free + (free + perPage - 1) / perPage - 1, inAll, last);
        }
    }
}
