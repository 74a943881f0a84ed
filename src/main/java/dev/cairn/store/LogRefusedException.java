package dev.cairn.store;

import dev.cairn.CorruptionException;

/**
 * Open refused because of the write-ahead log, where the database can still be opened by giving
 * up commits: keep only the log's first {@link #keepBytes()} bytes (0: none of it), as the
 * message says. {@link Store#salvage} does that, keeping a copy of the whole log.
 */
public final class LogRefusedException extends CorruptionException {
    private static final long serialVersionUID = 1L;

    private final long keepBytes;

    LogRefusedException(String message, long keepBytes) {
        super(message);
        if (keepBytes < 0) throw new IllegalArgumentException("keepBytes " + keepBytes + " (expected: >= 0)");
        this.keepBytes = keepBytes;
    }

    /** How many bytes of the log to keep to open anyway; 0: set the whole log aside. */
    public long keepBytes() {
        return keepBytes;
    }
}
