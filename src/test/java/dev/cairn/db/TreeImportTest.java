package dev.cairn.db;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Cairn;
import dev.cairn.TreeSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An import of a file reads it twice (TreeImport, ImportSource): once to check every row, keeping
 * its key only, then inside the transaction to store the rows. A file that changed in between is
 * refused as a whole, nothing stored: the ids and states decided from the first reading would not
 * be the rows stored.
 */
class TreeImportTest {
    @TreeSpec(name = "Note")
    record Note(String text, int n) { }

    @TempDir Path dir;

    private static String lines(String... texts) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < texts.length; i++) {
            b.append("{\"key\":\"Note/").append(i).append(".0\",\"value\":{\"text\":\"").append(texts[i]).append("\",\"n\":")
                .append(i).append("}}\n");
        }
        return b.toString();
    }

    private static Runnable rewrite(Path file, String text) {
        return () -> {
            try {
                Files.writeString(file, text);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    @Test
    void aFileThatChangesBetweenItsTwoReadingsImportsNothing() throws IOException {
        Path db = dir.resolve("db");
        try (Cairn c = Cairn.open(db)) {
            c.tree(Note.class);
        }
        Path file = dir.resolve("notes.jsonl");
        Cairn.Options o = Cairn.Options.defaults();
        try (Database d = Database.open(db, o.nodeName(), o.user(), o.appId(), o.eventBufferEvents())) {
            TreeState t = d.existingTree("Note");
            GenericTreeImpl tree = GenericTreeImpl.open(d, "Note");
            String[][] changes = {
                {lines("a", "b", "c"), lines("a", "b", "c").replace("Note/1.0", "Note/7.0"), "record 2 is not what it was"},
                {lines("a", "b"), lines("a", "b", "c"), "it holds more rows than before"},
                {lines("a", "b", "c"), lines("a", "b"), "record 3 is not what it was"},
            };
            for (String[] change : changes) {
                Files.writeString(file, change[0]);
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> TreeImport.run(d, t, "import into"
                    + " tree Note", ImportSource.jsonLines(file, "Note"), true, true, rewrite(file, change[1])));
                assertEquals("import into tree Note: " + file + " changed while it was imported (read again to store it, "
                    + change[2] + "); nothing imported: import it again once nothing writes to it", e.getMessage());
                assertEquals(0, tree.keys().size(), "stored rows of a file that changed");
            }
            // the same file, unchanged between its readings, imports with its ids
            Files.writeString(file, lines("a", "b", "c"));
            assertEquals(3, TreeImport.run(d, t, "import", ImportSource.jsonLines(file, "Note"), true, true, () -> { }).keys().size());
            assertEquals("{\"text\":\"c\",\"n\":2}", tree.getJson(2, 0));
        }
    }

    @TreeSpec(name = "Doc", versioned = true)
    record Doc(String text) { }

    /**
     * One key in two rows is refused naming both rows, with or without --keep-ids; before,
     * without it, a never-linked database was told its ids "cannot be kept here" and to import
     * "into a database that never linked". Two revisions of one id where ids cannot be kept say
     * why they cannot, and advise a never-linked database only to a linked one.
     */
    @Test
    void aKeyTwiceIsNamedAsSuchAndRevisionsOfOneIdSayWhyIdsAreNotKept() throws IOException {
        Path db = dir.resolve("db");
        try (Cairn c = Cairn.open(db)) {
            c.tree(Note.class);
            c.tree(Doc.class).insert(new Doc("taken")); // Doc/0 handed out: ids of a Doc import cannot be kept
        }
        Cairn.Options o = Cairn.Options.defaults();
        try (Database d = Database.open(db, o.nodeName(), o.user(), o.appId(), o.eventBufferEvents())) {
            String twice = lines("a", "b") + lines("a").replace("\"a\"", "\"again\"");
            for (boolean keepIds : new boolean[] {false, true}) {
                var e = assertThrows(dev.cairn.TransferRefusedException.class, () -> TreeImport.run(d, d.existingTree("Note"),
                    "import into tree Note", ImportSource.jsonLines(twice, "Note"), keepIds, true, () -> { }));
                assertEquals("import into tree Note: record 1 and record 3 both hold the key Note/0.0, but a tree holds one"
                    + " record under a key: keep one of them (nothing imported)", e.getMessage());
            }
            assertEquals(0, GenericTreeImpl.open(d, "Note").keys().size());
            String revisions = "{\"key\":\"Doc/0.0\",\"state\":\"Released(0)\",\"value\":{\"text\":\"a\"}}\n"
                + "{\"key\":\"Doc/0.1\",\"state\":\"Draft(0)\",\"value\":{\"text\":\"b\"}}\n";
            var e = assertThrows(dev.cairn.TransferRefusedException.class, () -> TreeImport.run(d, d.existingTree("Doc"),
                "import into tree Doc", ImportSource.jsonLines(revisions, "Doc"), false, true, () -> { }));
            assertEquals("import into tree Doc: the rows hold 2 revisions [0, 1] of record id 0, and the ids cannot be kept"
                + " here (id 0 was handed out in tree Doc already (a record holds it, or held it and was removed), so it is"
                + " not free), so every row would become a new record with an id of its own: separate records with the"
                + " same data and name. Keep one revision of each id (nothing imported)", e.getMessage());
        }
    }

    /**
     * SQL rows holding one key twice are named by where each row starts (its statement's line and
     * the column of its {@code (...)}), also two rows of one VALUES list; before (probe 56), by
     * their key only, so both had one name ("row 0.0 of table Note and row 0.0 of table Note").
     */
    @Test
    void sqlRowsHoldingOneKeyAreNamedByTheirLineAndColumn() throws IOException {
        Path db = dir.resolve("db");
        try (Cairn c = Cairn.open(db)) {
            c.tree(Note.class);
        }
        String into = "INSERT INTO \"Note\" (\"id\", \"revision\", \"text\", \"n\") VALUES ";
        String first = into + "(0, 0, 'a', 1);";
        String apart = first + "\n" + into + "(1, 0, 'b', 2),\n  (0, 0, 'again', 3);\n";
        String oneList = into + "(1, 0, 'b', 2), (0, 0, 'a', 1), (0, 0, 'again', 3);\n";
        int firstColumn = into.length() + 1;
        Cairn.Options o = Cairn.Options.defaults();
        try (Database d = Database.open(db, o.nodeName(), o.user(), o.appId(), o.eventBufferEvents())) {
            TreeState t = d.existingTree("Note");
            String[][] cases = {
                {apart, "line 1 column " + firstColumn, "line 3 column 3"},
                {oneList, "line 1 column " + (oneList.indexOf("(0, 0, 'a'") + 1),
                    "line 1 column " + (oneList.indexOf("(0, 0, 'again'") + 1)},
            };
            for (String[] sql : cases) {
                for (boolean keepIds : new boolean[] {false, true}) {
                    var e = assertThrows(dev.cairn.TransferRefusedException.class, () -> TreeImport.run(d, t,
                        "import of table Note", ImportSource.sql(sql[0], "Note", t.currentSchema()), keepIds, true, () -> { }));
                    assertEquals("import of table Note: row 0.0 of table Note at SQL " + sql[1] + " and row 0.0 of table"
                        + " Note at SQL " + sql[2] + " both hold the key Note/0.0, but a tree holds one record under a key:"
                        + " keep one of them (nothing imported)", e.getMessage());
                }
            }
            assertEquals(0, GenericTreeImpl.open(d, "Note").keys().size());
        }
    }
}
