package dev.cairn.schema;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * SQL text read a statement at a time ({@link SqlForm.Inserts} over {@link SqlStatements}, what
 * {@code cairn import} of a .sql file does, so that the file is never held whole) reads as the
 * whole text read at once does (one {@link SqlReader} over it, as import read it before): the
 * same rows and {@code CREATE TABLE}, or the same error at the same line and column, whatever the
 * statements, quotes and comments, and wherever the reader's chunks of text end.
 */
class SqlStatementsProperties {
    record Note(String text, int n) { }

    private static final Schema SCHEMA = Schema.derive(Note.class);

    /** Pieces of SQL text: statements, quotes and comments holding ; and the other's marks, line ends, and mistakes. */
    private static final String[] PIECES = {
        "INSERT INTO \"T\" (\"id\", \"revision\", \"text\", \"n\") VALUES (1, 0, 'a;b', 2);",
        "INSERT INTO \"T\" (\"id\", \"revision\", \"text\", \"n\") VALUES (2, 0, 'it''s -- no comment /* nor this', 3),\n"
            + "  (3, 1, 'x', -4);",
        "insert into T (id, revision, text, n) values (4, 0, '\u00e9\u4e2d\ud83d\ude00', 5)",
        "INSERT INTO \"T\" (\"id\", \"revision\", \"text\", \"n\") VALUES (5, 0, 'multi\nline\r\ntext', 6) -- after ;\n;",
        "CREATE TABLE \"T\" (\"id\" INTEGER, \"x;\" VARCHAR(3));", "CREATE TABLE \"U\" (\"id\" INTEGER);",
        "BEGIN;", "COMMIT;", ";", " ", "\n", "\r\n", "\r", "\t",
        "-- a comment; with 'a quote\n", "/* a block; 'quote' \"id\"\n over lines */", "/**/", "/*/ still a comment */",
        "-- last line without an end",
        // mistakes, each refused by both readings at the same place
        "REPLACE INTO \"T\" VALUES (1);", "(1, 2);", "INSERT INTO \"U\" (\"id\") VALUES (1);",
        "INSERT INTO \"T\" (\"id\", \"revision\", \"text\", \"n\") VALUES (6, 0, 'x', 'seven');",
        "INSERT INTO \"T\" (\"id\", \"revision\", \"nope\") VALUES (7, 0, 1);",
        "INSERT INTO \"T\" (\"id\", \"revision\", \"text\", \"n\") VALUES (8, 0, 'x', 5--3);",
        "INSERT INTO \"T\" (\"id\", \"revision\") VALUES (9, 0) INSERT INTO \"T\" (\"id\") VALUES (1);",
        "'unterminated", "\"unterminated", "/* does not end", "INSERT INTO \"T\" (\"id\", \"revision\", \"text\") VALUES (1, 0, 'x",
    };

    @Property(tries = 3000)
    void aStatementAtATimeReadsAsTheWholeText(@ForAll long seed) throws IOException {
        Random random = new Random(seed);
        StringBuilder sql = new StringBuilder();
        for (int i = random.nextInt(9); i > 0; i--) sql.append(PIECES[random.nextInt(PIECES.length)]);
        String text = sql.toString();
        assertEquals(wholeText(text), statementAtATime(text, random), text);
        assertEquals(wholeTextCreates(text), createsTable(text, random), text);
    }

    /** The rows and whether the table was created, or the error: as import read the whole text before. */
    private static Object wholeText(String sql) {
        try {
            List<SqlForm.Row> rows = new ArrayList<>();
            List<SqlColumn> all = SqlColumn.of(SCHEMA);
            SqlReader reader = new SqlReader(sql);
            while (reader.skipToInsert("T")) {
                String into = reader.identifierOrWord();
                if (!into.equals("T")) throw reader.fail("INSERT INTO " + into + " (expected: table T)");
                List<String> columns = reader.columnList();
                reader.keyword("VALUES");
                do {
                    rows.add(SqlForm.row(reader, columns, all, SCHEMA));
                } while (reader.comma());
                reader.statementEnd();
            }
            return List.of(rows, reader.createdTable());
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    private static Object statementAtATime(String sql, Random random) throws IOException {
        try {
            List<SqlForm.Row> rows = new ArrayList<>();
            SqlForm.Inserts inserts = new SqlForm.Inserts(new Chunks(sql, random), "T", SCHEMA);
            for (SqlForm.Row row; (row = inserts.next()) != null; ) rows.add(row);
            return List.of(rows, inserts.createdTable());
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    private static Object wholeTextCreates(String sql) {
        try {
            SqlReader reader = new SqlReader(sql);
            while (reader.skipToInsert("T")) reader.skipRest();
            return reader.createdTable();
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    private static Object createsTable(String sql, Random random) throws IOException {
        try {
            return SqlForm.createsTable(new Chunks(sql, random), "T");
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    /** Gives the text in chunks of 1 to 7 characters, as a reader may. */
    private static final class Chunks extends Reader {
        private final String text;
        private final Random random;
        private int at;

        Chunks(String text, Random random) {
            this.text = text;
            this.random = random;
        }

        @Override
        public int read(char[] into, int off, int len) {
            if (at == text.length()) return -1;
            int n = Math.min(Math.min(len, 1 + random.nextInt(7)), text.length() - at);
            text.getChars(at, at + n, into, off);
            at += n;
            return n;
        }

        @Override
        public void close() { }
    }
}
