package dev.cairn.schema;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.DefaultValue;
import dev.cairn.Fallback;
import dev.cairn.FormerNames;
import dev.cairn.SchemaMismatchException;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The evolution matrix (record-format.md §6): for each rule, two real record classes standing
 * for two schema versions of one tree, read in both directions.
 */
class EvolutionTest {
    /** Codecs of an older and a newer class of one tree; versions 1 and 2. */
    record Pair<A extends Record, B extends Record>(RecordCodec<A> older, RecordCodec<B> newer,
        SchemaVersions versions) {
        static <A extends Record, B extends Record> Pair<A, B> of(Class<A> older, Class<B> newer) {
            SchemaVersions versions = new SchemaVersions();
            versions.add(Schema.derive(older));
            Evolution.check("T", versions, Schema.derive(newer));
            versions.add(Schema.derive(newer));
            return new Pair<>(RecordCodec.of(older, "T", versions), RecordCodec.of(newer, "T",
                versions), versions);
        }

        B newerReads(A value) {
            return newer.decode(MemorySegment.ofArray(older.encode(value)));
        }

        A olderReads(B value) {
            return older.decode(MemorySegment.ofArray(newer.encode(value)));
        }
    }

    // ---- adding and removing components

    record ItemV1(String name, int stock) { }

    record ItemV2(String name, int stock, String note, @DefaultValue("7") int reorderAt,
        List<String> tags,
                  Optional<String> alias, DimsV1 dims, @DefaultValue("{\"width\": 3}") DimsV1 box,
                      Integer boxed) { }

    record DimsV1(int width, int height) { }

    @Test
    void addedComponentsReadAsNeutralOrDeclaredDefaults() {
        var p = Pair.of(ItemV1.class, ItemV2.class);
        ItemV2 v2 = p.newerReads(new ItemV1("a", 5));
        assertEquals(new ItemV2("a", 5, "", 7, List.of(), Optional.empty(), null, new DimsV1(3, 0),
            null), v2);
    }

    @Test
    void removedComponentsAreSkippedByOlderReaders() {
        var p = Pair.of(ItemV1.class, ItemV2.class);
        ItemV2 v2 = new ItemV2("a", 5, "n", 1, List.of("t"), Optional.of("x"), new DimsV1(1, 2),
            null, 4);
        assertEquals(new ItemV1("a", 5), p.olderReads(v2));
        // and the other way round: ItemV2 as the older class, ItemV1 as the newer (a removal)
        var removal = Pair.of(ItemV2.class, ItemV1.class);
        assertEquals(new ItemV1("a", 5), removal.newerReads(v2));
        assertEquals(new ItemV2("a", 5, "", 7, List.of(), Optional.empty(), null, new DimsV1(3, 0),
            null),
            removal.olderReads(new ItemV1("a", 5)));
    }

    @Test
    void fieldReadsOfAMissingComponentGiveTheDefault() {
        var p = Pair.of(ItemV1.class, ItemV2.class);
        MemorySegment old = MemorySegment.ofArray(p.older().encode(new ItemV1("a", 5)));
        assertEquals(7, p.newer().getInt(old, p.newer().field("reorderAt")));
        assertEquals(3, p.newer().getInt(old, p.newer().field("box.width")));
        assertEquals(0, p.newer().getInt(old, p.newer().field("dims.width")));
        assertEquals("", p.newer().getString(old, p.newer().field("note")));
        assertTrue(p.newer().stringEquals(old, p.newer().field("note"), ""));
        assertEquals(5, p.newer().getInt(old, p.newer().field("stock")));
    }

    // ---- reordering and renaming

    record OrderV1(int a, String b, long c) { }

    record OrderV2(long c, @FormerNames("b") String label, int a) { }

    @Test
    void reorderedAndRenamedComponentsKeepTheirValues() {
        var p = Pair.of(OrderV1.class, OrderV2.class);
        assertEquals(new OrderV2(3, "x", 1), p.newerReads(new OrderV1(1, "x", 3)));
        assertEquals(new OrderV1(1, "x", 3), p.olderReads(new OrderV2(3, "x", 1)));
        MemorySegment old = MemorySegment.ofArray(p.older().encode(new OrderV1(1, "x", 3)));
        assertTrue(p.newer().stringEquals(old, p.newer().field("label"), "x"));
    }

    // ---- widening

    record NumV1(int count, float ratio, int mean, short small) { }

    record NumV2(long count, double ratio, double mean, long small) { }

    @Test
    void widenedNumbersReadInBothDirections() {
        var p = Pair.of(NumV1.class, NumV2.class);
        assertEquals(new NumV2(-5, 1.5, 7, 3), p.newerReads(new NumV1(-5, 1.5f, 7, (short) 3)));
        assertEquals(new NumV1(-5, 0.25f, 7, (short) 3), p.olderReads(new NumV2(-5, 0.25, 7, 3)));
        MemorySegment old = MemorySegment.ofArray(p.older().encode(new NumV1(-5, 1.5f, 7,
            (short) 3)));
        assertEquals(-5L, p.newer().getLong(old, p.newer().field("count")));
        assertEquals(7.0, p.newer().getDouble(old, p.newer().field("mean")));
    }

    @Test
    void aNewValueTooWideForAnOldReaderFailsClearly() {
        var p = Pair.of(NumV1.class, NumV2.class);
        var e = assertThrows(SchemaMismatchException.class, () -> p.olderReads(new NumV2(1L << 40,
            0, 0, 0)));
        assertTrue(e.getMessage().contains("count") && e.getMessage().contains("1099511627776")
            && e.getMessage().contains("version 2") && e.getMessage().contains("NumV1"),
            e.getMessage());
        var e2 = assertThrows(SchemaMismatchException.class, () -> p.olderReads(new NumV2(0, 0, 2.5,
            0)));
        assertTrue(e2.getMessage().contains("mean"), e2.getMessage());
        MemorySegment wide = MemorySegment.ofArray(p.newer().encode(new NumV2(1L << 40, 0, 0, 0)));
        assertThrows(SchemaMismatchException.class, () -> p.older().getInt(wide,
            p.older().field("count")));
    }

    interface PathV1 {
        record Item(int q) { }

        sealed interface Shape permits Rect { }

        record Rect(int w) implements Shape { }

        record Rec(Item item, List<Item> items, Map<String, Item> byName, Map<String, Shape> shapes) { }
    }

    interface PathV2 {
        record Item(long q) { }

        sealed interface Shape permits Rect { }

        record Rect(long w) implements Shape { }

        record Rec(Item item, List<Item> items, Map<String, Item> byName, Map<String, Shape> shapes) { }
    }

    /**
     * A value too wide for the reader is named where it is: in a list element, a map value, a
     * union inside a map. Before, the message named the first component of that record type
     * ({@code Rec.item.q}), whichever one held the value.
     */
    @Test
    void aValueTooWideIsNamedWhereItIs() {
        var p = Pair.of(PathV1.Rec.class, PathV2.Rec.class);
        PathV2.Item small = new PathV2.Item(1);
        var inList = assertThrows(SchemaMismatchException.class, () -> p.olderReads(new PathV2.Rec(small,
            List.of(small, new PathV2.Item(5_000_000_000L)), Map.of(), Map.of())));
        assertTrue(inList.getMessage().contains(" Rec.items[1].q: stored value 5000000000 does not fit the reader's int"),
            inList.getMessage());
        assertTrue(inList.getMessage().contains("version 2") && inList.getMessage().contains("PathV1$Rec"),
            inList.getMessage());
        var inMap = assertThrows(SchemaMismatchException.class, () -> p.olderReads(new PathV2.Rec(small, List.of(),
            Map.of("x", small, "big", new PathV2.Item(6_000_000_000L)), Map.of())));
        assertTrue(inMap.getMessage().contains(" Rec.byName{big}.q: stored value 6000000000"), inMap.getMessage());
        var inUnion = assertThrows(SchemaMismatchException.class, () -> p.olderReads(new PathV2.Rec(small, List.of(),
            Map.of(), Map.of("s", new PathV2.Rect(7_000_000_000L)))));
        assertTrue(inUnion.getMessage().contains(" Rec.shapes{s}<Rect>.w: stored value 7000000000"),
            inUnion.getMessage());
        var top = assertThrows(SchemaMismatchException.class, () -> p.olderReads(new PathV2.Rec(
            new PathV2.Item(8_000_000_000L), List.of(small), Map.of(), Map.of())));
        assertTrue(top.getMessage().contains(" Rec.item.q: stored value 8000000000"), top.getMessage());
    }

    // ---- enums

    enum ColorV1 { RED, GREEN, @Fallback OTHER }

    enum ColorV2 { RED, GREEN, OTHER, BLUE }

    enum StrictV1 { ON, OFF }

    enum StrictV2 { ON, OFF, AUTO }

    record PaintV1(ColorV1 color, StrictV1 mode) { }

    record PaintV2(ColorV2 color, StrictV2 mode) { }

    @Test
    void newEnumConstantsMapToTheFallbackOrFailNamingBoth() {
        var p = Pair.of(PaintV1.class, PaintV2.class);
        assertEquals(new PaintV2(ColorV2.GREEN, StrictV2.OFF),
            p.newerReads(new PaintV1(ColorV1.GREEN, StrictV1.OFF)));
        assertEquals(new PaintV1(ColorV1.OTHER, StrictV1.ON), p.olderReads(new PaintV2(ColorV2.BLUE,
            StrictV2.ON)));
        var e = assertThrows(SchemaMismatchException.class,
            () -> p.olderReads(new PaintV2(ColorV2.RED, StrictV2.AUTO)));
        assertTrue(e.getMessage().contains("AUTO") && e.getMessage().contains("mode")
            && e.getMessage().contains("version 2") && e.getMessage().contains("PaintV1"),
            e.getMessage());
        MemorySegment blue = MemorySegment.ofArray(p.newer().encode(new PaintV2(ColorV2.BLUE,
            StrictV2.ON)));
        assertEquals("OTHER", p.older().getString(blue, p.older().field("color")));
    }

    // ---- sealed interfaces

    /** Version 1 of a drawing: the variants are matched by their simple names across versions. */
    interface V1 {
        sealed interface Shape permits Circle, UnknownShape { }

        record Circle(double r) implements Shape { }

        @Fallback
        record UnknownShape(double r, String label) implements Shape { }

        sealed interface Bare permits Dot { }

        record Dot(int x) implements Bare { }

        record Drawing(Shape shape, Bare bare) { }
    }

    interface V2 {
        sealed interface Shape permits Circle, Triangle { }

        record Circle(double r) implements Shape { }

        record Triangle(double a, double b, String label) implements Shape { }

        sealed interface Bare permits Dot, Line { }

        record Dot(int x) implements Bare { }

        record Line(int x, int y) implements Bare { }

        record Drawing(Shape shape, Bare bare) { }
    }

    @Test
    void newPermittedRecordsMapToTheFallbackOrFailNamingBoth() {
        var p = Pair.of(V1.Drawing.class, V2.Drawing.class);
        assertEquals(new V2.Drawing(new V2.Circle(1), new V2.Dot(2)),
            p.newerReads(new V1.Drawing(new V1.Circle(1), new V1.Dot(2))));
        assertEquals(new V1.Drawing(new V1.UnknownShape(0, "tri"), new V1.Dot(2)),
            p.olderReads(new V2.Drawing(new V2.Triangle(3, 4, "tri"), new V2.Dot(2))));
        var e = assertThrows(SchemaMismatchException.class,
            () -> p.olderReads(new V2.Drawing(new V2.Circle(1), new V2.Line(1, 2))));
        assertTrue(e.getMessage().contains("Line") && e.getMessage().contains("version 2")
            && e.getMessage().contains("V1$Drawing"), e.getMessage());
    }

    // ---- unknown components survive an update by older code

    record WideV2(String name, int stock, String note, ColorV2 color, DimsV2 dims,
        List<DimsV2> more) { }

    record NarrowV1(String name, int stock, ColorV1 color, DimsV1 dims, List<DimsV1> more) { }

    record DimsV2(int width, int height, int depth) { }

    @Test
    void anOlderUpdateKeepsComponentsItDoesNotKnow() {
        SchemaVersions versions = new SchemaVersions();
        versions.add(Schema.derive(NarrowV1.class));
        Evolution.check("T", versions, Schema.derive(WideV2.class));
        versions.add(Schema.derive(WideV2.class));
        RecordCodec<NarrowV1> v1 = RecordCodec.of(NarrowV1.class, "T", versions);
        RecordCodec<WideV2> v2 = RecordCodec.of(WideV2.class, "T", versions);
        WideV2 stored = new WideV2("a", 5, "keep me", ColorV2.BLUE, new DimsV2(1, 2, 3),
            List.of(new DimsV2(4, 5, 6), new DimsV2(7, 8, 9)));
        MemorySegment bytes = MemorySegment.ofArray(v2.encode(stored));
        NarrowV1 seen = v1.decode(bytes);
        assertEquals(ColorV1.OTHER, seen.color());
        // change a known component, and a known nested component of a record and of a list element
        NarrowV1 changed = new NarrowV1(seen.name(), 6, seen.color(), new DimsV1(10, 2),
            List.of(seen.more().get(0), new DimsV1(70, 8)));
        byte[] updated = v1.encodeUpdate(changed, bytes);
        assertEquals(2, RecordCodec.versionOf(MemorySegment.ofArray(updated)));
        assertEquals(new WideV2("a", 6, "keep me", ColorV2.BLUE, new DimsV2(10, 2, 3),
            List.of(new DimsV2(4, 5, 6), new DimsV2(70, 8, 9))),
                v2.decode(MemorySegment.ofArray(updated)));
        // an unchanged update gives back the stored bytes exactly
        assertArrayEquals(v2.encode(stored), v1.encodeUpdate(seen, bytes));
        // data of the reader's own version or older: a plain encode
        MemorySegment own = MemorySegment.ofArray(v1.encode(changed));
        assertArrayEquals(v1.encode(changed), v1.encodeUpdate(changed, own));
        assertArrayEquals(v1.encode(changed), v1.encodeUpdate(changed, null));
    }

    @Test
    void anOlderUpdateThatChangesAnEnumWritesTheNewConstant() {
        SchemaVersions versions = new SchemaVersions();
        versions.add(Schema.derive(NarrowV1.class));
        versions.add(Schema.derive(WideV2.class));
        RecordCodec<NarrowV1> v1 = RecordCodec.of(NarrowV1.class, "T", versions);
        RecordCodec<WideV2> v2 = RecordCodec.of(WideV2.class, "T", versions);
        MemorySegment bytes = MemorySegment.ofArray(v2.encode(new WideV2("a", 5, "n", ColorV2.BLUE,
            null, List.of())));
        NarrowV1 seen = v1.decode(bytes);
        byte[] updated = v1.encodeUpdate(new NarrowV1("a", 5, ColorV1.RED, null, List.of()), bytes);
        assertEquals(new WideV2("a", 5, "n", ColorV2.RED, null, List.of()),
            v2.decode(MemorySegment.ofArray(updated)));
        assertEquals(ColorV1.OTHER, seen.color());
    }

    /**
     * Version numbers are per database: a schema that arrives from the server later is numbered
     * after the node's own, newer one. Before, an update of data "of a higher version" was merged
     * into that version and lost what the writer's class added (here the note), and an update of
     * data "of a lower version" was a plain encode that lost what the stored data had.
     */
    @Test
    void whichVersionAnUpdateKeepsIsReadFromTheDataNotTheNumbers() {
        SchemaVersions versions = new SchemaVersions();
        versions.add(Schema.derive(WideV2.class));
        versions.add(Schema.derive(NarrowV1.class));
        RecordCodec<WideV2> wide = RecordCodec.of(WideV2.class, "T", versions);
        RecordCodec<NarrowV1> narrow = RecordCodec.of(NarrowV1.class, "T", versions);
        // the wider class updates data of the narrower version, numbered above its own
        MemorySegment narrowData = MemorySegment.ofArray(narrow.encode(new NarrowV1("a", 5, ColorV1.RED, null, List.of())));
        WideV2 edited = new WideV2("a", 6, "added", ColorV2.BLUE, new DimsV2(1, 2, 3), List.of());
        byte[] updated = wide.encodeUpdate(edited, narrowData);
        assertEquals(1, RecordCodec.versionOf(MemorySegment.ofArray(updated)));
        assertEquals(edited, wide.decode(MemorySegment.ofArray(updated)));
        // the narrower class updates data of the wider version, numbered below its own
        MemorySegment wideData = MemorySegment.ofArray(wide.encode(new WideV2("b", 5, "keep me", ColorV2.BLUE,
            new DimsV2(1, 2, 3), List.of())));
        byte[] kept = narrow.encodeUpdate(new NarrowV1("b", 7, ColorV1.OTHER, new DimsV1(1, 2), List.of()), wideData);
        assertEquals(1, RecordCodec.versionOf(MemorySegment.ofArray(kept)));
        assertEquals(new WideV2("b", 7, "keep me", ColorV2.BLUE, new DimsV2(1, 2, 3), List.of()),
            wide.decode(MemorySegment.ofArray(kept)));
    }

    record LeftV(String name, String note) { }

    record RightV(String name, int size) { }

    /** Keeps LeftV's removed note beside RightV's size. */
    record BothV(String name, String note, int size) { }

    /** Each version lacks a component of the other: an update that would lose a value is refused; default values are nothing to lose. */
    @Test
    void anUpdateThatWouldLoseDataEitherWayIsRefused() {
        SchemaVersions versions = new SchemaVersions();
        versions.add(Schema.derive(LeftV.class));
        versions.add(Schema.derive(RightV.class));
        RecordCodec<LeftV> left = RecordCodec.of(LeftV.class, "T", versions);
        RecordCodec<RightV> right = RecordCodec.of(RightV.class, "T", versions);
        MemorySegment sized = MemorySegment.ofArray(right.encode(new RightV("a", 7)));
        SchemaMismatchException e = assertThrows(SchemaMismatchException.class,
            () -> left.encodeUpdate(new LeftV("a", "note"), sized));
        // Each side named, with its class and this database's version numbers (probe-48: "version 1" and
        // "version 2" alone read as older and newer, and "something" named nothing).
        assertEquals("tree T, update by " + LeftV.class.getName() + " (this database's schema version 1) of data in this "
            + "database's schema version 2: each side lacks something of the other's data: the stored data has size, which "
            + "EvolutionTest$LeftV lacks; EvolutionTest$LeftV has note, which the stored data lacks; written in either "
            + "version the update would lose data (expected: update it with a class that has both, such as one that keeps "
            + "a removed component beside the one that replaced it: record-format.md §6.4)", e.getMessage());
        SchemaMismatchException back = assertThrows(SchemaMismatchException.class,
            () -> right.encodeUpdate(new RightV("a", 8), MemorySegment.ofArray(left.encode(new LeftV("a", "note")))));
        assertTrue(back.getMessage().contains(": the stored data has note, which EvolutionTest$RightV lacks; "
            + "EvolutionTest$RightV has size, which the stored data lacks; "), back.getMessage());
        // The remedy the message gives: a class that has both updates the data of either, losing nothing.
        versions.add(Schema.derive(BothV.class));
        RecordCodec<BothV> both = RecordCodec.of(BothV.class, "T", versions);
        assertEquals(new BothV("a", "note", 7), both.decode(MemorySegment.ofArray(
            both.encodeUpdate(new BothV("a", "note", 7), sized))));
        byte[] noted = both.encodeUpdate(new BothV("a", "note", 9), MemorySegment.ofArray(left.encode(new LeftV("a", "note"))));
        assertEquals(new RightV("a", 9), right.decode(MemorySegment.ofArray(noted)));
        assertEquals(new LeftV("a", "note"), left.decode(MemorySegment.ofArray(noted)));
        // no note to lose: the stored version, size kept
        byte[] merged = left.encodeUpdate(new LeftV("b", ""), sized);
        assertEquals(new RightV("b", 7), right.decode(MemorySegment.ofArray(merged)));
        // no size to lose: the writer's version, note kept
        MemorySegment unsized = MemorySegment.ofArray(right.encode(new RightV("a", 0)));
        byte[] own = left.encodeUpdate(new LeftV("a", "note"), unsized);
        assertEquals(new LeftV("a", "note"), left.decode(MemorySegment.ofArray(own)));
        assertEquals(1, RecordCodec.versionOf(MemorySegment.ofArray(own)));
    }

    // ---- refused changes

    record TypedV1(String code, List<String> tags, long big, Map<String, Integer> counts) { }

    record TypedV2(int code, String tags, double big, Map<String, String> counts) { }

    @Test
    void incompatibleChangesAreRefusedNamingTreePathAndVersions() {
        SchemaVersions versions = new SchemaVersions();
        versions.add(Schema.derive(TypedV1.class));
        var e = assertThrows(SchemaMismatchException.class, () -> Evolution.check("Parts", versions,
            Schema.derive(TypedV2.class)));
        assertTrue(e.getMessage().contains("tree Parts") && e.getMessage().contains("TypedV2.code")
            && e.getMessage().contains("version 1") && e.getMessage().contains("new version 2"),
            e.getMessage());
        List<Evolution.Mismatch> all = Evolution.mismatches(versions, Schema.derive(TypedV2.class));
        assertEquals(List.of("TypedV2.code", "TypedV2.tags", "TypedV2.big", "TypedV2.counts{}"),
            all.stream().map(Evolution.Mismatch::path).toList());
        Evolution.check("Parts", versions, Schema.derive(TypedV2.class), Set.of(1));
        versions.add(Schema.derive(TypedV2.class));
        RecordCodec<TypedV2> codec = RecordCodec.of(TypedV2.class, "Parts", versions);
        RecordCodec<TypedV1> old = RecordCodec.of(TypedV1.class, "Parts", versions);
        MemorySegment oldBytes = MemorySegment.ofArray(old.encode(new TypedV1("c", List.of(), 1,
            Map.of())));
        var e2 = assertThrows(SchemaMismatchException.class, () -> codec.decode(oldBytes));
        assertTrue(e2.getMessage().contains("version 1") && e2.getMessage().contains("TypedV2"),
            e2.getMessage());
    }

    record RecordToUnionV1(DimsV1 value) { }

    record RecordToUnionV2(V2.Shape value) { }

    record OptionalV1(Optional<String> s) { }

    record OptionalV2(String s) { }

    @Test
    void shapeChangesAreRefused() {
        List<List<Class<? extends Record>>> pairs = List.of(List.of(RecordToUnionV1.class,
            RecordToUnionV2.class),
            List.of(OptionalV1.class, OptionalV2.class), List.of(OptionalV2.class,
                OptionalV1.class));
        for (List<Class<? extends Record>> pair : pairs) {
            SchemaVersions versions = new SchemaVersions();
            versions.add(Schema.derive(pair.get(0)));
            assertThrows(SchemaMismatchException.class, () -> Evolution.check("T", versions,
                Schema.derive(pair.get(1))));
        }
    }

    // ---- migrations: the class-free view of old data

    record PriceV1(String name, String price) { }

    record PriceV2(String name, long priceCents) { }

    @Test
    void aMigrationReadsOldDataWithoutItsClass() {
        SchemaVersions versions = new SchemaVersions();
        versions.add(Schema.derive(PriceV1.class));
        byte[] old = RecordCodec.of(PriceV1.class, "P", versions).encode(new PriceV1("r", "12.34"));
        Evolution.check("P", versions, Schema.derive(PriceV2.class), Set.of(1));
        versions.add(Schema.derive(PriceV2.class));
        RecordCodec<PriceV2> codec = RecordCodec.of(PriceV2.class, "P", versions);
        GenericRecord g = GenericRecord.decode(MemorySegment.ofArray(old), versions);
        assertEquals(List.of("name", "price"), g.componentNames());
        PriceV2 migrated = new PriceV2((String) g.get("name"),
            new java.math.BigDecimal((String) g.get("price")).movePointRight(2).longValueExact());
        byte[] rewritten = codec.encode(migrated);
        assertEquals(new PriceV2("r", 1234), codec.decode(MemorySegment.ofArray(rewritten)));
        assertThrows(IllegalArgumentException.class, () -> g.get("priceCents"));
    }

    @Test
    void aCodecNeedsItsSchemaAmongTheVersions() {
        SchemaVersions versions = new SchemaVersions();
        versions.add(Schema.derive(PriceV1.class));
        assertThrows(IllegalArgumentException.class, () -> RecordCodec.of(PriceV2.class, "P",
            versions));
        assertNull(null);
    }

    interface RenameOnto {
        interface V1 {
            record R(int count, String label) { }
        }

        interface V2 {
            record R(@FormerNames("label") String count) { }
        }
    }

    /**
     * A rename onto a name the stored version still has (probe 96): refused as a component that
     * answers to two stored ones, which says why the former name is not simply used.
     */
    @Test
    void aRenameOntoAStoredNameIsRefusedNamingBoth() {
        SchemaVersions versions = new SchemaVersions();
        versions.add(Schema.derive(RenameOnto.V1.R.class));
        var e = assertThrows(SchemaMismatchException.class, () -> Evolution.check("T", versions, Schema.derive(RenameOnto.V2.R.class)));
        assertTrue(e.getMessage().contains("at R.count: answers, by its name and @FormerNames on either side, to the other"
            + " version's components count and label at once"), e.getMessage());
    }

    interface Cross {
        interface V1 {
            record Doc(String title, String description) { }
        }

        interface V2 {
            record Doc(@FormerNames("description") String title) { }
        }

        interface V3 {
            record Doc(String heading, @FormerNames("description") String text) { }
        }
    }

    /**
     * A component that answers to two stored components, one by its name and one by a former
     * name (probe 97): it read the first, and an update was merged into both, losing the
     * second's value. Refused, naming both; a class where each name stands for one component
     * evolves.
     */
    @Test
    void aComponentThatAnswersToTwoStoredComponentsIsRefused() {
        SchemaVersions versions = new SchemaVersions();
        versions.add(Schema.derive(Cross.V1.Doc.class));
        var e = assertThrows(SchemaMismatchException.class, () -> Evolution.check("T", versions, Schema.derive(Cross.V2.Doc.class)));
        assertTrue(e.getMessage().contains("at Doc.title: answers, by its name and @FormerNames on either side, to the other"
            + " version's components title and description at once"), e.getMessage());
        Evolution.check("T", versions, Schema.derive(Cross.V3.Doc.class));
        versions.add(Schema.derive(Cross.V3.Doc.class));
        var back = assertThrows(SchemaMismatchException.class, () -> Evolution.check("T", versions, Schema.derive(Cross.V2.Doc.class)));
        assertTrue(back.getMessage().contains("stored version 1"), back.getMessage());
        // The other way round: a stored component answers to two of the class's; the message names the class's (probe 99).
        SchemaVersions stored = new SchemaVersions();
        stored.add(Schema.derive(Cross.V2.Doc.class));
        var other = assertThrows(SchemaMismatchException.class, () -> Evolution.check("T", stored, Schema.derive(Cross.V1.Doc.class)));
        assertTrue(other.getMessage().contains("at Doc.title: with description, answers, by its name and @FormerNames on either"
            + " side, to the other version's component title, so its data would be read into both"), other.getMessage());
    }
}
