package dev.cairn;

/** A key of one tree passed to another tree. */
public class WrongTreeException extends CairnException {
    private static final long serialVersionUID = 1L;

    public WrongTreeException(String message) {
        super(message);
    }

    public WrongTreeException(String message, Throwable cause) {
        super(message, cause);
    }
}
