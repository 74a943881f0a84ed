package dev.cairn.schema;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.CorruptionException;
import dev.cairn.DefaultValue;
import dev.cairn.Fallback;
import dev.cairn.FormerNames;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SchemaTest {
    record Generic<T>(T value) { }

    record UsesGeneric(Generic<String> g) { }

    record RecordKeys(Map<RecordCodecTest.Dims, String> byDims) { }

    enum TwoFallbacks { @Fallback A, @Fallback B }

    record HasTwoFallbacks(TwoFallbacks t) { }

    record BadDefault(@DefaultValue("\"text\"") int n) { }

    record Renamed(@FormerNames({"qty", "count"}) int stock,
        @DefaultValue("[\"a\"]") List<String> tags) { }

    record Wildcard(List<? extends Number> numbers) { }

    @Test
    void derivationIsCachedAndDeterministic() {
        assertSame(Schema.derive(RecordCodecTest.Everything.class),
            Schema.derive(RecordCodecTest.Everything.class));
        Schema s = Schema.derive(RecordCodecTest.Everything.class);
        assertEquals(s, Schema.fromBytes(s.toBytes()));
        assertArrayEquals(s.toBytes(), Schema.fromBytes(s.toBytes()).toBytes());
        assertNotEquals(s.fingerprint(), Schema.derive(RecordCodecTest.Part.class).fingerprint());
    }

    @Test
    void annotationsArePartOfTheSchema() {
        Schema s = Schema.derive(Renamed.class);
        Component stock = s.root().components().get(0);
        assertEquals(List.of("qty", "count"), stock.formerNames());
        assertEquals("[\"a\"]", s.root().components().get(1).defaultJson());
        assertTrue(s.toJson().contains("\"formerNames\":[\"qty\",\"count\"]"), s.toJson());
    }

    record SplitInTwo(String number, @FormerNames("description") String shortText,
                      @FormerNames("description") String longText) { }
    record NameReused(String number, @FormerNames("note") String remark, String note) { }
    record OwnNameAmongFormer(@FormerNames({"qty", "stock"}) int stock) { }

    /**
     * A name that stands for two components (probe 96): an older class's update of the stored
     * component of that name was written into both, so the other's value was lost. Such a class
     * is refused; a component may list its own name.
     */
    @Test
    void aNameThatStandsForTwoComponentsIsRefused() {
        var split = assertThrows(IllegalArgumentException.class, () -> Schema.derive(SplitInTwo.class));
        assertTrue(split.getMessage().contains("SplitInTwo.longText: @FormerNames") && split.getMessage().contains("@FormerNames(\"description\")")
            && split.getMessage().contains("a former name of component shortText"), split.getMessage());
        var reused = assertThrows(IllegalArgumentException.class, () -> Schema.derive(NameReused.class));
        assertTrue(reused.getMessage().contains("NameReused.remark") && reused.getMessage().contains("names component note"),
            reused.getMessage());
        assertEquals(List.of("qty", "stock"), Schema.derive(OwnNameAmongFormer.class).root().components().getFirst().formerNames());
    }

    @Test
    void unsupportedShapesAreRefusedNamingClassAndPath() {
        var generic = assertThrows(IllegalArgumentException.class,
            () -> Schema.derive(UsesGeneric.class));
        assertTrue(generic.getMessage().contains("UsesGeneric.g (generic"), generic.getMessage());
        var keys = assertThrows(IllegalArgumentException.class,
            () -> Schema.derive(RecordKeys.class));
        assertTrue(keys.getMessage().contains("RecordKeys.byDims"), keys.getMessage());
        var fallbacks = assertThrows(IllegalArgumentException.class,
            () -> Schema.derive(HasTwoFallbacks.class));
        assertTrue(fallbacks.getMessage().contains("two @Fallback"), fallbacks.getMessage());
        var badDefault = assertThrows(IllegalArgumentException.class,
            () -> Schema.derive(BadDefault.class));
        assertTrue(badDefault.getMessage().contains("@DefaultValue")
            && badDefault.getMessage().contains("BadDefault.n"),
            badDefault.getMessage());
        var wildcard = assertThrows(IllegalArgumentException.class,
            () -> Schema.derive(Wildcard.class));
        assertTrue(wildcard.getMessage().contains("Wildcard.numbers"), wildcard.getMessage());
    }

    @Test
    void versionsAreDenseAndRebuiltFromStoredBytes() {
        SchemaVersions versions = new SchemaVersions();
        assertEquals(0, versions.latestVersion());
        assertThrows(IllegalStateException.class, versions::latest);
        Schema a = Schema.derive(RecordCodecTest.Part.class);
        Schema b = Schema.derive(Renamed.class);
        assertEquals(1, versions.add(a));
        assertEquals(2, versions.add(b));
        assertEquals(1, versions.add(a));
        assertEquals(2, versions.versionOf(b));
        assertEquals(-1, versions.versionOf(Schema.derive(BadDefaultFree.class)));
        SchemaVersions again = SchemaVersions.fromStored(Map.of(2, b.toBytes(), 1, a.toBytes()));
        assertEquals(a, again.get(1));
        assertEquals(b, again.latest());
        assertThrows(IllegalArgumentException.class, () -> again.get(3));
        assertThrows(IllegalArgumentException.class, () -> again.put(5, a));
        assertThrows(IllegalArgumentException.class, () -> again.put(1, b));
        assertThrows(IllegalArgumentException.class, () -> SchemaVersions.fromStored(Map.of(2,
            a.toBytes())));
    }

    record BadDefaultFree(int n) { }

    @Test
    void schemaBytesMustBeCanonical() {
        byte[] bytes = Schema.derive(RecordCodecTest.Part.class).toBytes();
        byte[] longVarint = new byte[bytes.length + 1];
        // definition count 1 written as the two-byte varint 0x81 0x00
        System.arraycopy(bytes, 0, longVarint, 0, 3);
        longVarint[3] = (byte) 0x81;
        longVarint[4] = 0;
        System.arraycopy(bytes, 4, longVarint, 5, bytes.length - 4);
        var e = assertThrows(CorruptionException.class, () -> Schema.fromBytes(longVarint));
        assertTrue(e.getMessage().contains("canonical"), e.getMessage());
    }
}
