package dev.cairn;

/** A record class whose schema cannot be evolved from (or to) a stored schema version. */
public class SchemaMismatchException extends CairnException {
    private static final long serialVersionUID = 1L;

    public SchemaMismatchException(String message) {
        super(message);
    }

    public SchemaMismatchException(String message, Throwable cause) {
        super(message, cause);
    }
}
