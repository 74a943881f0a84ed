package dev.cairn.schema;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * One depth rule (record-format.md §1) for the typed encoder, both decoders, the JSON printer and
 * the JSON parser: a value nested near the limit through every kind of container either encodes,
 * decodes back equal and round-trips through JSON byte for byte, or is refused by the encoder and
 * by the parser alike, exactly when the spec's count says it is deeper than 100. Before, a value
 * could be stored that then read as corrupt (a list emptied at depth 101), and JSON the printer
 * wrote could be refused by the parser (a null or an empty Optional at depth 101).
 */
class DepthProperties {
    sealed interface Sh permits Box, Tag { }

    record Box(Deep inner) implements Sh { }

    enum Tag implements Sh { A, B }

    record Deep(int v, Deep next, List<Deep> list, Map<String, Deep> map, Optional<Deep> opt, Sh sh,
                Set<Integer> ints, Optional<Integer> oi, List<List<Integer>> lli,
                Map<Integer, Optional<Deep>> mo) { }

    private static final SchemaVersions VERSIONS = RecordCodecTest.versionsOf(Deep.class);
    private static final RecordCodec<Deep> CODEC = RecordCodec.of(Deep.class, "Deep", VERSIONS);

    @Property(tries = 300)
    void nestedValuesEncodeAndReadBackOrAreRefusedAtEncodeByOneRule(@ForAll long seed) {
        Random rnd = new Random(seed);
        Deep built = leaf(rnd);
        int wraps = 30 + rnd.nextInt(50);
        for (int i = 0; i < wraps; i++) built = wrap(built, rnd);
        Deep value = built;
        int depth = levels(value, 0);
        String json = json(value);
        if (depth <= Bin.DEPTH_MAX) {
            byte[] bytes = CODEC.encode(value);
            assertArrayEquals(bytes, CODEC.encodeInterpreted(value));
            assertEquals(value, CODEC.decode(MemorySegment.ofArray(bytes)));
            GenericRecord generic = GenericRecord.decode(MemorySegment.ofArray(bytes), VERSIONS);
            assertArrayEquals(bytes, GenericCodec.encodeValue(VERSIONS.latest(), 1, generic));
            assertEquals(json, JsonForm.toJson(MemorySegment.ofArray(bytes), VERSIONS));
            assertArrayEquals(bytes, JsonForm.fromJson(json, VERSIONS), "fromJson(toJson(b)) == b");
        } else {
            var e = assertThrows(IllegalArgumentException.class, () -> CODEC.encode(value), "depth " + depth);
            assertTrue(e.getMessage().startsWith("tree Deep: Deep.")
                && e.getMessage().contains(": nested deeper than 100 levels"), e.getMessage());
            var j = assertThrows(IllegalArgumentException.class, () -> JsonForm.fromJson(json, VERSIONS),
                "depth " + depth);
            assertTrue(j.getMessage().contains("nested deeper than 100"), j.getMessage());
        }
    }

    /**
     * The boundary, and the message naming where the value is: an empty list or Optional, a
     * null, a scalar or an enum may sit one below the deepest level; anything holding something
     * there is refused.
     */
    @Example
    void theBoundaryAndThePathOfARefusal() {
        // records at depths 0, 2, ..., 100 through List<Deep>: the last one's empty list is at 101
        Deep fifty = leaf(null);
        for (int i = 0; i < 50; i++) fifty = new Deep(i, null, List.of(fifty), Map.of(), Optional.empty(), null, Set.of(),
            Optional.empty(), List.of(), Map.of());
        assertEquals(100, levels(fifty, 0));
        assertEquals(fifty, CODEC.decode(MemorySegment.ofArray(CODEC.encode(fifty))));
        Deep tooDeep = new Deep(0, null, List.of(fifty), Map.of(), Optional.empty(), null, Set.of(), Optional.empty(),
            List.of(), Map.of());
        var e = assertThrows(IllegalArgumentException.class, () -> CODEC.encode(tooDeep));
        // the first level past 100: the non-empty list of the record at depth 100
        assertEquals("tree Deep: Deep" + ".list[0]".repeat(50) + ".list: nested deeper than 100 levels (record-format.md §1)",
            e.getMessage());
        // the same through a map, a union and an Optional: each step of the path is named
        Deep inside = new Deep(0, null, List.of(), Map.of("k", fifty), Optional.empty(), null, Set.of(), Optional.empty(),
            List.of(), Map.of());
        Deep viaUnion = new Deep(0, null, List.of(), Map.of(), Optional.empty(), new Box(inside), Set.of(),
            Optional.empty(), List.of(), Map.of());
        var u = assertThrows(IllegalArgumentException.class, () -> CODEC.encode(viaUnion));
        assertTrue(u.getMessage().startsWith("tree Deep: Deep.sh<Box>.inner.map{k}.list[0].list[0]"), u.getMessage());
        // a record at depth 100 with a present Optional<Integer>: the Optional is a level at 101
        Deep chain = leaf(null);
        for (int i = 0; i < 100; i++) chain = new Deep(i, chain, List.of(), Map.of(), Optional.empty(), null, Set.of(),
            Optional.empty(), List.of(), Map.of());
        assertEquals(chain, CODEC.decode(MemorySegment.ofArray(CODEC.encode(chain))));
        Deep withInt = withBottom(chain, new Deep(0, null, List.of(), Map.of(), Optional.empty(), null, Set.of(),
            Optional.of(1), List.of(), Map.of()));
        var o = assertThrows(IllegalArgumentException.class, () -> CODEC.encode(withInt));
        assertTrue(o.getMessage().startsWith("tree Deep: Deep" + ".next".repeat(100) + ".oi:"), o.getMessage());
        assertThrows(IllegalArgumentException.class, () -> JsonForm.fromJson(json(withInt), VERSIONS));
    }

    /** {@code chain} (a .next chain) with its last record replaced by {@code bottom}. */
    private static Deep withBottom(Deep chain, Deep bottom) {
        if (chain.next() == null) return bottom;
        return new Deep(chain.v(), withBottom(chain.next(), bottom), chain.list(), chain.map(), chain.opt(), chain.sh(),
            chain.ints(), chain.oi(), chain.lli(), chain.mo());
    }

    /** A record with random leaves: empty or holding scalars and constants only. */
    private static Deep leaf(Random rnd) {
        if (rnd == null) return new Deep(0, null, List.of(), Map.of(), Optional.empty(), null, Set.of(), Optional.empty(),
            List.of(), Map.of());
        Sh sh = switch (rnd.nextInt(3)) {
            case 0 -> null;
            case 1 -> Tag.B;
            default -> new Box(null);
        };
        List<List<Integer>> lli = switch (rnd.nextInt(4)) {
            case 0 -> List.of();
            case 1 -> List.of(List.of());
            case 2 -> List.of(List.of(7));
            default -> List.of(List.of(), List.of(1, 2));
        };
        Map<Integer, Optional<Deep>> mo = rnd.nextBoolean() ? Map.of() : Map.of(3, Optional.empty());
        return new Deep(rnd.nextInt(9), null, rnd.nextBoolean() ? List.of() : java.util.Arrays.asList((Deep) null),
            rnd.nextBoolean() ? Map.of() : java.util.Collections.singletonMap("n", null), Optional.empty(), sh,
            rnd.nextBoolean() ? Set.of() : Set.of(4), rnd.nextBoolean() ? Optional.empty() : Optional.of(5), lli, mo);
    }

    /** {@code inner} one to three levels down in a new record, through a random container. */
    private static Deep wrap(Deep inner, Random rnd) {
        Deep d = leaf(rnd);
        return switch (rnd.nextInt(6)) {
            case 0 -> new Deep(d.v(), inner, d.list(), d.map(), d.opt(), d.sh(), d.ints(), d.oi(), d.lli(), d.mo());
            case 1 -> new Deep(d.v(), d.next(), List.of(inner), d.map(), d.opt(), d.sh(), d.ints(), d.oi(), d.lli(), d.mo());
            case 2 -> new Deep(d.v(), d.next(), d.list(), Map.of("k", inner), d.opt(), d.sh(), d.ints(), d.oi(), d.lli(),
                d.mo());
            case 3 -> new Deep(d.v(), d.next(), d.list(), d.map(), Optional.of(inner), d.sh(), d.ints(), d.oi(), d.lli(),
                d.mo());
            case 4 -> new Deep(d.v(), d.next(), d.list(), d.map(), d.opt(), new Box(inner), d.ints(), d.oi(), d.lli(),
                d.mo());
            default -> new Deep(d.v(), d.next(), d.list(), d.map(), d.opt(), d.sh(), d.ints(), d.oi(), d.lli(),
                Map.of(1, Optional.of(inner)));
        };
    }

    /**
     * The spec's count (record-format.md §1), written out independently of the codecs: the depth
     * of the deepest level in {@code d}, a record at {@code depth}. Levels are records, unions,
     * non-empty collections and present Optionals; each item is one deeper than its container.
     */
    private static int levels(Deep d, int depth) {
        int m = depth;
        if (d.next() != null) m = Math.max(m, levels(d.next(), depth + 1));
        if (!d.list().isEmpty()) {
            m = Math.max(m, depth + 1);
            for (Deep x : d.list()) if (x != null) m = Math.max(m, levels(x, depth + 2));
        }
        if (!d.map().isEmpty()) {
            m = Math.max(m, depth + 1);
            for (Deep x : d.map().values()) if (x != null) m = Math.max(m, levels(x, depth + 2));
        }
        if (d.opt().isPresent()) m = Math.max(m, levels(d.opt().get(), depth + 2));
        if (d.sh() != null) {
            m = Math.max(m, depth + 1);
            if (d.sh() instanceof Box b) {
                m = Math.max(m, depth + 2);
                if (b.inner() != null) m = Math.max(m, levels(b.inner(), depth + 3));
            }
        }
        if (!d.ints().isEmpty()) m = Math.max(m, depth + 1);
        if (d.oi().isPresent()) m = Math.max(m, depth + 1);
        if (!d.lli().isEmpty()) {
            m = Math.max(m, depth + 1);
            for (List<Integer> l : d.lli()) if (!l.isEmpty()) m = Math.max(m, depth + 2);
        }
        if (!d.mo().isEmpty()) {
            m = Math.max(m, depth + 1);
            for (Optional<Deep> o : d.mo().values()) {
                if (o.isPresent()) m = Math.max(m, levels(o.get(), depth + 3));
            }
        }
        return m;
    }

    /** The JSON text of record-format.md §7 of a Deep, written without the codecs (any depth). */
    private static String json(Deep d) {
        if (d == null) return "null";
        StringBuilder b = new StringBuilder("{\"v\":").append(d.v());
        b.append(",\"next\":").append(json(d.next()));
        b.append(",\"list\":[");
        for (int i = 0; i < d.list().size(); i++) b.append(i == 0 ? "" : ",").append(json(d.list().get(i)));
        b.append("],\"map\":{");
        d.map().forEach((k, v) -> b.append('"').append(k).append("\":").append(json(v)));
        b.append("},\"opt\":").append(d.opt().map(DepthProperties::json).orElse("null"));
        b.append(",\"sh\":");
        switch (d.sh()) {
            case null -> b.append("null");
            case Tag t -> b.append("{\"@type\":\"Tag\",\"value\":\"").append(t).append("\"}");
            case Box x -> b.append("{\"@type\":\"Box\",\"inner\":").append(json(x.inner())).append('}');
        }
        b.append(",\"ints\":").append(d.ints().toString().replace(" ", ""));
        b.append(",\"oi\":").append(d.oi().map(String::valueOf).orElse("null"));
        b.append(",\"lli\":").append(d.lli().toString().replace(" ", ""));
        b.append(",\"mo\":[");
        d.mo().forEach((k, v) -> b.append('[').append(k).append(',').append(v.map(DepthProperties::json).orElse("null"))
            .append(']'));
        return b.append("]}").toString();
    }

    @Example
    void theTestsJsonIsThePrintersOnAShallowValue() {
        Random rnd = new Random(1);
        for (int i = 0; i < 50; i++) {
            Deep value = wrap(wrap(leaf(rnd), rnd), rnd);
            byte[] bytes = CODEC.encode(value);
            if (!json(value).equals(JsonForm.toJson(MemorySegment.ofArray(bytes), VERSIONS))) {
                fail(json(value) + " vs " + JsonForm.toJson(MemorySegment.ofArray(bytes), VERSIONS));
            }
        }
    }
}
