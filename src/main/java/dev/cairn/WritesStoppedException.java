package dev.cairn;

/**
 * The database refuses writes until it is closed and reopened: a commit, the checkpoint after
 * one, or the update of the database's state in memory after one failed (out of heap, a disk
 * that failed), so that state is suspect. What was committed is in the files, and a reopen
 * recovers from them. Reads go on. The cause is the failure that stopped writes.
 */
public class WritesStoppedException extends CairnException {
    private static final long serialVersionUID = 1L;

    public WritesStoppedException(String message, Throwable cause) {
        super(message, cause);
    }
}
