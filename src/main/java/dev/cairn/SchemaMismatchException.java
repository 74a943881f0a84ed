package dev.cairn;

/**
 * A record class whose schema cannot be evolved from (or to) a stored schema version, or that
 * Cairn cannot store at all (an unsupported component type, a map key that is no scalar, a
 * {@code @DefaultValue} that does not parse), refused when its tree is opened.
 */
public class SchemaMismatchException extends CairnException {
    private static final long serialVersionUID = 1L;

    public SchemaMismatchException(String message) {
        super(message);
    }

    public SchemaMismatchException(String message, Throwable cause) {
        super(message, cause);
    }
}
