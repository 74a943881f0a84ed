package dev.cairn;

/**
 * Turns a record stored under an older, incompatible schema into a value of the new record
 * class. Registered with {@link Cairn#tree(Class, Migration)}; used only when the schema change
 * is refused by the evolution rules, and then run once over the whole tree in one durable
 * transaction (all records migrate, or after a crash none did and the next open runs it again).
 *
 * <p>On a linked database the migration rewrites this node's copy only: the server and the other
 * nodes keep each record in the version its writer wrote, and records that arrive later in a
 * version the class cannot read go through the migration as they arrive (on the sync thread;
 * an exception stops the sync with a {@link SchemaMismatchException}). See
 * spec/database-layout.md §8.
 */
@FunctionalInterface
public interface Migration<V extends Record> {
    /**
     * The new value for the record under {@code key}, whose stored form is {@code oldJson}: the
     * JSON of the record in the schema version that wrote it (as {@link GenericTree#getJson}
     * prints it), so a tree whose records were written by several old versions hands over each
     * in its own: a component renamed between them comes under each name.
     */
    V migrate(Key<V> key, String oldJson);

    /** Called after every migrated record, and once at the start with {@code done = 0}. */
    default void progress(long done, long total) { }
}
