package dev.cairn.sync;

import dev.cairn.CairnException;

/** The server ended the session with an error (sync-protocol.md §6), or the link failed. */
public final class SyncException extends CairnException {
    private static final long serialVersionUID = 1L;

    public SyncException(String message) {
        super(message);
    }

    public SyncException(String message, Throwable cause) {
        super(message, cause);
    }
}
