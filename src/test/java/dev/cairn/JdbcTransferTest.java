package dev.cairn;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.testing.FakeJdbc;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GenericTree.exportJdbc/importJdbc against the in-memory {@link FakeJdbc} database. */
class JdbcTransferTest {
    enum Color { RED, GREEN }

    record Dims(int width, int height) { }

    @TreeSpec(name = "Rev", versioned = true)
    record Rev(int width, int height) { }

    @TreeSpec(name = "Edge", versioned = true)
    record Edge(String text, String none, long big, double d, float f, boolean flag, Integer missing, Optional<String> opt,
                List<String> list, Dims dims, Color color, LocalDate date, BigDecimal price, byte[] bytes, short small) { }

    @TempDir Path dir;
    final FakeJdbc database = new FakeJdbc();

    private static Edge edge(int i) {
        return new Edge("ünï ✓ 日本 \uD83D\uDE00 '\"" + i, null, Long.MIN_VALUE + i, Double.NaN, -0.0f, true, null,
            Optional.of(""), List.of("", "a,b"), new Dims(i, -i), Color.GREEN, LocalDate.of(-5, 1, 2),
            new BigDecimal("1.500E+7"), new byte[] {0, -1}, Short.MIN_VALUE);
    }

    private Cairn open(String name, int records) {
        Cairn db = Cairn.open(dir.resolve(name));
        Tree<Edge> tree = db.tree(Edge.class);
        for (int i = 0; i < records; i++) tree.insert(edge(i));
        return db;
    }

    private static List<String> json(GenericTree tree) {
        List<String> records = new ArrayList<>();
        for (Key<?> k : tree.keys()) records.add(tree.getJson(k.id(), k.revision()));
        return records;
    }

    @Test
    void exportCreatesTheTableOfTheSqlFormAndImportGivesTheSameRecords() throws SQLException {
        try (Cairn from = open("from", 3); Cairn to = open("to", 0); Connection c = database.connect()) {
            from.genericTree("Edge").exportJdbc("my \"edge\"", c);
            assertTrue(c.getAutoCommit(), "auto-commit restored");
            FakeJdbc.Table table = database.tables().get("my \"edge\"");
            assertEquals(List.of("id", "revision", "text", "none", "big", "d", "f", "flag", "missing", "opt", "list", "dims",
                "color", "date", "price", "bytes", "small"), table.columns());
            List<Object> row = table.rows().get(1);
            assertEquals(Arrays.asList(1, 0, "ünï ✓ 日本 \uD83D\uDE00 '\"1", null, Long.MIN_VALUE + 1, Double.NaN, -0.0f, true,
                null, "", "[\"\",\"a,b\"]", "{\"width\":1,\"height\":-1}", "GREEN", LocalDate.of(-5, 1, 2),
                new BigDecimal("1.500E+7")), row.subList(0, 15));
            assertArrayEquals(new byte[] {0, -1}, (byte[]) row.get(15));
            assertEquals(Short.MIN_VALUE, row.get(16));

            List<Key<?>> keys = to.genericTree("Edge").importJdbc("my \"edge\"", c);
            assertEquals(3, keys.size());
            assertEquals(json(from.genericTree("Edge")), json(to.genericTree("Edge")));
            assertEquals(edge(2).text(), to.tree(Edge.class).get(new Key<>("Edge", keys.get(2).id(), 0)).text());
        }
    }

    @Test
    void exportRefusesATableHoldingRowsUnlessAppend() throws SQLException {
        try (Cairn from = open("from", 2); Connection c = database.connect()) {
            GenericTree tree = from.genericTree("Edge");
            tree.exportJdbc("Edge", c);
            TransferRefusedException e = assertThrows(TransferRefusedException.class, () -> tree.exportJdbc("Edge", c));
            assertTrue(e.getMessage().contains("table Edge: the table holds 2 rows already"), e.getMessage());
            assertEquals(2, database.tables().get("Edge").rows().size());
            // append adds to rows of other keys (the same keys again are refused by the primary key)
            database.tables().get("Edge").rows().removeIf(r -> (Integer) r.get(0) == 1);
            database.tables().get("Edge").rows().getFirst().set(0, 1000);
            tree.exportJdbc("Edge", c, true);
            assertEquals(List.of(1000, 0, 1), database.tables().get("Edge").rows().stream().map(r -> r.get(0)).toList());
        }
    }

    @Test
    void aFailingInsertRollsEveryRowBack() throws SQLException {
        try (Cairn from = open("from", 3); Connection c = database.connect()) {
            database.failAtInsert(2);
            JdbcException e = assertThrows(JdbcException.class, () -> from.genericTree("Edge").exportJdbc("Edge", c));
            assertTrue(e.getMessage().contains("export of tree Edge to table Edge, at row 1.0: fake JDBC: insert"), e.getMessage());
            assertTrue(e.getMessage().endsWith("rolled back: no row written"), e.getMessage());
            assertNull(database.tables().get("Edge"), "the table created in the transaction is gone too");
            assertTrue(c.getAutoCommit(), "auto-commit restored");
        }
    }

    @Test
    void aFailureInALaterBatchRollsBackTheBatchesBefore() throws SQLException {
        try (Cairn from = Cairn.open(dir.resolve("from")); Connection c = database.connect()) {
            Tree<Dims> tree = from.tree(Dims.class);
            List<Dims> many = new ArrayList<>();
            for (int i = 0; i < 1200; i++) many.add(new Dims(i, i));
            tree.insertAll(many);
            database.tables().put("Dims", new FakeJdbc.Table(List.of("id", "revision", "width", "height"), new ArrayList<>()));
            database.failAtInsert(1100);
            JdbcException e = assertThrows(JdbcException.class, () -> from.genericTree("Dims").exportJdbc("Dims", c));
            assertTrue(e.getMessage().contains("at row 1099.0"), e.getMessage());
            assertEquals(0, database.tables().get("Dims").rows().size());
        }
    }

    /**
     * A driver that throws a plain SQLException from executeBatch (sqlite-jdbc does) gives no
     * update counts: the refused row is found by inserting the batch's rows one at a time after
     * rolling back to a savepoint (the message named the batch's last row); the whole export is
     * still rolled back.
     */
    @Test
    void aRowRefusedInABatchIsNamedAlsoWhenTheDriverGivesNoUpdateCounts() throws SQLException {
        try (Cairn from = Cairn.open(dir.resolve("from")); Connection c = database.connect()) {
            Tree<Dims> tree = from.tree(Dims.class);
            List<Dims> many = new ArrayList<>();
            for (int i = 0; i < 700; i++) many.add(new Dims(i, i == 612 ? -1 : i));
            tree.insertAll(many);
            database.plainBatchErrors = true;
            database.refuses = row -> row.get(3).equals(-1);
            JdbcException e = assertThrows(JdbcException.class, () -> from.genericTree("Dims").exportJdbc("Dims", c));
            assertTrue(e.getMessage().contains("export of tree Dims to table Dims, at row 612.0: fake JDBC: row refused"),
                e.getMessage());
            assertTrue(e.getMessage().endsWith("rolled back: no row written"), e.getMessage());
            assertNull(database.tables().get("Dims"));
            assertTrue(c.getAutoCommit(), "auto-commit restored");
        }
    }

    @Test
    void aValueTheDatabaseChangesIsRefusedAndRolledBack() throws SQLException {
        try (Cairn from = open("from", 1); Connection c = database.connect()) {
            database.stores = v -> v instanceof Float f && f == 0 ? 0.0f : v; // a database without -0.0
            JdbcException e = assertThrows(JdbcException.class, () -> from.genericTree("Edge").exportJdbc("Edge", c));
            assertTrue(e.getMessage().contains("row 0.0 column f reads back as 0.0 where -0.0 was written: the database's REAL"
                + " cannot hold it exactly"), e.getMessage());
            assertNull(database.tables().get("Edge"));
        }
    }

    @Test
    void importRefusesATreeHoldingRecordsUnlessAppend() throws SQLException {
        try (Cairn from = open("from", 2); Cairn to = open("to", 1); Connection c = database.connect()) {
            from.genericTree("Edge").exportJdbc("Edge", c);
            GenericTree target = to.genericTree("Edge");
            TransferRefusedException e = assertThrows(TransferRefusedException.class, () -> target.importJdbc("Edge", c));
            assertTrue(e.getMessage().contains("into tree Edge: the tree holds 1 record already"), e.getMessage());
            assertEquals(1, target.keys().size());
            assertEquals(2, target.importJdbc("Edge", c, true).size());
            assertEquals(3, target.keys().size());
        }
    }

    @Test
    void importRefusesTwoRevisionsOfOneId() throws SQLException {
        try (Cairn to = open("to", 0); Connection c = database.connect()) {
            List<List<Object>> rows = new ArrayList<>();
            rows.add(new ArrayList<>(Arrays.asList(5, 0, 1, 2)));
            rows.add(new ArrayList<>(Arrays.asList(5, 1, 3, 4)));
            database.tables().put("Rev", new FakeJdbc.Table(List.of("id", "revision", "width", "height"), rows));
            to.tree(Dims.class);
            // a tree without versions has no revision 5.1 (it took it)
            TransferRefusedException unversioned = assertThrows(TransferRefusedException.class,
                () -> to.genericTree("Dims").importJdbc("Rev", c));
            assertTrue(unversioned.getMessage().contains("row 5.1 of table Rev has the key Dims/5.1, but tree Dims is not"
                + " versioned"), unversioned.getMessage());
            assertEquals(0, to.genericTree("Dims").keys().size());
            Tree<Rev> revs = to.tree(Rev.class);
            // a never-linked database keeps the ids, so the revisions stay revisions of one record;
            // rows carry no state: only the latest revision can be a draft, so the earlier one is released
            assertEquals(List.of(new Key<>("Rev", 5, 0), new Key<>("Rev", 5, 1)), to.genericTree("Rev").importJdbc("Rev", c));
            assertEquals(new RecordState.Released(0), revs.meta(new Key<>("Rev", 5, 0)).state());
            assertEquals(new RecordState.Draft(0), revs.meta(new Key<>("Rev", 5, 1)).state());
            // id 5 is taken now: the rows would get new ids and become two records
            TransferRefusedException e = assertThrows(TransferRefusedException.class,
                () -> to.genericTree("Rev").importJdbc("Rev", c, true));
            assertTrue(e.getMessage().contains("revisions [0, 1] of record id 5"), e.getMessage());
            assertEquals(2, to.genericTree("Rev").keys().size());
        }
    }

    @Test
    void aBadRowStoresNothing() throws SQLException {
        try (Cairn to = open("to", 0); Connection c = database.connect()) {
            to.tree(Dims.class);
            List<List<Object>> rows = new ArrayList<>();
            rows.add(new ArrayList<>(Arrays.asList(1, 0, 10, 20)));
            rows.add(new ArrayList<>(Arrays.asList(2, 0, null, 20)));
            database.tables().put("Dims", new FakeJdbc.Table(List.of("id", "revision", "width", "height"), rows));
            GenericTree dims = to.genericTree("Dims");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> dims.importJdbc("Dims", c));
            assertTrue(e.getMessage().startsWith("row 2.0 of table Dims: "), e.getMessage());
            assertTrue(e.getMessage().contains("width"), e.getMessage());
            assertEquals(0, dims.keys().size());

            database.tables().put("Odd", new FakeJdbc.Table(List.of("id", "revision", "depth"), List.of()));
            e = assertThrows(IllegalArgumentException.class, () -> dims.importJdbc("Odd", c));
            assertTrue(e.getMessage().contains("table Odd: column depth is no component of Dims"), e.getMessage());

            JdbcException missing = assertThrows(JdbcException.class, () -> dims.importJdbc("Absent", c));
            assertTrue(missing.getMessage().contains("import of table Absent into tree Dims: fake JDBC: no table Absent"),
                missing.getMessage());
            assertEquals(0, dims.keys().size());
        }
    }

    @Test
    void columnsMissingFromTheTableTakeTheirDefaults() throws SQLException {
        try (Cairn to = open("to", 0); Connection c = database.connect()) {
            to.tree(Dims.class);
            List<List<Object>> rows = List.of(new ArrayList<>(Arrays.asList(7, 0, 10)));
            database.tables().put("Dims", new FakeJdbc.Table(List.of("id", "revision", "width"), rows));
            Key<?> k = to.genericTree("Dims").importJdbc("Dims", c).getFirst();
            assertEquals(new Dims(10, 0), to.tree(Dims.class).get(new Key<>("Dims", k.id(), 0)));
        }
    }
}
