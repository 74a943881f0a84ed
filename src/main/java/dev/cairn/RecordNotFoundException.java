package dev.cairn;

/** A key names no stored record of its tree. */
public class RecordNotFoundException extends CairnException {
    private static final long serialVersionUID = 1L;

    public RecordNotFoundException(String message) {
        super(message);
    }

    public RecordNotFoundException(String message, Throwable cause) {
        super(message, cause);
    }
}
