package dev.cairn.schema;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/** SQL text round trips: record bytes -> INSERT -> parsed row -> JSON -> the same bytes. */
class SqlFormProperties {
    private static final List<Class<? extends Record>> TYPES = List.of(RecordCodecTest.Everything.class,
        RoundTripProperties.Nest.class, RecordCodecTest.Node.class, RecordCodecTest.Part.class);

    @Property(tries = 200)
    void everyRecordRoundTripsThroughSqlText(@ForAll long seed) {
        RandomValues random = new RandomValues(seed);
        for (Class<? extends Record> type : TYPES) check(type, random, (int) (seed & 0xffff));
    }

    private static <V extends Record> void check(Class<V> type, RandomValues random, int id) {
        SchemaVersions versions = RecordCodecTest.versionsOf(type);
        RecordCodec<V> codec = RecordCodec.of(type, "T", versions);
        byte[] bytes = codec.encode(random.recordWithSqlForm(type));
        String sql = SqlForm.createTable("T x", versions.latest()) + "\n"
            + SqlForm.insert("T x", id, 3, MemorySegment.ofArray(bytes), versions, versions.latest()) + "\n";
        List<SqlForm.Row> rows = SqlForm.parseInserts(sql, "T x", versions.latest());
        assertEquals(1, rows.size(), sql);
        assertEquals(id, rows.get(0).id());
        assertEquals(3, rows.get(0).revision());
        assertArrayEquals(bytes, JsonForm.fromJson(rows.get(0).json(), versions), sql);
    }

    @Test
    void createTableMapsScalarsToSqlTypesAndTheRestToJsonText() {
        Schema schema = Schema.derive(RecordCodecTest.Part.class);
        String ddl = SqlForm.createTable("Part", schema);
        assertTrue(ddl.startsWith("CREATE TABLE \"Part\" (\n  \"id\" INTEGER NOT NULL"), ddl);
        assertTrue(ddl.contains("PRIMARY KEY (\"id\", \"revision\")"), ddl);
        for (Component c : ((TypeDef.RecordDef) schema.definition(Schema.ROOT)).components()) {
            assertTrue(ddl.contains("\"" + c.name() + "\" "), c.name() + " in " + ddl);
        }
    }

    @Test
    void quotesAndLineBreaksInStringsSurvive() {
        String sql = "INSERT INTO \"T\" (\"id\", \"revision\", \"name\") VALUES (1, 0, 'it''s\n-- not a comment');";
        Schema schema = Schema.derive(Named.class);
        List<SqlForm.Row> rows = SqlForm.parseInserts(sql, "T", schema);
        assertEquals("{\"name\":\"it's\\n-- not a comment\"}", rows.get(0).json());
    }

    record Named(String name) { }

    record WithId(String id, int qty) { }

    /** A component named like a key column has no SQL form: refused, not written as two "id" columns (helper-33). */
    @Test
    void aComponentNamedLikeAKeyColumnIsRefused() {
        Schema schema = Schema.derive(WithId.class);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SqlForm.createTable("T", schema));
        assertTrue(e.getMessage().startsWith("record WithId has a component named 'id', the name of a key column"),
            e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SqlForm.parseInserts(
            "INSERT INTO \"T\" (\"id\", \"revision\", \"qty\") VALUES (1, 0, 3);", "T", schema));
    }

    @Test
    void malformedTextNamesLineAndColumn() {
        Schema schema = Schema.derive(Named.class);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SqlForm.parseInserts(
            "-- header\nINSERT INTO \"T\" (\"id\", \"revision\", \"name\") VALUES (1, 0, 'open", "T", schema));
        assertTrue(e.getMessage().contains("line 2") && e.getMessage().contains("unterminated string"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SqlForm.parseInserts(
            "INSERT INTO \"T\" (\"id\", \"revision\", \"size\") VALUES (1, 0, 3);", "T", schema));
        assertTrue(e.getMessage().contains("column size is no component of"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SqlForm.parseInserts(
            "INSERT INTO \"U\" (\"id\") VALUES (1);", "T", schema));
        assertTrue(e.getMessage().contains("expected: table T"), e.getMessage());
    }

    @Property(tries = 300)
    void garbageGivesIllegalArgumentExceptionOrRows(@ForAll String garbage) {
        Schema schema = Schema.derive(Named.class);
        try {
            SqlForm.parseInserts("INSERT INTO \"T\" " + garbage, "T", schema);
        } catch (IllegalArgumentException expected) {
            assertTrue(expected.getMessage().startsWith("SQL line "), expected.getMessage());
        }
    }
}
