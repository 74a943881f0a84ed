package dev.cairn.db;

import dev.cairn.Key;
import dev.cairn.SchemaMismatchException;

/**
 * The stored records an index's record class could not read while the index applied them (a
 * commit of changes from the sync server, or a rebuild at {@code Tree.register}): a value a newer
 * class widened past what this class holds (an {@code int} reading 5,000,000,000), an enum
 * constant it lacks without a fallback. Such a record is left out of the index, as one whose name
 * function throws is (database-layout.md §7), and one warning per commit or rebuild says so:
 * refusing is not possible there (the records are stored already, on the server too), and an
 * exception would stop the node's sync for good or leave the index unregistered.
 */
final class UnreadableRecords {
    private static final System.Logger LOG = System.getLogger(UnreadableRecords.class.getName());

    private final String tree;
    private final Object index;
    private int count;
    private Key<?> firstKey;
    private SchemaMismatchException first;

    /** {@code index}: the indexer, named in the warning by its {@code toString}. */
    UnreadableRecords(String tree, Object index) {
        this.tree = tree;
        this.index = index;
    }

    void add(Key<?> key, SchemaMismatchException e) {
        if (count++ == 0) {
            firstKey = key;
            first = e;
        }
    }

    void clear() {
        count = 0;
        firstKey = null;
        first = null;
    }

    /**
     * Logs the warning, if any record was unreadable, and forgets them. The reason's message says
     * it all (record, component, value); its stack trace, the same on every commit from the
     * server, goes to DEBUG only.
     */
    void report(String when) {
        if (count == 0) return;
        String message = "index " + index + " on tree " + tree + ": " + count
            + (count == 1 ? " record" : " records") + " its record class cannot read left out of the index in " + when
            + " (first: " + firstKey + ": " + first.getMessage() + "); reading such a record is refused as well, and a"
            + " change that makes it readable puts it in the index again";
        LOG.log(System.Logger.Level.WARNING, message);
        LOG.log(System.Logger.Level.DEBUG, "where the first unreadable record of index " + index + " was read", first);
        clear();
    }
}
