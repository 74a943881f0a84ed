package dev.cairn;

/**
 * Base of every error Cairn reports. Unchecked; the message says what went wrong and where
 * (file, page, tree, key, component), and the cause is kept when there is one.
 *
 * <p>The subclasses are leaf types with no dependencies, so every layer (store, schema, sync)
 * throws them directly and applications catch one hierarchy.
 */
public class CairnException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CairnException(String message) {
        super(message);
    }

    public CairnException(String message, Throwable cause) {
        super(message, cause);
    }
}
