package dev.cairn.schema;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.schema.RecordCodecTest.Everything;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class JsonFormTest {
    record Numbers(long big, double d, float f, Double nan, java.math.BigDecimal dec,
        byte[] raw) { }

    record Floats(double d, float f, Double boxed, List<Float> list, java.util.Optional<Double> opt) { }

    /**
     * A NaN's payload survives JSON both ways (record-format.md §1, §7): Java's canonical NaN is
     * "NaN", any other NaN its bits. Before, every NaN printed as "NaN" and came back canonical,
     * so fromJson(toJson(b)) differed from b.
     */
    @net.jqwik.api.Property(tries = 300)
    void nanPayloadsRoundTripThroughJsonBothWays(@net.jqwik.api.ForAll long seed) {
        java.util.Random rnd = new java.util.Random(seed);
        SchemaVersions versions = versions(Floats.class);
        RecordCodec<Floats> codec = RecordCodec.of(Floats.class, "F", versions);
        Floats value = new Floats(anyDouble(rnd), anyFloat(rnd), anyDouble(rnd), List.of(anyFloat(rnd), anyFloat(rnd)),
            java.util.Optional.of(anyDouble(rnd)));
        byte[] bytes = codec.encode(value);
        String json = JsonForm.toJson(MemorySegment.ofArray(bytes), versions);
        assertArrayEquals(bytes, JsonForm.fromJson(json, versions), json);
        assertEquals(json, JsonForm.toJson(MemorySegment.ofArray(JsonForm.fromJson(json, versions)), versions));
        Floats back = codec.decode(MemorySegment.ofArray(JsonForm.fromJson(json, versions)));
        assertEquals(Double.doubleToRawLongBits(value.d()), Double.doubleToRawLongBits(back.d()), json);
        assertEquals(Float.floatToRawIntBits(value.f()), Float.floatToRawIntBits(back.f()), json);
    }

    /** Mostly NaNs: random payloads and signs, the canonical one, infinities; sometimes a number. */
    private static double anyDouble(java.util.Random rnd) {
        return switch (rnd.nextInt(5)) {
            case 0 -> Double.NaN;
            case 1 -> rnd.nextBoolean() ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
            case 2 -> rnd.nextGaussian();
            default -> Double.longBitsToDouble((rnd.nextBoolean() ? 0xfff0000000000000L : 0x7ff0000000000000L)
                | 1 + (rnd.nextLong() >>> 13));
        };
    }

    private static float anyFloat(java.util.Random rnd) {
        return switch (rnd.nextInt(5)) {
            case 0 -> Float.NaN;
            case 1 -> rnd.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
            case 2 -> (float) rnd.nextGaussian();
            default -> Float.intBitsToFloat((rnd.nextBoolean() ? 0xff800000 : 0x7f800000) | 1 + (rnd.nextInt() >>> 10));
        };
    }

    @Test
    void nanTextForms() {
        SchemaVersions versions = versions(Floats.class);
        RecordCodec<Floats> codec = RecordCodec.of(Floats.class, "F", versions);
        byte[] bytes = codec.encode(new Floats(Double.longBitsToDouble(0x7ff8000000000123L), Float.intBitsToFloat(0x7fc00042),
            Double.NaN, List.of(Float.NaN, Float.intBitsToFloat(0xffc00000)), java.util.Optional.of(Double.NEGATIVE_INFINITY)));
        assertEquals("{\"d\":\"NaN:7ff8000000000123\",\"f\":\"NaN:7fc00042\",\"boxed\":\"NaN\","
            + "\"list\":[\"NaN\",\"NaN:ffc00000\"],\"opt\":\"-Infinity\"}", JsonForm.toJson(MemorySegment.ofArray(bytes), versions));
        for (String bad : new String[] {"NaN:7ff8000000000000", "NaN:7ff0000000000000", "NaN:7FF8000000000123", "NaN:7fc00042",
            "NaN:", "nan"}) {
            var e = assertThrows(IllegalArgumentException.class,
                () -> JsonForm.fromJson("{\"d\":\"" + bad + "\"}", versions), bad);
            assertTrue(e.getMessage().contains("at Floats.d:"), e.getMessage());
        }
        var f = assertThrows(IllegalArgumentException.class, () -> JsonForm.fromJson("{\"f\":\"NaN:7ff8000000000123\"}", versions));
        assertTrue(f.getMessage().contains("8 lowercase hex digits"), f.getMessage());
    }

    static SchemaVersions versions(Class<? extends Record> type) {
        return RecordCodecTest.versionsOf(type);
    }

    @Test
    void everythingRoundTripsThroughJsonBytesIdentical() {
        SchemaVersions versions = versions(Everything.class);
        RecordCodec<Everything> codec = RecordCodec.of(Everything.class, "E", versions);
        byte[] bytes = codec.encode(RecordCodecTest.sample());
        for (boolean pretty : new boolean[] {false, true}) {
            String json = JsonForm.toJson(MemorySegment.ofArray(bytes), versions, pretty);
            assertArrayEquals(bytes, JsonForm.fromJson(json, versions), json);
        }
    }

    /** On a synced node the latest-numbered version may be an older schema than the node's own. */
    @Test
    void newRecordJsonTakesTheHighestVersionThatHasEveryMember() {
        SchemaVersions versions = new SchemaVersions();
        versions.add(Schema.derive(EvolutionTest.WideV2.class));   // the node's own class, numbered 1
        versions.add(Schema.derive(EvolutionTest.NarrowV1.class)); // an older schema, arrived later
        MemorySegment narrow = MemorySegment.ofArray(JsonForm.fromJson("{\"name\":\"a\",\"stock\":1}", versions));
        assertEquals(2, RecordCodec.versionOf(narrow));
        MemorySegment wide = MemorySegment.ofArray(
            JsonForm.fromJson("{\"name\":\"a\",\"note\":\"kept\",\"color\":\"BLUE\"}", versions));
        assertEquals(1, RecordCodec.versionOf(wide));
        String back = JsonForm.toJson(wide, versions);
        assertTrue(back.contains("\"note\":\"kept\"") && back.contains("\"color\":\"BLUE\""), back);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> JsonForm.fromJson("{\"name\":\"a\",\"nope\":1}", versions));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
    }

    @Test
    void numbersAreExactInJson() {
        SchemaVersions versions = versions(Numbers.class);
        RecordCodec<Numbers> codec = RecordCodec.of(Numbers.class, "N", versions);
        Numbers n = new Numbers((1L << 53) + 1, 0.1, 1e-40f, Double.NaN,
            new java.math.BigDecimal("1.500E+7"),
            new byte[] {-1, 0, 1});
        byte[] bytes = codec.encode(n);
        String json = JsonForm.toJson(MemorySegment.ofArray(bytes), versions);
        assertTrue(json.contains("\"big\":9007199254740993"), json);
        assertTrue(json.contains("\"nan\":\"NaN\""), json);
        assertTrue(json.contains("\"dec\":1.500E+7"), json);
        assertTrue(json.contains("\"raw\":\"/wAB\""), json);
        assertArrayEquals(bytes, JsonForm.fromJson(json, versions));
    }

    @Test
    void printedFormShowsDiscriminatorsKeysAndTimes() {
        SchemaVersions versions = versions(Everything.class);
        RecordCodec<Everything> codec = RecordCodec.of(Everything.class, "E", versions);
        String json = JsonForm.toJson(MemorySegment.ofArray(codec.encode(RecordCodecTest.sample())),
            versions);
        assertTrue(json.contains("\"shape\":{\"@type\":\"Square\",\"dims\":{\"width\":3,\"height\":4}}"), json);
        assertTrue(json.contains("\"key\":\"Part/42.3\""), json);
        assertTrue(json.contains("\"instant\":\"2023-11-14T22:13:20.000000123Z\""), json);
        assertTrue(json.contains("\"color\":\"GREEN\""), json);
        assertTrue(json.contains("\"enumMap\":[[\"RED\",[1,2]],[\"BLUE\",[]]]"), json);
    }

    @Test
    void missingMembersReadAsDefaults() {
        SchemaVersions versions = versions(RecordCodecTest.Part.class);
        RecordCodec<RecordCodecTest.Part> codec = RecordCodec.of(RecordCodecTest.Part.class, "Part",
            versions);
        byte[] bytes = JsonForm.fromJson("{\"name\": \"x\"}", versions);
        assertEquals(new RecordCodecTest.Part("x", "", 0, 0, List.of()),
            codec.decode(MemorySegment.ofArray(bytes)));
    }

    record Box(String label, RecordCodecTest.Dims dims, List<RecordCodecTest.Dims> more) { }

    @Test
    void aPatchChangesOnlyTheMembersItGives() {
        SchemaVersions versions = versions(Box.class);
        RecordCodec<Box> codec = RecordCodec.of(Box.class, "B", versions);
        Box stored = new Box("crate", new RecordCodecTest.Dims(3, 4), List.of(new RecordCodecTest.Dims(5, 6)));
        MemorySegment bytes = MemorySegment.ofArray(codec.encode(stored));
        assertEquals(new Box("bin", stored.dims(), stored.more()),
            codec.decode(MemorySegment.ofArray(JsonForm.patch("{\"label\": \"bin\"}", bytes, versions))));
        // a nested record given as an object keeps its members left out; a list is replaced
        assertEquals(new Box("crate", new RecordCodecTest.Dims(9, 4), List.of(new RecordCodecTest.Dims(1, 0))),
            codec.decode(MemorySegment.ofArray(JsonForm.patch(
                "{\"dims\": {\"width\": 9}, \"more\": [{\"width\": 1}]}", bytes, versions))));
        // the printed form saves back to the same bytes; an empty patch changes nothing
        assertArrayEquals(codec.encode(stored), JsonForm.patch(JsonForm.toJson(bytes, versions), bytes, versions));
        assertArrayEquals(codec.encode(stored), JsonForm.patch("{ }", bytes, versions));
        var e = assertThrows(IllegalArgumentException.class, () -> JsonForm.patch("{\"dims\": {\"depth\": 1}}", bytes, versions));
        assertTrue(e.getMessage().contains("B") && e.getMessage().contains("unknown member \"depth\""), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> JsonForm.patch("{\"label\": \"x\"} y", bytes, versions));
        assertThrows(IllegalArgumentException.class, () -> JsonForm.patch("null", bytes, versions));
    }

    record Noted(String label, String note) { }

    record Plain(String label) { }

    /** What getJson printed saves back even when the latest version lacks one of its members. */
    @Test
    void aPatchIsParsedWithTheStoredRecordsVersion() {
        SchemaVersions versions = new SchemaVersions();
        versions.add(Schema.derive(Noted.class));
        versions.add(Schema.derive(Plain.class));
        RecordCodec<Noted> noted = RecordCodec.of(Noted.class, "T", versions);
        MemorySegment bytes = MemorySegment.ofArray(noted.encode(new Noted("a", "keep")));
        byte[] patched = JsonForm.patch("{\"note\": \"changed\"}", bytes, versions);
        assertEquals(1, RecordCodec.versionOf(MemorySegment.ofArray(patched)));
        assertEquals(new Noted("a", "changed"), noted.decode(MemorySegment.ofArray(patched)));
        assertThrows(IllegalArgumentException.class, () -> JsonForm.fromJson("{\"note\": \"changed\"}", versions, 2),
            "the latest version has no note");
    }

    /**
     * A number the component's float or double cannot hold is refused as an integer out of range
     * is (record-format.md §7: numbers are exact), naming the component and the place; before,
     * 1e40 was stored as Infinity and 1e-400 as 0.0. The spelled infinities, -0.0 and numbers
     * that only round stay accepted.
     */
    @Test
    void floatsAndDoublesOutOfRangeAreRefused() {
        SchemaVersions versions = versions(Floats.class);
        RecordCodec<Floats> codec = RecordCodec.of(Floats.class, "F", versions);
        String[][] refused = {
            {"{\"f\":1e40}", "column 6 at Floats.f: float 1e40 out of range: its magnitude is above 3.4028235E38"},
            {"{\"d\":1e400}", "column 6 at Floats.d: double 1e400 out of range: its magnitude is above 1.7976931348623157E308"},
            {"{\"d\":-1e400}", "at Floats.d: double -1e400 out of range"},
            {"{\"d\":1e-400}", "at Floats.d: double 1e-400 out of range: not zero, but below 4.9E-324"},
            {"{\"d\":4.9E-325}", "at Floats.d: double 4.9E-325 out of range: not zero"},
            {"{\"f\":1e-50}", "at Floats.f: float 1e-50 out of range: not zero, but below 1.4E-45"},
            {"{\"list\":[1,3.5e38]}", "at Floats.list[1]: float 3.5e38 out of range"},
            {"{\"opt\":1e309}", "at Floats.opt: double 1e309 out of range"},
            {"{\"boxed\":1e-324}", "at Floats.boxed: double 1e-324 out of range"},
        };
        for (String[] r : refused) {
            var e = assertThrows(IllegalArgumentException.class, () -> JsonForm.fromJson(r[0], versions), r[0]);
            assertTrue(e.getMessage().contains(r[1]), e.getMessage());
        }
        Floats kept = codec.decode(MemorySegment.ofArray(JsonForm.fromJson(
            "{\"d\":-0.0,\"f\":3.4028235E38,\"boxed\":\"Infinity\",\"list\":[1.4E-45,0e999,\"-Infinity\"],\"opt\":4.9E-324}",
            versions)));
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(kept.d()));
        assertEquals(Float.MAX_VALUE, kept.f());
        assertEquals(Double.POSITIVE_INFINITY, kept.boxed());
        assertEquals(List.of(Float.MIN_VALUE, 0.0f, Float.NEGATIVE_INFINITY), kept.list());
        assertEquals(Double.MIN_VALUE, kept.opt().orElseThrow());
        // 2e-45 is no float, but rounds to the smallest one: rounding is a float's precision, not a range error
        assertEquals(Float.MIN_VALUE, codec.decode(MemorySegment.ofArray(JsonForm.fromJson("{\"f\":2e-45}", versions))).f());
    }

    record Sets(Set<String> tags, Set<byte[]> blobs, List<String> list, Map<String, Set<Integer>> byName) { }

    /**
     * A set element given twice is refused, naming the set and both places, as a repeated map
     * key is; before, ["RED","RED"] was stored as ["RED"]. A list keeps repeated elements.
     */
    @Test
    void aSetElementGivenTwiceIsRefused() {
        SchemaVersions versions = versions(Sets.class);
        String[][] refused = {
            {"{\"tags\":[\"RED\",\"BLUE\",\"RED\"]}", "JSON line 1 column 23 at Sets.tags[2]: a set element given twice"
                + " (also Sets.tags[0]) (found '\"RED\"]}')"},
            {"{\"byName\":{\"a\":[1,2,1]}}", "at Sets.byName{a}[2]: a set element given twice (also Sets.byName{a}[0])"},
        };
        for (String[] r : refused) {
            var e = assertThrows(IllegalArgumentException.class, () -> JsonForm.fromJson(r[0], versions), r[0]);
            assertTrue(e.getMessage().contains(r[1]), e.getMessage());
        }
        RecordCodec<Sets> codec = RecordCodec.of(Sets.class, "S", versions);
        // a Set<byte[]> may hold arrays of equal content (Java compares arrays by identity): they read back
        Sets kept = codec.decode(MemorySegment.ofArray(JsonForm.fromJson(
            "{\"tags\":[\"RED\",\"red\"],\"blobs\":[\"AAE=\",\"AAE=\"],\"list\":[\"a\",\"a\"]}", versions)));
        assertEquals(Set.of("RED", "red"), kept.tags());
        assertEquals(2, kept.blobs().size());
        assertEquals(List.of("a", "a"), kept.list());
    }

    @Test
    void parseErrorsGiveLineColumnAndPath() {
        SchemaVersions versions = versions(Everything.class);
        var e = assertThrows(IllegalArgumentException.class,
            () -> JsonForm.fromJson("{\n  \"i\": 1,\n  \"dims\": {\"width\": \"wide\"}\n}",
                versions));
        assertTrue(e.getMessage().contains("line 3 column 21")
            && e.getMessage().contains("Everything.dims.width"),
            e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class,
            () -> JsonForm.fromJson("{\"i\": 3000000000}", versions));
        assertTrue(e2.getMessage().contains("out of range")
            && e2.getMessage().contains("Everything.i"), e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class,
            () -> JsonForm.fromJson("{\"nope\": 1}", versions));
        assertTrue(e3.getMessage().contains("unknown member \"nope\""), e3.getMessage());
        var e4 = assertThrows(IllegalArgumentException.class,
            () -> JsonForm.fromJson("{\"shape\": {\"@type\": \"Triangle\"}}", versions));
        assertTrue(e4.getMessage().contains("Triangle")
            && e4.getMessage().contains("Everything.shape"), e4.getMessage());
        assertThrows(IllegalArgumentException.class, () -> JsonForm.fromJson("{\"i\": 1} x",
            versions));
        assertThrows(IllegalArgumentException.class, () -> JsonForm.fromJson("{\"i\": 01}",
            versions));
        assertThrows(IllegalArgumentException.class, () -> JsonForm.fromJson("{\"s\": \"\\x\"}",
            versions));
        assertThrows(IllegalArgumentException.class, () -> JsonForm.fromJson("null", versions));
        assertThrows(IllegalArgumentException.class, () -> JsonForm.fromJson("", versions));
    }

    @Test
    void schemaHasAJsonForm() {
        String json = Schema.derive(Everything.class).toJson();
        assertTrue(json.contains("{\"name\":\"enumMap\",\"type\":\"Map<Color,List<Long>>\"}"),
            json);
        assertTrue(json.contains("{\"union\":\"Shape\",\"variants\":[\"Circle\",\"Square\",\"Named\"]}"), json);
    }
}
