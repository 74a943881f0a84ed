package dev.cairn.schema;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Single-field reads ({@link RecordCodec#field}, the zero-copy getters behind {@code RecordView})
 * against the decoded record, for random values: top-level and nested scalars, boxed and absent
 * ones, strings and enums, read from bytes that lie at a random offset of a larger segment (as a
 * value does in a mapped page). Every getter that may read a type agrees with the decoded
 * component (an absent one reads as 0, false or null); {@code stringEquals} is true for the value
 * alone; the getters that would convert where a decode refuses to are refused.
 */
class FieldPathProperties {
    enum Grade { LOW, MID, HIGH }

    record Inner(int a, Long b, String s, Grade g, Double d, short sh) { }

    record Outer(boolean flag, Boolean maybe, byte by, short sh, int i, Integer bi, long l, Long bl, float f,
                 Double bd, String s, Grade grade, Inner inner, String t, Inner other, char ch) { }

    /** An older version of Outer's tree: fewer components, {@code l} an int that Outer widens, {@code bd} a float. */
    record Older(String t, int l, byte by, Grade grade, Inner inner, Float bd, int i) { }

    /** What a getter of each kind may read (record-format.md §6.1). */
    enum Kind { INT, LONG, FLOAT_OR_DOUBLE, BOOLEAN, STRING, CHAR }

    record Path(String path, Kind kind, Function<Outer, Object> value) { }

    private static final List<Path> PATHS = List.of(
        new Path("flag", Kind.BOOLEAN, Outer::flag),
        new Path("maybe", Kind.BOOLEAN, Outer::maybe),
        new Path("by", Kind.INT, Outer::by),
        new Path("sh", Kind.INT, Outer::sh),
        new Path("i", Kind.INT, Outer::i),
        new Path("bi", Kind.INT, Outer::bi),
        new Path("l", Kind.LONG, Outer::l),
        new Path("bl", Kind.LONG, Outer::bl),
        new Path("f", Kind.FLOAT_OR_DOUBLE, Outer::f),
        new Path("bd", Kind.FLOAT_OR_DOUBLE, Outer::bd),
        new Path("s", Kind.STRING, Outer::s),
        new Path("grade", Kind.STRING, o -> o.grade() == null ? null : o.grade().name()),
        new Path("t", Kind.STRING, Outer::t),
        new Path("ch", Kind.CHAR, Outer::ch),
        new Path("inner.a", Kind.INT, o -> o.inner() == null ? null : o.inner().a()),
        new Path("inner.b", Kind.LONG, o -> o.inner() == null ? null : o.inner().b()),
        new Path("inner.s", Kind.STRING, o -> o.inner() == null ? null : o.inner().s()),
        new Path("inner.g", Kind.STRING, o -> o.inner() == null || o.inner().g() == null ? null : o.inner().g().name()),
        new Path("inner.d", Kind.FLOAT_OR_DOUBLE, o -> o.inner() == null ? null : o.inner().d()),
        new Path("inner.sh", Kind.INT, o -> o.inner() == null ? null : o.inner().sh()),
        new Path("other.s", Kind.STRING, o -> o.other() == null ? null : o.other().s()),
        new Path("other.a", Kind.INT, o -> o.other() == null ? null : o.other().a()));

    private static final RecordCodec<Outer> CODEC = RecordCodec.of(Outer.class, "T", RecordCodecTest.versionsOf(Outer.class));
    private static final EvolutionTest.Pair<Older, Outer> EVOLVED = EvolutionTest.Pair.of(Older.class, Outer.class);

    @Property(tries = 300)
    void fieldReadsEqualTheDecodedRecord(@ForAll long seed) {
        RandomValues random = new RandomValues(seed);
        Outer value = random.record(Outer.class);
        MemorySegment bytes = inPage(CODEC.encode(value), seed);
        assertEquals(Normal.of(value), Normal.of(CODEC.decode(bytes)));
        for (Path p : PATHS) check(CODEC, p, value, bytes);
    }

    /**
     * Bytes an older version wrote, read by the newer version's fields: each read equals the
     * newer version's decode of the bytes (whose evolution rules EvolutionTest checks), for
     * components it added (defaults), widened and kept.
     */
    @Property(tries = 200)
    void fieldReadsOfOlderBytesEqualTheirDecode(@ForAll long seed) {
        RandomValues random = new RandomValues(seed);
        Older value = random.record(Older.class);
        MemorySegment bytes = inPage(EVOLVED.older().encode(value), seed);
        Outer decoded = EVOLVED.newer().decode(bytes);
        assertEquals(value.l(), decoded.l());
        assertEquals(value.t(), decoded.t());
        for (Path p : PATHS) check(EVOLVED.newer(), p, decoded, bytes);
    }

    /** The record's bytes at a random offset of a larger segment, garbage around them, as in a mapped page. */
    private static MemorySegment inPage(byte[] encoded, long seed) {
        Random rnd = new Random(seed);
        int offset = rnd.nextInt(64);
        byte[] page = new byte[offset + encoded.length + rnd.nextInt(64)];
        rnd.nextBytes(page);
        System.arraycopy(encoded, 0, page, offset, encoded.length);
        return MemorySegment.ofArray(page).asSlice(offset, encoded.length);
    }

    private static void check(RecordCodec<Outer> codec, Path p, Outer record, MemorySegment bytes) {
        FieldPath f = codec.field(p.path());
        Object v = p.value().apply(record);
        String at = p.path() + " of " + record;
        switch (p.kind()) {
            case INT -> {
                int n = v == null ? 0 : ((Number) v).intValue();
                assertEquals(n, codec.getInt(bytes, f), at);
                assertEquals(n, codec.getLong(bytes, f), at);
                assertEquals(n, codec.getDouble(bytes, f), at);
                refused(codec, bytes, f, "getBoolean", "getString");
            }
            case LONG -> {
                assertEquals(v == null ? 0 : (Long) v, codec.getLong(bytes, f), at);
                refused(codec, bytes, f, "getInt", "getDouble", "getBoolean", "getString");
            }
            case FLOAT_OR_DOUBLE -> {
                assertEquals(v == null ? 0 : ((Number) v).doubleValue(), codec.getDouble(bytes, f), at);
                refused(codec, bytes, f, "getInt", "getLong", "getBoolean", "getString");
            }
            case BOOLEAN -> {
                assertEquals(v != null && (Boolean) v, codec.getBoolean(bytes, f), at);
                refused(codec, bytes, f, "getInt", "getLong", "getDouble", "getString");
            }
            case STRING -> {
                String s = (String) v;
                assertEquals(s, codec.getString(bytes, f), at);
                assertEquals(true, codec.stringEquals(bytes, f, s), at);
                assertEquals(s == null, codec.stringEquals(bytes, f, null), at);
                assertEquals(false, codec.stringEquals(bytes, f, s == null ? "" : s + "x"), at);
                if (s != null && !s.isEmpty()) {
                    assertEquals(false, codec.stringEquals(bytes, f, s.substring(0, s.length() - 1)), at);
                    char last = s.charAt(s.length() - 1);
                    assertEquals(false, codec.stringEquals(bytes, f, s.substring(0, s.length() - 1) + (char) (last ^ 1)), at);
                }
                refused(codec, bytes, f, "getInt", "getLong", "getDouble", "getBoolean");
            }
            case CHAR -> refused(codec, bytes, f, "getInt", "getLong", "getDouble", "getBoolean", "getString");
        }
    }

    private static void refused(RecordCodec<Outer> codec, MemorySegment bytes, FieldPath f, String... getters) {
        for (String g : getters) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
                switch (g) {
                    case "getInt" -> codec.getInt(bytes, f);
                    case "getLong" -> codec.getLong(bytes, f);
                    case "getDouble" -> codec.getDouble(bytes, f);
                    case "getBoolean" -> codec.getBoolean(bytes, f);
                    case "getString" -> codec.getString(bytes, f);
                    default -> throw new AssertionError(g);
                }
            }, g + " of " + f.path());
            assertEquals(true, e.getMessage().startsWith(f.path() + " is "), e.getMessage());
        }
    }
}
