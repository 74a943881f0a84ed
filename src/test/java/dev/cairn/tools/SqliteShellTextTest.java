package dev.cairn.tools;

import static dev.cairn.tools.MainTest.cairn;
import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Cairn;
import dev.cairn.Tree;
import dev.cairn.TreeSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SQL text that the sqlite3 shell loads as exported (probe 102): a date was written as {@code DATE
 * '2026-11-24'}, which sqlite3 refuses, so every row holding one was lost at load; a String holding
 * {@code \r\n} loaded without its {@code \r} (the shell reads the pair as a line end), without an
 * error. A date is now a plain quoted literal, which older files' form still imports beside;
 * a {@code \r\n} is refused, naming the record, as U+0000 is; a lone {@code \r} is written.
 * Where sqlite3 is installed, the export is loaded into it and read back.
 */
class SqliteShellTextTest {
    @TreeSpec(name = "Lot")
    record Lot(String name, LocalDate made) { }

    @TempDir
    Path dir;

    private Path database(String folder, List<Lot> lots) {
        Path db = dir.resolve(folder);
        try (Cairn c = Cairn.open(db)) {
            Tree<Lot> t = c.tree(Lot.class);
            lots.forEach(t::insert);
        }
        return db;
    }

    private List<Lot> lots(Path db) {
        try (Cairn c = Cairn.open(db)) {
            Tree<Lot> t = c.tree(Lot.class);
            return t.keys().stream().map(t::get).toList();
        }
    }

    @Test
    void datesAndLoneCarriageReturnsAreWrittenSoTheSqliteShellLoadsThemAsTheyAre() throws Exception {
        List<Lot> lots = List.of(new Lot("dated", LocalDate.of(2026, 11, 24)), new Lot("undated", null),
            new Lot("cr\rin\nthe\r\u0001middle\r", LocalDate.of(-40, 1, 31)));
        Path db = database("db", lots);
        MainTest.Result sql = cairn("export", db.toString(), "Lot", "--format", "sql");
        assertEquals(0, sql.code(), sql.err());
        assertTrue(sql.out().contains("VALUES (0, 0, 'dated', '2026-11-24');"), sql.out());
        assertFalse(sql.out().contains("DATE '"), sql.out());

        Path file = Files.writeString(dir.resolve("Lot.sql"), sql.out());
        Path target = database("target", List.of());
        MainTest.Result in = cairn("import", target.toString(), "Lot", file.toString(), "--keep-ids");
        assertEquals(0, in.code(), in.err());
        assertEquals(lots, lots(target));

        if (sqlite3() == null) return; // the shell is not installed: the text checks above stand
        Path loaded = dir.resolve("lots.db");
        Process load = new ProcessBuilder(sqlite3(), loaded.toString()).redirectInput(file.toFile())
            .redirectErrorStream(true).start();
        String said = new String(load.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(load.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, load.exitValue(), said);
        assertEquals("", said);
        Process read = new ProcessBuilder(sqlite3(), loaded.toString(),
            "SELECT hex(\"name\") || ' ' || ifnull(\"made\", 'NULL') FROM \"Lot\" ORDER BY \"id\"").start();
        String rows = new String(read.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(read.waitFor(60, TimeUnit.SECONDS));
        StringBuilder expected = new StringBuilder();
        for (Lot lot : lots) {
            expected.append(java.util.HexFormat.of().withUpperCase().formatHex(lot.name().getBytes(StandardCharsets.UTF_8)))
                .append(' ').append(lot.made() == null ? "NULL" : lot.made().toString()).append('\n');
        }
        assertEquals(expected.toString(), rows);
    }

    @Test
    void aStringHoldingACarriageReturnBeforeALineFeedIsRefusedNamingTheRecord() {
        Path db = database("crlf", List.of(new Lot("plain", null), new Lot("line1\r\nline2", null)));
        MainTest.Result sql = cairn("export", db.toString(), "Lot", "--format", "sql");
        assertEquals(1, sql.code(), sql.out());
        assertEquals("", sql.out());
        assertTrue(sql.err().startsWith("cairn export: record Lot/1.0 of tree Lot has no SQL text form: component name holds"
            + " a carriage return before a line feed (\\r\\n, a Windows line end) at index 5, which SQL text cannot carry:"
            + " the sqlite3 shell reads the pair as a line end and drops the \\r, loading another value without an error"),
            sql.err());
        assertTrue(sql.err().contains("JSON lines carry it"), sql.err());
        MainTest.Result jsonl = cairn("export", db.toString(), "Lot");
        assertEquals(0, jsonl.code(), jsonl.err());
        assertTrue(jsonl.out().contains("\"line1\\r\\nline2\""), jsonl.out());
    }

    /** A file an older export wrote, with {@code DATE '...'} literals, imports as it did. */
    @Test
    void anOlderFileWithDateLiteralsStillImports() throws IOException {
        Path target = database("older", List.of());
        Path file = Files.writeString(dir.resolve("older.sql"), "CREATE TABLE \"Lot\" (\"id\" INTEGER NOT NULL, \"revision\""
            + " INTEGER NOT NULL, \"name\" VARCHAR(65535), \"made\" DATE, PRIMARY KEY (\"id\", \"revision\"));\n"
            + "INSERT INTO \"Lot\" (\"id\", \"revision\", \"name\", \"made\") VALUES (0, 0, 'x', DATE '2026-11-24');\n"
            + "-- end of export: 1 rows\n");
        MainTest.Result in = cairn("import", target.toString(), "Lot", file.toString());
        assertEquals(0, in.code(), in.err());
        assertEquals(List.of(new Lot("x", LocalDate.of(2026, 11, 24))), lots(target));
    }

    /** sqlite3's .dump writes INSERTs without a column list, and INSERT OR REPLACE: refused, saying why and what to do. */
    @Test
    void anInsertWithoutAColumnListAndAnInsertOrReplaceAreRefusedSayingWhy() throws IOException {
        Path target = database("dump", List.of());
        String head = "CREATE TABLE Lot(id INTEGER NOT NULL, revision INTEGER NOT NULL, name VARCHAR(65535), made DATE);\n";
        Path file = Files.writeString(dir.resolve("dump.sql"), "BEGIN TRANSACTION;\n" + head
            + "INSERT INTO Lot VALUES(0,0,'x','2026-11-24');\nCOMMIT;\n");
        MainTest.Result in = cairn("import", target.toString(), "Lot", file.toString(), "--no-end-check");
        assertEquals(1, in.code(), in.err());
        assertTrue(in.err().contains("SQL line 3 column 17: INSERT without a column list (expected: INSERT INTO table"
            + " (\"id\", \"revision\", ...) VALUES ..., as export writes it)"), in.err());
        assertTrue(in.err().contains("--jdbc URL"), in.err());

        file = Files.writeString(dir.resolve("replace.sql"), head + "INSERT OR REPLACE INTO Lot (id, revision, name, made)"
            + " VALUES (0, 0, 'x', '2026-11-24');\n");
        in = cairn("import", target.toString(), "Lot", file.toString(), "--no-end-check");
        assertEquals(1, in.code(), in.err());
        assertTrue(in.err().contains("SQL line 2 column 1: statement INSERT OR REPLACE (expected: INSERT INTO): it may"
            + " replace rows"), in.err());
        assertEquals(List.of(), lots(target));
    }

    /** The sqlite3 shell's path, or null when it is not installed. */
    private static String sqlite3() {
        for (String folder : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path p = Path.of(folder.isEmpty() ? "." : folder, "sqlite3");
            if (Files.isExecutable(p)) return p.toString();
        }
        return null;
    }
}
