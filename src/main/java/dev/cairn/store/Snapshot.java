package dev.cairn.store;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One committed state of the database, shared by every reader that began while it was the
 * newest (storage-format.md §6).
 *
 * <ul>
 *   <li>Immutable after publication, except the pin count and the tree cache.
 *   <li>A page reachable from this snapshot is never rewritten while a reader pins it.
 * </ul>
 */
final class Snapshot {
    final MetaPage.Meta meta;
    /** Page id of the meta slot this snapshot was read from or written to (1 or 2). */
    final long metaSlot;
    final MemorySegment[] chunks;
    /**
     * True if the meta's free list (§4.4) holds exactly this snapshot's free pages: a checkpoint,
     * a direct commit, or a meta read at open. A logged commit writes no free list; its meta
     * names the last checkpoint's list, which the writer frees at the next one (§5.1).
     */
    final boolean freeListCurrent;
    final PinCount pins = new PinCount();
    /** Catalog entries looked up so far; all readers of the snapshot share them. */
    final ConcurrentHashMap<String, TreeRef> trees = new ConcurrentHashMap<>();

    Snapshot(MetaPage.Meta meta, long metaSlot, MemorySegment[] chunks, boolean freeListCurrent) {
        this.meta = meta;
        this.metaSlot = metaSlot;
        this.chunks = chunks;
        this.freeListCurrent = freeListCurrent;
    }

    long txnId() {
        return meta.txnId();
    }

    /** A tree's root, the birth txn id of the root page, and its record count. */
    record TreeRef(long root, long rootTxn, long count) { }
}
