package dev.cairn.schema;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Generated readers are shared per class across codecs (RecordCodec.Compiled). Two trees named
 * alike, whose version 1 is a different older class, give identical message contexts: only the
 * writer schema in the cache key keeps their readers apart.
 */
class CompiledCacheTest {
    record Older(String name, int stock) { }

    record OtherOlder(String name) { }

    record Newer(String name, int stock, String note) { }

    private static <N extends Record> RecordCodec<N> codec(Class<? extends Record> older, Class<N> newer) {
        SchemaVersions versions = new SchemaVersions();
        versions.add(Schema.derive(older));
        Evolution.check("T", versions, Schema.derive(newer));
        versions.add(Schema.derive(newer));
        return RecordCodec.of(newer, "T", versions);
    }

    @Test
    void readersOfOneContextButDifferentWriterSchemasStayApart() {
        RecordCodec<Newer> a = codec(Older.class, Newer.class);
        RecordCodec<Newer> b = codec(OtherOlder.class, Newer.class);
        assertEquals(a.context(1), b.context(1), "the test needs identical contexts");
        SchemaVersions olderOnly = new SchemaVersions();
        olderOnly.add(Schema.derive(Older.class));
        byte[] fromOlder = RecordCodec.of(Older.class, "T", olderOnly).encode(new Older("bolt", 5));
        SchemaVersions otherOnly = new SchemaVersions();
        otherOnly.add(Schema.derive(OtherOlder.class));
        byte[] fromOther = RecordCodec.of(OtherOlder.class, "T", otherOnly).encode(new OtherOlder("nut"));

        assertEquals(new Newer("bolt", 5, ""), a.decode(MemorySegment.ofArray(fromOlder)));
        assertEquals(new Newer("nut", 0, ""), b.decode(MemorySegment.ofArray(fromOther)));
        // And again in the other order, now that both readers are cached.
        assertEquals(new Newer("nut", 0, ""), b.decode(MemorySegment.ofArray(fromOther)));
        assertEquals(new Newer("bolt", 5, ""), a.decode(MemorySegment.ofArray(fromOlder)));
    }
}
