package dev.cairn.db;

import dev.cairn.BorrowState;
import dev.cairn.GenericTree;
import dev.cairn.Key;
import dev.cairn.RecordNotFoundException;
import dev.cairn.TransferRefusedException;
import dev.cairn.schema.JsonForm;
import dev.cairn.schema.Schema;
import dev.cairn.schema.SqlColumn;
import dev.cairn.schema.SqlForm;
import dev.cairn.store.Cursor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.sql.Connection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * A tree by name, records as JSON, from the stored schemas alone: no record class is loaded.
 * Writes go through the same {@link Database} operations as the typed tree's (pool ids,
 * check-out, released = frozen, outbox, indexes, events), so they follow its rules exactly.
 */
public final class GenericTreeImpl implements GenericTree {
    private final Database db;
    private final TreeState t;

    private GenericTreeImpl(Database db, TreeState t) {
        this.db = db;
        this.t = t;
    }

    /** @throws IllegalArgumentException naming the tree if the database has no such tree */
    public static GenericTreeImpl open(Database db, String name) {
        Objects.requireNonNull(name, "treeName");
        db.checkOpen();
        TreeState t = db.existingTree(name);
        if (t == null) {
            throw new IllegalArgumentException("no tree named '" + name + "' in " + db.directory()
                + " (trees: " + db.treeNames() + ")");
        }
        return new GenericTreeImpl(db, t);
    }

    private Key<Object> key(int id, int revision) {
        return new Key<>(t.name, id, revision);
    }

    /** The key of the record at the cursor of this tree's data. */
    private Key<Object> keyAt(Cursor c) {
        return key(Layout.idOf(c.key()), Layout.revisionOf(c.key()));
    }

    @Override
    public String name() {
        return t.name;
    }

    @Override
    public List<Key<?>> keys() {
        return List.copyOf(db.readOrWrite(r -> Database.<Object>keys(r, t)));
    }

    @Override
    public long size() {
        return db.readOrWrite(r -> r.count(t.dataTree));
    }

    /**
     * Decodes every record as {@link #getJson} does, in key order in one snapshot, without listing
     * the keys first (what {@code cairn verify} checks a tree with: its heap does not grow with the
     * tree): each record that does not decode goes to {@code problem} with why, and the walk goes on.
     *
     * @return how many records decoded
     */
    public long decodeEvery(java.util.function.BiConsumer<Key<?>, RuntimeException> problem) {
        return db.readOrWrite(r -> {
            long decoded = 0;
            try (Cursor c = r.cursor(t.dataTree)) {
                for (boolean more = c.first(); more; more = c.next()) {
                    try {
                        JsonForm.toJson(RecordHeader.body(c.value()), t.versions);
                        decoded++;
                    } catch (dev.cairn.CairnException | IllegalArgumentException e) {
                        problem.accept(keyAt(c), e);
                    }
                }
            }
            return decoded;
        });
    }

    @Override
    public String getJson(int id, int revision) {
        Key<Object> key = key(id, revision);
        return db.readOrWrite(r -> {
            MemorySegment v = r.get(t.dataTree, Layout.recordKey(id, revision));
            if (v == null) throw new RecordNotFoundException("record " + key + " not found in tree " + t.name);
            return JsonForm.toJson(RecordHeader.body(v), t.versions);
        });
    }

    @Override
    public Key<?> insertJson(String json) {
        Objects.requireNonNull(json, "json");
        byte[] body = JsonForm.fromJson(json, t.versions);
        return SyncReplica.insertWithIds(db, t, 1, () -> db.insert(t, body));
    }

    @Override
    public void updateJson(int id, int revision, String json) {
        Key<Object> key = key(id, revision);
        Objects.requireNonNull(json, "json");
        db.write(() -> {
            db.update(t, key, old -> MemorySegment.ofArray(JsonForm.patch(json, old, t.versions)));
            return null;
        }, true);
    }

    @Override
    public boolean versioned() {
        return t.versioned;
    }

    @Override
    public void remove(int id, int revision) {
        Key<Object> key = key(id, revision);
        db.write(() -> {
            db.remove(t, key);
            return null;
        }, true);
    }

    @Override
    public dev.cairn.RecordMeta meta(int id, int revision) {
        Key<Object> key = key(id, revision);
        return db.readOrWrite(r -> {
            MemorySegment v = r.get(t.dataTree, Layout.recordKey(id, revision));
            if (v == null) throw new RecordNotFoundException("record " + key + " not found in tree " + t.name);
            return RecordHeader.meta(v, key);
        });
    }

    @Override
    public void release(int id, int revision) {
        Key<Object> key = key(id, revision);
        db.write(() -> {
            db.release(t, key);
            return null;
        }, true);
    }

    @Override
    public Key<?> newRevision(int id, int revision) {
        Key<Object> released = key(id, revision);
        return db.write(() -> db.newRevision(t, released), true);
    }

    @Override
    public void setStateNumber(int id, int revision, int n) {
        Key<Object> key = key(id, revision);
        db.write(() -> {
            db.setStateNumber(t, key, n);
            return null;
        }, true);
    }

    @Override
    public String schemaJson() {
        db.checkOpen();
        return t.currentSchema().toJson();
    }

    @Override
    public CompletableFuture<Void> checkOut(int id, int revision) {
        return db.requestCheckOut(t, key(id, revision));
    }

    @Override
    public void checkIn(int id, int revision) {
        db.requestCheckIn(t, key(id, revision));
    }

    @Override
    public BorrowState borrowState(int id, int revision) {
        Key<Object> key = key(id, revision);
        return db.readOrWrite(r -> db.borrowState(r, t, key));
    }

    @Override
    public Exported exportJsonLines(Appendable out, int schemaVersion) {
        Objects.requireNonNull(out, "out");
        return db.readOrWrite(r -> {
            Schema schema = exportSchema(schemaVersion);
            Exported exported = convertEvery(r, schema, SqlCheck.NONE);
            try (Cursor c = r.cursor(t.dataTree)) {
                for (boolean more = c.first(); more; more = c.next()) {
                    Key<Object> key = keyAt(c);
                    out.append(ImportRow.exportedLine(t.name, key.id(), key.revision(),
                        t.versioned ? RecordHeader.decode(c.value(), key).state() : null,
                        JsonForm.toJsonAs(RecordHeader.body(c.value()), t.versions, schema)));
                }
                // Last, so that an import can tell this whole export from one cut short.
                out.append(ImportRow.endLine(t.name, exported.records()));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the JSON lines of tree " + t.name, e);
            }
            return exported;
        });
    }

    @Override
    public Exported exportSql(String table, Appendable out, int schemaVersion) {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(out, "out");
        return db.readOrWrite(r -> {
            Schema schema = exportSchema(schemaVersion);
            Exported exported = convertEvery(r, schema, SqlCheck.TEXT);
            try (Cursor c = r.cursor(t.dataTree)) {
                out.append(SqlForm.createTable(table, schema)).append('\n');
                for (boolean more = c.first(); more; more = c.next()) {
                    MemorySegment k = c.key();
                    out.append(SqlForm.insert(table, Layout.idOf(k), Layout.revisionOf(k),
                        RecordHeader.body(c.value()), t.versions, schema)).append('\n');
                }
                out.append(SqlForm.endLine(exported.records())).append('\n');
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write SQL of tree " + t.name, e);
            }
            return exported;
        });
    }

    /** The schema an export writes: version {@code schemaVersion} of the tree, or its current one for 0. */
    private Schema exportSchema(int schemaVersion) {
        if (schemaVersion == 0) return t.currentSchema();
        if (!t.versions.contains(schemaVersion)) {
            throw new IllegalArgumentException("tree " + t.name + " has no schema version " + schemaVersion
                + " (expected: 1.." + t.versions.latestVersion() + ")");
        }
        return t.versions.get(schemaVersion);
    }

    /**
     * Converts every record to {@code schema} before anything is written (a record it cannot
     * hold is refused, naming it and its component, with nothing written), counting what of the
     * records' data the conversion leaves out. For a SQL form ({@code sql}), also a record with
     * a value no SQL column holds as it is: a char that is an unpaired surrogate
     * ({@link SqlColumn#values}); for SQL text, also a string holding U+0000 ({@link SqlForm#checkText}).
     */
    private Exported convertEvery(dev.cairn.store.ReadTxn r, Schema schema, SqlCheck sql) {
        long records = 0;
        long notCarried = 0;
        java.util.Set<String> components = new java.util.LinkedHashSet<>();
        int writerMax = 0;
        int version = t.versions.versionOf(schema);
        SqlRefusals refused = new SqlRefusals();
        try (Cursor c = r.cursor(t.dataTree)) {
            for (boolean more = c.first(); more; more = c.next()) {
                records++;
                MemorySegment body = RecordHeader.body(c.value());
                JsonForm.Converted converted;
                try {
                    converted = JsonForm.toJsonAsChecked(body, t.versions, schema);
                } catch (dev.cairn.SchemaMismatchException | IllegalArgumentException e) {
                    Key<Object> key = keyAt(c);
                    throw new dev.cairn.SchemaMismatchException("record " + key + " cannot be written in schema version "
                        + version + " of tree " + t.name + ": " + e.getMessage() + "; nothing exported. "
                        + advice(r, version, JsonForm.versionOf(body)));
                }
                if (sql != SqlCheck.NONE) refused.note(c, withoutSqlForm(c, body, schema, sql));
                if (!converted.notCarried().isEmpty()) {
                    notCarried++;
                    components.addAll(converted.notCarried());
                    writerMax = Math.max(writerMax, converted.writerVersion());
                }
            }
        }
        refused.throwIfAny();
        int carrying = notCarried == 0 ? 0 : versionCarryingEvery(r, version, writerMax);
        return new Exported(records, version, notCarried, List.copyOf(components), writerMax, carrying);
    }

    /** Which SQL form an export writes, for {@link #convertEvery}: none (JSON lines), JDBC, or SQL text. */
    private enum SqlCheck { NONE, JDBC, TEXT }

    /**
     * The records an export to SQL refuses, gathered over the whole walk so that the refusal
     * names them all (the first {@code NAMED}) rather than one per attempt: the first one's
     * reason, then the count and keys of the others.
     */
    private final class SqlRefusals {
        private static final int NAMED = 20;
        private String first;
        private final List<String> others = new java.util.ArrayList<>();
        private long count;

        void note(Cursor c, String reason) {
            if (reason == null) return;
            count++;
            if (first == null) first = reason;
            else if (others.size() < NAMED) others.add(keyAt(c).toString());
        }

        void throwIfAny() {
            if (first == null) return;
            String rest = count == 1 ? "" : "; " + (count - 1) + " more record(s) of the tree are refused as well: "
                + String.join(", ", others) + (count - 1 > others.size() ? ", ..." : "");
            throw new TransferRefusedException(first + rest);
        }
    }

    /** Why the cursor's record has no SQL form (or, for text, no SQL text form), naming it; null when it has one. */
    private String withoutSqlForm(Cursor c, MemorySegment body, Schema schema, SqlCheck sql) {
        List<Object> values;
        try {
            values = SqlColumn.values(body, t.versions, schema);
        } catch (IllegalArgumentException e) {
            Key<Object> key = keyAt(c);
            return "record " + key + " of tree " + t.name + " has no SQL form: " + e.getMessage()
                + "; nothing exported (JSON lines carry it: cairn export --format jsonl, GenericTree.exportJsonLines)";
        }
        if (sql != SqlCheck.TEXT) return null;
        try {
            SqlForm.checkText(schema, values);
            return null;
        } catch (IllegalArgumentException e) {
            Key<Object> key = keyAt(c);
            return "record " + key + " of tree " + t.name + " has no SQL text form: "
                + e.getMessage() + "; nothing exported (JSON lines carry it: cairn export --format jsonl; a JDBC export passes"
                + " it as a parameter: --jdbc URL, GenericTree.exportJdbc, where the database holds it)";
        }
    }

    /**
     * A schema version other than {@code notThis} that holds every record of the tree whole
     * (converts each without a refusal and without leaving anything out), trying {@code first}
     * (the newest that wrote a record {@code notThis} cannot carry) and then the others from the
     * highest; 0 when none does (a version lacking a component one record holds, and every
     * other unable to hold a value of another). Only an export that lost data pays for this.
     */
    private int versionCarryingEvery(dev.cairn.store.ReadTxn r, int notThis, int first) {
        List<Integer> candidates = new java.util.ArrayList<>();
        candidates.add(first);
        for (int v = t.versions.latestVersion(); v >= 1; v--) {
            if (v != first && v != notThis) candidates.add(v);
        }
        for (int v : candidates) {
            if (carriesEvery(r, t.versions.get(v))) return v;
        }
        return 0;
    }

    private boolean carriesEvery(dev.cairn.store.ReadTxn r, Schema schema) {
        try (Cursor c = r.cursor(t.dataTree)) {
            for (boolean more = c.first(); more; more = c.next()) {
                try {
                    MemorySegment body = RecordHeader.body(c.value());
                    if (!JsonForm.toJsonAsChecked(body, t.versions, schema).notCarried().isEmpty()) return false;
                } catch (dev.cairn.SchemaMismatchException | IllegalArgumentException e) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * What to do when a record cannot be written in {@code refusing}: the same rule as the
     * warning's ({@link #versionCarryingEvery}): a version is advised as carrying the data only
     * when it carries every record whole (the one that wrote the refused record may leave out
     * components of others). Else a version that holds every record, saying what it leaves out.
     */
    private String advice(dev.cairn.store.ReadTxn r, int refusing, int writer) {
        int whole = versionCarryingEvery(r, refusing, writer);
        if (whole > 0) {
            return "Export in schema version " + whole + " to carry it: that version carries every record of the tree whole";
        }
        String none = "No single schema version of the tree carries every record whole";
        List<Integer> candidates = new java.util.ArrayList<>();
        candidates.add(writer);
        for (int v = t.versions.latestVersion(); v >= 1; v--) {
            if (v != writer && v != refusing) candidates.add(v);
        }
        for (int v : candidates) {
            Fit fit = fit(r, t.versions.get(v));
            if (fit != null) {
                long n = fit.recordsNotCarried();
                return none + ". Export in schema version " + v + " to write every record, this one included; it leaves"
                    + " out the component" + (fit.components().size() == 1 ? " " : "s ") + fit.components() + " of " + n
                    + " other record" + (n == 1 ? "" : "s") + ", which its warning lists (the database keeps them)";
            }
        }
        return none + " and none holds them all (each refuses a value of some record): the data stays in the"
            + " database, for a record class that holds all of it";
    }

    /** How many records of the tree {@code schema} leaves data out of, and which components; null when it refuses one. */
    private Fit fit(dev.cairn.store.ReadTxn r, Schema schema) {
        long notCarried = 0;
        java.util.Set<String> components = new java.util.LinkedHashSet<>();
        try (Cursor c = r.cursor(t.dataTree)) {
            for (boolean more = c.first(); more; more = c.next()) {
                try {
                    MemorySegment body = RecordHeader.body(c.value());
                    List<String> lost = JsonForm.toJsonAsChecked(body, t.versions, schema).notCarried();
                    if (!lost.isEmpty()) {
                        notCarried++;
                        components.addAll(lost);
                    }
                } catch (dev.cairn.SchemaMismatchException | IllegalArgumentException e) {
                    return null;
                }
            }
        }
        return new Fit(notCarried, List.copyOf(components));
    }

    private record Fit(long recordsNotCarried, List<String> components) { }

    @Override
    public Imported importSql(String table, String sql, boolean keepIds) {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(sql, "sql");
        return TreeImport.run(db, t, "import of table " + table + " into tree " + t.name,
            ImportSource.sql(sql, table, t.currentSchema()), keepIds, true, () -> { }).imported();
    }

    @Override
    public Imported importJsonLines(String text, boolean keepIds) {
        Objects.requireNonNull(text, "text");
        return TreeImport.run(db, t, "import into tree " + t.name, ImportSource.jsonLines(text, t.name), keepIds, true,
            () -> { }).imported();
    }

    @Override
    public Imported importSql(String table, java.nio.file.Path file, boolean keepIds, boolean checkEnd) {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(file, "file");
        return importFile(file, table, keepIds, checkEnd, true, () -> { }).imported();
    }

    @Override
    public Imported importJsonLines(java.nio.file.Path file, boolean keepIds, boolean checkEnd) {
        Objects.requireNonNull(file, "file");
        return importFile(file, null, keepIds, checkEnd, true, () -> { }).imported();
    }

    /** A file's end line is required and counted, or neither (a part of a split export: see GenericTree). */
    private static ImportSource.EndLine endLine(boolean checkEnd) {
        return checkEnd ? ImportSource.EndLine.REQUIRED : ImportSource.EndLine.NOT_COMPARED;
    }

    /**
     * What {@code cairn import} stores a file with: as {@link #importJsonLines(java.nio.file.Path,
     * boolean)}, or {@link #importSql(String, java.nio.file.Path, boolean)} of {@code table}, but
     * counting the records instead of listing their keys, so that its heap does not grow with them.
     *
     * @param table the SQL file's table; null for a JSON-lines file
     * @param checkEnd as {@link #importJsonLines(java.nio.file.Path, boolean, boolean)}
     * @param atFirstRecord run when the file's first record is read, before anything is stored (a
     *     refusal there imports nothing); not run for a file without records
     */
    public ImportCount importFileCounting(java.nio.file.Path file, String table, boolean keepIds, boolean checkEnd,
                                          Runnable atFirstRecord) {
        Objects.requireNonNull(file, "file");
        TreeImport.Result result = importFile(file, table, keepIds, checkEnd, false, atFirstRecord);
        return new ImportCount(result.records(), result.renumbered());
    }

    /** How many records an import stored, and how many rows that named a key got another one. */
    public record ImportCount(long records, int renumbered) { }

    /**
     * Imports a file; refuses one without records that is no empty tree's export: an export that
     * failed leaves an empty file behind a shell redirect, and taking it for an empty tree would
     * seed a recovery with nothing.
     */
    private TreeImport.Result importFile(java.nio.file.Path file, String table, boolean keepIds, boolean checkEnd,
                                         boolean listKeys, Runnable atFirstRecord) {
        ImportSource source = table == null ? ImportSource.jsonLines(file, t.name, endLine(checkEnd))
            : ImportSource.sql(file, table, t.currentSchema(), endLine(checkEnd));
        String what = table == null ? "import into tree " + t.name : "import of table " + table + " into tree " + t.name;
        String emptyExport = table == null ? " the end line " + ImportRow.endLine(t.name, 0).strip()
            : " the line " + SqlForm.endLine(0) + ", or a CREATE TABLE of " + table + " without rows";
        TreeImport.Result imported = TreeImport.run(db, t, what, source, keepIds, listKeys, atFirstRecord, () -> { });
        if (imported.records() == 0 && !source.markedEmpty()) {
            throw new TransferRefusedException(source.name() + " holds no records and is no export of an empty tree (that"
                + " is" + emptyExport + "): is it the output of an export that failed? Nothing imported");
        }
        return imported;
    }

    @Override
    public Exported exportJdbc(String table, Connection c, boolean append, int schemaVersion) {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(c, "c");
        return db.readOrWrite(r -> {
            // every walk (convert, insert, read back) sees this one snapshot
            Schema schema = exportSchema(schemaVersion);
            Exported exported = convertEvery(r, schema, SqlCheck.JDBC);
            JdbcTransfer.export(t.name, table, c, append, schema, action -> {
                try (Cursor cursor = r.cursor(t.dataTree)) {
                    for (boolean more = cursor.first(); more; more = cursor.next()) {
                        MemorySegment k = cursor.key();
                        action.accept(new JdbcTransfer.Row(Layout.idOf(k), Layout.revisionOf(k),
                            SqlColumn.values(RecordHeader.body(cursor.value()), t.versions, schema)));
                    }
                }
            });
            return exported;
        });
    }

    @Override
    public Imported importJdbc(String table, Connection c, boolean append, boolean keepIds) {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(c, "c");
        String what = "import of table " + table + " into tree " + t.name;
        refuseIfHolding(what, append);
        List<ImportRow> rows = rows(table, JdbcTransfer.read(t.name, table, c, t.currentSchema()));
        // again inside the transaction: records may have come meanwhile
        return TreeImport.run(db, t, what, ImportSource.rows(rows, table), keepIds, true, () -> refuseIfHolding(what, append))
            .imported();
    }

    private void refuseIfHolding(String what, boolean append) {
        long held = db.readOrWrite(r -> r.count(t.dataTree));
        if (held > 0 && !append) {
            throw new TransferRefusedException(what + ": the tree holds " + held + " record" + (held == 1 ? "" : "s")
                + " already, and import cannot check the application's indexes to refuse doubles (append to add"
                + " them anyway; nothing imported)");
        }
    }

    private static List<ImportRow> rows(String table, List<SqlForm.Row> rows) {
        return rows.stream().map(r -> new ImportRow(null, r.id(), r.revision(), r.json(),
            "row " + r.id() + "." + r.revision() + " of table " + table, null, r.origin())).toList();
    }

    @Override
    public String toString() {
        return "GenericTree[" + t.name + "]";
    }
}
