package dev.cairn.db;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Cairn;
import dev.cairn.TreeSpec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An id is never handed out twice (database-layout.md §4); should a key pool ever offer an id a
 * record holds (a server that granted ids twice, probe 59), every insert that takes a fresh id
 * refuses, naming tree and id, instead of overwriting the stored record.
 */
class InsertHeldIdTest {
    @TreeSpec(name = "Note")
    record Note(String text, int n) { }

    @TreeSpec(name = "Doc", versioned = true)
    record Doc(String text) { }

    @TempDir Path dir;

    @Test
    void anInsertUnderAnIdARecordHoldsIsRefusedAndOverwritesNothing() {
        Path db = dir.resolve("db");
        try (Cairn c = Cairn.open(db)) {
            var notes = c.tree(Note.class);
            for (int i = 0; i < 3; i++) notes.insert(new Note("kept-" + i, i));
        }
        Cairn.Options o = Cairn.Options.defaults();
        try (Database d = Database.open(db, o.nodeName(), o.user(), o.appId(), o.eventBufferEvents())) {
            TreeState t = d.existingTree("Note");
            d.write(() -> d.pool(t).add(0, 3)); // the pool now offers ids 0..2 again
            GenericTreeImpl tree = GenericTreeImpl.open(d, "Note");
            String expected = "insert into tree Note: id 0, the next id of its key pool, already holds record Note/0.0, "
                + "which the insert would overwrite; an id is never handed out twice, so the key pool "
                + "KeyPool[[0, 3)[3, 2147483647)] is wrong; nothing was stored";
            var e = assertThrows(IllegalStateException.class, () -> tree.insertJson("{\"text\":\"new\",\"n\":9}"));
            assertEquals(expected, e.getMessage());
            // a bare record object takes a fresh id; a keyed row keeps its key, which the pool says is free
            e = assertThrows(IllegalStateException.class, () -> tree.importJsonLines("{\"text\":\"imported\",\"n\":7}\n",
                false));
            assertTrue(e.getMessage().endsWith(expected), e.getMessage());
            e = assertThrows(IllegalStateException.class, () -> tree.importJsonLines(
                "{\"key\":\"Note/0.0\",\"value\":{\"text\":\"imported\",\"n\":7}}\n", false));
            assertTrue(e.getMessage().endsWith("insert into tree Note: id 0 already holds record Note/0.0, which the insert "
                + "would overwrite; an id is never handed out twice, so the key is not free; nothing was stored"),
                e.getMessage());
            assertEquals(List.of("kept-0", "kept-1", "kept-2"), tree.keys().stream()
                .map(k -> tree.getJson(k.id(), k.revision()).replaceAll(".*\"text\":\"([^\"]*)\".*", "$1")).toList());
        }
        try (Cairn c = Cairn.open(db)) {
            var notes = c.tree(Note.class);
            var e = assertThrows(IllegalStateException.class, () -> notes.insert(new Note("typed", 1)));
            assertTrue(e.getMessage().startsWith("insert into tree Note: id 0, the next id of its key pool, already holds"),
                e.getMessage());
            assertEquals(3, notes.keys().size());
        }
    }

    @Test
    void aVersionedRecordWithoutRevisionZeroStillHoldsItsId() {
        Path db = dir.resolve("db");
        try (Cairn c = Cairn.open(db)) {
            c.tree(Doc.class);
        }
        Cairn.Options o = Cairn.Options.defaults();
        try (Database d = Database.open(db, o.nodeName(), o.user(), o.appId(), o.eventBufferEvents())) {
            TreeState t = d.existingTree("Doc");
            GenericTreeImpl tree = GenericTreeImpl.open(d, "Doc");
            // only revision 1 of id 0 is stored (an import keeping its ids), then the pool offers id 0 again
            tree.importJsonLines("{\"key\":\"Doc/0.1\",\"value\":{\"text\":\"second\"}}\n", true);
            d.write(() -> d.pool(t).add(0, 1));
            var e = assertThrows(IllegalStateException.class, () -> tree.insertJson("{\"text\":\"new\"}"));
            assertTrue(e.getMessage().startsWith("insert into tree Doc: id 0, the next id of its key pool, already holds "
                + "record Doc/0.1, "), e.getMessage());
            assertEquals(1, tree.keys().size());
        }
    }
}
