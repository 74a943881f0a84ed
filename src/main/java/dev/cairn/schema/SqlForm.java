package dev.cairn.schema;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A tree as SQL text (record-format.md §10): a {@code CREATE TABLE} derived from the tree's latest
 * schema and one {@code INSERT} per record, and back from that text to records (as JSON, which
 * {@link JsonForm#fromJson} encodes).
 *
 * <ul>
 *   <li>Columns: {@code id} and {@code revision} (the primary key), then one column per top-level
 *       component in schema order ({@link SqlColumn}, the mapping JDBC uses too). Scalars, enums and {@code Optional}s of them get SQL types;
 *       every other component (nested records, collections, maps, sealed types) is a
 *       {@code VARCHAR} holding the component's JSON text, so nothing is lost.
 *   <li>Records written by older schema versions are converted to the latest one first (missing
 *       components read as their defaults).
 *   <li>The round trip text → records is exact for every type: numbers as written, byte[] as
 *       {@code X'hex'}, times and ids as ISO/UUID text.
 * </ul>
 */
public final class SqlForm {
    private SqlForm() { }

    /**
     * One row read back: the key columns and the record as JSON text; {@code origin}, where the
     * record's values are in the SQL text, for errors (null: a JDBC table's row); {@code line} and
     * {@code column}, where the row's {@code (...)} starts there, so that errors about the row as a
     * whole (its key held twice) tell rows with one key apart (0: a JDBC table's row).
     */
    public record Row(int id, int revision, String json, JsonOrigin origin, int line, int column) {
        public Row(int id, int revision, String json) {
            this(id, revision, json, null, 0, 0);
        }
    }

    private static final String END_LINE = "-- end of export: ";
    /** The form of {@link #endLine}, for messages. */
    public static final String END_LINE_FORM = END_LINE + "N rows";

    /**
     * The comment line an SQL export ends with, after its last statement (record-format.md §10):
     * {@code -- end of export: N rows}, N the number of rows before it, so that an import can tell
     * a whole export from one cut short.
     */
    public static String endLine(long rows) {
        return END_LINE + rows + " rows";
    }

    /** The rows {@code line} (stripped) counts when it is an SQL export's {@link #endLine}, else -1. */
    public static long endLineRows(String line) {
        if (!line.startsWith(END_LINE) || !line.endsWith(" rows")) return -1;
        String count = line.substring(END_LINE.length(), line.length() - " rows".length());
        if (count.isEmpty() || count.length() > 18 || !count.chars().allMatch(c -> c >= '0' && c <= '9')) return -1;
        return Long.parseLong(count);
    }

    /** The {@code CREATE TABLE} statement for {@code schema}'s root record. */
    public static String createTable(String table, Schema schema) {
        StringBuilder sql = new StringBuilder("CREATE TABLE ").append(identifier(table))
            .append(" (\n  \"id\" INTEGER NOT NULL,\n  \"revision\" INTEGER NOT NULL");
        for (SqlColumn c : SqlColumn.of(schema)) {
            sql.append(",\n  ").append(identifier(c.name())).append(' ').append(c.type().sql());
            if (c.notNull()) sql.append(" NOT NULL");
        }
        return sql.append(",\n  PRIMARY KEY (\"id\", \"revision\")\n);").toString();
    }

    /** The {@code INSERT} statement of one stored record, converted to {@code schema}, one of {@code versions}. */
    public static String insert(String table, int id, int revision, MemorySegment bytes, SchemaVersions versions,
                                Schema schema) {
        StringBuilder sql = insertInto(table, schema).append(id).append(", ").append(revision);
        for (Object value : SqlColumn.values(bytes, versions, schema)) literal(value, sql.append(", "));
        return sql.append(");").toString();
    }

    /**
     * Refuses a record's column values ({@link SqlColumn#values}) that SQL text cannot carry
     * (record-format.md §10), as written raw in a literal (SQL has no escape in one):
     * <ul>
     *   <li>U+0000 (the default of a {@code char}): sqlite3 and other tools that read text as C
     *       strings take the NUL byte for the end of the text and fail at that row and the next;
     *   <li>a carriage return right before a line feed: the sqlite3 shell reads the pair as a
     *       line end and drops the carriage return, loading another value without a word.
     * </ul>
     * Other control characters load as they are. A JDBC export binds the value as a parameter instead.
     *
     * @throws IllegalArgumentException naming the component and where in its value the character is
     */
    public static void checkText(Schema schema, List<Object> values) {
        for (int i = 0; i < values.size(); i++) {
            if (!(values.get(i) instanceof String text)) continue;
            int nul = text.indexOf('\0');
            if (nul >= 0) {
                SqlColumn column = SqlColumn.of(schema).get(i);
                throw new IllegalArgumentException("component " + column.name() + " holds U+0000 (NUL"
                    + (column.type() == SqlColumn.Type.CHAR ? ", the default of a char" : "") + ") at index "
                    + nul + ", which SQL text cannot carry: sqlite3 and other tools read its byte as the end"
                    + " of the text, and lose that row and the next (record-format.md §10)");
            }
            int crlf = text.indexOf("\r\n");
            if (crlf >= 0) {
                throw new IllegalArgumentException("component " + SqlColumn.of(schema).get(i).name() + " holds a carriage"
                    + " return before a line feed (\\r\\n, a Windows line end) at index " + crlf + ", which SQL text cannot"
                    + " carry: the sqlite3 shell reads the pair as a line end and drops the \\r, loading another value"
                    + " without an error (record-format.md §10)");
            }
        }
    }

    /** The {@code INSERT} statement of one row with {@code ?} for each value, as JDBC prepares it. */
    public static String insertParameters(String table, Schema schema) {
        StringBuilder sql = insertInto(table, schema).append("?, ?");
        for (int i = SqlColumn.of(schema).size(); i > 0; i--) sql.append(", ?");
        return sql.append(')').toString();
    }

    /** {@code INSERT INTO "table" ("id", "revision", "c1", ...) VALUES (}. */
    private static StringBuilder insertInto(String table, Schema schema) {
        StringBuilder sql = new StringBuilder("INSERT INTO ").append(identifier(table)).append(" (\"id\", \"revision\"");
        for (SqlColumn c : SqlColumn.of(schema)) sql.append(", ").append(identifier(c.name()));
        return sql.append(") VALUES (");
    }

    /**
     * Whether {@code sql} holds a {@code CREATE TABLE} of {@code table} (what an empty tree's
     * export holds alone), reading statements as {@link #parseInserts} does.
     *
     * @throws IllegalArgumentException as {@link #parseInserts}, for a statement it refuses
     */
    public static boolean createsTable(String sql, String table) {
        try {
            return createsTable(new java.io.StringReader(sql), table);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e); // a StringReader throws none
        }
    }

    /** {@link #createsTable(String, String)} of text read from {@code sql} one statement at a time. */
    public static boolean createsTable(java.io.Reader sql, String table) throws java.io.IOException {
        SqlStatements statements = new SqlStatements(sql);
        boolean created = false;
        for (SqlStatements.Statement s; (s = statements.next()) != null; ) {
            SqlReader reader = new SqlReader(s.text(), s.line(), s.column());
            while (reader.skipToInsert(table)) reader.skipRest();
            created |= reader.createdTable();
        }
        return created;
    }

    /**
     * Reads back every {@code INSERT INTO table} statement of {@code sql} (statements that hold no
     * row, such as the {@code CREATE TABLE}, are skipped; any other is refused) as JSON records of {@code schema}.
     *
     * @throws IllegalArgumentException naming the statement, line and column when the text is
     *     not of the form {@link #insert} writes, or a column is not a component of the schema
     */
    public static List<Row> parseInserts(String sql, String table, Schema schema) {
        List<Row> rows = new ArrayList<>();
        Inserts inserts = new Inserts(new java.io.StringReader(sql), table, schema);
        try {
            for (Row row; (row = inserts.next()) != null; ) rows.add(row);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e); // a StringReader throws none
        }
        return rows;
    }

    /**
     * The rows of the {@code INSERT INTO table} statements of SQL text, read as {@link
     * #parseInserts} reads them but from a {@link java.io.Reader}, one statement at a time: the
     * text is never held whole, so its size is not limited by what one string or the heap holds
     * (one statement is at most {@link dev.cairn.internal.Limits#IMPORT_TEXT_CHARS_MAX}
     * characters). Errors name lines and columns of the whole text.
     */
    public static final class Inserts {
        private final SqlStatements statements;
        private final String table;
        private final Schema schema;
        private final List<SqlColumn> all;
        private final java.util.ArrayDeque<Row> read = new java.util.ArrayDeque<>();
        private boolean createdTable;

        public Inserts(java.io.Reader sql, String table, Schema schema) {
            this.statements = new SqlStatements(sql);
            this.table = table;
            this.schema = schema;
            this.all = SqlColumn.of(schema);
        }

        /**
         * The next row, null after the last.
         *
         * @throws IllegalArgumentException as {@link #parseInserts}
         * @throws java.io.IOException reading the text
         */
        public Row next() throws java.io.IOException {
            while (read.isEmpty()) {
                SqlStatements.Statement s = statements.next();
                if (s == null) return null;
                SqlReader reader = new SqlReader(s.text(), s.line(), s.column());
                while (reader.skipToInsert(table)) {
                    String into = reader.identifierOrWord();
                    if (!into.equals(table)) {
                        throw reader.fail("INSERT INTO " + into + " (expected: table " + table + ")");
                    }
                    List<String> columns = reader.columnList();
                    reader.keyword("VALUES");
                    do {
                        read.add(row(reader, columns, all, schema));
                    } while (reader.comma());
                    reader.statementEnd();
                }
                createdTable |= reader.createdTable();
            }
            return read.poll();
        }

        /** Whether a {@code CREATE TABLE} of the table was among the statements read so far ({@link #createsTable}). */
        public boolean createdTable() {
            return createdTable;
        }
    }

    static Row row(SqlReader reader, List<String> names, List<SqlColumn> all, Schema schema) {
        int[] start = reader.nextPlace();
        List<SqlReader.Literal> literals = reader.valueList();
        if (literals.size() != names.size()) {
            throw reader.fail(literals.size() + " values for " + names.size() + " columns");
        }
        int id = -1;
        int revision = -1;
        List<SqlColumn> columns = new ArrayList<>();
        List<String> given = new ArrayList<>(); // each column's name in the row
        List<Object> values = new ArrayList<>();
        List<SqlReader.Literal> read = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            SqlReader.Literal v = literals.get(i);
            switch (name) {
                case "id" -> id = v.intValue(reader, name);
                case "revision" -> revision = v.intValue(reader, name);
                default -> {
                    SqlColumn column = SqlColumn.named(all, name);
                    if (column == null) {
                        throw reader.fail("column " + name + " is no component of " + SqlColumn.root(schema).name());
                    }
                    int earlier = columns.indexOf(column);
                    if (earlier >= 0) throw reader.fail(SqlColumn.twice(given.get(earlier), name, column));
                    columns.add(column);
                    given.add(name);
                    values.add(value(v));
                    read.add(v);
                }
            }
        }
        if (id < 0 || revision < 0) throw reader.fail("row without id and revision columns");
        int[] starts = new int[columns.size()];
        int[] ends = new int[columns.size()];
        String json = SqlColumn.json(columns, values, starts, ends);
        return new Row(id, revision, json, origin(reader, columns, read, starts, ends), start[0], start[1]);
    }

    /** Where each value of a row's JSON record is in the SQL text ({@link SqlRowOrigin}). */
    private static SqlRowOrigin origin(SqlReader reader, List<SqlColumn> columns, List<SqlReader.Literal> literals,
                                       int[] starts, int[] ends) {
        List<SqlRowOrigin.Value> values = new ArrayList<>(columns.size());
        for (int i = 0; i < columns.size(); i++) {
            SqlReader.Literal l = literals.get(i);
            int[] place = reader.place(l.start());
            // a number is in the JSON as written; a JSON column's string is, between the quotes
            boolean jsonString = l.kind() == SqlReader.LiteralKind.STRING && columns.get(i).type() == SqlColumn.Type.JSON;
            boolean same = l.kind() == SqlReader.LiteralKind.NUMBER || jsonString;
            values.add(new SqlRowOrigin.Value(starts[i], ends[i], columns.get(i).name(), place[0], place[1], reader.source(l), same,
                jsonString));
        }
        return new SqlRowOrigin(List.copyOf(values));
    }

    // ---------------------------------------------------------------- literals

    private static void literal(Object value, StringBuilder sql) {
        switch (value) {
            case null -> sql.append("NULL");
            case Boolean b -> sql.append(b ? "TRUE" : "FALSE");
            case Float f when !Float.isFinite(f) -> quote(f.toString(), sql);
            case Double d when !Double.isFinite(d) -> quote(d.toString(), sql);
            case Number n -> sql.append(n);
            case byte[] bytes -> sql.append("X'").append(HexFormat.of().formatHex(bytes)).append('\'');
            default -> quote(value.toString(), sql);
        }
    }

    /** A literal as a column value of {@link SqlColumn#json}: numbers stay text, so they are read as written. */
    private static Object value(SqlReader.Literal v) {
        return switch (v.kind()) {
            case NULL -> null;
            case BOOLEAN -> Boolean.valueOf(v.text());
            case BINARY -> HexFormat.of().parseHex(v.text());
            case NUMBER -> new SqlColumn.JsonText(v.text());
            case STRING -> v.text();
        };
    }

    /** {@code name} as a double-quoted SQL identifier, {@code "} doubled inside. */
    public static String identifier(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    private static void quote(String text, StringBuilder sql) {
        sql.append('\'').append(text.replace("'", "''")).append('\'');
    }
}
