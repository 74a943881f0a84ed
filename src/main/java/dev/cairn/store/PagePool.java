package dev.cairn.store;

import java.lang.foreign.MemorySegment;

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
 * pages return copies, {@link ReadTxn#export}). At most {@code capacity} buffers are kept. It
 * also keeps the arrays the writer copies keys into ({@link #keyArray}) and inline values
 * ({@link #valueCopy}).
 */
final class PagePool {
    private final int pageBytes;
    private final WriteTxn.Dirty[] free;
    private int size;
    private final byte[][] keyArrays = new byte[65][];

    PagePool(int pageBytes, int capacity) {
        this.pageBytes = pageBytes;
        this.free = new WriteTxn.Dirty[capacity];
    }

    /** A page's worth of bytes for a put's copy of an inline value; null until the first. */
    private MemorySegment valueScratch;

    /**
     * A copy of {@code value} (shorter than a page) in one scratch page, valid until the next
     * call: the bytes a put writes into its leaf and into the log alike.
     */
    MemorySegment valueCopy(MemorySegment value) {
        long n = value.byteSize();
        if (valueScratch == null) valueScratch = MemorySegment.ofArray(new byte[pageBytes]);
        MemorySegment.copy(value, 0, valueScratch, 0, n);
        return valueScratch.asSlice(0, n);
    }

    /**
     * An array of {@code n} bytes for a put's copy of its key, the same one for every short key
     * of that length: a bulk load put an 8-byte key copy on the heap per record, whose first pass
     * over a young JVM's heap costs a page fault per 4 KiB as well as collections.
     */
    byte[] keyArray(int n) {
        if (n >= keyArrays.length) return new byte[n];
        byte[] b = keyArrays[n];
        if (b == null) keyArrays[n] = b = new byte[n];
        return b;
    }

    /** A buffer of one page with unspecified bytes: the caller overwrites or clears all of it. */
    WriteTxn.Dirty take() {
        if (size == 0) return new WriteTxn.Dirty(new byte[pageBytes]);
        WriteTxn.Dirty d = free[--size];
        free[size] = null;
        d.pooled = false;
        return d;
    }

    /**
     * Keeps a buffer no transaction can reach any more, if there is room; one given twice is
     * kept once (handed out twice, it would be two pages at once: a transaction's end that ran
     * out of memory part-way gave some buffers back again at its retry, probe 94).
     */
    void give(WriteTxn.Dirty d) {
        if (d.pooled || size == free.length || d.bytes().length != pageBytes) return;
        d.pooled = true;
        free[size++] = d;
    }
}
