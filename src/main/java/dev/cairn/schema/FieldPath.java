package dev.cairn.schema;

import dev.cairn.schema.FieldType.Kind;
import dev.cairn.schema.FieldType.Ref;
import dev.cairn.schema.FieldType.Scalar;
import dev.cairn.schema.TypeDef.EnumDef;
import dev.cairn.schema.TypeDef.RecordDef;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A component path of a record class ("stock", "dims.width") resolved for zero-copy reads
 * (record-format.md §5): per writer version, where the value lies in the bytes, resolved once.
 * Reads honour evolution: a component the writer lacked reads as the reader's default, a
 * widened number is converted, a renamed component is found under its old name.
 *
 * <ul>
 *   <li>Thread-safe; made by {@link RecordCodec#field(String)}, valid for that codec only.
 *   <li>A null value (a boxed null, or a null record on the path) reads as 0 / false / null.
 * </ul>
 */
public final class FieldPath {
    private final RecordCodec<?> codec;
    private final String path;
    private final Component[] steps;
    private final Object defaultValue;
    private final boolean enumLeaf;
    private final Kind leafKind;
    private volatile Location[] locations = new Location[0];

    /** Where the value lies in data of one writer version. */
    private record Location(int[] slots, int[] previousSlots, int[] fixedBytes, boolean missing,
        Object missingValue,
                            boolean fixed, int offset, int previousSlot, int leafFixedBytes,
                                Kind kind, EnumDef writerEnum) { }

    FieldPath(RecordCodec<?> codec, String path) {
        this.codec = codec;
        this.path = path;
        Schema rs = codec.schema();
        String[] names = path.split("\\.", -1);
        steps = new Component[names.length];
        int def = 0;
        for (int i = 0; i < names.length; i++) {
            RecordDef rd = rs.record(def);
            int c = rd.indexOf(names[i]);
            if (c < 0) {
                throw new IllegalArgumentException("no component '" + names[i] + "' in " + rd.name()
                    + " for path '" + path
                    + "' (expected: one of "
                    + rd.components().stream().map(Component::name).toList() + ")");
            }
            steps[i] = rd.components().get(c);
            if (i < names.length - 1) {
                if (!(steps[i].type() instanceof Ref r && rs.definition(r) instanceof RecordDef)) {
                    throw new IllegalArgumentException("path '" + path + "': " + names[i]
                        + " is not a nested record");
                }
                def = ((Ref) steps[i].type()).definition();
            }
        }
        Component leaf = steps[steps.length - 1];
        enumLeaf = leaf.type() instanceof Ref r && rs.definition(r) instanceof EnumDef;
        leafKind = leaf.type() instanceof Scalar s ? s.kind() : null;
        if (leafKind == null && !enumLeaf) {
            throw new IllegalArgumentException("path '" + path + "': " + SchemaFormat.typeName(rs,
                leaf.type())
                + " (expected: a scalar or an enum)");
        }
        Object d = codec.builder(codec.ownVersion()).defaultValue(leaf, path);
        defaultValue = d instanceof Enum<?> e ? e.name() : d;
    }

    public String path() {
        return path;
    }

    /** True when {@code c} resolved this path: it knows the schema versions {@code c} knows. */
    public boolean resolvedBy(RecordCodec<?> c) {
        return codec == c;
    }

    int getInt(MemorySegment bytes) {
        Location loc = location(bytes);
        if (loc.slots.length == 0 && loc.fixed && loc.kind == Kind.INT && leafKind == Kind.INT) {
            Bin.checkFixed(Bin.HEADER_BYTES, bytes.byteSize(), loc.leafFixedBytes, path);
            return bytes.get(Bin.INT, Bin.HEADER_BYTES + loc.offset);
        }
        require(leafKind == Kind.INT || leafKind == Kind.SHORT || leafKind == Kind.BYTE, "getInt");
        Object v = value(bytes, loc);
        return v == null ? 0 : ((Number) v).intValue();
    }

    long getLong(MemorySegment bytes) {
        Location loc = location(bytes);
        if (loc.slots.length == 0 && loc.fixed && loc.kind == Kind.LONG && leafKind == Kind.LONG) {
            Bin.checkFixed(Bin.HEADER_BYTES, bytes.byteSize(), loc.leafFixedBytes, path);
            return bytes.get(Bin.LONG, Bin.HEADER_BYTES + loc.offset);
        }
        require(leafKind != null && leafKind.integral(), "getLong");
        Object v = value(bytes, loc);
        return v == null ? 0 : ((Number) v).longValue();
    }

    double getDouble(MemorySegment bytes) {
        Location loc = location(bytes);
        require(leafKind == Kind.DOUBLE || leafKind == Kind.FLOAT || leafKind == Kind.INT
            || leafKind == Kind.SHORT || leafKind == Kind.BYTE, "getDouble");
        Object v = value(bytes, loc);
        return v == null ? 0 : ((Number) v).doubleValue();
    }

    boolean getBoolean(MemorySegment bytes) {
        Location loc = location(bytes);
        require(leafKind == Kind.BOOLEAN, "getBoolean");
        Object v = value(bytes, loc);
        return v != null && (Boolean) v;
    }

    String getString(MemorySegment bytes) {
        Location loc = location(bytes);
        require(leafKind == Kind.STRING || enumLeaf, "getString");
        return (String) value(bytes, loc);
    }

    boolean stringEquals(MemorySegment bytes, String s) {
        Location loc = location(bytes);
        require(leafKind == Kind.STRING || enumLeaf, "stringEquals");
        if (enumLeaf || loc.missing
            || loc.kind != Kind.STRING) return java.util.Objects.equals(value(bytes, loc), s);
        long start = Bin.HEADER_BYTES;
        long end = bytes.byteSize();
        for (int i = 0; i < loc.slots.length; i++) {
            long[] r = nested(bytes, start, end, loc, i);
            if (r == null) return s == null;
            start = r[0];
            end = r[1];
        }
        Bin.checkFixed(start, end, loc.leafFixedBytes, path);
        int raw = bytes.get(Bin.INT, start + loc.offset);
        int from = Bin.varStart(bytes, start, loc.previousSlot, loc.leafFixedBytes);
        int to = raw & Bin.OFFSET_MASK;
        Bin.checkRange(from, to, end - start, loc.leafFixedBytes, path);
        if (raw < 0) return s == null;
        return s != null && Bin.utf8Equals(bytes, start + from, start + to, s);
    }

    /**
     * Refuses a getter that would convert the component's type where a full decode refuses to
     * (record-format.md §5, §6.1): to a narrower type, {@code long} to {@code double} (digits
     * beyond 2^53 would be lost), or from {@code char} or {@code boolean}, which do not count as
     * numbers.
     */
    private void require(boolean ok, String getter) {
        if (ok) return;
        String type = enumLeaf ? "an enum" : leafKind.name().toLowerCase(java.util.Locale.ROOT);
        String why = "";
        if (leafKind == Kind.LONG && getter.equals("getDouble")) {
            why = ": a double cannot hold every long (digits beyond 2^53 would be lost), so a long is not read as a"
                + " double (record-format.md §6.1); use getLong";
        } else if (leafKind == Kind.CHAR && !getter.equals("getBoolean") && !getter.equals("getString")) {
            why = ": a char does not count as a number (record-format.md §6.1); decode the record to read it";
        } else if (leafKind == Kind.CHAR) {
            why = ": no getter reads a char; decode the record to read it";
        }
        throw new IllegalArgumentException(path + " is " + type + " (expected: a type " + getter + " can read" + ": "
            + readable(getter) + ")" + why);
    }

    private static String readable(String getter) {
        return switch (getter) {
            case "getInt" -> "int, short, byte";
            case "getLong" -> "long, int, short, byte";
            case "getDouble" -> "double, float, int, short, byte";
            case "getBoolean" -> "boolean";
            default -> "String, an enum";
        };
    }

    /** The value at the path as the reader's type, boxed; enums as their name. */
    private Object value(MemorySegment bytes, Location loc) {
        if (loc.missing) return loc.missingValue;
        long start = Bin.HEADER_BYTES;
        long end = bytes.byteSize();
        for (int i = 0; i < loc.slots.length; i++) {
            long[] r = nested(bytes, start, end, loc, i);
            if (r == null) return null;
            start = r[0];
            end = r[1];
        }
        Bin.checkFixed(start, end, loc.leafFixedBytes, path);
        long from;
        long to;
        if (loc.fixed) {
            from = start + loc.offset;
            to = from + loc.kind.width;
        } else {
            int raw = bytes.get(Bin.INT, start + loc.offset);
            int f = Bin.varStart(bytes, start, loc.previousSlot, loc.leafFixedBytes);
            int t = raw & Bin.OFFSET_MASK;
            Bin.checkRange(f, t, end - start, loc.leafFixedBytes, path);
            if (raw < 0) return null;
            from = start + f;
            to = start + t;
        }
        if (enumLeaf) {
            Bin.checkWidth(from, to, 4, path);
            int index = bytes.get(Bin.INT, from);
            if (index < 0 || index >= loc.writerEnum.constants().size()) throw Bin.corrupt(path
                + ": enum constant " + index);
            String name = loc.writerEnum.constants().get(index);
            EnumDef re = (EnumDef) codec.schema().definition((Ref) steps[steps.length - 1].type());
            if (re.constants().contains(name)) return name;
            if (re.fallback() >= 0) return re.constants().get(re.fallback());
            throw new dev.cairn.SchemaMismatchException(codec.context(Bin.version(bytes)) + path
                + ": constant " + name
                + " is unknown to " + re.name() + ", which has no @Fallback constant");
        }
        Object v = Scalars.read(loc.kind, bytes, from, to, path);
        return Compat.scalar(v, loc.kind, leafKind, codec.context(Bin.version(bytes)) + path);
    }

    /** The body range of the nested record of step {@code i}, or null when it is null. */
    private long[] nested(MemorySegment bytes, long start, long end, Location loc, int i) {
        Bin.checkFixed(start, end, loc.fixedBytes[i], path);
        int raw = bytes.get(Bin.INT, start + loc.slots[i]);
        int f = Bin.varStart(bytes, start, loc.previousSlots[i], loc.fixedBytes[i]);
        int t = raw & Bin.OFFSET_MASK;
        Bin.checkRange(f, t, end - start, loc.fixedBytes[i], path);
        if (raw < 0) return null;
        return new long[] {start + f, start + t};
    }

    private Location location(MemorySegment bytes) {
        int version = Bin.version(bytes);
        Location[] l = locations;
        if (version < l.length && l[version] != null) return l[version];
        return resolve(version);
    }

    private synchronized Location resolve(int version) {
        Location[] l = locations;
        if (version < l.length && l[version] != null) return l[version];
        if (!codec.versions().contains(version)) {
            throw Bin.corrupt("tree " + codec.tree() + ": schema version " + version
                + " (expected: 1.."
                + codec.versions().latestVersion() + ")");
        }
        codec.plan(version);
        Location loc = locate(codec.versions().get(version));
        Location[] next = Arrays.copyOf(l, Math.max(l.length, version + 1));
        next[version] = loc;
        locations = next;
        return loc;
    }

    private Location locate(Schema ws) {
        int n = steps.length;
        int[] slots = new int[n - 1];
        int[] previous = new int[n - 1];
        int[] fixedBytes = new int[n - 1];
        int def = 0;
        for (int i = 0; i < n; i++) {
            RecordDef wr = ws.record(def);
            Layout layout = ws.layout(def);
            int wi = Compat.match(wr, steps[i]);
            if (wi < 0) {
                return new Location(slots, previous, fixedBytes, true, missingValue(i), false, 0, 0,
                    0, null, null);
            }
            FieldType wt = wr.components().get(wi).type();
            if (i < n - 1) {
                slots[i] = layout.offset[wi];
                previous[i] = layout.previousSlot[wi];
                fixedBytes[i] = layout.fixedBytes;
                def = ((Ref) wt).definition();
                continue;
            }
            if (wt instanceof Ref r && ws.definition(r) instanceof EnumDef we) {
                return new Location(slots, previous, fixedBytes, false, null, false,
                    layout.offset[wi], layout.previousSlot[wi],
                    layout.fixedBytes, null, we);
            }
            return new Location(slots, previous, fixedBytes, false, null, layout.fixed[wi],
                layout.offset[wi],
                layout.previousSlot[wi], layout.fixedBytes, ((Scalar) wt).kind(), null);
        }
        throw new AssertionError("a path has at least one step");
    }

    /**
     * The value at the path when the writer lacked step {@code missing}: that component's default,
     * followed down the remaining steps (a null record on the way gives null).
     */
    private Object missingValue(int missing) {
        if (missing == steps.length - 1) return defaultValue;
        Object v = codec.builder(codec.ownVersion()).defaultValue(steps[missing], path);
        for (int j = missing + 1; j < steps.length && v != null; j++) {
            try {
                java.lang.reflect.RecordComponent rc = v.getClass().getRecordComponents()[indexIn(v.getClass(), steps[j].name())];
                v = Access.lookup(v.getClass()).unreflect(rc.getAccessor()).invoke(v);
            } catch (Throwable t) {
                throw new IllegalStateException(path + ": cannot read the default of "
                    + steps[missing].name() + ": " + t, t);
            }
        }
        return v instanceof Enum<?> e ? e.name() : v;
    }

    private static int indexIn(Class<?> type, String name) {
        java.lang.reflect.RecordComponent[] rcs = type.getRecordComponents();
        for (int i = 0; i < rcs.length; i++) {
            if (rcs[i].getName().equals(name)) return i;
        }
        throw new AssertionError("no component " + name + " in " + type);
    }

    @Override
    public String toString() {
        return "FieldPath[" + path + "]";
    }
}
