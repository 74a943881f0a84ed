package dev.cairn.tools;

import static dev.cairn.tools.MainTest.cairn;
import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Cairn;
import dev.cairn.Tree;
import dev.cairn.TreeSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every export ends with an end line that counts its records, and import refuses a file in the
 * export's form without it (record-format.md §10). Probe 61: an export killed with kill -9 ended
 * exactly at a record boundary, and its import succeeded with about half the records, exit 0.
 */
class ExportEndLineTest {
    @TreeSpec(name = "Note")
    record Note(String text, int n) { }

    /** A record whose object has the members an empty tree's export line had before 2026-12-05 (probe 67). */
    @TreeSpec(name = "Stat")
    record Stat(String tree, int records) { }

    @TempDir Path dir;

    private Path database(String name, int count) {
        Path db = dir.resolve(name);
        try (Cairn c = Cairn.open(db)) {
            Tree<Note> t = c.tree(Note.class);
            for (int i = 0; i < count; i++) t.insert(new Note("note " + i, i));
        }
        return db;
    }

    private static long size(Path db) {
        try (Cairn c = Cairn.open(db)) {
            return c.tree(Note.class).size();
        }
    }

    private String export(Path db, String format) {
        MainTest.Result r = cairn("export", db.toString(), "Note", "--format", format);
        assertEquals(0, r.code(), r.err());
        return r.out();
    }

    @Test
    void everyExportEndsWithItsEndLineCountingTheRecords() {
        Path db = database("db", 5);
        List<String> jsonl = export(db, "jsonl").lines().toList();
        assertEquals(6, jsonl.size());
        assertEquals("{\"cairn-export-end\":{\"tree\":\"Note\",\"records\":5}}", jsonl.get(5));
        List<String> sql = export(db, "sql").lines().toList();
        assertEquals("-- end of export: 5 rows", sql.get(sql.size() - 1));
        assertEquals(5, sql.stream().filter(l -> l.startsWith("INSERT INTO")).count(), "5 rows, then the end line");
        Path empty = database("empty", 0);
        assertEquals("{\"cairn-export-end\":{\"tree\":\"Note\",\"records\":0}}\n", export(empty, "jsonl"),
            "an empty tree's export: its end line alone");
        assertTrue(export(empty, "sql").endsWith(");\n-- end of export: 0 rows\n"), export(empty, "sql"));
    }

    /** The probe's file: cut at a record boundary, without the end line (and without a last newline). */
    @Test
    void anExportCutShortAtARecordBoundaryIsRefusedNothingImported() throws IOException {
        Path db = database("db", 40);
        for (String format : List.of("jsonl", "sql")) {
            String text = export(db, format);
            String cut = text.substring(0, text.indexOf('\n', text.length() / 2)); // ends right after a whole record
            Path file = Files.writeString(dir.resolve("cut." + format), cut);
            Path target = database("target-" + format, 0);
            MainTest.Result r = cairn("import", target.toString(), "Note", file.toString());
            assertEquals(1, r.code(), format + ": " + r.out() + r.err() + "\n" + cut.substring(cut.length() - 200));
            String end = format.equals("jsonl") ? "{\"cairn-export-end\":{\"tree\":\"Note\",\"records\":N}}"
                : "-- end of export: N rows";
            assertTrue(r.err().contains(file + " ends without the end line " + end + " that cairn export writes after the"
                + " last record") && r.err().contains("an export cut short (killed, its disk full)")
                && r.err().contains("--no-end-check"), r.err());
            // said once, not again after the message
            assertEquals(1, r.err().split("nothing imported", -1).length - 1, r.err());
            assertFalse(r.err().contains("nothing was imported"), r.err());
            assertEquals(0L, size(target), format);

            // the whole export imports, and one missing a line in the middle is refused by its count
            assertEquals(0, cairn("import", target.toString(), "Note", Files.writeString(file, text).toString()).code());
            assertEquals(40L, size(target));
            List<String> lines = new ArrayList<>(text.lines().toList());
            lines.remove(format.equals("jsonl") ? 3 : lines.indexOf(lines.stream().filter(l -> l.startsWith("INSERT")).toList()
                .get(3)));
            Path lost = Files.writeString(dir.resolve("lost." + format), String.join("\n", lines) + "\n");
            Path other = database("other-" + format, 0);
            r = cairn("import", other.toString(), "Note", lost.toString());
            assertEquals(1, r.code(), r.err());
            // named as the end line, by its line, not as a record after the last one
            String endLine = format.equals("jsonl") ? "the end line at line 40" : "the end line at SQL line "
                + (lines.size());
            assertTrue(r.err().contains(endLine + " says 40 records, but 39 are before it: lines were lost or added"),
                r.err());
            assertFalse(r.err().contains("record 40"), r.err());
            assertEquals(0L, size(other));
        }
    }

    @Test
    void twoExportsJoinedAreRefusedAtTheFirstEndLine() throws IOException {
        Path db = database("db", 3);
        String text = export(db, "jsonl");
        Path joined = Files.writeString(dir.resolve("joined.jsonl"), text + text);
        MainTest.Result r = cairn("import", database("target", 0).toString(), "Note", joined.toString(), "--append");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("line 5: a line after the end line at line 4 (expected: the end line last; two exports"
            + " joined into one file?)"), r.err());
    }

    /** Other programs' files stay importable by a rule: bare objects need no end line; --no-end-check takes the rest. */
    @Test
    void bareObjectsNeedNoEndLineAndTheSplitPartsOfAnExportImportWithNoEndCheck() throws IOException {
        Path target = database("target", 0);
        Path bare = Files.writeString(dir.resolve("bare.jsonl"), "{\"text\":\"a\",\"n\":1}\n{\"text\":\"b\",\"n\":2}");
        MainTest.Result r = cairn("import", target.toString(), "Note", bare.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(2L, size(target));

        List<String> lines = export(database("db", 10), "jsonl").lines().toList();
        Path first = Files.writeString(dir.resolve("part-aa"), String.join("\n", lines.subList(0, 6)) + "\n");
        Path last = Files.writeString(dir.resolve("part-ab"), String.join("\n", lines.subList(6, 11)) + "\n");
        Path split = database("split", 0);
        assertEquals(1, cairn("import", split.toString(), "Note", first.toString(), "--keep-ids").code(), "a part is no export");
        for (Path part : List.of(first, last)) {
            r = cairn("import", split.toString(), "Note", part.toString(), "--append", "--keep-ids", "--no-end-check");
            assertEquals(0, r.code(), part + ": " + r.err());
        }
        assertEquals(10L, size(split));
    }

    private List<Stat> stats(Path db) {
        try (Cairn c = Cairn.open(db)) {
            List<Stat> all = new ArrayList<>();
            c.tree(Stat.class).forEach((key, v) -> all.add(v));
            return all;
        }
    }

    private Path statDatabase(String name, Stat... records) {
        Path db = dir.resolve(name);
        try (Cairn c = Cairn.open(db)) {
            Tree<Stat> t = c.tree(Stat.class);
            for (Stat s : records) t.insert(s);
        }
        return db;
    }

    /**
     * Probe 67: the end line had the form of a record object, so a bare record of a class with the components tree and
     * records was taken for an end line (0 records imported, exit 0), or refused as an export of another tree. The end
     * line's member name is no Java identifier now, so no record line is one.
     */
    @Test
    void aRecordWithTheComponentsTreeAndRecordsIsARecordNotAnEndLine() throws IOException {
        Path target = statDatabase("target");
        Path bare = Files.writeString(dir.resolve("bare.jsonl"), "{\"tree\":\"x\",\"records\":7}\n{\"tree\":\"Stat\",\"records\":1}\n");
        MainTest.Result r = cairn("import", target.toString(), "Stat", bare.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of(new Stat("x", 7), new Stat("Stat", 1)), stats(target));

        // the probe's file, with the end line after it: the one record, not an empty export
        Path one = statDatabase("one");
        Path ended = Files.writeString(dir.resolve("ended.jsonl"),
            "{\"tree\":\"Stat\",\"records\":0}\n{\"cairn-export-end\":{\"tree\":\"Stat\",\"records\":1}}\n");
        r = cairn("import", one.toString(), "Stat", ended.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("imported 1 record into Stat\n", r.out());
        assertEquals(List.of(new Stat("Stat", 0)), stats(one));

        // such records export and import back whole, whatever their values
        Path source = statDatabase("source", new Stat("Stat", 0), new Stat("Stat", 2), new Stat("tree", 1));
        r = cairn("export", source.toString(), "Stat");
        assertEquals(0, r.code(), r.err());
        Path again = statDatabase("again");
        r = cairn("import", again.toString(), "Stat", Files.writeString(dir.resolve("stat.jsonl"), r.out()).toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(stats(source), stats(again));

        // an older cairn's export of an empty tree, the file's only line, still imports as that
        r = cairn("import", statDatabase("older").toString(), "Stat",
            Files.writeString(dir.resolve("older.jsonl"), "{\"tree\":\"Stat\",\"records\":0}\n").toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("imported 0 records into Stat\n", r.out());
    }

    /** The end line's member is no record's, so its JSON layout does not matter (probe 67: it was read as a record). */
    @Test
    void anEndLineInAnyLayoutIsTheEndLine() throws IOException {
        List<String> lines = export(database("db", 3), "jsonl").lines().toList();
        String spaced = String.join("\n", lines.subList(0, 3))
            + "\n  { \"cairn-export-end\" :\t{ \"records\" : 3 , \"tree\" : \"Note\" } }  \n";
        Path target = database("target", 0);
        MainTest.Result r = cairn("import", target.toString(), "Note", Files.writeString(dir.resolve("spaced.jsonl"), spaced)
            .toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(3L, size(target));

        // a spaced end line that counts wrong is named as the end line, by its line
        String wrong = spaced.replace(": 3 ,", ": 1000 ,");
        r = cairn("import", database("other", 0).toString(), "Note", Files.writeString(dir.resolve("wrong.jsonl"), wrong)
            .toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("the end line at line 4 says 1000 records, but 3 are before it"), r.err());
        assertFalse(r.err().contains("record 4") || r.err().contains("unknown member"), r.err());

        // one of another tree, or with members besides its own, is refused as the end line it is
        r = cairn("import", database("another", 0).toString(), "Note", Files.writeString(dir.resolve("another.jsonl"),
            spaced.replace("\"Note\" }", "\"Part\" }")).toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("the end line at line 4 names the tree \"Part\", not \"Note\""), r.err());
        r = cairn("import", database("more", 0).toString(), "Note", Files.writeString(dir.resolve("more.jsonl"),
            spaced.replace("} }", "}, \"x\": 1 }")).toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("the end line at line 4: members besides \"cairn-export-end\": [x] (expected: the end line"
            + " {\"cairn-export-end\":{\"tree\":\"Note\",\"records\":N}}, N the number of records before it)"), r.err());
    }

    /** Probe 67: an empty tree's export into a tree holding records was refused as doubling them: it adds none. */
    @Test
    void anEmptyTreesExportImportsIntoATreeHoldingRecordsWithoutAppend() throws IOException {
        Path target = database("target", 2);
        for (String format : List.of("jsonl", "sql")) {
            Path file = Files.writeString(dir.resolve("empty." + format), export(database("empty-" + format, 0), format));
            MainTest.Result r = cairn("import", target.toString(), "Note", file.toString());
            assertEquals(0, r.code(), format + ": " + r.err());
            assertEquals("imported 0 records into Note\n", r.out(), format);
            assertEquals(2L, size(target));
        }
        // a file with records is still refused without --append: they would be added beside those there
        Path some = Files.writeString(dir.resolve("some.jsonl"), export(database("some", 1), "jsonl"));
        MainTest.Result r = cairn("import", target.toString(), "Note", some.toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("tree Note holds 2 records already") && r.err().contains("give --append (nothing imported)"),
            r.err());
        assertEquals(1, r.err().split("nothing imported", -1).length - 1, r.err());
        assertEquals(2L, size(target));
    }
}
