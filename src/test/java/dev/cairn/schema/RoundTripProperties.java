package dev.cairn.schema;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cairn.Key;
import java.lang.foreign.MemorySegment;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/** Round trips of random values and random schemas through bytes and JSON. */
class RoundTripProperties {
    record Nest(List<Map<String, Set<Integer>>> m, Optional<List<RecordCodecTest.Shape>> shapes,
                Map<Long, RecordCodecTest.Dims> byId, Map<RecordCodecTest.Color,
                    Optional<UUID>> byColor,
                Set<Key<Nest>> keys, List<List<byte[]>> blobs, Map<LocalDate, Instant> times,
                Map<BigDecimal, Character> odd, RecordCodecTest.Node node) { }

    private static final List<Class<? extends Record>> TYPES = List.of(RecordCodecTest.Everything.class, Nest.class,
        RecordCodecTest.Node.class, RecordCodecTest.Part.class);

    @Property(tries = 300)
    void typedValuesRoundTripThroughBytesAndJson(@ForAll long seed) {
        RandomValues random = new RandomValues(seed);
        for (Class<? extends Record> type : TYPES) check(type, random);
    }

    private static <V extends Record> void check(Class<V> type, RandomValues random) {
        SchemaVersions versions = RecordCodecTest.versionsOf(type);
        RecordCodec<V> codec = RecordCodec.of(type, "T", versions);
        V value = random.record(type);
        byte[] bytes = codec.encode(value);
        assertArrayEquals(bytes, codec.encodeInterpreted(value),
            "compiled and interpreted writers agree");
        V again = codec.decode(MemorySegment.ofArray(bytes));
        assertEquals(Normal.of(value), Normal.of(again), type.getSimpleName());
        assertArrayEquals(bytes, codec.encode(again));
        String json = JsonForm.toJson(MemorySegment.ofArray(bytes), versions);
        assertArrayEquals(bytes, JsonForm.fromJson(json, versions), json);
        GenericRecord generic = GenericRecord.decode(MemorySegment.ofArray(bytes), versions);
        assertArrayEquals(bytes, GenericCodec.encodeValue(versions.latest(), 1, generic));
    }

    @Property(tries = 400)
    void randomSchemasAndValuesRoundTrip(@ForAll long seed) {
        RandomValues random = new RandomValues(seed);
        Schema schema = random.schema();
        byte[] schemaBytes = schema.toBytes();
        Schema again = Schema.fromBytes(schemaBytes);
        assertEquals(schema, again);
        assertEquals(schema.fingerprint(), again.fingerprint());
        assertEquals(schema.toJson(), again.toJson());
        SchemaVersions versions = new SchemaVersions();
        versions.add(again);
        for (int i = 0; i < 5; i++) {
            GenericRecord value = (GenericRecord) random.generic(schema, Schema.ROOT, 0);
            byte[] bytes = GenericCodec.encodeValue(schema, 1, value);
            GenericRecord decoded = GenericRecord.decode(MemorySegment.ofArray(bytes), versions);
            assertEquals(Normal.of(value), Normal.of(decoded));
            assertArrayEquals(bytes, GenericCodec.encodeValue(schema, 1, decoded));
            String json = JsonForm.toJson(MemorySegment.ofArray(bytes), versions, i % 2 == 0);
            assertArrayEquals(bytes, JsonForm.fromJson(json, versions), json);
        }
    }
}
