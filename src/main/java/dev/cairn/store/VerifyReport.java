package dev.cairn.store;

import java.util.List;

/**
 * What {@link Store#verify()} found.
 *
 * @param problems      readable sentences, each naming the page and what failed; empty when intact
 * @param txnId         the snapshot that was checked
 * @param pageCount     pages in the file (including header and meta pages)
 * @param freePageCount pages on the free list
 * @param treeCount     trees in the catalog
 */
public record VerifyReport(List<String> problems, long txnId, long pageCount, long freePageCount, long treeCount) {
    public VerifyReport {
        problems = List.copyOf(problems);
    }

    public boolean ok() {
        return problems.isEmpty();
    }
}
