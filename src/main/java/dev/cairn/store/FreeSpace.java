package dev.cairn.store;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.TreeSet;

/**
 * Free pages and the page count (storage-format.md §6). Used by the writer only.
 *
 * <ul>
 *   <li>{@code reusable}: free pages no live snapshot can reach; the writer may overwrite them.
 *   <li>{@code pending}: pages freed by commit F, reachable from snapshots older than F; they
 *       become reusable once every pinned snapshot has txn id >= F.
 *   <li>Every page id below {@code pageCount} is either reachable from the current snapshot,
 *       or in reusable or pending, exactly once.
 * </ul>
 */
final class FreeSpace {
    private final TreeSet<Long> reusable = new TreeSet<>();
    private final ArrayDeque<Freed> pending = new ArrayDeque<>();
    private long pageCount;

    private record Freed(long txnId, long[] pageIds) { }

    FreeSpace(long pageCount, long[] freePages) {
        this.pageCount = pageCount;
        for (long p : freePages) reusable.add(p);
    }

    long pageCount() {
        return pageCount;
    }

    void pageCount(long count) {
        pageCount = count;
    }

    /** Moves pages freed by commits <= oldestPinnedTxn into the reusable set. */
    void release(long oldestPinnedTxn) {
        while (!pending.isEmpty() && pending.peekFirst().txnId() <= oldestPinnedTxn) {
            for (long p : pending.pollFirst().pageIds()) reusable.add(p);
        }
    }

    void addPending(long txnId, long[] pageIds) {
        if (pageIds.length > 0) pending.addLast(new Freed(txnId, pageIds));
    }

    /** A reusable page, else a new page at the end of the file. */
    long take() {
        Long p = reusable.pollFirst();
        return p != null ? p : pageCount++;
    }

    /** n contiguous pages: a run of reusable pages if one exists, else new pages at the end. */
    long takeRun(int n) {
        if (n == 1) return take();
        long start = -1;
        long length = 0;
        for (long p : reusable) {
            if (length > 0 && p == start + length) {
                length++;
            } else {
                start = p;
                length = 1;
            }
            if (length == n) {
                for (long q = start; q < start + n; q++) reusable.remove(q);
                return start;
            }
        }
        long first = pageCount;
        pageCount += n;
        return first;
    }

    void giveBack(long pageId) {
        reusable.add(pageId);
    }

    void forget(long pageId) {
        reusable.remove(pageId);
    }

    int size() {
        int n = reusable.size();
        for (Freed f : pending) n += f.pageIds().length;
        return n;
    }

    /** Every free page (reusable and pending), sorted. */
    long[] all() {
        long[] all = new long[size()];
        int i = 0;
        for (long p : reusable) all[i++] = p;
        for (Iterator<Freed> it = pending.iterator(); it.hasNext(); ) {
            for (long p : it.next().pageIds()) all[i++] = p;
        }
        java.util.Arrays.sort(all);
        return all;
    }
}
