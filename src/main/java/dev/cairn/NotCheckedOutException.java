package dev.cairn;

/** An update or remove of a record that this node has not checked out. */
public class NotCheckedOutException extends CairnException {
    private static final long serialVersionUID = 1L;

    public NotCheckedOutException(String message) {
        super(message);
    }

    public NotCheckedOutException(String message, Throwable cause) {
        super(message, cause);
    }
}
