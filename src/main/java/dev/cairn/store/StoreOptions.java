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
 * @param checkpointBytes a checkpoint makes the data file hold the last commit once the
 *                        write-ahead log holds this many bytes of frames, or the pages freed
 *                        since the last checkpoint (reused only after the next one) come to this
 *                        many bytes (default 4 MiB; storage-format.md §5); so the data file holds
 *                        at most about this much extra free space. Also bounds the operations a
 *                        commit logs (at most 1 MiB): a larger transaction commits directly into
 *                        the data file. 0: every commit is direct.
 */
public record StoreOptions(boolean durable, int pageBytes, long checkpointBytes) {
    /** Default log size (and space held) that triggers a checkpoint. */
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

    /** The same options with another checkpoint size; 0 makes every commit direct (a checkpoint). */
    public StoreOptions withCheckpointBytes(long value) {
        return new StoreOptions(durable, pageBytes, value);
    }
}
