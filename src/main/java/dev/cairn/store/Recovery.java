package dev.cairn.store;

import dev.cairn.CorruptionException;

import java.util.ArrayList;
import java.util.List;

import static dev.cairn.store.PageLayout.*;

/**
 * Choosing the meta page at open (storage-format.md §5.4 steps 2-4): the newest meta whose
 * checksum holds (a meta torn by a crash fails it, and the other meta is then the previous
 * checkpoint). A meta is written only by a checkpoint, after a force of every page it reaches,
 * so its pages need no walk here: each page is checked when it is first read. If the file is
 * shorter than that meta's pages, the file is damaged, and falling back to the older meta would
 * silently drop every commit since: refused. Its free list is read by the first writer
 * ({@link #readFreeList}); damage there refuses writes, and never falls back either.
 */
final class Recovery {
    private Recovery() { }

    /** The chosen snapshot; {@code otherMeta} says why the other meta failed its checks (null if it did not). */
    record Result(Snapshot snapshot, long highestTxnId, String otherMeta) { }

    /** A meta page whose checksum, kind and page id hold, and its slot. */
    private record Intact(MetaPage.Meta meta, long slot) { }

    static Result choose(Store store) {
        PageFile file = store.pageFile;
        long fileBytes = file.fileBytes();
        if (fileBytes < FIRST_DATA_PAGE * file.pageBytes) {
            throw new CorruptionException(file.path + ": file of " + fileBytes + " bytes (expected: >= 3 pages)");
        }
        long filePages = fileBytes / file.pageBytes;
        List<Intact> intact = new ArrayList<>();
        List<String> reasons = new ArrayList<>();
        for (long slot = 1; slot <= 2; slot++) {
            String[] why = new String[1];
            // Read, not mapped: mapping a writable file extends it, and a failed open must leave
            // the file as it found it.
            MetaPage.Meta m = MetaPage.read(file.readPage(slot), slot, why);
            if (m == null) {
                reasons.add("meta page " + slot + ": " + why[0]);
            } else {
                intact.add(new Intact(m, slot));
            }
        }
        if (intact.isEmpty()) {
            throw new CorruptionException(file.path + ": no meta page passes its checks: " + String.join("; ", reasons));
        }
        // A plain loop, not a stream: open runs before the JIT has compiled anything, and the
        // stream and its lambda cost ~0.1 ms there (a reopen of a 1M-record file).
        Intact newest = intact.getFirst();
        for (Intact i : intact) if (i.meta().txnId() > newest.meta().txnId()) newest = i;
        long pageCount = newest.meta().pageCount();
        if (pageCount > filePages) {
            // A crash cannot do this (a meta is written after a force that made the file's length
            // durable, and the file never shrinks): the file was cut short. Taking the older meta
            // would silently drop every commit since it.
            throw new CorruptionException(file.path + ": the file was cut short: meta page " + newest.slot() + " (txn "
                + newest.meta().txnId() + ") counts " + pageCount + " pages, the file holds " + filePages
                + "; the older meta is not used, as that would drop every commit since it");
        }
        Snapshot snapshot = new Snapshot(newest.meta(), newest.slot(), file.mapUpTo(pageCount), true);
        return new Result(snapshot, newest.meta().txnId(), reasons.isEmpty() ? null : reasons.getFirst());
    }

    /** Page ids of the free-list chain itself. */
    static long[] freeListPages(Store store, ReadTxn reader) {
        LongList ids = new LongList();
        walkFreeList(store, reader, ids, null);
        return ids.toArray();
    }

    /** The free page ids the free list holds. */
    static long[] readFreeList(Store store, ReadTxn reader) {
        LongList entries = new LongList();
        walkFreeList(store, reader, null, entries);
        MetaPage.Meta m = reader.snapshot.meta;
        if (entries.size() != m.freePageCount()) {
            throw store.corruption(m.freeHead(), "free list holds " + entries.size() + " pages (expected: "
                + m.freePageCount() + ", as the meta says)");
        }
        return entries.toArray();
    }

    private static void walkFreeList(Store store, ReadTxn reader, LongList pages, LongList entries) {
        MetaPage.Meta m = reader.snapshot.meta;
        long pageCount = m.pageCount();
        long id = m.freeHead();
        for (long guard = 0; id != 0; guard++) {
            if (guard >= pageCount || id < FIRST_DATA_PAGE || id >= pageCount) {
                throw store.corruption(id, "free-list page id out of range or chain longer than the file");
            }
            // A heap copy read with plain array reads: this runs at open, before the JIT
            // compiled anything, where segment accessors cost microseconds each.
            byte[] b = reader.file.page(reader.chunks, id).toArray(U8);
            if (!reader.file.isVerified(id)) {
                String problem = PageCheck.freeList(b, id, m.freeHeadTxn());
                if (problem != null) throw store.corruption(id, problem);
                reader.file.markVerified(id);
            }
            if (pages != null) pages.add(id);
            if (entries != null) {
                int n = le16(b, (int) COUNT_OFFSET);
                for (int i = 0; i < n; i++) {
                    long free = le64(b, HEADER_BYTES + 8 * i);
                    if (free < FIRST_DATA_PAGE || free >= pageCount) {
                        throw store.corruption(id, "free-list entry " + i + " is page " + free + " (expected: in [3, " + pageCount + "))");
                    }
                    entries.add(free);
                }
            }
            id = le64(b, (int) NEXT_PAGE_OFFSET);
        }
    }
}
