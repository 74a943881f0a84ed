package dev.cairn.db;

import dev.cairn.index.Indexer;
import dev.cairn.schema.RecordCodec;
import dev.cairn.schema.SchemaVersions;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * What the database knows of one user tree, shared by its typed and generic views: the name,
 * the versioning flag, the stored schema versions, the key pool and the registered indexes.
 *
 * <p>Invariants: {@code pool} is the committed pool and is changed only under the database's
 * write lock; {@code versions} is replaced (never mutated in place after publication) under
 * that lock, so readers see a complete set.
 */
final class TreeState {
    final String name;
    final String dataTree;
    final boolean versioned;
    volatile SchemaVersions versions;
    /** Every record was written with a schema version >= this (1 until a migration). */
    volatile int dataFromVersion = 1;
    /**
     * The schema version of the record class that opened the tree in this database last (0: none
     * recorded, a tree made by sync or by an older Cairn): see {@link #currentSchema}.
     */
    volatile int classVersion;
    KeyPool pool;
    final List<IndexBinding<?>> indexes = new CopyOnWriteArrayList<>();
    /** Schemas of the record classes opened on this tree: records from a server must be readable by each. */
    final java.util.Set<dev.cairn.schema.Schema> readers = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /**
     * The migration the last record class opened with one ({@code Cairn.tree(Class, Migration)})
     * registered in this process, for records that arrive from the server in a version that
     * class cannot read; null when none was registered.
     */
    volatile ArrivalMigration migration;
    /**
     * Versions from dataFromVersion on that a record class opened in this process cannot read
     * (they held no record then, or their records were migrated): a record arriving in one of
     * them is checked as one below dataFromVersion is (SyncReplica), not taken as readable.
     */
    final java.util.Set<Integer> unreadable = java.util.concurrent.ConcurrentHashMap.newKeySet();

    TreeState(String name, boolean versioned, SchemaVersions versions, KeyPool pool) {
        this.name = name;
        this.dataTree = Layout.dataTree(name);
        this.versioned = versioned;
        this.versions = versions;
        this.pool = pool;
    }

    /** Turns a record body of another schema version into one of the version of the class that registered it. */
    @FunctionalInterface
    interface ArrivalMigration {
        /** The body (record bytes with their version tag) the migration gives for {@code oldBody}, stored in {@code versions}. */
        byte[] migrate(dev.cairn.Key<?> key, MemorySegment oldBody, SchemaVersions versions);
    }

    /**
     * The tree's current schema, what export and the generic tools write (database-layout.md §2):
     * the version of the record class that opened the tree last, else the highest-numbered one.
     * Not simply the highest-numbered: numbers are this database's own, and on a synced node an
     * older schema arriving after the node's class gets the next one.
     */
    dev.cairn.schema.Schema currentSchema() {
        SchemaVersions v = versions;
        int c = classVersion;
        return c > 0 && c <= v.latestVersion() ? v.get(c) : v.latest();
    }

    /**
     * An index with the codec that turns stored bytes into its record type. A stored record that
     * codec cannot read (a value a newer class widened past what this class holds, from the
     * server) is not in the index, as one its name function throws on is not: the indexer sees
     * it removed when it becomes unreadable and made when it becomes readable again, never a
     * change of it while unreadable; a warning names it (database-layout.md §7).
     */
    static final class IndexBinding<V extends Record> {
        final String tree;
        final Indexer<V> indexer;
        final Supplier<RecordCodec<V>> codec;
        final List<Indexer.Change<V>> pending = new ArrayList<>();
        private final UnreadableRecords unreadable;

        /** {@code codec} gives the codec for the tree's current schema versions. */
        IndexBinding(String tree, Indexer<V> indexer, Supplier<RecordCodec<V>> codec) {
            this.tree = tree;
            this.indexer = indexer;
            this.codec = codec;
            this.unreadable = new UnreadableRecords(tree, indexer);
        }

        /**
         * Notes one change given as stored record bytes (null = absent) for commit; with {@code
         * check} (a local change of a value) the indexer sees it first and may refuse it.
         */
        void note(dev.cairn.Key<?> key, MemorySegment oldBytes, MemorySegment newBytes, boolean check) {
            @SuppressWarnings("unchecked")
            dev.cairn.Key<V> k = (dev.cairn.Key<V>) key;
            RecordCodec<V> c = codec.get();
            // An unreadable old value was left out when it was stored: not in the index.
            V oldValue = oldBytes == null ? null : readable(c, k, oldBytes, false);
            V newValue = newBytes == null ? null : check ? checkable(c, k, newBytes) : readable(c, k, newBytes, true);
            if (oldValue == null && newValue == null) return; // the index holds it neither before nor after
            Indexer.Change<V> change = new Indexer.Change<>(k, oldValue, newValue);
            if (check) indexer.check(change);
            pending.add(change);
        }

        /** The record of stored {@code bytes}; null when the class cannot read it (then counted if {@code left}). */
        private V readable(RecordCodec<V> c, dev.cairn.Key<V> key, MemorySegment bytes, boolean left) {
            try {
                return c.decode(bytes);
            } catch (dev.cairn.SchemaMismatchException e) {
                if (left) unreadable.add(key, e);
                return null;
            }
        }

        /**
         * The record of a local change the indexer must check. Such a value the class cannot read
         * (written through the tree's generic view in a version it cannot hold) cannot be checked,
         * so it is refused, before anything is stored, as a name function that throws refuses one.
         */
        private V checkable(RecordCodec<V> c, dev.cairn.Key<V> key, MemorySegment bytes) {
            try {
                return c.decode(bytes);
            } catch (dev.cairn.SchemaMismatchException e) {
                throw new dev.cairn.SchemaMismatchException("index " + indexer + " on tree " + tree + " cannot check "
                    + key + ", as its record class cannot read the value: " + e.getMessage()
                    + " (expected: a value the index's record class reads)", e);
            }
        }

        void commit() {
            unreadable.report("a commit");
            if (pending.isEmpty()) return;
            List<Indexer.Change<V>> changes = List.copyOf(pending);
            pending.clear();
            indexer.commit(changes);
        }

        void abort() {
            unreadable.clear();
            pending.clear();
            indexer.abort();
        }
    }
}
