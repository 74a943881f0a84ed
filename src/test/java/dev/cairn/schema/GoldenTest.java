package dev.cairn.schema;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The worked example of record-format.md §8, byte for byte. Old golden files are kept for ever. */
class GoldenTest {
    record Part(String name, String manufacturer, int stock, long priceCents, List<String> tags) { }

    static byte[] golden(String name) throws IOException {
        try (InputStream in = GoldenTest.class.getResourceAsStream("/golden/" + name)) {
            StringBuilder hex = new StringBuilder();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.startsWith("#")) hex.append(line.replace(" ", "").strip());
            }
            return HexFormat.of().parseHex(hex);
        }
    }

    @Test
    void schemaBytesMatchTheWorkedExample() throws IOException {
        byte[] expected = golden("part-v1.schema.hex");
        assertArrayEquals(expected, Schema.derive(Part.class).toBytes());
        assertEquals(Schema.derive(Part.class), Schema.fromBytes(expected));
        assertEquals(0x26e475f61761fb3fL, Schema.fromBytes(expected).fingerprint());
    }

    @Test
    void recordBytesMatchTheWorkedExample() throws IOException {
        byte[] expected = golden("part-v1.record.hex");
        SchemaVersions versions = new SchemaVersions();
        versions.add(Schema.fromBytes(golden("part-v1.schema.hex")));
        RecordCodec<Part> codec = RecordCodec.of(Part.class, "Part", versions);
        Part part = new Part("R1", "Acme", 5, 1234, List.of("smd", "0402"));
        assertArrayEquals(expected, codec.encode(part));
        assertEquals(part, codec.decode(MemorySegment.ofArray(expected)));
        assertEquals("{\"name\":\"R1\",\"manufacturer\":\"Acme\",\"stock\":5,\"priceCents\":1234,\"tags\":[\"smd\",\"0402\"]}",
            JsonForm.toJson(MemorySegment.ofArray(expected), versions));
    }
}
