package dev.cairn.schema;

import dev.cairn.schema.FieldType.Kind;
import dev.cairn.schema.FieldType.ListOf;
import dev.cairn.schema.FieldType.MapOf;
import dev.cairn.schema.FieldType.OptionalOf;
import dev.cairn.schema.FieldType.Ref;
import dev.cairn.schema.FieldType.Scalar;
import dev.cairn.schema.FieldType.SetOf;
import dev.cairn.schema.TypeDef.EnumDef;
import dev.cairn.schema.TypeDef.RecordDef;
import dev.cairn.schema.TypeDef.UnionDef;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Encodes and decodes class-free values ({@link GenericRecord} and friends) with a schema alone
 * (record-format.md §3-§4). Slower than {@link RecordCodec}; used for JSON, the inspector,
 * migrations and carrying over unknown components.
 */
final class GenericCodec {
    private GenericCodec() { }

    // ---------------------------------------------------------------- decode

    /**
     * The value of {@code type} at {@code [s, e)}; with {@code keep} false, only checked: every
     * check is made, but a String or byte[] item is not copied out ({@link #checked}).
     */
    static Object decode(Schema schema, FieldType type, MemorySegment seg, long s, long e,
        int depth, String path, boolean keep) {
        return switch (type) {
            case Scalar sc -> keep ? Scalars.read(sc.kind(), seg, s, e, path) : checked(sc.kind(), seg, s, e, path);
            case ListOf l -> Collections.unmodifiableList(items(schema, l.element(), seg, s, e,
                depth, path, keep));
            case SetOf st -> Collections.unmodifiableSet(new LinkedHashSet<>(items(schema,
                st.element(), seg, s, e, depth, path, keep)));
            case MapOf m -> map(schema, m, seg, s, e, depth, path, keep);
            case OptionalOf o -> {
                if (e - s < 1) throw Bin.corrupt(path
                    + ": empty optional item (expected: >= 1 byte)");
                boolean present = Scalars.bool(seg.get(Bin.BYTE, s), path);
                if (!present) {
                    Bin.checkWidth(s, e, 1, path);
                    yield Optional.empty();
                }
                Bin.checkDepth(depth, path);
                yield Optional.of(decode(schema, o.element(), seg, s + 1, e, depth + 1, path, keep));
            }
            case Ref r -> switch (schema.definition(r)) {
                case RecordDef rd -> decodeRecord(schema, r.definition(), seg, s, e, depth, path, keep);
                case EnumDef en -> enumValue(en, seg, s, e, path);
                case UnionDef u -> union(schema, u, seg, s, e, depth, path, keep);
            };
        };
    }

    static GenericRecord decodeRecord(Schema schema, int def, MemorySegment seg, long s, long e,
        int depth, String path, boolean keep) {
        Bin.checkDepth(depth, path);
        RecordDef record = schema.record(def);
        Layout layout = schema.layout(def);
        Bin.checkFixed(s, e, layout.fixedBytes, path);
        Object[] values = new Object[record.components().size()];
        for (int i = 0; i < values.length; i++) {
            Component c = record.components().get(i);
            String cpath = path + "." + c.name();
            if (layout.fixed[i]) {
                Scalar sc = (Scalar) c.type();
                long at = s + layout.offset[i];
                values[i] = Scalars.read(sc.kind(), seg, at, at + sc.kind().width, cpath);
            } else {
                int raw = seg.get(Bin.INT, s + layout.offset[i]);
                int start = Bin.varStart(seg, s, layout.previousSlot[i], layout.fixedBytes);
                int end = raw & Bin.OFFSET_MASK;
                Bin.checkRange(start, end, e - s, layout.fixedBytes, cpath);
                values[i] = raw < 0 ? nullItem(c.type()) : decode(schema, c.type(), seg, s + start,
                    s + end, depth + 1, cpath, keep);
            }
        }
        return new GenericRecord(record, values);
    }

    /**
     * A scalar item only checked: any bytes make a String or byte[], so none is copied out, and
     * an empty one stands in for it.
     */
    private static Object checked(Kind kind, MemorySegment seg, long s, long e, String path) {
        return switch (kind) {
            case STRING -> "";
            case BYTES -> NO_BYTES;
            default -> Scalars.read(kind, seg, s, e, path);
        };
    }

    private static final byte[] NO_BYTES = new byte[0];

    /**
     * What a null item (bit 31) of this type decodes to: an Optional is never null (record-format.md
     * §4.1; Cairn wrote null Optional map values as null items before it wrote them as empty).
     */
    private static Object nullItem(FieldType type) {
        return type instanceof OptionalOf ? Optional.empty() : null;
    }

    private static List<Object> items(Schema schema, FieldType element, MemorySegment seg, long s,
        long e, int depth, String path, boolean keep) {
        int n = Bin.count(seg, s, e, 1, path);
        if (n > 0) Bin.checkDepth(depth, path);
        List<Object> out = new ArrayList<>(n);
        int dataStart = 4 + 4 * n;
        int start = dataStart;
        for (int i = 0; i < n; i++) {
            int raw = seg.get(Bin.INT, s + 4 + 4L * i);
            int end = raw & Bin.OFFSET_MASK;
            Bin.checkRange(start, end, e - s, dataStart, path);
            out.add(raw < 0 ? nullItem(element) : decode(schema, element, seg, s + start, s + end,
                depth + 1, path + "[" + i + "]", keep));
            start = end;
        }
        return out;
    }

    private static Map<Object, Object> map(Schema schema, MapOf type, MemorySegment seg, long s,
        long e, int depth, String path, boolean keep) {
        int n = Bin.count(seg, s, e, 2, path);
        if (n > 0) Bin.checkDepth(depth, path);
        Map<Object, Object> out = new LinkedHashMap<>();
        int dataStart = 4 + 8 * n;
        int start = dataStart;
        Object key = null;
        for (int i = 0; i < 2 * n; i++) {
            int raw = seg.get(Bin.INT, s + 4 + 4L * i);
            int end = raw & Bin.OFFSET_MASK;
            Bin.checkRange(start, end, e - s, dataStart, path);
            if (i % 2 == 0) {
                if (raw < 0) throw Bin.corrupt(path + ": null map key");
                // Read even when only checked: the paths of its value's errors name it.
                key = decode(schema, type.key(), seg, s + start, s + end, depth + 1, path
                    + "{key}", true);
            } else {
                out.put(key, raw < 0 ? nullItem(type.value()) : decode(schema, type.value(), seg,
                    s + start, s + end, depth + 1, path + "{" + key + "}", keep));
            }
            start = end;
        }
        return Collections.unmodifiableMap(out);
    }

    private static GenericEnum enumValue(EnumDef en, MemorySegment seg, long s, long e,
        String path) {
        Bin.checkWidth(s, e, 4, path);
        int index = seg.get(Bin.INT, s);
        if (index < 0 || index >= en.constants().size()) {
            throw Bin.corrupt(path + ": constant " + index + " of " + en.name() + " (expected: < "
                + en.constants().size() + ")");
        }
        return new GenericEnum(en.name(), en.constants().get(index));
    }

    private static Object union(Schema schema, UnionDef u, MemorySegment seg, long s, long e,
        int depth, String path, boolean keep) {
        if (e - s < 4) throw Bin.corrupt(path + ": union of " + (e - s)
            + " bytes (expected: >= 4)");
        int variant = seg.get(Bin.INT, s);
        if (variant < 0 || variant >= u.variants().size()) {
            throw Bin.corrupt(path + ": variant " + variant + " of " + u.name() + " (expected: < "
                + u.variants().size() + ")");
        }
        Bin.checkDepth(depth, path);
        return decode(schema, new Ref(u.variants().get(variant)), seg, s + 4, e, depth + 1, path, keep);
    }

    // ---------------------------------------------------------------- encode

    /** A complete value: header with {@code version}, then the record body. */
    static byte[] encodeValue(Schema schema, int version, GenericRecord record) {
        Sink sink = Sink.acquire();
        try {
            sink.putByte(Bin.FORMAT_TAG);
            sink.putShort(version);
            encodeRecord(schema, 0, record, sink, 0, schema.name());
            return sink.toBytes();
        } finally {
            sink.release();
        }
    }

    static void encode(Schema schema, FieldType type, Object value, Sink sink, int depth,
        String path) {
        if (value == null && type instanceof OptionalOf) value = Optional.empty();
        switch (type) {
            case Scalar sc -> {
                check(value, Scalars.boxClass(sc.kind()), path);
                Scalars.write(sc.kind(), value, sink, path);
            }
            case ListOf l -> items(schema, l.element(), (Collection<?>) check(value, List.class,
                path), sink, depth, path);
            case SetOf st -> {
                int start = sink.position;
                items(schema, st.element(), (Collection<?>) check(value, java.util.Set.class, path),
                    sink, depth, path);
                sink.sortEntries(start, 1, schema.holdsBytes(st.element()));
            }
            case MapOf m -> {
                int start = sink.position;
                Map<?, ?> map = (Map<?, ?>) check(value, Map.class, path);
                if (!map.isEmpty()) depth(depth, path);
                int at = sink.reserve(4 + 8 * map.size());
                sink.putIntAt(at, map.size());
                int slot = at + 4;
                for (Map.Entry<?, ?> entry : map.entrySet()) {
                    if (entry.getKey() == null) throw new IllegalArgumentException(path
                        + ": null map key");
                    encode(schema, m.key(), entry.getKey(), sink, depth + 1, path + "{key}");
                    sink.putIntAt(slot, sink.position - start);
                    slot += 4;
                    if (entry.getValue() == null && !(m.value() instanceof OptionalOf)) {
                        sink.putIntAt(slot, (sink.position - start) | Bin.NULL_BIT);
                    } else {
                        encode(schema, m.value(), entry.getValue(), sink, depth + 1, path + "{"
                            + entry.getKey() + "}");
                        sink.putIntAt(slot, sink.position - start);
                    }
                    slot += 4;
                }
                sink.sortEntries(start, 2, true);
            }
            case OptionalOf o -> {
                Optional<?> opt = (Optional<?>) check(value, Optional.class, path);
                sink.putByte(opt.isPresent() ? 1 : 0);
                if (opt.isPresent()) {
                    depth(depth, path);
                    encode(schema, o.element(), opt.get(), sink, depth + 1, path);
                }
            }
            case Ref r -> {
                switch (schema.definition(r)) {
                    case RecordDef rd -> encodeRecord(schema, r.definition(),
                        (GenericRecord) check(value, GenericRecord.class, path),
                        sink, depth, path);
                    case EnumDef en -> sink.putInt(constantIndex(en, value, path));
                    case UnionDef u -> encodeUnion(schema, u, value, sink, depth, path);
                }
            }
        }
    }

    static void encodeRecord(Schema schema, int def, GenericRecord value, Sink sink, int depth,
        String path) {
        depth(depth, path);
        RecordDef record = schema.record(def);
        if (!value.definition().equals(record)) {
            throw new IllegalArgumentException(path + ": record " + value.typeName()
                + " (expected: " + record.name()
                + " of this schema)");
        }
        Layout layout = schema.layout(def);
        int base = sink.reserve(layout.fixedBytes);
        for (int i = 0; i < layout.fixed.length; i++) {
            Component c = record.components().get(i);
            Object v = value.value(i);
            String cpath = path + "." + c.name();
            if (layout.fixed[i]) {
                if (v == null) throw new IllegalArgumentException(cpath + ": null for a primitive");
                int end = sink.position;
                sink.position = base + layout.offset[i];
                check(v, Scalars.boxClass(((Scalar) c.type()).kind()), cpath);
                Scalars.write(((Scalar) c.type()).kind(), v, sink, cpath);
                sink.position = end;
            } else if (v == null && !(c.type() instanceof OptionalOf)) {
                sink.putIntAt(base + layout.offset[i], (sink.position - base) | Bin.NULL_BIT);
            } else {
                encode(schema, c.type(), v, sink, depth + 1, cpath);
                sink.putIntAt(base + layout.offset[i], sink.position - base);
            }
        }
    }

    private static void items(Schema schema, FieldType element, Collection<?> values, Sink sink,
        int depth, String path) {
        if (!values.isEmpty()) depth(depth, path);
        int start = sink.reserve(4 + 4 * values.size());
        sink.putIntAt(start, values.size());
        int slot = start + 4;
        int i = 0;
        for (Object v : values) {
            if (v == null && !(element instanceof OptionalOf)) {
                sink.putIntAt(slot, (sink.position - start) | Bin.NULL_BIT);
            } else {
                encode(schema, element, v, sink, depth + 1, path + "[" + i + "]");
                sink.putIntAt(slot, sink.position - start);
            }
            slot += 4;
            i++;
        }
    }

    private static int constantIndex(EnumDef en, Object value, String path) {
        GenericEnum g = (GenericEnum) check(value, GenericEnum.class, path);
        int index = en.constants().indexOf(g.constant());
        if (index < 0) {
            throw new IllegalArgumentException(path + ": constant " + g.constant()
                + " (expected: one of " + en.constants() + ")");
        }
        return index;
    }

    private static void encodeUnion(Schema schema, UnionDef u, Object value, Sink sink, int depth,
        String path) {
        String variantName = value instanceof GenericRecord g ? g.typeName()
            : ((GenericEnum) check(value, GenericEnum.class, path)).type();
        for (int v = 0; v < u.variants().size(); v++) {
            if (schema.definitions().get(u.variants().get(v)).name().equals(variantName)) {
                depth(depth, path);
                sink.putInt(v);
                encode(schema, new Ref(u.variants().get(v)), value, sink, depth + 1, path);
                return;
            }
        }
        throw new IllegalArgumentException(path + ": variant " + variantName
            + " (expected: a permitted type of " + u.name() + ")");
    }

    /**
     * Refuses a level (a record body, a union, a non-empty collection or a present Optional) at
     * {@code depth} deeper than {@link Bin#DEPTH_MAX} (record-format.md §1).
     */
    private static void depth(int depth, String path) {
        if (depth > Bin.DEPTH_MAX) throw new IllegalArgumentException(path + ": nested deeper than "
            + Bin.DEPTH_MAX + " levels (record-format.md §1)");
    }

    private static Object check(Object value, Class<?> expected, String path) {
        if (!expected.isInstance(value)) {
            throw new IllegalArgumentException(path + ": " + (value == null ? "null"
                : value.getClass().getSimpleName())
                + " (expected: " + expected.getSimpleName() + ")");
        }
        return value;
    }
}
