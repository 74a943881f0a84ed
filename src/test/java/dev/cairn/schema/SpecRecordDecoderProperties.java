package dev.cairn.schema;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cairn.Key;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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
            assertEquals(model(value, type), read, type.getSimpleName());
        }
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

    /** What the spec decoder should give for a Java value of {@code type} (its declared type). */
    static Object model(Object value, Type type) {
        Class<?> raw = type instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) type;
        if (raw == Optional.class) {
            Optional<?> o = (Optional<?>) value;
            return o == null || o.isEmpty() ? Optional.empty() : Optional.of(model(o.get(), arg(type, 0)));
        }
        if (value == null) return null;
        if (value instanceof byte[] b) return HexFormat.of().formatHex(b);
        if (value instanceof Key<?> k) return new SpecRecordDecoder.KeyItem(k.tree(), k.id(), k.revision());
        if (value instanceof Enum<?> e) return new SpecRecordDecoder.Constant(e.getDeclaringClass().getSimpleName(), e.name());
        if (value instanceof Record r) {
            Map<String, Object> components = new LinkedHashMap<>();
            for (RecordComponent c : r.getClass().getRecordComponents()) {
                try {
                    components.put(c.getName(), model(c.getAccessor().invoke(r), c.getGenericType()));
                } catch (ReflectiveOperationException e) {
                    throw new AssertionError(e);
                }
            }
            return new SpecRecordDecoder.Rec(r.getClass().getSimpleName(), components);
        }
        if (value instanceof List<?> list) return list.stream().map(e -> model(e, arg(type, 0))).toList();
        if (value instanceof Set<?> set) {
            Set<Object> out = new HashSet<>();
            for (Object e : set) out.add(model(e, arg(type, 0)));
            return out;
        }
        if (value instanceof Map<?, ?> map) {
            Map<Object, Object> out = new HashMap<>();
            map.forEach((k, v) -> out.put(model(k, arg(type, 0)), model(v, arg(type, 1))));
            return out;
        }
        if (value instanceof Collection<?>) throw new AssertionError("collection type " + type);
        return value; // a scalar: its Java value
    }

    private static Type arg(Type type, int i) {
        return ((ParameterizedType) type).getActualTypeArguments()[i];
    }
}
