package dev.cairn;

/** Stored bytes that fail a check: the message names the file, page and what failed. */
public class CorruptionException extends CairnException {
    private static final long serialVersionUID = 1L;

    public CorruptionException(String message) {
        super(message);
    }

    public CorruptionException(String message, Throwable cause) {
        super(message, cause);
    }
}
