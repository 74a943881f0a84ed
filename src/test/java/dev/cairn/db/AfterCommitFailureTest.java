package dev.cairn.db;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Cairn;
import dev.cairn.TreeSpec;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A batch whose follow-up after its commit (pools, tree states, indexes, events) runs out of
 * memory is stored, so {@code write} returns: thrown, the application would take it for not
 * stored and write it again. The database's state in memory may have missed part of it, so it
 * refuses writes, saying why, until it is reopened; the reopen finds the batch.
 */
class AfterCommitFailureTest {
    @TreeSpec(name = "Note")
    record Note(String text, int n) { }

    @TempDir Path dir;

    @Test
    void anErrorAfterTheCommitReturnsAndStopsWritesUntilAReopen() {
        Path db = dir.resolve("db");
        try (Cairn c = Cairn.open(db)) {
            c.tree(Note.class).insert(new Note("before", 0));
        }
        Cairn.Options o = Cairn.Options.defaults();
        try (Database d = Database.open(db, o.nodeName(), o.user(), o.appId(), o.eventBufferEvents())) {
            GenericTreeImpl tree = GenericTreeImpl.open(d, "Note");
            boolean[] ranAfter = new boolean[1];
            try {
                d.write(() -> {
                    tree.insertJson("{\"text\":\"stored\",\"n\":1}");
                    d.afterCommit(() -> {
                        throw new OutOfMemoryError("injected: Java heap space");
                    });
                    d.afterCommit(() -> ranAfter[0] = true);
                });
            } catch (OutOfMemoryError e) { // caught here: JUnit would end the whole run on it
                fail("the stored batch threw " + e);
            }
            assertFalse(ranAfter[0], "the follow-up stopped at the error");
            assertEquals(2, tree.keys().size(), "the batch is readable at once");
            var e = assertThrows(dev.cairn.WritesStoppedException.class, () -> d.write(() -> tree.insertJson("{\"text\":\"x\",\"n\":2}")));
            assertTrue(e.getMessage().contains("a write batch was committed, but updating this database's state in memory"
                + " after it failed (java.lang.OutOfMemoryError: injected: Java heap space); close and reopen"), e.getMessage());
            assertEquals(2, tree.keys().size(), "the refused batch stored nothing");
        }
        try (Cairn c = Cairn.open(db)) {
            var notes = c.tree(Note.class);
            assertEquals(2, notes.keys().size());
            notes.insert(new Note("after reopen", 3));
            assertEquals(3, notes.keys().size());
            assertTrue(notes.keys().stream().map(notes::get).anyMatch(n -> n.text().equals("stored")));
        }
    }
}
