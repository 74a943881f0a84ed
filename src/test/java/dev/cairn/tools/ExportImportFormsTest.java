package dev.cairn.tools;

import static dev.cairn.tools.MainTest.cairn;
import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Cairn;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.TreeSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What export writes, import reads back, whatever the data: characters JSON allows raw that a
 * line-oriented reader might take for line ends, tree names that need escaping, other layouts of
 * the same JSON; and what import must refuse rather than guess.
 */
class ExportImportFormsTest {
    @TreeSpec(name = "Note")
    record Note(String text, int n) { }

    @TreeSpec(name = "Odd \"Tree\" \\ a/b.1 \u00fc\u2713")
    record Odd(String s) { }

    @TempDir
    Path dir;

    private Path database(String name, List<Note> notes) {
        Path db = dir.resolve(name);
        try (Cairn c = Cairn.open(db)) {
            Tree<Note> t = c.tree(Note.class);
            for (Note n : notes) t.insert(n);
        }
        return db;
    }

    private static List<Note> notes(Path db) {
        try (Cairn c = Cairn.open(db)) {
            Tree<Note> t = c.tree(Note.class);
            return t.keys().stream().map(t::get).toList();
        }
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    /**
     * U+2028, U+2029 and U+0085 are written raw in JSON (record-format.md §7); a line reader's
     * "." does not match them, so import refused the backup export had just written.
     */
    @Test
    void lineAndParagraphSeparatorsInAStringRoundTripThroughJsonLinesAndSql() throws IOException {
        List<Note> written = List.of(new Note("a\u2028b", 1), new Note("c\u2029d", 2), new Note("e\u0085f", 3),
            new Note("\u2028", 4));
        Path source = database("source", written);
        for (String format : List.of("jsonl", "sql")) {
            MainTest.Result export = cairn("export", source.toString(), "Note", "--format", format);
            assertEquals(0, export.code(), export.err());
            Path file = write("notes." + format, export.out());
            Path target = database("target-" + format, List.of());
            MainTest.Result r = cairn("import", target.toString(), "Note", file.toString(), "--keep-ids");
            assertEquals(0, r.code(), format + ": " + r.err());
            assertEquals(written, notes(target), format);
        }
    }

    /**
     * An export is UTF-8, which import reads, whatever the locale: under a POSIX locale (cron,
     * containers, LANG=C) standard output's charset is ASCII, and every other character of the
     * export came out as '?'.
     */
    @Test
    void anExportIsUtf8UnderAnAsciiLocale() throws IOException, InterruptedException {
        List<Note> written = List.of(new Note("caf\u00e9 \u4e2d\u6587 \ud83d\ude00", 1));
        Path source = database("source", written);
        for (String format : List.of("jsonl", "sql")) {
            Process p = new ProcessBuilder(OutputFailureTest.javaBinary(), "-Xmx128m", "-Dstdout.encoding=US-ASCII", "-cp",
                dev.cairn.testing.ChildJvm.classPath(), "dev.cairn.tools.Main", "export", source.toString(), "Note",
                "--format", format).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            byte[] out = p.getInputStream().readAllBytes();
            assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "export did not end");
            assertEquals(0, p.exitValue(), format);
            String text = new String(out, java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(text.contains("caf\u00e9 \u4e2d\u6587 \ud83d\ude00"), format + ": " + text);
            Path file = Files.write(dir.resolve("ascii." + format), out);
            Path target = database("target-" + format, List.of());
            MainTest.Result r = cairn("import", target.toString(), "Note", file.toString(), "--keep-ids");
            assertEquals(0, r.code(), format + ": " + r.err());
            assertEquals(written, notes(target), format);
        }
    }

    /** The key is a JSON string: a tree name with quotes, a backslash, slashes, dots and unicode is escaped and read back. */
    @Test
    void aTreeNameThatNeedsEscapingExportsAsValidJsonAndImportsBack() throws IOException {
        String name = "Odd \"Tree\" \\ a/b.1 \u00fc\u2713";
        Path source = dir.resolve("source");
        Path target = dir.resolve("target");
        try (Cairn c = Cairn.open(source)) {
            Tree<Odd> t = c.tree(Odd.class);
            t.insert(new Odd("x"));
            t.insert(new Odd("y\"z"));
        }
        try (Cairn c = Cairn.open(target)) {
            c.tree(Odd.class);
        }
        MainTest.Result export = cairn("export", source.toString(), name);
        assertEquals(0, export.code(), export.err());
        assertEquals("{\"key\":\"Odd \\\"Tree\\\" \\\\ a/b.1 \u00fc\u2713/1.0\",\"value\":{\"s\":\"y\\\"z\"}}",
            export.out().lines().toList().get(1));
        Path file = write("odd.jsonl", export.out());
        MainTest.Result r = cairn("import", target.toString(), name, file.toString(), "--keep-ids");
        assertEquals(0, r.code(), r.err());
        try (Cairn c = Cairn.open(target)) {
            Tree<Odd> t = c.tree(Odd.class);
            assertEquals(new Odd("y\"z"), t.get(new Key<>(name, 1, 0)));
            assertEquals(2, t.size());
        }
    }

    /**
     * Any layout of the documented object is read (spaces after colons, members in another
     * order, a byte order mark); a line with members besides key, state and value is refused,
     * saying the form expected; a key naming another tree is refused (an export of that tree).
     */
    @Test
    void anExportedLineIsReadInAnyJsonLayoutAndAKeyOfAnotherTreeIsRefused() throws IOException {
        Path db = database("db", List.of());
        Path file = write("spaced.jsonl", "\ufeff{ \"key\": \"Note/4.0\", \"value\": {\"text\": \"a\", \"n\": 1} }\n"
            + "{\"value\":{\"n\":2,\"text\":\"b\"},\"key\":\"Note/7.0\"}\n{\"cairn-export-end\":{\"tree\":\"Note\",\"records\":2}}\n");
        MainTest.Result r = cairn("import", db.toString(), "Note", file.toString(), "--keep-ids");
        assertEquals(0, r.code(), r.err());
        try (Cairn c = Cairn.open(db)) {
            Tree<Note> t = c.tree(Note.class);
            assertEquals(new Note("b", 2), t.get(new Key<>("Note", 7, 0)));
            assertEquals(new Note("a", 1), t.get(new Key<>("Note", 4, 0)));
        }

        Path other = database("other", List.of());
        Path extra = write("extra.jsonl", "{\"key\":\"Note/1.0\",\"value\":{\"text\":\"a\"},\"when\":3}\n");
        r = cairn("import", other.toString(), "Note", extra.toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("record 1: an exported line with the member [when] besides key, state and value")
            && r.err().contains("expected: {\"key\":\"TREE/id.revision\""), r.err());

        Path bom = write("bom.jsonl", "{\"key\":\"Bom/7.0\",\"value\":{\"text\":\"a\"}}\n");
        for (String keep : List.of("--keep-ids", "--append")) {
            r = cairn("import", other.toString(), "Note", bom.toString(), keep);
            assertEquals(1, r.code(), r.err());
            assertTrue(r.err().contains("record 1 has the key Bom/7.0, of tree Bom, not Note") && r.err().contains("nothing imported"),
                r.err());
        }
        assertEquals(List.of(), notes(other));
    }

    @TreeSpec(name = "Lot")
    record LotV1(String name, int qty) { }

    @TreeSpec(name = "Lot")
    record LotV2(String name, long qty, String extra) { }

    /**
     * After an older class reopened a tree (its schema is the current one again), export left out
     * the components records of the newer one hold, saying nothing; and a value the older one
     * cannot hold printed half a line and a garbled error. Now the loss is a warning naming the
     * tree, the records and the components, with --schema-version to carry them; a value that
     * does not fit is refused naming the record, with nothing written.
     */
    @Test
    void anExportInAnOlderCurrentSchemaSaysWhatItCannotCarryAndNeverWritesHalfALine() {
        Path db = dir.resolve("lots");
        try (Cairn c = Cairn.open(db)) {
            c.tree(LotV1.class).insert(new LotV1("a", 1));
        }
        try (Cairn c = Cairn.open(db)) {
            c.tree(LotV2.class).insert(new LotV2("b", 2, "kept"));
            c.tree(LotV2.class).insert(new LotV2("c", 3, ""));
        }
        try (Cairn c = Cairn.open(db)) {
            c.tree(LotV1.class);                                   // the current schema is version 1 again
        }
        MainTest.Result r = cairn("export", db.toString(), "Lot");
        assertEquals(0, r.code(), r.err());
        assertEquals(4, r.out().lines().count(), r.out()); // 3 records and the end line
        assertTrue(r.err().startsWith("cairn export: warning: 1 record of tree Lot holds data that schema version 1 cannot"
            + " carry, in the component [extra]: the record class of schema version") && r.err().contains("--schema-version 2"), r.err());

        r = cairn("export", db.toString(), "Lot", "--schema-version", "2");
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        assertTrue(r.out().contains("{\"key\":\"Lot/1.0\",\"value\":{\"name\":\"b\",\"qty\":2,\"extra\":\"kept\"}}"), r.out());

        try (Cairn c = Cairn.open(db)) {
            c.tree(LotV2.class).insert(new LotV2("wide", 3_000_000_000L, ""));
        }
        try (Cairn c = Cairn.open(db)) {
            c.tree(LotV1.class);
        }
        for (String format : List.of("jsonl", "sql")) {
            r = cairn("export", db.toString(), "Lot", "--format", format);
            assertEquals(1, r.code(), r.err());
            assertEquals("", r.out(), "wrote part of the export");
            assertTrue(r.err().startsWith("cairn export: record Lot/3.0 cannot be written in schema version 1 of tree Lot:")
                && r.err().contains(": LotV1.qty: stored value 3000000000 does not fit") && r.err().contains("nothing exported")
                && r.err().contains("Export in schema version 2 to carry it: that version carries every record of the"
                    + " tree whole"), r.err());
        }
    }

    @TreeSpec(name = "Item")
    record ItemV1(String name, int qty, Integer maybe) { }

    /** The newer class: removed maybe, widened qty. */
    @TreeSpec(name = "Item")
    record ItemV2(String name, long qty) { }

    /**
     * When the current class removed a component, the warning said an older class had reopened
     * the tree after a newer one, and always advised --schema-version of the writer, which fails
     * once that version cannot hold another record (probe-50). It now says both ways a version
     * lacks a component, and names a version only when it carries every record.
     */
    @Test
    void theWarningOfAComponentTheCurrentClassRemovedIsTrueAndAdvisesOnlyAVersionThatCarriesAll() {
        Path db = dir.resolve("items");
        try (Cairn c = Cairn.open(db)) {
            c.tree(ItemV1.class).insert(new ItemV1("old", 1, 7));
        }
        try (Cairn c = Cairn.open(db)) {
            c.tree(ItemV2.class).insert(new ItemV2("new", 2));  // the current schema: version 2, without maybe
        }
        MainTest.Result r = cairn("export", db.toString(), "Item");
        assertEquals(0, r.code(), r.err());
        assertEquals("cairn export: warning: 1 record of tree Item holds data that schema version 2 cannot carry, in the"
            + " component [maybe]: the record class of schema version 2 lacks the component, or a constant or variant in"
            + " it, or types it so that a value does not fit, and this export holds what that class reads there (nothing"
            + " for a component it lacks, its @Fallback for a constant, 0 or false for a null, a narrower number); the"
            + " database keeps the data as it is. To export that data too,"
            + " give --schema-version 1, which carries every record of the tree whole (a database that knows that version"
            + " imports it)\n", r.err());
        r = cairn("export", db.toString(), "Item", "--schema-version", "1");
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        assertTrue(r.out().contains("\"maybe\":7") && r.out().contains("\"name\":\"new\""), r.out());

        try (Cairn c = Cairn.open(db)) {
            c.tree(ItemV2.class).insert(new ItemV2("wide", 5_000_000_000L)); // version 1 cannot hold it
        }
        r = cairn("export", db.toString(), "Item");
        assertEquals(0, r.code(), r.err());
        assertEquals(4, r.out().lines().count(), r.out()); // 3 records and the end line
        assertTrue(r.err().endsWith("the database keeps the data as it is. No single schema"
            + " version of the tree carries every record whole (each lacks data some record holds, or cannot hold a value"
            + " of another), so no --schema-version exports it all: the data stays in the database, for a record class"
            + " that has all of it\n"), r.err());
        assertFalse(r.err().contains("--schema-version 1"), r.err());
    }

    @TreeSpec(name = "Evo")
    record EvoV1(String name, int a, String gone) { }

    @TreeSpec(name = "Evo")
    record EvoV2(String name, int a, String added) { }

    @TreeSpec(name = "Evo")
    record EvoV3(String name, long a, String added) { }

    /**
     * The refusal of a value the current version cannot hold advised the version that wrote it
     * "to carry it", though that version left out a component of other records (probe-56), and
     * named the component "EvoV2: .a". It now follows the warning's rule: a version is advised as
     * carrying the data only when it carries every record whole; else it says none does, and
     * which version writes every record and what that one leaves out.
     */
    @Test
    void theRefusalAdvisesAVersionToCarryTheDataOnlyWhenItCarriesEveryRecordWhole() {
        Path db = dir.resolve("evo");
        try (Cairn c = Cairn.open(db)) {
            c.tree(EvoV1.class).insert(new EvoV1("r1", 1, "x"));      // version 1: gone holds data
        }
        try (Cairn c = Cairn.open(db)) {
            c.tree(EvoV2.class).insert(new EvoV2("r2", 2, "y"));      // version 2: gone removed, added added
        }
        try (Cairn c = Cairn.open(db)) {
            c.tree(EvoV3.class).insert(new EvoV3("r3", 5_000_000_000L, null)); // version 3: a widened
        }
        try (Cairn c = Cairn.open(db)) {
            c.tree(EvoV2.class);                                  // the current schema is version 2 again
        }
        MainTest.Result r = cairn("export", db.toString(), "Evo");
        assertEquals(1, r.code(), r.err());
        assertEquals("", r.out());
        assertEquals("cairn export: record Evo/2.0 cannot be written in schema version 2 of tree Evo: EvoV2.a: stored value"
            + " 5000000000 does not fit the reader's int (data written by a newer, wider schema version); nothing exported."
            + " No single schema version of the tree carries every record whole. Export in schema version 3 to write every"
            + " record, this one included; it leaves out the component [gone] of 1 other record, which its warning lists"
            + " (the database keeps them) (--schema-version N)\n", r.err());

        r = cairn("export", db.toString(), "Evo", "--schema-version", "3");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().startsWith("cairn export: warning: 1 record of tree Evo holds data that schema version 3 cannot"
            + " carry, in the component [gone]"), r.err());
    }

    /**
     * export --jdbc lacked what a file export has: the warning when the current schema cannot
     * carry stored data, and --schema-version N, which carries it (it was "unknown option").
     */
    @Test
    void aJdbcExportWarnsOfDataItCannotCarryAndTakesSchemaVersion() throws java.sql.SQLException {
        Path db = dir.resolve("lots");
        try (Cairn c = Cairn.open(db)) {
            c.tree(LotV1.class).insert(new LotV1("a", 1));
        }
        try (Cairn c = Cairn.open(db)) {
            c.tree(LotV2.class).insert(new LotV2("b", 2, "kept"));
        }
        try (Cairn c = Cairn.open(db)) {
            c.tree(LotV1.class);                                   // the current schema is version 1 again
        }
        dev.cairn.testing.FakeJdbc database = dev.cairn.testing.FakeDriver.register("forms-test");
        try {
            MainTest.Result r = cairn("export", db.toString(), "Lot", "--jdbc", "jdbc:fake:forms-test", "--table", "v1");
            assertEquals(0, r.code(), r.err());
            assertTrue(r.err().startsWith("cairn export: warning: 1 record of tree Lot holds data that schema version 1"
                + " cannot carry, in the component [extra]: the record class of schema version") && r.err().contains("--schema-version 2"),
                r.err());
            assertEquals(List.of("id", "revision", "name", "qty"), database.tables().get("v1").columns());

            r = cairn("export", db.toString(), "Lot", "--jdbc", "jdbc:fake:forms-test", "--table", "v2", "--schema-version", "2");
            assertEquals(0, r.code(), r.err());
            assertEquals("", r.err());
            assertEquals("exported 2 records of Lot to table v2 at jdbc:fake:forms-test\n", r.out());
            assertEquals(List.of("id", "revision", "name", "qty", "extra"), database.tables().get("v2").columns());
            assertTrue(database.tables().get("v2").rows().stream().anyMatch(row -> row.contains("kept")),
                database.tables().get("v2").rows().toString());
        } finally {
            dev.cairn.testing.FakeDriver.drop("forms-test");
        }
    }

    /**
     * An empty tree's export imports as 0 records (exit 0): its JSON lines are the one line
     * {"tree":..,"records":0}, its SQL a CREATE TABLE alone. An empty file, what a failed export
     * leaves behind a redirect, is still refused.
     */
    @Test
    void anEmptyTreesExportImportsAndAnEmptyFileIsRefused() throws IOException {
        Path db = database("empty", List.of());
        for (String format : List.of("jsonl", "sql")) {
            MainTest.Result export = cairn("export", db.toString(), "Note", "--format", format);
            assertEquals(0, export.code(), export.err());
            if (format.equals("jsonl")) assertEquals("{\"cairn-export-end\":{\"tree\":\"Note\",\"records\":0}}\n", export.out());
            Path file = write("empty." + format, export.out());
            MainTest.Result r = cairn("import", db.toString(), "Note", file.toString(), "--keep-ids");
            assertEquals(0, r.code(), format + ": " + r.err());
            assertEquals("imported 0 records into Note\n", r.out());

            Path nothing = write("nothing." + format, "");
            r = cairn("import", db.toString(), "Note", nothing.toString());
            assertEquals(1, r.code(), r.err());
            assertTrue(r.err().contains("holds no records and is no export of an empty tree"), r.err());
        }
        assertEquals(List.of(), notes(db));
    }

    /**
     * A statement that may add or change rows and that import does not read (REPLACE, UPDATE, an
     * INSERT OR REPLACE) is refused, naming it, with nothing imported; an INSERT after a block
     * comment is read (it was skipped: 4 of 5 rows imported, exit 0).
     */
    @Test
    void anSqlStatementImportDoesNotReadIsRefusedAndCommentsAreSkipped() throws IOException {
        Path source = database("source", List.of(new Note("a", 1), new Note("b", 2), new Note("c", 3)));
        String sql = cairn("export", source.toString(), "Note", "--format", "sql").out();
        List<String> lines = sql.lines().toList();
        String rows = String.join("\n", lines.subList(lines.size() - 4, lines.size() - 1)); // before the end line
        String commented = sql.replace("INSERT INTO \"Note\" (\"id\", \"revision\", \"text\", \"n\") VALUES (1,",
            "/* the second; 'row' */ INSERT INTO \"Note\" (\"id\", \"revision\", \"text\", \"n\") VALUES (1,");
        assertNotEquals(sql, commented);
        Path target = database("target", List.of());
        MainTest.Result r = cairn("import", target.toString(), "Note",
            write("commented.SQL", "BEGIN; -- a 'dump'\n" + commented.replace("-- end of export", "COMMIT;\n-- end of export"))
                .toString(), "--keep-ids");
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of(new Note("a", 1), new Note("b", 2), new Note("c", 3)), notes(target));

        Path other = database("other", List.of());
        for (String statement : List.of(rows.replace("INSERT INTO", "REPLACE INTO"), "UPDATE \"Note\" SET \"n\" = 5;",
            rows.replaceFirst("INSERT INTO", "INSERT OR REPLACE INTO"))) {
            r = cairn("import", other.toString(), "Note", write("odd.sql", sql + statement + "\n").toString());
            assertEquals(1, r.code(), statement + ": " + r.err());
            assertTrue(r.err().contains("nothing imported"), r.err());
            assertEquals(List.of(), notes(other), statement);
        }
        assertTrue(cairn("import", other.toString(), "Note", write("replace.sql", sql + "REPLACE INTO \"Note\" VALUES (9, 0, 'z', 9);\n")
            .toString()).err().contains("statement REPLACE (expected: INSERT INTO, or one that holds no row and is skipped"));
    }

    record Dims(String note, int h) { }

    @TreeSpec(name = "Box")
    record Box(String label, int qty, Dims dims, float f) { }

    /** Column (1-based) of {@code part}'s first occurrence in line {@code line} (1-based) of {@code text}. */
    private static int column(String text, int line, String part) {
        return text.lines().toList().get(line - 1).indexOf(part) + 1;
    }

    /**
     * An error in a record names the file's line and column: of the value in a JSON line (it named
     * the column inside the value object, on "JSON line 1"), of the value's literal in SQL (it named
     * a place, and quoted text, of a JSON record built from the row, which the file does not hold).
     */
    @Test
    void anImportErrorNamesTheLineAndColumnOfTheFile() throws IOException {
        Path db = dir.resolve("boxes");
        try (Cairn c = Cairn.open(db)) {
            c.tree(Box.class);
        }
        String jsonl = "{\"key\":\"Box/0.0\",\"value\":{\"label\":\"a\",\"qty\":1}}\n\n"
            + "   {\"key\":\"Box/1.0\",\"value\":{\"label\":\"b\",\"qty\":\"many\"}}\n";
        MainTest.Result r = cairn("import", db.toString(), "Box", write("bad.jsonl", jsonl).toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("record 2: line 3 column " + column(jsonl, 3, "\"many\"") + " at Box.qty: expected a"
            + " number (found '\"many\"}')"), r.err());
        // bare record objects, \r\n line ends, a line that starts with a tab (counted as a column)
        String floats = "{\"f\":1.5}\r\n\t{\"label\":\"x\", \"f\":1e40}\n";
        r = cairn("import", db.toString(), "Box", write("floats.jsonl", floats).toString());
        assertTrue(r.err().contains("record 2: line 2 column " + column(floats, 2, "1e40") + " at Box.f: float 1e40 out of"
            + " range"), r.err());
        assertEquals(20, column(floats, 2, "1e40"));

        String head = "CREATE TABLE \"Box\" (\"id\" INTEGER NOT NULL, \"revision\" INTEGER NOT NULL, \"label\" VARCHAR(65535),"
            + " \"qty\" INTEGER NOT NULL, \"dims\" VARCHAR(65535), \"f\" REAL NOT NULL, PRIMARY KEY (\"id\", \"revision\"));\n";
        String insert = "INSERT INTO \"Box\" (\"id\", \"revision\", \"label\", \"qty\", \"dims\", \"f\") VALUES ";
        // a quoted string where a number goes: the literal is named, as the file has it, nothing of the JSON quoted
        String sql = head + insert + "(0, 0, 'a', 1, NULL, 1.5);\n" + insert + "(1, 0, 'b', 'many', NULL, 2.5);\n";
        r = cairn("import", db.toString(), "Box", write("bad.sql", sql).toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("row 1.0 of table Box: SQL line 3 column " + column(sql, 3, "'many'") + " (column qty, value"
            + " 'many') at Box.qty: expected a number (nothing imported)"), r.err());
        // text in a numeric column is a string, never JSON: it cannot add members to the record
        sql = head + insert + "(1, 0, 'b', '1,\"label\":\"c\"', NULL, 2.5);\n";
        r = cairn("import", db.toString(), "Box", write("inject.sql", sql).toString());
        assertTrue(r.err().contains("SQL line 2 column " + column(sql, 2, "'1,") + " (column qty, value '1,\"label\":\"c\"')"
            + " at Box.qty: expected a number"), r.err());
        // a number out of range: its literal's place, and only its own text quoted
        sql = head + insert + "(1, 0, 'b', 2, NULL,\n  1e40);\n";
        r = cairn("import", db.toString(), "Box", write("float.sql", sql).toString());
        assertTrue(r.err().contains("SQL line 3 column 3 (column f) at Box.f: float 1e40 out of range: its magnitude is above"
            + " 3.4028235E38, the largest finite float (an infinity is written \"Infinity\" or \"-Infinity\") (found"
            + " '1e40')"), r.err());
        // inside a JSON column's text: the place in the literal, over a line end and a doubled quote
        sql = head + insert + "(1, 0, 'b', 2, '{\"note\":\n\"it''s\",\"h\":\"x\"}', 2.5);\n";
        r = cairn("import", db.toString(), "Box", write("json.sql", sql).toString());
        assertTrue(r.err().contains("row 1.0 of table Box: SQL line 3 column " + column(sql, 3, "\"x\"") + " (column dims)"
            + " at Box.dims.h: expected a number (found '\"x\"}')"), r.err());
        try (Cairn c = Cairn.open(db)) {
            assertEquals(0, c.tree(Box.class).size());
        }
    }
}
