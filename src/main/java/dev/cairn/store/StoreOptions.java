package dev.cairn.store;

import dev.cairn.internal.Limits;

/**
 * How a store is opened.
 *
 * @param durable         true (the default): {@code commit} returns once the commit is on disk.
 *                        False: commits skip the force; a process crash loses nothing, but an OS
 *                        crash or power loss may lose the commits since the last forced one.
 *                        Never the default.
 * @param pageBytes       page size of a new file (a power of two in [4096, 32768]); an existing
 *                        file keeps the page size in its header.
 * @param checkpointBytes the write-ahead log is checkpointed into the data file once it holds this
 *                        many bytes of frames (default 4 MiB; storage-format.md §5). Pages freed
 *                        since the last checkpoint are reused only after the next one, so the data
 *                        file may hold about this much more free space.
 */
public record StoreOptions(boolean durable, int pageBytes, long checkpointBytes) {
    /** Default log size that triggers a checkpoint. */
    public static final long CHECKPOINT_BYTES = 4L << 20;

    public StoreOptions {
        if (pageBytes < 4096 || pageBytes > 32768 || Integer.bitCount(pageBytes) != 1) {
            throw new IllegalArgumentException("pageBytes " + pageBytes + " (expected: power of two in [4096, 32768])");
        }
        if (checkpointBytes < 0) throw new IllegalArgumentException("checkpointBytes " + checkpointBytes + " (expected: >= 0)");
    }

    public StoreOptions(boolean durable, int pageBytes) {
        this(durable, pageBytes, CHECKPOINT_BYTES);
    }

    public static StoreOptions defaults() {
        return new StoreOptions(true, Limits.PAGE_BYTES, CHECKPOINT_BYTES);
    }

    public StoreOptions withDurable(boolean value) {
        return new StoreOptions(value, pageBytes, checkpointBytes);
    }

    /** The same options with another checkpoint size; 0 checkpoints after every commit. */
    public StoreOptions withCheckpointBytes(long value) {
        return new StoreOptions(durable, pageBytes, value);
    }
}
