package dev.cairn.schema;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cairn.CorruptionException;
import dev.cairn.SchemaMismatchException;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Damaged input into the record decoder, the schema decoder and the JSON parser: the only
 * outcomes allowed are a value of the right type or a clear exception of the documented kind.
 */
class DecoderFuzzProperties {
    private static final List<Class<? extends Record>> TYPES = List.of(RecordCodecTest.Everything.class,
        RoundTripProperties.Nest.class, RecordCodecTest.Node.class);

    /**
     * A random mutation: flips, overwrites with extreme offsets, truncation, extension, or noise.
     */
    static byte[] mutate(byte[] bytes, Random rnd) {
        byte[] b = bytes.clone();
        switch (rnd.nextInt(6)) {
            case 0 -> {
                for (int i = 0, n = 1 + rnd.nextInt(4); i < n
                    && b.length > 0; i++) b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
            }
            case 1 -> {
                if (b.length >= 4) {
                    int at = rnd.nextInt(b.length - 3);
                    int v = switch (rnd.nextInt(4)) {
                        case 0 -> Integer.MAX_VALUE;
                        case 1 -> -1;
                        case 2 -> b.length + rnd.nextInt(100);
                        default -> rnd.nextInt();
                    };
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at, v);
                }
            }
            case 2 -> b = java.util.Arrays.copyOf(b, rnd.nextInt(b.length + 1));
            case 3 -> {
                b = java.util.Arrays.copyOf(b, b.length + 1 + rnd.nextInt(16));
                for (int i = bytes.length; i < b.length; i++) b[i] = (byte) rnd.nextInt();
            }
            case 4 -> {
                for (int i = 0, n = 1 + rnd.nextInt(8); i < n
                    && b.length > 0; i++) b[rnd.nextInt(b.length)] = (byte) rnd.nextInt();
            }
            default -> {
                b = new byte[rnd.nextInt(64)];
                rnd.nextBytes(b);
                if (b.length > 3 && rnd.nextBoolean()) {
                    b[0] = Bin.FORMAT_TAG;
                    b[1] = 1;
                    b[2] = 0;
                }
            }
        }
        return b;
    }

    @Property(tries = 400)
    void damagedRecordBytesGiveACorruptionErrorOrAValue(@ForAll long seed) {
        Random rnd = new Random(seed);
        RandomValues values = new RandomValues(seed);
        for (Class<? extends Record> type : TYPES) {
            SchemaVersions versions = RecordCodecTest.versionsOf(type);
            RecordCodec<? extends Record> codec = RecordCodec.of(type, "T", versions);
            byte[] valid = encode(codec, values.record(type));
            for (int i = 0; i < 10; i++) {
                MemorySegment bad = MemorySegment.ofArray(mutate(valid, rnd));
                expectValueOrCorruption(() -> assertInstanceOf(type, codec.decode(bad)));
                expectValueOrCorruption(() -> GenericRecord.decode(bad, versions));
                expectValueOrCorruption(() -> JsonForm.toJson(bad, versions));
            }
        }
    }

    /** The check a sync server makes of a client's record refuses exactly what decoding refuses, with the same message. */
    @Property(tries = 300)
    void checkingRecordBytesRefusesWhatDecodingRefuses(@ForAll long seed) {
        Random rnd = new Random(seed);
        RandomValues values = new RandomValues(seed);
        int refused = 0;
        for (Class<? extends Record> type : TYPES) {
            SchemaVersions versions = RecordCodecTest.versionsOf(type);
            Schema schema = versions.latest();
            byte[] valid = encode(RecordCodec.of(type, "T", versions), values.record(type));
            GenericRecord.check(MemorySegment.ofArray(valid), schema);
            for (int i = 0; i < 10; i++) {
                MemorySegment bad = MemorySegment.ofArray(mutate(valid, rnd));
                String decoded = corruption(() -> GenericRecord.decode(bad, schema));
                assertEquals(decoded, corruption(() -> GenericRecord.check(bad, schema)), "type " + type.getSimpleName());
                if (decoded != null) refused++;
            }
        }
        assertTrue(refused > 0, "no damaged value was refused: the property checked nothing");
    }

    private static String corruption(Runnable action) {
        try {
            action.run();
            return null;
        } catch (CorruptionException e) {
            return e.getMessage();
        }
    }

    @Property(tries = 300)
    void damagedFieldReadsGiveACorruptionErrorOrAValue(@ForAll long seed) {
        Random rnd = new Random(seed);
        SchemaVersions versions = RecordCodecTest.versionsOf(RecordCodecTest.Everything.class);
        RecordCodec<RecordCodecTest.Everything> codec = RecordCodec.of(RecordCodecTest.Everything.class, "T", versions);
        byte[] valid = codec.encode(new RandomValues(seed).record(RecordCodecTest.Everything.class));
        FieldPath i = codec.field("i");
        FieldPath s = codec.field("s");
        FieldPath width = codec.field("dims.width");
        FieldPath color = codec.field("color");
        for (int n = 0; n < 20; n++) {
            MemorySegment bad = MemorySegment.ofArray(mutate(valid, rnd));
            expectValueOrCorruption(() -> codec.getInt(bad, i));
            expectValueOrCorruption(() -> codec.getString(bad, s));
            expectValueOrCorruption(() -> codec.stringEquals(bad, s, "x"));
            expectValueOrCorruption(() -> codec.getInt(bad, width));
            expectValueOrCorruption(() -> codec.getString(bad, color));
        }
    }

    @Property(tries = 400)
    void damagedSchemaBytesGiveACorruptionErrorOrAValidSchema(@ForAll long seed) {
        Random rnd = new Random(seed);
        byte[] valid = new RandomValues(seed).schema().toBytes();
        for (int i = 0; i < 10; i++) {
            byte[] bad = mutate(valid, rnd);
            try {
                Schema s = Schema.fromBytes(bad);
                assertArrayEquals(bad, s.toBytes());
            } catch (CorruptionException expected) {
                assertTrue(expected.getMessage().startsWith("schema bytes"), expected.getMessage());
            }
        }
    }

    @Property(tries = 300)
    void damagedJsonGivesAParseErrorOrAValue(@ForAll long seed) {
        Random rnd = new Random(seed);
        RandomValues values = new RandomValues(seed);
        for (Class<? extends Record> type : TYPES) {
            SchemaVersions versions = RecordCodecTest.versionsOf(type);
            RecordCodec<? extends Record> codec = RecordCodec.of(type, "T", versions);
            String json = JsonForm.toJson(MemorySegment.ofArray(encode(codec, values.record(type))),
                versions, rnd.nextBoolean());
            for (int i = 0; i < 10; i++) {
                String bad = mutate(json, rnd);
                try {
                    byte[] bytes = JsonForm.fromJson(bad, versions);
                    assertInstanceOf(type, codec.decode(MemorySegment.ofArray(bytes)));
                } catch (IllegalArgumentException expected) {
                    assertTrue(expected.getMessage().startsWith("JSON line "),
                        expected.getMessage());
                }
            }
        }
    }

    private static String mutate(String json, Random rnd) {
        StringBuilder b = new StringBuilder(json);
        int n = 1 + rnd.nextInt(3);
        for (int i = 0; i < n && b.length() > 0; i++) {
            int at = rnd.nextInt(b.length());
            switch (rnd.nextInt(4)) {
                case 0 -> b.deleteCharAt(at);
                case 1 -> b.insert(at, "{}[]\",:0-e.ntfu\\ x9".charAt(rnd.nextInt(19)));
                case 2 -> b.setCharAt(at, "{}[]\",:0-e.\\".charAt(rnd.nextInt(12)));
                default -> b.setLength(at);
            }
        }
        return b.toString();
    }

    /** The same fuzzing at 50x the tries, for extended runs ({@code CAIRN_LONG=1}). */
    @Property(tries = 20_000)
    @net.jqwik.api.Tag("long")
    void damagedRecordBytesLongRun(@ForAll long seed) {
        damagedRecordBytesGiveACorruptionErrorOrAValue(seed);
        damagedSchemaBytesGiveACorruptionErrorOrAValidSchema(seed);
        damagedJsonGivesAParseErrorOrAValue(seed);
    }

    @Example
    void deepNestingIsRefusedOnBothSidesWithoutStackOverflow() {
        SchemaVersions versions = RecordCodecTest.versionsOf(RecordCodecTest.Node.class);
        RecordCodec<RecordCodecTest.Node> codec = RecordCodec.of(RecordCodecTest.Node.class, "N",
            versions);
        RecordCodecTest.Node deep = new RecordCodecTest.Node("leaf", List.of());
        for (int i = 0; i < 200; i++) deep = new RecordCodecTest.Node("n", List.of(deep));
        RecordCodecTest.Node tooDeep = deep;
        assertThrows(IllegalArgumentException.class, () -> codec.encode(tooDeep));
        MemorySegment bytes = MemorySegment.ofArray(deepNodeBytes(5000));
        var e = assertThrows(CorruptionException.class, () -> codec.decode(bytes));
        assertTrue(e.getMessage().contains("deeper"), e.getMessage());
        assertThrows(CorruptionException.class, () -> GenericRecord.decode(bytes, versions));
        String json = "{\"name\":\"a\",\"children\":[".repeat(5000);
        var j = assertThrows(IllegalArgumentException.class, () -> JsonForm.fromJson(json,
            versions));
        assertTrue(j.getMessage().contains("deeper"), j.getMessage());
        RecordCodecTest.Node fine = new RecordCodecTest.Node("leaf", List.of());
        for (int i = 0; i < 40; i++) fine = new RecordCodecTest.Node("n", List.of(fine));
        assertEquals(fine, codec.decode(MemorySegment.ofArray(codec.encode(fine))));
    }

    @Example
    void oversizedCountsAreBoundedByTheBytesPresent() {
        SchemaVersions versions = RecordCodecTest.versionsOf(RecordCodecTest.Part.class);
        RecordCodec<RecordCodecTest.Part> codec = RecordCodec.of(RecordCodecTest.Part.class, "P",
            versions);
        byte[] bytes = codec.encode(new RecordCodecTest.Part("a", "b", 1, 2, List.of("x")));
        // the list of tags is the last item: its count sits 4 + 4 + 1 bytes before the end
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(bytes.length - 9,
            Integer.MAX_VALUE);
        var e = assertThrows(CorruptionException.class,
            () -> codec.decode(MemorySegment.ofArray(bytes)));
        assertTrue(e.getMessage().contains("count 2147483647"), e.getMessage());
        byte[] wrongTag = codec.encode(new RecordCodecTest.Part("a", "b", 1, 2, List.of()));
        wrongTag[0] = 0x7F;
        assertThrows(CorruptionException.class,
            () -> codec.decode(MemorySegment.ofArray(wrongTag)));
        wrongTag[0] = Bin.FORMAT_TAG;
        wrongTag[1] = 9;
        var v = assertThrows(CorruptionException.class,
            () -> codec.decode(MemorySegment.ofArray(wrongTag)));
        assertTrue(v.getMessage().contains("schema version 9"), v.getMessage());
    }

    /** Node bytes nested {@code depth} levels, built by hand so that no encoder limit applies. */
    private static byte[] deepNodeBytes(int depth) {
        byte[] body = nodeBody(new byte[0], false);
        for (int i = 0; i < depth; i++) body = nodeBody(body, true);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(Bin.FORMAT_TAG);
        out.write(1);
        out.write(0);
        out.writeBytes(body);
        return out.toByteArray();
    }

    private static byte[] nodeBody(byte[] child, boolean hasChild) {
        // fixed part: name slot, children slot; then name "n", then the list
        int listBytes = hasChild ? 4 + 4 + child.length : 4;
        ByteBuffer b = ByteBuffer.allocate(8 + 1 + listBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(9).putInt(9 + listBytes).put((byte) 'n');
        if (hasChild) {
            b.putInt(1).putInt(8 + child.length).put(child);
        } else {
            b.putInt(0);
        }
        return b.array();
    }

    @SuppressWarnings("unchecked")
    private static <V extends Record> byte[] encode(RecordCodec<V> codec, Record value) {
        return codec.encode((V) value);
    }

    private static void expectValueOrCorruption(Runnable action) {
        try {
            action.run();
        } catch (CorruptionException expected) {
            assertTrue(expected.getMessage().startsWith("record bytes"), expected.getMessage());
        } catch (SchemaMismatchException e) {
            fail("one schema version only, yet: " + e.getMessage());
        }
    }
}
