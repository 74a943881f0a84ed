package dev.cairn.store;

import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * The snapshots that readers may still hold, oldest first (storage-format.md §6).
 *
 * <ul>
 *   <li>A reader pins the current snapshot, then re-reads the current snapshot: if it changed,
 *       it unpins and retries. So either the writer's scan sees the pin, or the reader sees the
 *       newer snapshot (both sides use volatile/atomic operations, which are sequentially
 *       consistent).
 *   <li>Only the writer (under the write slot) and publication change the list.
 * </ul>
 */
final class ReaderTable {
    private final ArrayDeque<Snapshot> published = new ArrayDeque<>();

    synchronized void publish(Snapshot snapshot) {
        published.addLast(snapshot);
    }

    /** Txn id of the oldest snapshot a reader still pins, or of {@code current} if none. */
    synchronized long oldestPinned(Snapshot current) {
        Iterator<Snapshot> it = published.iterator();
        while (it.hasNext()) {
            Snapshot s = it.next();
            if (s.pins.any()) return s.txnId();
            if (s != current) it.remove();
        }
        return current.txnId();
    }
}
