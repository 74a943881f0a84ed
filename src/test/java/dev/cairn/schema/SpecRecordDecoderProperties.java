package dev.cairn.schema;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * Stored record values as {@link SpecRecordDecoder}, a second decoder written from
 * spec/record-format.md alone, reads them: for random values of record types that use every
 * kind of the format (scalars boxed and not, strings, bytes, keys, enums, unions, nested
 * records, lists, sets, maps, optionals, recursion), the bytes the codec writes decode to the
 * value the application wrote, with sets and maps in the spec's canonical order.
 */
class SpecRecordDecoderProperties {
    private static final List<Class<? extends Record>> TYPES = List.of(RecordCodecTest.Everything.class,
        RoundTripProperties.Nest.class, RecordCodecTest.Node.class, RecordCodecTest.Part.class, RecordCodecTest.Assembly.class,
        RecordCodecTest.MaybeSet.class, RecordCodecTest.OptionalSet.class, JsonFormTest.Sets.class);

    @Property(tries = 300)
    void theSpecDecodesWhatTheCodecWrote(@ForAll long seed) {
        RandomValues random = new RandomValues(seed);
        for (Class<? extends Record> type : TYPES) {
            Record value = random.record(type);
            byte[] bytes = encode(type, value);
            Object read = SpecRecordDecoder.decode(bytes, List.of(Schema.derive(type).toBytes()));
            assertEquals(SpecRecordDecoder.expected(value, type), read, type.getSimpleName());
        }
    }

    /** The JSON text form (§7), compact and pretty, as a printer written from the spec prints what the decoder read. */
    @Property(tries = 300)
    void theSpecPrintsTheJsonFormTheCodecPrints(@ForAll long seed) {
        RandomValues random = new RandomValues(seed);
        for (Class<? extends Record> type : TYPES) {
            byte[] bytes = encode(type, random.record(type));
            for (boolean pretty : new boolean[] {false, true}) {
                String json = JsonForm.toJson(java.lang.foreign.MemorySegment.ofArray(bytes), RecordCodecTest.versionsOf(type), pretty);
                assertEquals(json, SpecRecordDecoder.toJson(bytes, List.of(Schema.derive(type).toBytes()), pretty),
                    type.getSimpleName() + (pretty ? ", pretty" : ""));
            }
        }
    }

    /**
     * The SQL text form (§10): the INSERT statement as a printer written from the spec prints it,
     * and the CREATE TABLE statement token for token (the spec does not fix its line breaks).
     */
    @Property(tries = 200)
    void theSpecPrintsTheSqlFormTheCodecPrints(@ForAll long seed) {
        RandomValues random = new RandomValues(seed);
        for (Class<? extends Record> type : TYPES) {
            SchemaVersions versions = RecordCodecTest.versionsOf(type);
            byte[] schema = Schema.derive(type).toBytes();
            byte[] bytes = encode(type, random.recordWithSqlForm(type));
            int id = (int) (seed & 0xFFFF);
            assertEquals(SqlForm.insert("T x", id, 2, java.lang.foreign.MemorySegment.ofArray(bytes), versions, versions.latest()),
                SpecRecordDecoder.sqlInsert("T x", id, 2, bytes, List.of(schema)), type.getSimpleName());
            assertEquals(tokens(SqlForm.createTable("T x", versions.latest())), tokens(SpecRecordDecoder.sqlCreateTable("T x", schema)),
                type.getSimpleName());
        }
    }

    private static String tokens(String sql) {
        return sql.replaceAll("\\s+", " ").replace("( ", "(").replace(" )", ")");
    }

    @SuppressWarnings("unchecked")
    private static <V extends Record> byte[] encode(Class<V> type, Record value) {
        return RecordCodec.of(type, "T", RecordCodecTest.versionsOf(type)).encode((V) value);
    }

    /** The worked example of §8, from its hex dumps. */
    @Test
    void theWorkedExampleReadsAsTheSpecShowsIt() throws IOException {
        Object read = SpecRecordDecoder.decode(hex("golden/part-v1.record.hex"), List.of(hex("golden/part-v1.schema.hex")));
        Map<String, Object> components = new LinkedHashMap<>();
        components.put("name", "R1");
        components.put("manufacturer", "Acme");
        components.put("stock", 5);
        components.put("priceCents", 1234L);
        components.put("tags", List.of("smd", "0402"));
        assertEquals(new SpecRecordDecoder.Rec("Part", components), read);
    }

    private static byte[] hex(String resource) throws IOException {
        try (InputStream in = SpecRecordDecoderProperties.class.getClassLoader().getResourceAsStream(resource)) {
            String text = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            return HexFormat.of().parseHex(text.replaceAll("(?m)#.*$", "").replaceAll("\\s", ""));
        }
    }
}
