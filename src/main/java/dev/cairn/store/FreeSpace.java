package dev.cairn.store;

import dev.cairn.CairnException;
import dev.cairn.internal.Check;

import java.util.ArrayDeque;
import java.util.BitSet;

/**
 * Free pages and the page count (storage-format.md §6). Used by the writer only.
 *
 * <ul>
 *   <li>{@code reusable}: free pages no live snapshot can reach and the data file's own meta
 *       (the last checkpoint) cannot reach; the writer may overwrite them.
 *   <li>{@code pending}: pages freed by commit F, reachable from snapshots older than F; they
 *       become reusable once every pinned snapshot has txn id >= F, and, if they were born at or
 *       before the last checkpoint (so its meta may reach them), once a checkpoint >= F is taken.
 *   <li>Every page id below {@code pageCount} is either reachable from the current snapshot,
 *       or in reusable or pending, exactly once.
 * </ul>
 */
final class FreeSpace {
    /** Reusable page ids as set bits (page ids are below 2^31: 8 TiB at 4 KiB pages). */
    private final BitSet reusable = new BitSet();
    private int reusableCount;
    /** No reusable page id is below this (so take() need not scan the bitmap from 0). */
    private int lowHint;
    /** Freed pages born after the checkpoint of their time: they wait for readers only. */
    private final ArrayDeque<Freed> pending = new ArrayDeque<>();
    /** Freed pages born at or before that checkpoint: they wait for readers and the next checkpoint. */
    private final ArrayDeque<Freed> pendingCheckpoint = new ArrayDeque<>();
    private long pageCount;

    private record Freed(long txnId, long[] pageIds) { }

    FreeSpace(long pageCount, long[] freePages) {
        this.pageCount = pageCount;
        for (long p : freePages) giveBack(p);
    }

    long pageCount() {
        return pageCount;
    }

    void pageCount(long count) {
        pageCount = count;
    }

    /**
     * Makes reusable the pages freed by commits <= oldestPinnedTxn, except those the data file's
     * meta may still reach: born at or before the checkpoint and freed after checkpointTxn.
     */
    void release(long oldestPinnedTxn, long checkpointTxn) {
        release(pending, oldestPinnedTxn);
        release(pendingCheckpoint, Math.min(oldestPinnedTxn, checkpointTxn));
    }

    private void release(ArrayDeque<Freed> queue, long upToTxn) {
        while (!queue.isEmpty() && queue.peekFirst().txnId() <= upToTxn) {
            for (long p : queue.pollFirst().pageIds()) giveBack(p);
        }
    }

    /** Pages freed by commit txnId: born at or before the checkpoint ({@code old}), and after it. */
    void addPending(long txnId, long[] old, long[] fresh) {
        if (fresh.length > 0) pending.addLast(new Freed(txnId, fresh));
        if (old.length > 0) pendingCheckpoint.addLast(new Freed(txnId, old));
    }

    /** A reusable page, else a new page at the end of the file. */
    long take() {
        int p = reusable.nextSetBit(lowHint);
        if (p < 0) {
            lowHint = 0;
            if (pageCount >= PageLayout.PAGE_ID_LIMIT) {
                throw new CairnException("the data file has " + pageCount + " pages, the most page ids can number");
            }
            return pageCount++;
        }
        reusable.clear(p);
        reusableCount--;
        lowHint = p + 1;
        return p;
    }

    /** n contiguous pages: a run of reusable pages if one exists, else new pages at the end. */
    long takeRun(int n) {
        if (n == 1) return take();
        int end;
        for (int p = reusable.nextSetBit(lowHint); p >= 0; p = reusable.nextSetBit(end)) {
            end = reusable.nextClearBit(p);
            if (end - p >= n) {
                reusable.clear(p, p + n);
                reusableCount -= n;
                return p;
            }
        }
        long first = pageCount;
        pageCount += n;
        return first;
    }

    void giveBack(long pageId) {
        Check.that(pageId >= 0 && pageId < Integer.MAX_VALUE, "free page id %d out of range", pageId);
        if (!reusable.get((int) pageId)) {
            reusable.set((int) pageId);
            reusableCount++;
            lowHint = Math.min(lowHint, (int) pageId);
        }
    }

    void forget(long pageId) {
        if (pageId < Integer.MAX_VALUE && reusable.get((int) pageId)) {
            reusable.clear((int) pageId);
            reusableCount--;
        }
    }

    int size() {
        int n = reusableCount;
        for (Freed f : pending) n += f.pageIds().length;
        for (Freed f : pendingCheckpoint) n += f.pageIds().length;
        return n;
    }

    /** Every free page (reusable and pending), sorted. */
    long[] all() {
        long[] all = new long[size()];
        int i = 0;
        for (int p = reusable.nextSetBit(0); p >= 0; p = reusable.nextSetBit(p + 1)) all[i++] = p;
        for (Freed f : pending) for (long p : f.pageIds()) all[i++] = p;
        for (Freed f : pendingCheckpoint) for (long p : f.pageIds()) all[i++] = p;
        java.util.Arrays.sort(all);
        return all;
    }
}
