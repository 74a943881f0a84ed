package dev.cairn.tools;

import static dev.cairn.tools.MainTest.cairn;
import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Cairn;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.TreeSpec;
import dev.cairn.testing.ChildJvm;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn import} reads its file a line (JSON lines) or a statement (SQL) at a time: it read
 * the whole file into one string (probe helper-44), so a file over 2 GiB could never be imported
 * and the heap needed several times the file. Here a file several times larger than the child
 * JVM's heap, whose records are small (its lines are padded with whitespace), imports: only the
 * transaction's pages, not the text, need the heap.
 */
class StreamingImportTest {
    @TreeSpec(name = "Note")
    record Note(String text, int n) { }

    @TempDir Path dir;

    private static final int RECORDS = 12_000;
    /** Whitespace in every line: 12,000 lines of 17 KiB, a 200 MiB file. */
    private static final String PAD = " ".repeat(17 * 1024);

    private Path emptyTree(String name) {
        Path db = dir.resolve(name);
        try (Cairn c = Cairn.open(db)) {
            c.tree(Note.class);
        }
        return db;
    }

    private static void check(Path db) {
        try (Cairn c = Cairn.open(db)) {
            Tree<Note> notes = c.tree(Note.class);
            assertEquals(RECORDS, notes.size());
            assertEquals(new Note("note 0", 0), notes.get(new Key<>("Note", 0, 0)));
            assertEquals(new Note("note " + (RECORDS - 1), RECORDS - 1), notes.get(new Key<>("Note", RECORDS - 1, 0)));
        }
    }

    private record Ran(int code, String out, String err) { }

    /** {@code cairn import} in a child JVM with a 48 MiB heap; stdin from {@code input} when given (a pipe). */
    private static Ran importInChild(Path db, Path file, Path input) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(OutputFailureTest.javaBinary(), "-Xmx48m", "-cp", ChildJvm.classPath(),
            "dev.cairn.tools.Main", "import", db.toString(), "Note", file.toString(), "--keep-ids"));
        Path err = Files.createTempFile("cairn-import-err-", ".txt");
        try {
            Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
            if (input != null) {
                try (OutputStream stdin = p.getOutputStream()) {
                    Files.copy(input, stdin);
                }
            } else {
                p.getOutputStream().close();
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "import did not end");
            return new Ran(p.exitValue(), out, Files.readString(err));
        } finally {
            Files.delete(err);
        }
    }

    @Test
    void aFileFourTimesTheHeapImportsAsJsonLinesAndAsSql() throws IOException, InterruptedException {
        Path jsonl = dir.resolve("notes.jsonl");
        try (BufferedWriter w = Files.newBufferedWriter(jsonl)) {
            for (int i = 0; i < RECORDS; i++) {
                w.write("{\"key\":\"Note/" + i + ".0\"," + PAD + "\"value\":{\"text\":\"note " + i + "\",\"n\":" + i + "}}\n");
                if (i % 1000 == 0) w.write(PAD + "\r\n"); // blank lines, and another line end
            }
            w.write("{\"cairn-export-end\":{\"tree\":\"Note\",\"records\":" + RECORDS + "}}\n"); // the export's end line
        }
        Path sql = dir.resolve("notes.sql");
        try (BufferedWriter w = Files.newBufferedWriter(sql)) {
            w.write("-- a dump; this comment holds a ; and a quote ' that end nothing\nCREATE TABLE \"Note\" (\"id\" INTEGER);\n");
            for (int i = 0; i < RECORDS; i++) {
                w.write("INSERT INTO \"Note\" (\"id\", \"revision\", \"text\", \"n\") VALUES (" + i + ", 0," + PAD + "'note " + i
                    + "', /* ; */ " + i + ");\n");
            }
            w.write("-- end of export: " + RECORDS + " rows\n");
        }
        assertTrue(Files.size(jsonl) > 4 * 48 << 20 && Files.size(sql) > 4 * 48 << 20, "the files are not large");
        for (Path file : List.of(jsonl, sql)) {
            Path db = emptyTree("db-" + file.getFileName());
            Ran r = importInChild(db, file, null);
            assertEquals(0, r.code(), file + ": " + r.err());
            assertEquals("imported " + RECORDS + " records into Note\n", r.out(), file.toString());
            check(db);
        }
        // read once from a pipe (it cannot be read twice): the records of the first reading are kept instead
        Path db = emptyTree("db-pipe");
        Ran r = importInChild(db, Path.of("/dev/stdin"), jsonl);
        assertEquals(0, r.code(), r.err());
        check(db);
    }

    /** A file that is not UTF-8 is said in one line naming the line it fails at; nothing is imported. */
    @Test
    void aFileThatIsNotUtf8IsSaidWithItsLine() throws IOException {
        Path db = emptyTree("db");
        Path file = dir.resolve("latin1.jsonl");
        Files.write(file, "{\"text\":\"a\",\"n\":1}\n{\"text\":\"caf\u00e9\",\"n\":2}\n".getBytes(StandardCharsets.ISO_8859_1));
        MainTest.Result r = cairn("import", db.toString(), "Note", file.toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals("cairn import: cannot read " + file + ": it is not UTF-8 text (at byte 31, line 2)\n", r.err());
        try (Cairn c = Cairn.open(db)) {
            assertEquals(0, c.tree(Note.class).size());
        }
    }
}
