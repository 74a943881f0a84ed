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
                    + " tree Note", ImportSource.jsonLines(file, "Note"), true, rewrite(file, change[1])));
                assertEquals("import into tree Note: " + file + " changed while it was imported (read again to store it, "
                    + change[2] + "); nothing imported: import it again once nothing writes to it", e.getMessage());
                assertEquals(0, tree.keys().size(), "stored rows of a file that changed");
            }
            // the same file, unchanged between its readings, imports with its ids
            Files.writeString(file, lines("a", "b", "c"));
            assertEquals(3, TreeImport.run(d, t, "import", ImportSource.jsonLines(file, "Note"), true, () -> { }).keys().size());
            assertEquals("{\"text\":\"c\",\"n\":2}", tree.getJson(2, 0));
        }
    }
}
