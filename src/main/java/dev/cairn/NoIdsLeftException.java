package dev.cairn;

/**
 * An insert found no id left in its tree's key pool: a linked node that used up, offline, the ids
 * the server gave it (connect, so that the server gives more), or a database that never linked
 * and gave out every id. Nothing of the insert is stored.
 */
public class NoIdsLeftException extends CairnException {
    private static final long serialVersionUID = 1L;

    public NoIdsLeftException(String message) {
        super(message);
    }
}
