package dev.cairn.store;

import dev.cairn.internal.Limits;

import java.lang.foreign.MemorySegment;

import static dev.cairn.store.PageLayout.*;

/**
 * Checks of page bytes read from the file (tier 1 of STYLE.md §5: the world's fault). Each
 * method returns null when the page passes, else a sentence naming what failed with expected
 * and actual values; callers turn it into a {@code CorruptionException} or a verify problem.
 */
final class PageCheck {
    private PageCheck() { }

    /** Header of any page: checksum over [4, end), page id, birth txn id. */
    static String header(MemorySegment page, long pageId, long birthTxn, long checkedBytes) {
        int stored = page.get(U32, CRC_OFFSET);
        int actual = checksum(page, checkedBytes);
        if (stored != actual) return "checksum " + hex(stored) + " (expected: " + hex(actual) + ")";
        if (pageId(page) != pageId) return "page id field " + pageId(page) + " (expected: " + pageId + ")";
        if (txnId(page) != birthTxn) return "birth txn id " + txnId(page) + " (expected: " + birthTxn + ", as the parent records)";
        return null;
    }

    /** Identity of a node page on every visit (cheap): kind, page id, birth txn id. */
    static String identity(MemorySegment page, long pageId, long birthTxn) {
        byte kind = kind(page);
        if (kind != KIND_LEAF && kind != KIND_BRANCH) return "kind " + kindName(kind) + " (expected: leaf or branch)";
        if (pageId(page) != pageId) return "page id field " + pageId(page) + " (expected: " + pageId + ")";
        if (txnId(page) != birthTxn) return "birth txn id " + txnId(page) + " (expected: " + birthTxn + ", as the parent records)";
        return null;
    }

    /**
     * Full check of a node page: header, then every offset and length it holds, key order.
     * The body is checked on one heap copy with plain array reads: this runs once per page
     * after open, mostly before the JIT has compiled it (open, first reads), where segment
     * accessors cost a microsecond each and array reads a few nanoseconds.
     */
    static String node(MemorySegment page, long pageId, long birthTxn) {
        // Not PageBuffer.copyOf: the writer's key copies have the JIT compile that for heap
        // segments only, and a mapped page there (first reads after a reopen) deoptimizes it.
        byte[] b = page.toArray(U8);
        String problem = checksumProblem(b);
        if (problem == null) problem = identity(page, pageId, birthTxn);
        if (problem != null) return problem;
        int size = b.length;
        boolean leaf = b[(int) KIND_OFFSET] == KIND_LEAF;
        int n = le16(b, (int) COUNT_OFFSET);
        int cellStart = le16(b, (int) CELL_START_OFFSET);
        if (HEADER_BYTES + SLOT_BYTES * n > cellStart || cellStart > size) {
            return "count " + n + " and cell start " + cellStart + " overlap (expected: 32 + " + SLOT_BYTES + "*count <= cellStart <= " + size + ")";
        }
        if (!leaf && n == 0) return "branch with no children (expected: count >= 1)";
        int headerBytes = leaf ? LEAF_CELL_HEADER : BRANCH_CELL_HEADER;
        int prevKey = 0;
        int prevBytes = 0;
        for (int i = 0; i < n; i++) {
            int cell = le16(b, HEADER_BYTES + SLOT_BYTES * i);
            if (cell < cellStart || cell + headerBytes > size) {
                return "slot " + i + " offset " + cell + " (expected: in [" + cellStart + ", " + (size - headerBytes) + "])";
            }
            int k = le16(b, cell);
            if (k > Limits.KEY_BYTES_MAX) return "slot " + i + " key of " + k + " bytes (expected: <= " + Limits.KEY_BYTES_MAX + ")";
            long end = cell + headerBytes + k;
            if (leaf) {
                int v = le32(b, cell + 3);
                if (v < 0 || v > Limits.VALUE_BYTES_MAX) return "slot " + i + " value of " + v + " bytes";
                end += (b[cell + 2] & FLAG_OVERFLOW) != 0 ? OVERFLOW_REF_BYTES : v;
            }
            if (end > size) return "slot " + i + " cell ends at " + end + " (expected: <= " + size + ")";
            if (!leaf && i == 0 && k != 0) return "branch cell 0 key of " + k + " bytes (expected: empty)";
            int key = cell + headerBytes;
            long head = NodePage.head(b, HEADER_BYTES + SLOT_BYTES * i + SLOT_HEAD_OFFSET, 8);
            long expectedHead = NodePage.head(b, key, k);
            if (head != expectedHead) {
                return "slot " + i + " key head " + String.format("0x%016x", head) + " (expected: "
                    + String.format("0x%016x", expectedHead) + ", the first 8 bytes of its key)";
            }
            if (i > 0 && compareBytes(b, prevKey, prevBytes, key, k) >= 0) {
                return "slot " + i + " key not greater than slot " + (i - 1) + " key (expected: ascending)";
            }
            prevKey = key;
            prevBytes = k;
        }
        return null;
    }

    /** The stored checksum of a heap copy of a page against its bytes: null if they match. */
    static String checksumProblem(byte[] page) {
        int stored = le32(page, (int) CRC_OFFSET);
        int actual = PageLayout.checksum(page, page.length);
        return stored == actual ? null : "checksum " + hex(stored) + " (expected: " + hex(actual) + ")";
    }

    /** Unsigned lexicographic order of two byte ranges of one array (short keys: a plain loop). */
    private static int compareBytes(byte[] b, int a, int aBytes, int c, int cBytes) {
        int n = Math.min(aBytes, cBytes);
        for (int i = 0; i < n; i++) {
            int x = b[a + i] & 0xFF;
            int y = b[c + i] & 0xFF;
            if (x != y) return x - y;
        }
        return aBytes - cBytes;
    }

    static int runPages(long valueBytes, int pageBytes) {
        return (int) ((HEADER_BYTES + valueBytes + pageBytes - 1) / pageBytes);
    }

    /** An overflow run: header fields and the checksum over header and value bytes. */
    static String run(MemorySegment run, long pageId, long birthTxn, int pages, int valueBytes) {
        if (kind(run) != KIND_OVERFLOW) return "kind " + kindName(kind(run)) + " (expected: overflow)";
        String problem = header(run, pageId, birthTxn, HEADER_BYTES + (long) valueBytes);
        if (problem != null) return problem;
        int storedPages = run.get(U32, RUN_PAGES_OFFSET);
        int storedBytes = run.get(U32, RUN_VALUE_BYTES_OFFSET);
        if (storedPages != pages || storedBytes != valueBytes) {
            return "run of " + storedPages + " pages, " + storedBytes + " bytes (expected: " + pages + ", " + valueBytes + ")";
        }
        return null;
    }

    /** A free-list page (a heap copy, as it is read at open): header and entry count. */
    static String freeList(byte[] b, long pageId, long birthTxn) {
        byte kind = b[(int) KIND_OFFSET];
        if (kind != KIND_FREE_LIST) return "kind " + kindName(kind) + " (expected: free-list)";
        String problem = checksumProblem(b);
        if (problem != null) return problem;
        long id = le64(b, (int) PAGE_ID_OFFSET);
        if (id != pageId) return "page id field " + id + " (expected: " + pageId + ")";
        long txn = le64(b, (int) TXN_ID_OFFSET);
        if (txn != birthTxn) return "birth txn id " + txn + " (expected: " + birthTxn + ", as the meta records)";
        int n = le16(b, (int) COUNT_OFFSET);
        if (HEADER_BYTES + 8L * n > b.length) return "count " + n + " entries overflow the page";
        return null;
    }
}
