package dev.cairn.schema;

import java.lang.foreign.MemorySegment;

/**
 * Reads one item written by some schema version into the reader's Java value (record-format.md
 * §4). Built once per (writer version, reader class) by {@link ReaderBuilder}; implementations
 * are records so that the JIT can treat their fields as constants.
 */
interface ValueReader {
    /** Reads the item occupying exactly {@code [s, e)} of {@code seg}, at nesting {@code depth}. */
    Object read(MemorySegment seg, long s, long e, int depth);
}
