package dev.cairn;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Any tree by name, without its record class: records as JSON text, from the stored schemas
 * alone (SPEC §2). Writes follow the rules of {@link Tree}, with its exceptions and messages:
 * ids from the local pool, updates and removes need a check-out, released records are frozen;
 * each write stores the same metadata, outbox entry (for sync) and events as the typed one
 * (database-layout.md §5). Indexes are the application's code, registered through a typed tree
 * ({@link Tree#register}): those registered on this database check and follow these writes as
 * they do typed ones; where none is (the inspector, {@code cairn import}) nothing checks them,
 * and the application's next {@code register} rebuilds its index from the tree (database-layout.md §7).
 */
public interface GenericTree {
    String name();

    /** Whether the tree keeps revisions (its record class's {@code @TreeSpec(versioned = true)}). */
    boolean versioned();

    /** Every key, every revision, in key order: a list the size of the tree (see {@link #size}). */
    List<Key<?>> keys();

    /** How many records the tree holds, every revision counted, as {@link Tree#size}: without listing them. */
    long size();

    /** @throws RecordNotFoundException naming the key if absent */
    String getJson(int id, int revision);

    /**
     * Encodes with the highest-numbered schema version that has every member the text names
     * (record-format.md §7) and inserts; members left out take their defaults, unknown members are errors ({@link IllegalArgumentException} naming line, column
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

    /**
     * Removes the record and its check-out, as {@link Tree#remove}.
     *
     * @throws RecordNotFoundException if absent
     * @throws NotCheckedOutException if this node does not hold the check-out
     * @throws ReleasedRecordException if the record is released
     */
    void remove(int id, int revision);

    /** The record's state, iterations and times, as {@link Tree#meta}. @throws RecordNotFoundException if absent */
    RecordMeta meta(int id, int revision);

    /**
     * {@code Draft(n) -> Released(n)}, as {@link Tree#release}; needs no check-out.
     *
     * @throws IllegalStateException if the tree is not versioned or the record already released
     * @throws RecordNotFoundException if absent
     */
    void release(int id, int revision);

    /**
     * Makes the next revision of a released record as {@code Draft(0)} with a copy of its data,
     * as {@link Tree#newRevision}; needs no check-out.
     *
     * @return the new revision's key
     * @throws IllegalStateException if the tree is not versioned, the record is not released, a
     *     newer revision exists, or no revision number is left
     * @throws RecordNotFoundException if absent
     */
    Key<?> newRevision(int id, int revision);

    /**
     * Sets {@code n} of {@code Draft(n)} or {@code Released(n)}, as {@link Tree#setStateNumber};
     * needs no check-out.
     *
     * @throws IllegalStateException if the tree is not versioned
     * @throws RecordNotFoundException if absent
     */
    void setStateNumber(int id, int revision, int n);

    /**
     * The tree's current schema, as JSON: the version of the record class that opened the tree
     * in this database last, else the highest-numbered one (database-layout.md §2).
     */
    String schemaJson();

    /**
     * Asks for the record's check-out, as {@link Tree#checkOut}: completes when this node holds
     * it (at once while standalone; after the server grants it, in queue order, once linked).
     * Its stages run as {@link Tree#checkOut}'s: added before the grant, on a virtual thread of
     * their own, where they may write and block; added once it is complete, on the caller's thread.
     * Each call gets a future of its own; ending it while it waits ({@code cancel}, {@code
     * orTimeout}, {@code completeOnTimeout}...) withdraws the node's request when no other call of
     * this node still waits for the record, as {@link Tree#checkOut}'s does.
     */
    CompletableFuture<Void> checkOut(int id, int revision);

    /** Gives the record back, as {@link Tree#checkIn}. */
    void checkIn(int id, int revision);

    /** Who holds the record, as {@link Tree#borrowState}. */
    BorrowState borrowState(int id, int revision);

    /**
     * Writes this tree as JSON lines, one {@code {"key":"TREE/id.rev","value":{...}}} per record
     * (in a versioned tree with {@code "state":"Draft(n)"} or {@code "Released(n)"} after the key)
     * in key order, every value in the tree's current schema (see {@link #schemaJson}): records
     * of other versions are converted by the evolution rules (renamed components under their new
     * names, removed ones left out), so every line reads back with that version (what {@code
     * cairn export} writes). After the last record it writes the end line {@code
     * {"cairn-export-end":{"tree":"TREE","records":N}}}, N the number of records
     * (record-format.md §10; its member name is no Java identifier, so no record object has it),
     * so that an import can tell the whole export from one cut short; an empty tree's export is
     * that line alone (so an empty file stays the mark of an export that failed). Every record is converted
     * before the first line is written: a record the schema cannot hold writes nothing.
     *
     * @return what was written, and what of the records' data the schema could not carry
     * @throws SchemaMismatchException naming the record and component of a value the schema
     *     cannot hold (nothing written)
     * @throws java.io.UncheckedIOException if {@code out} fails
     */
    default Exported exportJsonLines(Appendable out) {
        return exportJsonLines(out, 0);
    }

    /**
     * {@link #exportJsonLines(Appendable)} in schema version {@code schemaVersion} of this tree
     * (0: the current one), e.g. the version that wrote records an older class reopened the tree
     * after.
     *
     * @throws IllegalArgumentException if the tree has no such version
     */
    Exported exportJsonLines(Appendable out, int schemaVersion);

    /**
     * Writes this tree as SQL text (record-format.md §10): a {@code CREATE TABLE} of the current
     * schema (see {@link #schemaJson}), then one {@code INSERT} per record, each on its own line,
     * then the end line {@code -- end of export: N rows}; records of other schema versions are
     * converted to it, all before the first line is written.
     *
     * @return what was written, and what of the records' data the schema could not carry
     * @throws SchemaMismatchException as {@link #exportJsonLines(Appendable)} (nothing written)
     * @throws TransferRefusedException naming the record and component of a value SQL cannot
     *     hold, a char that is an unpaired surrogate (nothing written; JSON lines carry it)
     * @throws java.io.UncheckedIOException if {@code out} fails
     */
    default Exported exportSql(String table, Appendable out) {
        return exportSql(table, out, 0);
    }

    /** {@link #exportSql(String, Appendable)} in schema version {@code schemaVersion} (0: the current one). */
    Exported exportSql(String table, Appendable out, int schemaVersion);

    /**
     * What an export wrote: how many records, in which schema version of the tree, and what of
     * their data that version cannot carry (components its record class lacks: ones it removed,
     * or ones a newer class added when an older class reopened the tree): how many records lost
     * some, which top-level components, the highest schema version that wrote one of them, and a
     * schema version that carries every record of the tree whole, in which an export would lose
     * nothing (0 for each when none lost any; {@code versionCarryingAll} is also 0 when no single
     * version carries every record: one lacks a component some record holds, and the others
     * cannot hold a value of another, such as a number widened since).
     */
    record Exported(long records, int schemaVersion, long recordsNotCarried, List<String> componentsNotCarried,
                    int writerVersionMax, int versionCarryingAll) {
        public Exported {
            componentsNotCarried = List.copyOf(componentsNotCarried);
        }
    }

    /**
     * What an import stored: the records' keys in row order, and how many rows that named a key
     * (an exported id and revision) were stored under another one.
     */
    record Imported(List<Key<?>> keys, int renumbered) {
        public Imported {
            keys = List.copyOf(keys);
        }
    }

    /**
     * Inserts every row of the {@code INSERT INTO table} statements of {@code sql} (as
     * {@link #exportSql} writes them), in one transaction: a bad row stores nothing. Ids are
     * kept when they can be (see {@link #importSql(String, String, boolean)}), else the rows get
     * new ids from this node's pool.
     *
     * @return the keys, in row order
     * @throws IllegalArgumentException naming the line and column of a malformed statement or
     *     the component of a value that does not fit the schema
     * @throws TransferRefusedException if the rows get new ids and hold two revisions of one id
     */
    default List<Key<?>> importSql(String table, String sql) {
        return importSql(table, sql, false).keys();
    }

    /**
     * Inserts every row of {@code sql} as {@link #importSql(String, String)} does. Every row keeps
     * its id and revision (so {@code Key} references to it from other trees still hold) when
     * this database never linked to a server (it chooses its own ids) and every id is still
     * free in this tree (never handed out here, in particular held by no record) and at most
     * 2,000,000,000. The ids are then taken out of the tree's key pool in the same transaction,
     * never handed out again. Otherwise the rows get new ids from the pool ({@link
     * Imported#renumbered} counts them), or, with {@code keepIds}, the import is refused. Records
     * start as new ones do (Draft(0) in a versioned tree): the SQL forms carry no record
     * metadata; but a row below a later revision of its id is imported as Released(0), since
     * only the latest revision of a record can be a draft.
     *
     * @throws TransferRefusedException if {@code keepIds} and the ids cannot be kept, if the
     *     rows get new ids and hold two revisions of one id (they would become separate records),
     *     or if a row names a revision other than 0 of a tree without versions
     */
    Imported importSql(String table, String sql, boolean keepIds);

    /**
     * Inserts the records of JSON-lines {@code text}: lines as {@link #exportJsonLines} writes
     * them, or bare record objects (which have no id to keep, so they get new ones), keeping ids
     * as {@link #importSql(String, String, boolean)} does, in one transaction. A line's
     * {@code "state"} is restored: its number, and Released (the record's data stays frozen).
     * An end line ({@code {"cairn-export-end":{"tree":"TREE","records":N}}}, in any layout) may
     * only come last and must count the records before it; text without one is taken as it is
     * (the caller holds all of it). A text whose only line is {@code {"tree":"TREE","records":0}},
     * an older cairn's export of an empty tree, imports as that: 0 records (record-format.md §10).
     *
     * @throws IllegalArgumentException naming the record (its line among the non-blank ones)
     * @throws TransferRefusedException as {@link #importSql(String, String, boolean)}, and for a
     *     Draft below a later revision of its id, or an end line naming another tree
     */
    Imported importJsonLines(String text, boolean keepIds);

    /**
     * Inserts the records of a JSON-lines file (UTF-8; a byte order mark first is skipped) as
     * {@link #importJsonLines(String, boolean)} does, in one transaction, but reading it one line
     * at a time: the file's size is not limited by what one string holds, and its text is never
     * held whole. A regular file is read twice: once to check every line (a refused line stores
     * nothing), keeping only each record's key, and again inside the transaction to store them, so
     * that the records are not held either, but the pages the transaction changes are, until it
     * commits (about the size of the records: split a file too large for the heap, and import the
     * parts one after the other with {@code keepIds}). A file that changed between the two
     * readings is refused (nothing imported). A file that cannot be read twice (a pipe) keeps the
     * encoded records of its first reading instead. A line is at most {@value
     * dev.cairn.internal.Limits#IMPORT_TEXT_CHARS_MAX} characters.
     *
     * <p>A file that holds exported lines (with a {@code "key"}) must end with the export's end line
     * {@code {"cairn-export-end":{"tree":"TREE","records":N}}}, N the number of records before it: a file without it,
     * or whose N disagrees, is refused, nothing imported (an export killed, or cut by a full disk,
     * can end at a line boundary and would otherwise import without the records after it). A file
     * of bare record objects (which no export writes) needs none.
     *
     * @throws IllegalArgumentException an end line missing, not last, or counting other than the
     *     records before it
     * @throws TransferRefusedException as {@link #importJsonLines(String, boolean)}, and for a file
     *     without records that is no empty tree's export (an empty file: what an export that failed
     *     leaves behind a shell redirect)
     * @throws java.io.UncheckedIOException the file cannot be read, or is not UTF-8 text
     * @throws IllegalStateException the file changed while it was imported
     */
    default Imported importJsonLines(java.nio.file.Path file, boolean keepIds) {
        return importJsonLines(file, keepIds, true);
    }

    /**
     * {@link #importJsonLines(java.nio.file.Path, boolean)}, with {@code checkEnd} false for a file
     * that is whole without the export's end line: a part of an export split at line boundaries
     * (whose last part's end line counts them all), an export by a cairn that wrote none, or
     * exported lines another program wrote. The end line, if any, must still come last; its
     * count is not compared.
     */
    Imported importJsonLines(java.nio.file.Path file, boolean keepIds, boolean checkEnd);

    /**
     * Inserts the rows of the {@code INSERT INTO table} statements of a SQL file as {@link
     * #importSql(String, String, boolean)} does, reading it one statement at a time, as {@link
     * #importJsonLines(java.nio.file.Path, boolean)} reads its lines (twice, for a regular file);
     * a file without rows that holds neither the end line nor a {@code CREATE TABLE} of the table
     * is refused. A file with rows must end with the export's end line {@code -- end of export:
     * N rows}, N the number of rows before it, as a JSON-lines file must end with its own.
     */
    default Imported importSql(String table, java.nio.file.Path file, boolean keepIds) {
        return importSql(table, file, keepIds, true);
    }

    /** {@link #importSql(String, java.nio.file.Path, boolean)}, with {@code checkEnd} as {@link #importJsonLines(java.nio.file.Path, boolean, boolean)} has it. */
    Imported importSql(String table, java.nio.file.Path file, boolean keepIds, boolean checkEnd);

    /**
     * Writes this tree into {@code table} of a JDBC database (record-format.md §11), the table
     * {@link #exportSql} describes: creates it when the connection's catalog and schema have no
     * table of that name, and refuses one that holds rows. See {@link #exportJdbc(String,
     * java.sql.Connection, boolean)}.
     */
    default void exportJdbc(String table, java.sql.Connection c) {
        exportJdbc(table, c, false);
    }

    /**
     * Writes this tree into {@code table} of a JDBC database, one row per record (records of older
     * schema versions converted to the current one), in one JDBC transaction on {@code c}: the
     * table is created when absent ({@link #exportSql}'s {@code CREATE TABLE}), the rows are
     * inserted in batches of prepared statements, read back and compared with what was written,
     * then committed. Any failure rolls back, so the table gets every row or none (a database that
     * commits {@code CREATE TABLE} at once, such as H2 or MySQL, keeps the table, empty). The
     * connection's auto-commit setting is restored; the connection stays open.
     *
     * @param append false refuses a table that holds rows; true adds to them (rows with the keys
     *     of this tree's records must not be there: the primary key refuses them)
     * @throws TransferRefusedException if the table holds rows and {@code append} is false, or
     *     naming the record of a value SQL cannot hold, as {@link #exportSql(String, Appendable)}
     *     (nothing sent)
     * @throws JdbcException naming the row where known, if the database refuses a statement or
     *     a value does not read back as written (a column type that cannot hold it exactly)
     */
    default void exportJdbc(String table, java.sql.Connection c, boolean append) {
        exportJdbc(table, c, append, 0);
    }

    /**
     * {@link #exportJdbc(String, java.sql.Connection, boolean)} in schema version {@code
     * schemaVersion} of this tree (0: the current one). Every record is converted before the
     * first statement is sent, as {@link #exportSql(String, Appendable)} does.
     *
     * @return what was written, and what of the records' data the schema could not carry
     * @throws SchemaMismatchException naming the record and component of a value the schema
     *     cannot hold (nothing sent to the database)
     * @throws IllegalArgumentException if the tree has no such version
     */
    Exported exportJdbc(String table, java.sql.Connection c, boolean append, int schemaVersion);

    /**
     * Inserts every row of {@code table} of a JDBC database as a new record; refuses a tree that
     * holds records. See {@link #importJdbc(String, java.sql.Connection, boolean)}.
     */
    default List<Key<?>> importJdbc(String table, java.sql.Connection c) {
        return importJdbc(table, c, false);
    }

    /**
     * Inserts every row of {@code table} of a JDBC database (columns as {@link #exportJdbc}
     * writes them; columns of components it lacks take their defaults), in key order, in one
     * transaction: a bad row stores nothing. Rows keep their ids when they can (see {@link
     * #importSql(String, String, boolean)}), else get new ids from this node's pool. Nothing
     * is written to the JDBC database. Refused, before anything is stored, like {@code cairn
     * import}: a tree that holds records unless {@code append} (an application's unique index is
     * not there to refuse doubled records), and, when the rows get new ids, a table holding two
     * revisions of one record id (they would be separate records with one name).
     *
     * @return the keys, in row order
     * @throws TransferRefusedException for the two refusals above
     * @throws IllegalArgumentException naming the row and component of a value that does not fit
     *     the schema, or a column that is no component
     * @throws JdbcException if the database refuses the query
     */
    default List<Key<?>> importJdbc(String table, java.sql.Connection c, boolean append) {
        return importJdbc(table, c, append, false).keys();
    }

    /**
     * Inserts every row of {@code table} as {@link #importJdbc(String, java.sql.Connection,
     * boolean)} does, keeping the rows' ids and revisions as {@link #importSql(String, String,
     * boolean)} does; {@code keepIds} refuses instead of giving new ids.
     */
    Imported importJdbc(String table, java.sql.Connection c, boolean append, boolean keepIds);
}
