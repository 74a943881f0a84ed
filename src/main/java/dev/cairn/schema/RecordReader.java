package dev.cairn.schema;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Reads a record body written by one schema version into one Java record class: a single
 * method handle that reads every component the reader has (fixed values straight from the fixed
 * part, the others through their slots, missing ones as defaults) and calls the canonical
 * constructor. Built once per (writer version, reader class) by {@link ReaderBuilder}.
 *
 * <ul>
 *   <li>{@link #construct} has type {@code (MemorySegment, long, long, int) Object}; it
 *       does not check the depth or the fixed part, {@link #read} does.
 *   <li>Set exactly once, before the reader is used by anyone but its builder (recursive types
 *       refer to a reader while it is being built).
 * </ul>
 */
final class RecordReader implements ValueReader {
    final String path;
    final int fixedBytes;
    MethodHandle construct;
    /** {@link #construct} compiled into a hidden class (see {@link Generated}). */
    ValueReader compiled;

    RecordReader(String path, int fixedBytes) {
        this.path = path;
        this.fixedBytes = fixedBytes;
    }

    @Override
    public Object read(MemorySegment seg, long s, long e, int depth) {
        Bin.checkDepth(depth, path);
        Bin.checkFixed(s, e, fixedBytes, path);
        return compiled.read(seg, s, e, depth);
    }
}
