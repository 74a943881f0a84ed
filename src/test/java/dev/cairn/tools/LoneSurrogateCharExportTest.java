package dev.cairn.tools;

import static dev.cairn.tools.MainTest.cairn;
import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Cairn;
import dev.cairn.GenericTree;
import dev.cairn.Tree;
import dev.cairn.TransferRefusedException;
import dev.cairn.TreeSpec;
import dev.cairn.testing.FakeJdbc;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A char holding an unpaired surrogate has no SQL form (record-format.md §10): no UTF-8 text and
 * no CHAR(1) column holds it. The SQL exports refuse its record, naming it and the component, with
 * nothing written; JSON lines carry it (probe-61: {@code export --format sql} wrote it as '?',
 * exit 0, and its import read back U+003F).
 */
class LoneSurrogateCharExportTest {
    @TreeSpec(name = "C")
    record C(char c, String s, Optional<Character> o) { }

    private static final String REFUSED = "record C/1.0 of tree C has no SQL form: component %s holds the char U+%s, an"
        + " unpaired surrogate (half of a character beyond U+FFFF), which neither SQL text (UTF-8) nor a CHAR(1) column"
        + " holds (record-format.md §10); nothing exported (JSON lines carry it: cairn export --format jsonl,"
        + " GenericTree.exportJsonLines)";

    @TempDir
    Path dir;

    /** Record 0 is plain, record 1 holds the lone surrogate in {@code c} or in {@code o}. */
    private Path database(String name, boolean inOptional) {
        Path db = dir.resolve(name);
        String emoji = "\uD83D\uDE00";
        try (Cairn c = Cairn.open(db)) {
            Tree<C> t = c.tree(C.class);
            t.insert(new C('a', emoji, Optional.of('b')));
            t.insert(inOptional ? new C('a', emoji, Optional.of(emoji.charAt(1))) : new C(emoji.charAt(0), emoji, Optional.empty()));
        }
        return db;
    }

    @Test
    void theCommandLineRefusesTheSqlExportAndCarriesTheCharInJsonLines() throws IOException {
        Path db = database("db", false);
        MainTest.Result sql = cairn("export", db.toString(), "C", "--format", "sql");
        assertEquals(1, sql.code(), sql.err());
        assertEquals("", sql.out());
        assertEquals("cairn export: " + REFUSED.formatted("c", "D83D") + "\n", sql.err());

        MainTest.Result jsonl = cairn("export", db.toString(), "C");
        assertEquals(0, jsonl.code(), jsonl.err());
        assertTrue(jsonl.out().contains("\"c\":\"\\ud83d\""), jsonl.out());
        Path target = dir.resolve("target");
        try (Cairn c = Cairn.open(target)) {
            c.tree(C.class);
        }
        Path file = Files.writeString(dir.resolve("C.jsonl"), jsonl.out());
        MainTest.Result in = cairn("import", target.toString(), "C", file.toString(), "--keep-ids");
        assertEquals(0, in.code(), in.err());
        try (Cairn c = Cairn.open(target)) {
            Tree<C> t = c.tree(C.class);
            assertEquals('\uD83D', t.get(t.key(1, 0)).c());
        }
    }

    @Test
    void sqlTextRefusesTheRecordWritingNothingAlsoInAnOptional() {
        for (boolean inOptional : List.of(false, true)) {
            try (Cairn c = Cairn.open(database("text-" + inOptional, inOptional))) {
                StringBuilder out = new StringBuilder();
                GenericTree tree = c.genericTree("C");
                TransferRefusedException e = assertThrows(TransferRefusedException.class, () -> tree.exportSql("C", out));
                assertEquals(inOptional ? REFUSED.formatted("o", "DE00") : REFUSED.formatted("c", "D83D"), e.getMessage());
                assertEquals("", out.toString());
            }
        }
    }

    @Test
    void aJdbcExportRefusesTheRecordBeforeAnyStatement() throws SQLException {
        FakeJdbc database = new FakeJdbc();
        try (Cairn c = Cairn.open(database("jdbc", false)); Connection connection = database.connect()) {
            TransferRefusedException e = assertThrows(TransferRefusedException.class,
                () -> c.genericTree("C").exportJdbc("C", connection));
            assertEquals(REFUSED.formatted("c", "D83D"), e.getMessage());
            assertEquals(java.util.Map.of(), database.tables());
            assertEquals(0, database.commits);
        }
    }

    /** The export's writer reports what UTF-8 cannot hold instead of writing '?'. */
    @Test
    void theExportWriterRefusesAnUnpairedSurrogate() {
        PrintStream out = new PrintStream(new java.io.ByteArrayOutputStream(), true, java.nio.charset.StandardCharsets.UTF_8);
        Writer writer = Output.utf8(out);
        assertThrows(java.nio.charset.MalformedInputException.class, () -> {
            writer.write("x\uD83Dy");
            writer.flush();
        });
    }
}
