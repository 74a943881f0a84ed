package dev.cairn.schema;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Fallback;
import dev.cairn.SchemaMismatchException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * An update by older code of a record written by newer code keeps, inside collections,
 * optionals and unions too, what the older code does not know, or is refused
 * (record-format.md §6.4). Before, a list or map whose length changed, a changed optional, and a
 * union value read through its fallback were converted to the stored version whole: the unknown
 * components of every element, unknown constants and the unknown variant were lost silently.
 */
class UpdateMergeTest {
    /** The newer classes: Item has {@code extra}, Color has BLUE and GREEN, Shape has Rect. */
    interface N {
        enum Color { RED, @Fallback OTHER, BLUE, GREEN }

        record Item(String name, String extra) { }

        sealed interface Shape permits Circle, Unknown, Rect { }

        record Circle(double r) implements Shape { }

        @Fallback
        record Unknown(String name, int w) implements Shape { }

        record Rect(String name, int w, double h) implements Shape { }

        record Rec(String title, List<Item> items, Map<String, Item> byName, Optional<Item> maybe,
                   Set<Item> bag, List<Color> colors, Set<Color> colorSet, Map<Color, Integer> byColor,
                   Shape shape, List<Shape> shapes) { }
    }

    /** The older classes, which lack what {@link N} added. */
    interface O {
        enum Color { RED, @Fallback OTHER }

        record Item(String name) { }

        sealed interface Shape permits Circle, Unknown { }

        record Circle(double r) implements Shape { }

        @Fallback
        record Unknown(String name, int w) implements Shape { }

        record Rec(String title, List<Item> items, Map<String, Item> byName, Optional<Item> maybe,
                   Set<Item> bag, List<Color> colors, Set<Color> colorSet, Map<Color, Integer> byColor,
                   Shape shape, List<Shape> shapes) { }
    }

    static final SchemaVersions VERSIONS = new SchemaVersions();
    static final RecordCodec<N.Rec> NEW;
    static final RecordCodec<O.Rec> OLD;

    static {
        VERSIONS.add(Schema.derive(O.Rec.class));
        Evolution.check("T", VERSIONS, Schema.derive(N.Rec.class));
        VERSIONS.add(Schema.derive(N.Rec.class));
        OLD = RecordCodec.of(O.Rec.class, "T", VERSIONS);
        NEW = RecordCodec.of(N.Rec.class, "T", VERSIONS);
    }

    static N.Item item(String name, String extra) {
        return new N.Item(name, extra);
    }

    static N.Rec rec() {
        return new N.Rec("t", List.of(), Map.of(), Optional.empty(), Set.of(), List.of(), Set.of(), Map.of(),
            null, List.of());
    }

    static N.Rec withItems(List<N.Item> items) {
        N.Rec r = rec();
        return new N.Rec(r.title(), items, r.byName(), r.maybe(), r.bag(), r.colors(), r.colorSet(), r.byColor(),
            r.shape(), r.shapes());
    }

    /** What the older class makes of {@code stored} after {@code edit}, as the newer class reads it. */
    static N.Rec update(N.Rec stored, UnaryOperator<O.Rec> edit) {
        MemorySegment bytes = MemorySegment.ofArray(NEW.encode(stored));
        O.Rec changed = edit.apply(OLD.decode(bytes));
        byte[] updated = OLD.encodeUpdate(changed, bytes);
        assertEquals(changed, OLD.decode(MemorySegment.ofArray(updated)), "the older class reads what it wrote");
        return NEW.decode(MemorySegment.ofArray(updated));
    }

    static SchemaMismatchException refused(N.Rec stored, UnaryOperator<O.Rec> edit, String... naming) {
        MemorySegment bytes = MemorySegment.ofArray(NEW.encode(stored));
        O.Rec changed = edit.apply(OLD.decode(bytes));
        SchemaMismatchException e = assertThrows(SchemaMismatchException.class, () -> OLD.encodeUpdate(changed, bytes));
        assertTrue(e.getMessage().startsWith("tree T, update by " + O.Rec.class.getName() + " (this database's schema version 1) of data in "
            + "this database's schema version 2: "),
            e.getMessage());
        for (String s : naming) assertTrue(e.getMessage().contains(s), s + " in " + e.getMessage());
        return e;
    }

    static O.Rec items(O.Rec r, UnaryOperator<List<O.Item>> edit) {
        return new O.Rec(r.title(), edit.apply(new ArrayList<>(r.items())), r.byName(), r.maybe(), r.bag(), r.colors(),
            r.colorSet(), r.byColor(), r.shape(), r.shapes());
    }

    static <T> List<T> with(List<T> l, UnaryOperator<List<T>> edit) {
        return edit.apply(new ArrayList<>(l));
    }

    // ---- lists

    @Test
    void anAppendedElementKeepsTheStoredOnes() {
        N.Rec stored = withItems(List.of(item("a", "KEEP-ME")));
        N.Rec got = update(stored, r -> items(r, l -> {
            l.add(new O.Item("b"));
            return l;
        }));
        assertEquals(List.of(item("a", "KEEP-ME"), item("b", "")), got.items());
    }

    @Test
    void anInsertedOrRemovedElementKeepsTheOthers() {
        N.Rec stored = withItems(List.of(item("a", "A"), item("b", "B"), item("c", "C")));
        assertEquals(List.of(item("a", "A"), item("c", "C")), update(stored, r -> items(r, l -> {
            l.remove(1);
            return l;
        })).items());
        assertEquals(List.of(item("a", "A"), item("x", ""), item("b", "B"), item("c", "C")),
            update(stored, r -> items(r, l -> {
                l.add(1, new O.Item("x"));
                return l;
            })).items());
        assertEquals(List.of(item("b", "B"), item("c", "C")), update(stored, r -> items(r, l -> {
            l.remove(0);
            return l;
        })).items());
    }

    @Test
    void anElementChangedInPlaceKeepsItsUnknownComponents() {
        N.Rec stored = withItems(List.of(item("a", "A"), item("b", "B")));
        assertEquals(List.of(item("z", "A"), item("b", "B")), update(stored, r -> items(r, l -> {
            l.set(0, new O.Item("z"));
            return l;
        })).items());
    }

    /** Merged in place, a swap would give a's extra to b and b's to a. */
    @Test
    void movedElementsWithUnknownDataAreRefused() {
        N.Rec stored = withItems(List.of(item("a", "A"), item("b", "B")));
        refused(stored, r -> items(r, l -> List.of(l.get(1), l.get(0))), "Rec.items[0]");
        refused(stored, r -> items(r, l -> List.of(l.get(1), new O.Item("c"))), "Rec.items[0]");
        // nothing unknown to lose: a swap is a plain write
        N.Rec plain = withItems(List.of(item("a", ""), item("b", "")));
        assertEquals(List.of(item("b", ""), item("a", "")),
            update(plain, r -> items(r, l -> List.of(l.get(1), l.get(0)))).items());
    }

    /** Whether "a" was edited or replaced cannot be told once the length changes too. */
    @Test
    void aChangedElementInAListOfAnotherLengthIsRefused() {
        N.Rec stored = withItems(List.of(item("a", "A")));
        refused(stored, r -> items(r, l -> List.of(new O.Item("a2"), new O.Item("b"))), "Rec.items");
    }

    /** Which of two elements that look alike to the older class was removed cannot be told. */
    @Test
    void removingOneOfTwoLookAlikesIsRefused() {
        N.Rec stored = withItems(List.of(item("a", "A1"), item("a", "A2")));
        refused(stored, r -> items(r, l -> List.of(l.get(0))), "Rec.items");
        N.Rec same = withItems(List.of(item("a", "A"), item("a", "A"), item("b", "B")));
        assertEquals(List.of(item("a", "A"), item("b", "B")), update(same, r -> items(r, l -> {
            l.remove(0);
            return l;
        })).items());
    }

    @Test
    void enumConstantsReadThroughTheFallbackSurviveAnAppend() {
        N.Rec r0 = rec();
        N.Rec stored = new N.Rec("t", List.of(), Map.of(), Optional.empty(), Set.of(),
            List.of(N.Color.BLUE, N.Color.RED), Set.of(N.Color.BLUE), Map.of(N.Color.BLUE, 1, N.Color.RED, 2),
            null, List.of());
        N.Rec got = update(stored, r -> new O.Rec(r.title(), r.items(), r.byName(), r.maybe(), r.bag(),
            with(r.colors(), l -> {
                l.add(O.Color.RED);
                return l;
            }), Set.of(O.Color.OTHER, O.Color.RED), Map.of(O.Color.OTHER, 1, O.Color.RED, 3), r.shape(), r.shapes()));
        assertEquals(List.of(N.Color.BLUE, N.Color.RED, N.Color.RED), got.colors());
        assertEquals(Set.of(N.Color.BLUE, N.Color.RED), got.colorSet());
        assertEquals(Map.of(N.Color.BLUE, 1, N.Color.RED, 3), got.byColor());
        assertEquals(r0.title(), got.title());
        // a BLUE moved or copied would be written as OTHER
        refused(stored, r -> new O.Rec(r.title(), r.items(), r.byName(), r.maybe(), r.bag(),
            List.of(O.Color.RED, O.Color.OTHER), r.colorSet(), r.byColor(), r.shape(), r.shapes()), "Rec.colors");
        refused(stored, r -> new O.Rec(r.title(), r.items(), r.byName(), r.maybe(), r.bag(),
            List.of(O.Color.OTHER, O.Color.RED, O.Color.OTHER), r.colorSet(), r.byColor(), r.shape(), r.shapes()),
            "Rec.colors");
        // replaced by a constant the older class knows: written
        assertEquals(List.of(N.Color.RED, N.Color.RED), update(stored, r -> new O.Rec(r.title(), r.items(), r.byName(),
            r.maybe(), r.bag(), List.of(O.Color.RED, O.Color.RED), r.colorSet(), r.byColor(), r.shape(),
            r.shapes())).colors());
    }

    // ---- maps, sets, optionals

    @Test
    void mapEntriesAreMatchedByKey() {
        N.Rec r0 = rec();
        N.Rec stored = new N.Rec("t", List.of(), Map.of("k", item("k", "KEEP"), "j", item("j", "J")), Optional.empty(),
            Set.of(), List.of(), Set.of(), Map.of(), null, List.of());
        N.Rec got = update(stored, r -> {
            Map<String, O.Item> m = new LinkedHashMap<>(r.byName());
            m.put("n", new O.Item("n"));
            m.put("j", new O.Item("j2"));
            return new O.Rec(r.title(), r.items(), m, r.maybe(), r.bag(), r.colors(), r.colorSet(), r.byColor(),
                r.shape(), r.shapes());
        });
        assertEquals(Map.of("k", item("k", "KEEP"), "j", item("j2", "J"), "n", item("n", "")), got.byName());
        got = update(stored, r -> new O.Rec(r.title(), r.items(), Map.of("k", r.byName().get("k")), r.maybe(),
            r.bag(), r.colors(), r.colorSet(), r.byColor(), r.shape(), r.shapes()));
        assertEquals(Map.of("k", item("k", "KEEP")), got.byName());
        assertEquals(r0.items(), got.items());
        // a value copied from an entry with unknown data would lose it
        refused(stored, r -> {
            Map<String, O.Item> m = new LinkedHashMap<>(r.byName());
            m.put("n", m.get("k"));
            return new O.Rec(r.title(), r.items(), m, r.maybe(), r.bag(), r.colors(), r.colorSet(), r.byColor(),
                r.shape(), r.shapes());
        }, "Rec.byName");
    }

    /** BLUE and GREEN both read as OTHER, one entry: changing its value cannot be written to either. */
    @Test
    void aMapEntryStandingForSeveralStoredKeys() {
        N.Rec stored = new N.Rec("t", List.of(), Map.of(), Optional.empty(), Set.of(), List.of(), Set.of(),
            Map.of(N.Color.BLUE, 1, N.Color.GREEN, 2, N.Color.RED, 3), null, List.of());
        N.Rec got = update(stored, r -> {
            Map<O.Color, Integer> m = new LinkedHashMap<>(r.byColor());
            m.put(O.Color.RED, 4);
            return new O.Rec(r.title(), r.items(), r.byName(), r.maybe(), r.bag(), r.colors(), r.colorSet(), m,
                r.shape(), r.shapes());
        });
        assertEquals(Map.of(N.Color.BLUE, 1, N.Color.GREEN, 2, N.Color.RED, 4), got.byColor());
        refused(stored, r -> {
            Map<O.Color, Integer> m = new LinkedHashMap<>(r.byColor());
            m.put(O.Color.OTHER, 9);
            return new O.Rec(r.title(), r.items(), r.byName(), r.maybe(), r.bag(), r.colors(), r.colorSet(), m,
                r.shape(), r.shapes());
        }, "Rec.byColor");
    }

    static O.Rec bag(O.Rec r, UnaryOperator<Set<O.Item>> edit) {
        return new O.Rec(r.title(), r.items(), r.byName(), r.maybe(), edit.apply(new LinkedHashSet<>(r.bag())),
            r.colors(), r.colorSet(), r.byColor(), r.shape(), r.shapes());
    }

    /** A set element is its value: kept while the older class keeps it, and an edit is a removal and an addition. */
    @Test
    void setElementsAreMatchedByValue() {
        N.Rec stored = new N.Rec("t", List.of(), Map.of(), Optional.empty(), Set.of(item("a", "A"), item("b", "B")),
            List.of(), Set.of(), Map.of(), null, List.of());
        assertEquals(Set.of(item("a", "A"), item("b", "B"), item("c", "")), update(stored, r -> bag(r, s -> {
            s.add(new O.Item("c"));
            return s;
        })).bag());
        assertEquals(Set.of(item("a", "A")), update(stored, r -> bag(r, s -> {
            s.remove(new O.Item("b"));
            return s;
        })).bag());
        // b removed and c added: b edited into c, or replaced by it? b's extra would be lost
        refused(stored, r -> bag(r, s -> {
            s.remove(new O.Item("b"));
            s.add(new O.Item("c"));
            return s;
        }), "Rec.bag");
    }

    @Test
    void anOptionalRecordChangedKeepsItsUnknownComponents() {
        N.Rec stored = new N.Rec("t", List.of(), Map.of(), Optional.of(item("o", "X-o")), Set.of(), List.of(), Set.of(),
            Map.of(), null, List.of());
        N.Rec got = update(stored, r -> new O.Rec(r.title(), r.items(), r.byName(), Optional.of(new O.Item("o2")),
            r.bag(), r.colors(), r.colorSet(), r.byColor(), r.shape(), r.shapes()));
        assertEquals(Optional.of(item("o2", "X-o")), got.maybe());
        got = update(stored, r -> new O.Rec(r.title(), r.items(), r.byName(), Optional.empty(),
            r.bag(), r.colors(), r.colorSet(), r.byColor(), r.shape(), r.shapes()));
        assertEquals(Optional.empty(), got.maybe());
    }

    // ---- unions

    @Test
    void aVariantReadThroughTheFallbackIsKeptOrTheChangeRefused() {
        N.Rec stored = new N.Rec("t", List.of(), Map.of(), Optional.empty(), Set.of(), List.of(), Set.of(), Map.of(),
            new N.Rect("r", 5, 9.5), List.of(new N.Rect("s", 1, 2.5)));
        // unchanged: kept exactly
        N.Rec got = update(stored, r -> new O.Rec("t2", r.items(), r.byName(), r.maybe(), r.bag(), r.colors(),
            r.colorSet(), r.byColor(), r.shape(), r.shapes()));
        assertEquals(new N.Rect("r", 5, 9.5), got.shape());
        assertEquals("t2", got.title());
        // changed through the fallback: Unknown(r, 6) would replace the Rect and lose h
        refused(stored, r -> new O.Rec(r.title(), r.items(), r.byName(), r.maybe(), r.bag(), r.colors(),
            r.colorSet(), r.byColor(), new O.Unknown("r", 6), r.shapes()), "Rec.shape", "Rect", "Unknown");
        refused(stored, r -> new O.Rec(r.title(), r.items(), r.byName(), r.maybe(), r.bag(), r.colors(),
            r.colorSet(), r.byColor(), r.shape(), List.of(new O.Unknown("s", 2))), "Rec.shapes[0]", "Rect");
        // replaced by a variant the older class knows: written
        got = update(stored, r -> new O.Rec(r.title(), r.items(), r.byName(), r.maybe(), r.bag(), r.colors(),
            r.colorSet(), r.byColor(), new O.Circle(2), with(r.shapes(), l -> {
                l.add(new O.Circle(3));
                return l;
            })));
        assertEquals(new N.Circle(2), got.shape());
        assertEquals(List.of(new N.Rect("s", 1, 2.5), new N.Circle(3)), got.shapes());
    }

    @Test
    void anUnchangedUpdateGivesBackTheStoredBytes() {
        N.Rec stored = new N.Rec("t", List.of(item("a", "A")), Map.of("k", item("k", "K")), Optional.of(item("o", "O")),
            Set.of(item("s", "S")), List.of(N.Color.GREEN), Set.of(N.Color.BLUE), Map.of(N.Color.BLUE, 1),
            new N.Rect("r", 1, 2), List.of(new N.Rect("q", 1, 2)));
        MemorySegment bytes = MemorySegment.ofArray(NEW.encode(stored));
        assertArrayEquals(NEW.encode(stored), OLD.encodeUpdate(OLD.decode(bytes), bytes));
    }

    record BlobsNew(String title, List<byte[]> blobs, String extra) { }

    record BlobsOld(String title, List<byte[]> blobs) { }

    /** Byte arrays inside collections compare by content, so an update of another component is merged, not refused. */
    @Test
    void byteArraysInCollectionsCompareByContent() {
        SchemaVersions versions = new SchemaVersions();
        versions.add(Schema.derive(BlobsOld.class));
        versions.add(Schema.derive(BlobsNew.class));
        RecordCodec<BlobsOld> old = RecordCodec.of(BlobsOld.class, "T", versions);
        RecordCodec<BlobsNew> newer = RecordCodec.of(BlobsNew.class, "T", versions);
        MemorySegment bytes = MemorySegment.ofArray(newer.encode(new BlobsNew("t", List.of(new byte[] {1, 2}), "X")));
        BlobsOld seen = old.decode(bytes);
        BlobsNew got = newer.decode(MemorySegment.ofArray(old.encodeUpdate(new BlobsOld("t2", seen.blobs()), bytes)));
        assertEquals("t2", got.title());
        assertEquals("X", got.extra());
        assertArrayEquals(new byte[] {1, 2}, got.blobs().get(0));
        // and data of the older version updated by the newer class: a plain encode
        MemorySegment older = MemorySegment.ofArray(old.encode(seen));
        BlobsNew edited = new BlobsNew("t3", List.of(new byte[] {3}), "Y");
        assertArrayEquals(newer.encode(edited), newer.encodeUpdate(edited, older));
    }

    /** NaNs compare by their bits: an older class that sets a payload NaN to the canonical one changes it (helper-33). */
    @Test
    void aNaNChangedToAnotherNaNIsWritten() {
        double payload = Double.longBitsToDouble(0x7ff8000000000123L);
        N.Rec r = withItems(List.of(item("a", "KEEP")));
        N.Rec stored = new N.Rec(r.title(), r.items(), r.byName(), r.maybe(), r.bag(), r.colors(), r.colorSet(),
            r.byColor(), new N.Circle(payload), r.shapes());
        N.Rec got = update(stored, o -> new O.Rec(o.title(), o.items(), o.byName(), o.maybe(), o.bag(), o.colors(),
            o.colorSet(), o.byColor(), new O.Circle(Double.NaN), o.shapes()));
        assertEquals(Double.doubleToRawLongBits(Double.NaN), Double.doubleToRawLongBits(((N.Circle) got.shape()).r()));
        assertEquals(List.of(item("a", "KEEP")), got.items(), "and the unknown data is kept");
        N.Rec same = update(stored, o -> o);
        assertEquals(0x7ff8000000000123L, Double.doubleToRawLongBits(((N.Circle) same.shape()).r()), "an unchanged one is kept");
    }

    /** Boxed components, one nested in a list element: a version that may hold nulls. */
    interface Boxed {
        record Bin(String name, Integer max) { }

        record Stock(String part, Integer reorder, Boolean active, List<Bin> bins) { }
    }

    /** The same components as primitives: a null reads as 0 or false (§6.2). */
    interface Primitive {
        record Bin(String name, long max) { }

        record Stock(String part, int reorder, boolean active, List<Bin> bins) { }
    }

    /**
     * A stored null that a primitive component reads as its neutral value, and an update left so,
     * is kept, at any depth (§6.4): it was written as 0 or false (probe 96), and the class that
     * wrote the null then read 0 too. A value the update set is written.
     */
    @Test
    void aStoredNullThatAPrimitiveLeftAloneIsKept() {
        SchemaVersions versions = new SchemaVersions();
        versions.add(Schema.derive(Boxed.Stock.class));
        Evolution.check("T", versions, Schema.derive(Primitive.Stock.class));
        versions.add(Schema.derive(Primitive.Stock.class));
        RecordCodec<Boxed.Stock> boxed = RecordCodec.of(Boxed.Stock.class, "T", versions);
        RecordCodec<Primitive.Stock> primitive = RecordCodec.of(Primitive.Stock.class, "T", versions);
        MemorySegment stored = MemorySegment.ofArray(boxed.encode(
            new Boxed.Stock("P-1", null, null, List.of(new Boxed.Bin("A1", null), new Boxed.Bin("A2", 7)))));
        Primitive.Stock seen = primitive.decode(stored);
        assertEquals(new Primitive.Stock("P-1", 0, false, List.of(new Primitive.Bin("A1", 0), new Primitive.Bin("A2", 7))), seen);

        Primitive.Stock edited = new Primitive.Stock("P-1!", seen.reorder(), seen.active(),
            List.of(new Primitive.Bin("A1*", 0), seen.bins().get(1)));
        byte[] updated = primitive.encodeUpdate(edited, stored);
        assertEquals(new Boxed.Stock("P-1!", null, null, List.of(new Boxed.Bin("A1*", null), new Boxed.Bin("A2", 7))),
            boxed.decode(MemorySegment.ofArray(updated)));
        assertEquals(edited, primitive.decode(MemorySegment.ofArray(updated)), "the primitive class reads what it wrote");

        Primitive.Stock set = new Primitive.Stock("P-1", 5, true, List.of(new Primitive.Bin("A1", 3), seen.bins().get(1)));
        assertEquals(new Boxed.Stock("P-1", 5, true, List.of(new Boxed.Bin("A1", 3), new Boxed.Bin("A2", 7))),
            boxed.decode(MemorySegment.ofArray(primitive.encodeUpdate(set, stored))));
    }
}
