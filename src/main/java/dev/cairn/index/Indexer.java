package dev.cairn.index;

import dev.cairn.Key;
import java.util.List;
import java.util.SequencedMap;

/**
 * A secondary index the application keeps over one tree, registered with
 * {@code Tree.register(indexer)}. The tree calls it, always under its single write lock:
 * <ol>
 *   <li>{@link #rebuild} once at registration, with every record of the tree;
 *   <li>{@link #check} for each local change before anything is stored (but a new revision,
 *       a copy of a stored record, and a change of a record's state alone, are only noted for
 *       {@code commit}: they hold no value the index has not accepted); throwing refuses the
 *       change: it is not stored, and unless the application catches the exception inside its
 *       {@code Cairn.write} batch, nothing of the transaction is stored and the tree calls
 *       {@link #abort}. Caught inside a batch, a refusal by the first indexer the change reached
 *       leaves the batch going on; a refusal by a later one (after an earlier indexer noted the
 *       change) breaks the batch, which then stores nothing (see {@code Cairn.write}).
 *       Changes from the sync server are not checked: the server stored them already, and a
 *       node cannot refuse them (two nodes apart may have made records that break an index's
 *       rule together); {@code commit} must accept them (one that throws is logged, and the
 *       index misses those changes until it is registered again);
 *   <li>{@link #commit} with the changes of a transaction after it is durable, in order, or
 *       {@link #abort} if it was rolled back.
 * </ol>
 * The tree gives an indexer only records its record class can read: a stored record it cannot
 * (a number a newer class widened past what this one holds, from the server) is left out with a
 * logged warning, offered as a removal when it becomes unreadable and as a new record when a
 * change makes it readable again (database-layout.md §7).
 * Readers of the index must see either the state before a commit or after it, never a part:
 * apply {@code commit} under the index's own lock, as the built-ins do. The index commit
 * follows the store commit (still under the tree's write lock), so a reader that looks at both
 * may, for that moment, find the index one commit behind the store; it never shows a change
 * that was not stored.
 *
 * @param <V> the record type of the tree
 */
public interface Indexer<V extends Record> {
    /**
     * One change: {@code oldValue} is null for a new record, {@code newValue} null for a removal;
     * a change of the record's state alone (release, state number) has equal old and new values.
     */
    record Change<V>(Key<V> key, V oldValue, V newValue) {
        public Change {
            if (key == null) throw new NullPointerException("key");
            if (oldValue == null && newValue == null) {
                throw new IllegalArgumentException("change of " + key + " has neither old nor new value");
            }
        }
    }

    /**
     * Called before {@code change} is stored; sees the changes of the same transaction checked
     * before it. Throws (a {@code CairnException}) to refuse the change.
     */
    default void check(Change<V> change) { }

    /** Makes the changes of a committed transaction visible, atomically for readers of the index. */
    void commit(List<Change<V>> changes);

    /** Forgets what {@link #check} noted for a transaction that was not stored. */
    default void abort() { }

    /**
     * Replaces the whole content by these records, in key order. It may refuse like {@link #check},
     * but records that came from the sync server may break the index's rule (see above), and a
     * refusal leaves the index unregistered.
     */
    void rebuild(SequencedMap<Key<V>, V> records);
}
