package dev.cairn;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.testing.FakeJdbc;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An export made before a component was renamed ({@code @FormerNames}) imports into a tree whose
 * class has the new name, as JSON lines, SQL text and a JDBC table: the rename is compatible both
 * ways, so the old name is read as the new one, as it is in stored records. Before, import
 * refused it ("unknown member \"name\"", "column name is no component of Item"; probe 113). A
 * record holding both names is refused, naming them.
 */
class FormerNameImportTest {
    @TreeSpec(name = "Item")
    record ItemV1(String name, int qty) { }

    @TreeSpec(name = "Item")
    record ItemV2(@FormerNames("name") String title, int qty) { }

    @TempDir Path dir;

    private Cairn before() {
        Cairn db = Cairn.open(dir.resolve("before"));
        db.tree(ItemV1.class).insert(new ItemV1("bolt", 3));
        db.tree(ItemV1.class).insert(new ItemV1("nut", 5));
        return db;
    }

    private List<ItemV2> items(Cairn db) {
        Tree<ItemV2> t = db.tree(ItemV2.class);
        return t.keys().stream().map(t::get).toList();
    }

    @Test
    void jsonLinesAndSqlOfTheOldNameImportUnderTheNewOne() {
        StringBuilder json = new StringBuilder();
        StringBuilder sql = new StringBuilder();
        try (Cairn db = before()) {
            db.genericTree("Item").exportJsonLines(json);
            db.genericTree("Item").exportSql("Item", sql);
        }
        assertTrue(json.toString().contains("\"name\":\"bolt\""), json.toString());
        List<ItemV2> expected = List.of(new ItemV2("bolt", 3), new ItemV2("nut", 5));
        try (Cairn db = Cairn.open(dir.resolve("json"))) {
            db.tree(ItemV2.class);
            assertEquals(2, db.genericTree("Item").importJsonLines(json.toString(), false).keys().size());
            assertEquals(expected, items(db));
            Key<?> k = db.genericTree("Item").insertJson("{\"name\":\"washer\",\"qty\":1}");
            assertEquals(new ItemV2("washer", 1), db.tree(ItemV2.class).get(new Key<>("Item", k.id(), 0)));
            IllegalArgumentException both = assertThrows(IllegalArgumentException.class,
                () -> db.genericTree("Item").insertJson("{\"title\":\"a\",\"name\":\"b\",\"qty\":1}"));
            assertTrue(both.getMessage().contains("members \"title\" and \"name\" name one component, \"title\" (by"
                + " @FormerNames)"), both.getMessage());
            // The current name second (probe 115: the message named it alone, given once).
            both = assertThrows(IllegalArgumentException.class,
                () -> db.genericTree("Item").insertJson("{\"name\":\"a\",\"title\":\"b\",\"qty\":1}"));
            assertTrue(both.getMessage().contains("members \"name\" and \"title\" name one component, \"title\" (by"
                + " @FormerNames)"), both.getMessage());
        }
        try (Cairn db = Cairn.open(dir.resolve("sql"))) {
            db.tree(ItemV2.class);
            assertEquals(2, db.genericTree("Item").importSql("Item", sql.toString()).size());
            assertEquals(expected, items(db));
            IllegalArgumentException both = assertThrows(IllegalArgumentException.class, () -> db.genericTree("Item")
                .importSql("Item", "INSERT INTO \"Item\" (\"id\", \"revision\", \"name\", \"title\", \"qty\") VALUES (9, 0, 'a', 'b', 1);\n"));
            assertTrue(both.getMessage().contains("columns name and title name one component, title (by @FormerNames)"), both.getMessage());
            assertEquals(2, db.tree(ItemV2.class).size(), "nothing imported");
        }
    }

    @Test
    void aJdbcTableOfTheOldNameImportsUnderTheNewOne() throws SQLException {
        FakeJdbc database = new FakeJdbc();
        try (Cairn from = before(); Cairn to = Cairn.open(dir.resolve("jdbc")); Connection c = database.connect()) {
            from.genericTree("Item").exportJdbc("Item", c);
            assertEquals(List.of("id", "revision", "name", "qty"), database.tables().get("Item").columns());
            to.tree(ItemV2.class);
            assertEquals(2, to.genericTree("Item").importJdbc("Item", c).size());
            assertEquals(List.of(new ItemV2("bolt", 3), new ItemV2("nut", 5)), items(to));
        }
    }
}
