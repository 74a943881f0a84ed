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
        assertEquals("{\"tree\":\"Note\",\"records\":5}", jsonl.get(5));
        List<String> sql = export(db, "sql").lines().toList();
        assertEquals("-- end of export: 5 rows", sql.get(sql.size() - 1));
        assertEquals(5, sql.stream().filter(l -> l.startsWith("INSERT INTO")).count(), "5 rows, then the end line");
        Path empty = database("empty", 0);
        assertEquals("{\"tree\":\"Note\",\"records\":0}\n", export(empty, "jsonl"), "an empty tree's line, as before");
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
            String end = format.equals("jsonl") ? "{\"tree\":\"Note\",\"records\":N}" : "-- end of export: N rows";
            assertTrue(r.err().contains(file + " ends without the end line " + end + " that cairn export writes after the"
                + " last record") && r.err().contains("an export cut short (killed, its disk full)")
                && r.err().contains("nothing was imported") && r.err().contains("--no-end-check"), r.err());
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
            assertTrue(r.err().contains("the end line says 40 records, but 39 are before it: lines were lost or added"),
                r.err());
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
        assertTrue(r.err().contains("record 5: a line after the end line {\"tree\":..,\"records\":..} of record 4, line 4"
            + " (expected: the end line last; two exports joined into one file?)"), r.err());
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
}
