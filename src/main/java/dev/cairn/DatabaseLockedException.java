package dev.cairn;

/** A database folder already opened by another process (or another handle). */
public class DatabaseLockedException extends CairnException {
    private static final long serialVersionUID = 1L;

    public DatabaseLockedException(String message) {
        super(message);
    }

    public DatabaseLockedException(String message, Throwable cause) {
        super(message, cause);
    }
}
