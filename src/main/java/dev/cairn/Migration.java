package dev.cairn;

/**
 * Turns a record stored under an older, incompatible schema into a value of the new record
 * class. Registered with {@link Cairn#tree(Class, Migration)}; used only when the schema change
 * is refused by the evolution rules, and then run once over the whole tree in one durable
 * transaction (all records migrate, or after a crash none did and the next open runs it again).
 */
@FunctionalInterface
public interface Migration<V extends Record> {
    /** The new value for the record under {@code key}, whose stored form is {@code oldJson}. */
    V migrate(Key<V> key, String oldJson);

    /** Called after every migrated record, and once at the start with {@code done = 0}. */
    default void progress(long done, long total) { }
}
