package dev.cairn;

/**
 * An export or import refused before anything was written: its target holds data already and
 * appending was not asked for, or the rows to import hold two revisions of one record id (import
 * gives every row an id of its own, so they would become separate records with one name), or an
 * export to SQL meets a value SQL cannot hold (a char that is an unpaired surrogate).
 */
public class TransferRefusedException extends CairnException {
    private static final long serialVersionUID = 1L;

    public TransferRefusedException(String message) {
        super(message);
    }
}
