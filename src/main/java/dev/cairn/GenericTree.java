package dev.cairn;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Any tree by name, without its record class: records as JSON text, from the stored schemas
 * alone (SPEC §2). Writes follow the rules of {@link Tree}: ids from the local pool, updates need
 * a check-out, released records are frozen.
 */
public interface GenericTree {
    String name();

    List<Key<?>> keys();

    /** @throws RecordNotFoundException naming the key if absent */
    String getJson(int id, int revision);

    /**
     * Encodes with the tree's latest schema version and inserts; members left out take their
     * defaults, unknown members are errors ({@link IllegalArgumentException} naming line, column
     * and path).
     */
    Key<?> insertJson(String json);

    /**
     * Changes the record with {@code json}, an object in the form {@link #getJson} prints: the
     * members given replace the stored ones (a nested record given as an object is changed the
     * same way), members left out keep their stored values, unknown members are errors. Written
     * with the stored record's schema version. Needs a check-out (see {@link Tree#update}).
     */
    void updateJson(int id, int revision, String json);

    /** The latest schema of the tree, as JSON. */
    String schemaJson();

    /**
     * Asks for the record's check-out, as {@link Tree#checkOut}: completes when this node holds
     * it (at once while standalone; after the server grants it, in queue order, once linked).
     */
    CompletableFuture<Void> checkOut(int id, int revision);

    /** Gives the record back, as {@link Tree#checkIn}. */
    void checkIn(int id, int revision);

    /** Who holds the record, as {@link Tree#borrowState}. */
    BorrowState borrowState(int id, int revision);

    /**
     * Writes this tree as SQL text (record-format.md §10): a {@code CREATE TABLE} of the latest
     * schema, then one {@code INSERT} per record, each on its own line; records of older schema
     * versions are converted to the latest one.
     *
     * @throws java.io.UncheckedIOException if {@code out} fails
     */
    void exportSql(String table, Appendable out);

    /**
     * Inserts every row of the {@code INSERT INTO table} statements of {@code sql} (as
     * {@link #exportSql} writes them) as new records with ids from this node's pool, in one
     * transaction: a bad row stores nothing.
     *
     * @return the new keys, in row order
     * @throws IllegalArgumentException naming the line and column of a malformed statement or
     *     the component of a value that does not fit the schema
     */
    List<Key<?>> importSql(String table, String sql);
}
