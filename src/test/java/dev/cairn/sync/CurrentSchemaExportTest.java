package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.GenericTree;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.TreeSpec;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Export and the generic tools write a tree in its current schema: the version of the record
 * class that opened it here last, not the highest-numbered version. On a synced node an older
 * schema that arrives after the node's own class gets the higher local number; exporting in it
 * dropped the components the node's class has (found by helper-27 in the README's recovery path).
 */
class CurrentSchemaExportTest {
    @TempDir
    Path dir;

    @TreeSpec(name = "Item")
    record ItemV1(String name) { }

    @TreeSpec(name = "Item")
    record ItemV2(String name, int added) { }

    @Test
    void aSyncedNodeExportsInItsOwnClassVersionAlsoAfterAReopen() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            Tree<ItemV2> tb = b.tree(ItemV2.class);                   // version 1 on b
            Key<ItemV2> mine = tb.insert(new ItemV2("from-b", 7));
            Key<ItemV1> theirs = a.tree(ItemV1.class).insert(new ItemV1("from-a"));
            await("b has a's record, in a's older schema (version 2 on b)", () -> tb.contains(new Key<>("Item", theirs.id(), 0)));
            String expected = "{\"key\":\"" + mine + "\",\"value\":{\"name\":\"from-b\",\"added\":7}}\n"
                + "{\"key\":\"" + new Key<>("Item", theirs.id(), 0) + "\",\"value\":{\"name\":\"from-a\",\"added\":0}}\n";
            if (theirs.id() < mine.id()) {
                expected = expected.substring(expected.indexOf('\n') + 1) + expected.substring(0, expected.indexOf('\n') + 1);
            }
            expected += "{\"cairn-export-end\":{\"tree\":\"Item\",\"records\":2}}\n"; // the end line (record-format.md §10)
            assertEquals(expected, exported(b.genericTree("Item")));
            assertTrue(b.genericTree("Item").schemaJson().contains("\"added\""), b.genericTree("Item").schemaJson());

            b = f.reopen(b, "b"); // no class opened this time: the stored class version counts
            assertEquals(expected, exported(b.genericTree("Item")));
            StringBuilder sql = new StringBuilder();
            b.genericTree("Item").exportSql("Item", sql);
            assertTrue(sql.toString().contains("\"added\" INTEGER NOT NULL"), sql.toString());
        }
    }

    private static String exported(GenericTree t) {
        StringBuilder out = new StringBuilder();
        t.exportJsonLines(out);
        return out.toString();
    }

    /**
     * A class opened inside a batch that rolls back does not count: the next open of it (outside)
     * makes it the current one (before, the Tree stayed cached from the rolled-back open, and the
     * current schema stayed the other class's; helper-33).
     */
    @Test
    void aClassOpenedInARolledBackBatchCountsWhenOpenedAgain() {
        Path folder = dir.resolve("local");
        try (Cairn db = Cairn.open(folder)) {
            db.tree(ItemV1.class);
            db.tree(ItemV2.class);                              // version 2, current
        }
        try (Cairn db = Cairn.open(folder)) {
            db.tree(ItemV2.class);
            assertTrue(db.genericTree("Item").schemaJson().contains("\"added\""));
            RuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class, () -> db.write(() -> {
                db.tree(ItemV1.class);                          // stored already: allowed in a batch
                throw new IllegalStateException("rolled back");
            }));
            assertEquals("rolled back", e.getMessage());
            assertTrue(db.genericTree("Item").schemaJson().contains("\"added\""), "the rolled-back open does not count");
            db.tree(ItemV1.class).insert(new ItemV1("x"));
            assertTrue(!db.genericTree("Item").schemaJson().contains("\"added\""), db.genericTree("Item").schemaJson());
        }
    }
}
