package dev.cairn.sync;

import dev.cairn.CairnException;

/** A frame or message broke sync-protocol.md: truncated, oversized, unknown tag, bad field. */
public final class ProtocolException extends CairnException {
    private static final long serialVersionUID = 1L;

    public ProtocolException(String message) {
        super(message);
    }

    public ProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
