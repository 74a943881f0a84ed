package dev.cairn.store;

import java.lang.foreign.MemorySegment;

import static dev.cairn.store.PageLayout.U64;

/**
 * Catalog entries (storage-format.md §4.3): the catalog is a B+tree like any other, keyed by
 * tree name (UTF-8); each value is 32 bytes: root page id, root birth txn id, key count, 0.
 */
final class Catalog {
    static final int ENTRY_BYTES = 32;

    private Catalog() { }

    static byte[] encode(long root, long rootTxn, long count) {
        byte[] entry = new byte[ENTRY_BYTES];
        MemorySegment s = MemorySegment.ofArray(entry);
        s.set(U64, 0, root);
        s.set(U64, 8, rootTxn);
        s.set(U64, 16, count);
        return entry;
    }

    static Snapshot.TreeRef decode(MemorySegment entry) {
        return new Snapshot.TreeRef(entry.get(U64, 0), entry.get(U64, 8), entry.get(U64, 16));
    }
}
