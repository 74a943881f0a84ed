package dev.cairn.index;

import dev.cairn.Key;

/**
 * The records an index's name function failed on while the index applied stored records (a
 * commit of changes from the sync server, or a rebuild): such a record is left out of the index,
 * and one warning per commit or rebuild says so. Refusing is not possible there (the records are
 * stored already, on the server too), and an exception would leave the index behind the tree or
 * unregistered, and stop the node's sync.
 */
final class NameFailures {
    private static final System.Logger LOG = System.getLogger(NameFailures.class.getName());

    private final String index;
    private int count;
    private Key<?> firstKey;
    private RuntimeException first;

    NameFailures(String index) {
        this.index = index;
    }

    void add(Key<?> key, RuntimeException e) {
        if (count++ == 0) {
            firstKey = key;
            first = e;
        }
    }

    int count() {
        return count;
    }

    /** Logs the warning, if any record failed. */
    void report(String when) {
        if (count == 0) return;
        LOG.log(System.Logger.Level.WARNING, "index " + index + ": the name function failed on " + count
            + (count == 1 ? " record" : " records") + " in " + when + " (first: " + firstKey + ": " + first
            + "); left out of the index until a change to them gives names it can read", first);
    }
}
