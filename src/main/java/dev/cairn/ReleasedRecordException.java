package dev.cairn;

/** A change to the data of a released record, which is frozen for ever. */
public class ReleasedRecordException extends CairnException {
    private static final long serialVersionUID = 1L;

    public ReleasedRecordException(String message) {
        super(message);
    }

    public ReleasedRecordException(String message, Throwable cause) {
        super(message, cause);
    }
}
