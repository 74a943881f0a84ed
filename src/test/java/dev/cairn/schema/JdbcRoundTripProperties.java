package dev.cairn.schema;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Cairn;
import dev.cairn.GenericTree;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.testing.FakeJdbc;
import dev.cairn.testing.TestFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Tree -> JDBC table -> new tree gives the same records, for random values of every supported
 * type (NaN, -0.0, extreme longs, unicode, empty strings, nulls, nested records and collections),
 * through the in-memory {@link FakeJdbc} database.
 */
class JdbcRoundTripProperties {
    private static final List<Class<? extends Record>> TYPES = List.of(RecordCodecTest.Everything.class,
        RoundTripProperties.Nest.class, RecordCodecTest.Node.class, RecordCodecTest.Part.class);

    @Property(tries = 25)
    void everyTreeRoundTripsThroughAJdbcTable(@ForAll long seed) throws IOException, SQLException {
        RandomValues random = new RandomValues(seed);
        Path dir = Files.createTempDirectory("cairn-jdbc-");
        FakeJdbc database = new FakeJdbc();
        try (Cairn from = Cairn.open(dir.resolve("from")); Cairn to = Cairn.open(dir.resolve("to"));
             Connection c = database.connect()) {
            for (Class<? extends Record> type : TYPES) roundTrip(type, random, from, to, c);
        } finally {
            TestFiles.deleteTree(dir);
        }
    }

    private static <V extends Record> void roundTrip(Class<V> type, RandomValues random, Cairn from, Cairn to, Connection c) {
        Tree<V> source = from.tree(type);
        int count = 1 + (int) (Math.abs(random.string().length() * 7L) % 5);
        for (int i = 0; i < count; i++) source.insert(random.recordWithSqlForm(type));
        to.tree(type);
        GenericTree out = from.genericTree(source.name());
        GenericTree in = to.genericTree(source.name());
        String table = "t " + type.getSimpleName();
        out.exportJdbc(table, c);
        List<Key<?>> imported = in.importJdbc(table, c);
        List<Key<?>> exported = out.keys();
        assertEquals(exported.size(), imported.size());
        for (int i = 0; i < exported.size(); i++) {
            assertEquals(out.getJson(exported.get(i).id(), exported.get(i).revision()),
                in.getJson(imported.get(i).id(), imported.get(i).revision()), type.getSimpleName() + " record " + i);
        }
    }
}
