package dev.cairn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tree a migration moved past a schema version (a String made an enum), then written in that
 * older version through JSON, the one version that takes the text (probe 108): the record
 * lowers the tree's dataFromVersion, so that the next open with the migration migrates it (before,
 * the application could never read it, the migration never saw it, and verify passed); and an
 * export of records into a version they cannot be read in says which record and component (before,
 * a ClassCastException).
 */
@Timeout(60)
class MigratedTreeWritesTest {
    @TempDir Path dir;

    enum Colour { RED, BLUE }

    @TreeSpec(name = "Gear")
    record GearV1(String name, String colour) { }

    @TreeSpec(name = "Gear")
    record GearV2(String name, Colour colour) { }

    static final class ToV2 implements Migration<GearV2> {
        int calls;

        @Override
        public GearV2 migrate(Key<GearV2> key, String oldJson) {
            calls++;
            String colour = oldJson.replaceAll(".*\"colour\":\"([a-z]+)\".*", "$1");
            return new GearV2(oldJson.replaceAll(".*\"name\":\"([^\"]*)\".*", "$1"), Colour.valueOf(colour.toUpperCase()));
        }
    }

    private List<String> layoutProblems() {
        try (dev.cairn.store.Store store = dev.cairn.store.Store.open(dir); dev.cairn.store.ReadTxn r = store.beginRead()) {
            return dev.cairn.db.LayoutCheck.problems(r);
        }
    }

    @Test
    void aRecordWrittenInAVersionTheTreeMigratedPastIsMigratedAtTheNextOpen() {
        try (Cairn db = Cairn.open(dir)) {
            db.tree(GearV1.class).insert(new GearV1("g1", "red"));
        }
        ToV2 migration = new ToV2();
        Key<GearV2> imported;
        try (Cairn db = Cairn.open(dir)) {
            Tree<GearV2> gears = db.tree(GearV2.class, migration);
            assertEquals(1, migration.calls);
            // Only version 1 takes "blue" as a String: the record is written in it.
            Key<?> k = db.genericTree("Gear").insertJson("{\"name\":\"g2\",\"colour\":\"blue\"}");
            imported = new Key<>("Gear", k.id(), k.revision());
            assertThrows(SchemaMismatchException.class, () -> gears.get(imported), "this open cannot read it");

            // Export in version 1 of a record of version 2 (an enum where version 1 has a String):
            StringBuilder out = new StringBuilder();
            SchemaMismatchException e = assertThrows(SchemaMismatchException.class,
                () -> db.genericTree("Gear").exportJsonLines(out, 1));
            assertTrue(e.getMessage().contains("GearV1.colour: Colour and String cannot read each other's data"), e.getMessage());
            assertEquals("", out.toString(), "nothing written");
        }
        assertEquals(List.of(), layoutProblems(), "dataFromVersion lowered to the record's version");
        try (Cairn db = Cairn.open(dir)) {
            Tree<GearV2> gears = db.tree(GearV2.class, migration);
            assertEquals(2, migration.calls, "the written record migrated at this open");
            assertEquals(new GearV2("g2", Colour.BLUE), gears.get(imported));
        }
    }
    /** A migration that fails at the open is named as one that fails on arrival: tree, record, version, and that nothing changed. */
    @Test
    void aMigrationFailingAtTheOpenNamesTheTreeAndRecord() {
        Key<GearV1> k;
        try (Cairn db = Cairn.open(dir)) {
            k = db.tree(GearV1.class).insert(new GearV1("g1", "green"));
        }
        try (Cairn db = Cairn.open(dir)) {
            SchemaMismatchException e = assertThrows(SchemaMismatchException.class, () -> db.tree(GearV2.class, new ToV2()));
            assertEquals("tree Gear: the migration failed on record " + k + ", stored in schema version 1: "
                + "java.lang.IllegalArgumentException: No enum constant dev.cairn.MigratedTreeWritesTest.Colour.GREEN"
                + " (nothing was changed; fix the migration)", e.getMessage());
        }
        try (Cairn db = Cairn.open(dir)) {
            assertEquals(new GearV1("g1", "green"), db.tree(GearV1.class).get(k), "nothing changed");
        }
    }
}
