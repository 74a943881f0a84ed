package dev.cairn.tools;

import static dev.cairn.tools.MainTest.cairn;
import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Cairn;
import dev.cairn.GenericTree;
import dev.cairn.TransferRefusedException;
import dev.cairn.Tree;
import dev.cairn.TreeSpec;
import dev.cairn.testing.FakeJdbc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A string or char holding U+0000 (the default of a char, so any record inserted from JSON
 * without its char) was written into SQL text as a raw NUL byte, exit 0: sqlite3 failed at that
 * row and lost it and the next (probe 87). SQL text refuses it, naming the record and component;
 * JSON lines and JDBC carry it, and an older file with the raw byte still imports.
 */
class NulSqlTextExportTest {
    @TreeSpec(name = "N")
    record N(String name, char c) { }

    @TempDir
    Path dir;

    /** Record 0 is plain; record 1 has the char's default, U+0000, or a name holding one. */
    private Path database(String folder, boolean inName) {
        Path db = dir.resolve(folder);
        try (Cairn c = Cairn.open(db)) {
            Tree<N> t = c.tree(N.class);
            t.insert(new N("plain\u0001\t", 'a'));
            t.insert(inName ? new N("a\u0000b", 'b') : new N("after", '\u0000'));
        }
        return db;
    }

    @Test
    void theCommandLineRefusesSqlTextNamingTheRecordAndComponent() {
        Path db = database("db", false);
        MainTest.Result sql = cairn("export", db.toString(), "N", "--format", "sql");
        assertEquals(1, sql.code(), sql.out());
        assertEquals("", sql.out());
        assertEquals("cairn export: record N/1.0 of tree N has no SQL text form: component c holds U+0000 (NUL, the default"
            + " of a char) at index 0, which SQL text cannot carry: sqlite3 and other tools read its byte as the end of the"
            + " text, and lose that row and the next (record-format.md §10); nothing exported (JSON lines carry it: cairn"
            + " export --format jsonl; a JDBC export passes it as a parameter: --jdbc URL, GenericTree.exportJdbc, where the"
            + " database holds it)\n", sql.err());
        MainTest.Result jsonl = cairn("export", db.toString(), "N");
        assertEquals(0, jsonl.code(), jsonl.err());
        assertTrue(jsonl.out().contains("\"c\":\"\\u0000\""), jsonl.out());
    }

    @Test
    void aStringHoldingNulIsRefusedAndOtherControlCharactersAreWritten() {
        try (Cairn c = Cairn.open(database("name", true))) {
            GenericTree tree = c.genericTree("N");
            StringBuilder out = new StringBuilder();
            TransferRefusedException e = assertThrows(TransferRefusedException.class, () -> tree.exportSql("N", out));
            assertTrue(e.getMessage().startsWith("record N/1.0 of tree N has no SQL text form: component name holds U+0000"
                + " (NUL) at index 1,"), e.getMessage());
            assertEquals("", out.toString());
            Tree<N> t = c.tree(N.class);
            t.checkOut(t.key(1, 0)).join();
            t.remove(t.key(1, 0));
            tree.exportSql("N", out);
            assertTrue(out.toString().contains("VALUES (0, 0, 'plain\u0001\t', 'a');"), out.toString()); // sqlite3 loads these
        }
    }

    /** Every record holding U+0000 is named in one refusal, not one per export attempt (probe 91). */
    @Test
    void theRefusalNamesEveryRecordHoldingNul() {
        try (Cairn c = Cairn.open(dir.resolve("many"))) {
            Tree<N> t = c.tree(N.class);
            for (int i = 0; i < 30; i++) t.insert(i % 2 == 0 ? new N("ok" + i, 'x') : new N("n" + i, '\u0000'));
            StringBuilder out = new StringBuilder();
            TransferRefusedException e = assertThrows(TransferRefusedException.class, () -> c.genericTree("N").exportSql("N", out));
            assertTrue(e.getMessage().startsWith("record N/1.0 of tree N has no SQL text form: component c holds U+0000"),
                e.getMessage());
            assertTrue(e.getMessage().endsWith("; 14 more record(s) of the tree are refused as well: N/3.0, N/5.0, N/7.0, N/9.0,"
                + " N/11.0, N/13.0, N/15.0, N/17.0, N/19.0, N/21.0, N/23.0, N/25.0, N/27.0, N/29.0"), e.getMessage());
            assertEquals("", out.toString());
        }
    }

    @Test
    void jdbcCarriesIt() throws SQLException {
        FakeJdbc database = new FakeJdbc();
        try (Cairn c = Cairn.open(database("jdbc", false)); Connection connection = database.connect()) {
            c.genericTree("N").exportJdbc("N", connection);
            assertTrue(database.tables().get("N").rows().stream().anyMatch(row -> row.contains("\u0000")),
                database.tables().toString());
        }
    }

    /** A file an older export wrote, with the raw byte inside a literal, imports as it did: U+0000. */
    @Test
    void anOlderSqlFileWithARawNulStillImports() throws IOException {
        Path target = dir.resolve("target");
        try (Cairn c = Cairn.open(target)) {
            c.tree(N.class);
        }
        Path file = Files.writeString(dir.resolve("N.sql"), "CREATE TABLE \"N\" (\"id\" INTEGER NOT NULL, \"revision\""
            + " INTEGER NOT NULL, \"name\" VARCHAR(65535), \"c\" CHAR(1) NOT NULL, PRIMARY KEY (\"id\", \"revision\"));\n"
            + "INSERT INTO \"N\" (\"id\", \"revision\", \"name\", \"c\") VALUES (0, 0, 'x', '\u0000');\n"
            + "-- end of export: 1 rows\n");
        MainTest.Result in = cairn("import", target.toString(), "N", file.toString());
        assertEquals(0, in.code(), in.err());
        try (Cairn c = Cairn.open(target)) {
            Tree<N> t = c.tree(N.class);
            assertEquals(List.of(new N("x", '\u0000')), t.keys().stream().map(t::get).toList());
        }
    }
}
