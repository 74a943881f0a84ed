package dev.cairn;

/** A sync server whose id differs from the one this database first linked to. */
public class WrongServerException extends CairnException {
    private static final long serialVersionUID = 1L;

    public WrongServerException(String message) {
        super(message);
    }

    public WrongServerException(String message, Throwable cause) {
        super(message, cause);
    }
}
