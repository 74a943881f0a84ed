package dev.cairn.store;

import java.lang.foreign.MemorySegment;

/**
 * Receives the entries of a scan ({@link ReadTxn#forEach}, {@link Cursor#forEachRemaining}) in
 * key order. The key and value are read-only and valid as {@link Cursor#key} and
 * {@link Cursor#value} are: in a read transaction until it closes.
 */
@FunctionalInterface
public interface EntryVisitor {
    /** Called once per entry; false stops the scan after this entry. */
    boolean visit(MemorySegment key, MemorySegment value);
}
