package dev.cairn.store;

/**
 * Page buffers the writer hands from one write transaction to the next, as LMDB keeps the
 * buffers of its committed dirty pages for reuse ({@code me_dpages}). A bulk load dirties a few
 * dozen pages per commit; allocated afresh each time they made a million-record load allocate
 * about 150 MB of garbage, which a young JVM pays for twice: collections, and page faults the
 * first time each part of its heap is touched.
 *
 * <p>Used only by the write transaction holding the store's write slot. A buffer comes back only
 * after its transaction has ended ({@link WriteTxn#releasePages}): by then the commit has copied
 * it into the file, and nothing handed to callers refers to it (reads of a transaction's own
 * pages return copies, {@link ReadTxn#export}). At most {@code capacity} buffers are kept.
 */
final class PagePool {
    private final int pageBytes;
    private final WriteTxn.Dirty[] free;
    private int size;

    PagePool(int pageBytes, int capacity) {
        this.pageBytes = pageBytes;
        this.free = new WriteTxn.Dirty[capacity];
    }

    /** A buffer of one page with unspecified bytes: the caller overwrites or clears all of it. */
    WriteTxn.Dirty take() {
        if (size == 0) return new WriteTxn.Dirty(new byte[pageBytes]);
        WriteTxn.Dirty d = free[--size];
        free[size] = null;
        return d;
    }

    /** Keeps a buffer no transaction can reach any more, if there is room. */
    void give(WriteTxn.Dirty d) {
        if (size < free.length && d.bytes().length == pageBytes) free[size++] = d;
    }
}
