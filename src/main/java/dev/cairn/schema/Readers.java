package dev.cairn.schema;

import dev.cairn.SchemaMismatchException;
import dev.cairn.schema.FieldType.Kind;
import java.lang.foreign.MemorySegment;
import java.util.AbstractList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.RandomAccess;
import java.util.Set;

/** The {@link ValueReader}s of the typed codec, one small record per shape. */
final class Readers {
    private Readers() { }

    record StringReader() implements ValueReader {
        @Override
        public Object read(MemorySegment seg, long s, long e, int depth) {
            return Bin.string(seg, s, e);
        }
    }

    /** A scalar of the writer's kind, converted to the reader's (boxed). */
    record ScalarReader(Kind writer, Kind reader, String path) implements ValueReader {
        @Override
        public Object read(MemorySegment seg, long s, long e, int depth) {
            Object v = Scalars.read(writer, seg, s, e, path);
            return writer == reader ? v : Compat.scalar(v, writer, reader, path);
        }
    }

    /** A component slot of a record body: finds the item's range, then reads it. */
    record VarSlot(ValueReader reader, int slotOffset, int previousSlot, int fixedBytes,
        String path) {
        Object read(MemorySegment seg, long s, long e, int depth) {
            int raw = seg.get(Bin.INT, s + slotOffset);
            int start = Bin.varStart(seg, s, previousSlot, fixedBytes);
            int end = raw & Bin.OFFSET_MASK;
            Bin.checkRange(start, end, e - s, fixedBytes, path);
            if (raw < 0) return null;
            return reader.read(seg, s + start, s + end, depth + 1);
        }
    }

    /** {@code optional}: the reader's element type is Optional (record-format.md §4.1: a null item reads as empty). */
    record ListReader(ValueReader element, boolean optional, String path) implements ValueReader {
        @Override
        public Object read(MemorySegment seg, long s, long e, int depth) {
            return new FrozenList(items(element, optional, seg, s, e, depth, path));
        }
    }

    record SetReader(ValueReader element, boolean optional, String path) implements ValueReader {
        @Override
        public Object read(MemorySegment seg, long s, long e, int depth) {
            Object[] items = items(element, optional, seg, s, e, depth, path);
            Set<Object> out = new LinkedHashSet<>(Math.max(4, items.length * 2));
            Collections.addAll(out, items);
            return Collections.unmodifiableSet(out);
        }
    }

    record MapReader(ValueReader key, ValueReader value, boolean optionalValue, String path)
        implements ValueReader {
        @Override
        public Object read(MemorySegment seg, long s, long e, int depth) {
            int n = Bin.count(seg, s, e, 2, path);
            if (n > 0) Bin.checkDepth(depth, path);
            Map<Object, Object> out = new LinkedHashMap<>(Math.max(4, n * 2));
            int dataStart = 4 + 8 * n;
            int start = dataStart;
            Object k = null;
            for (int i = 0; i < 2 * n; i++) {
                int raw = seg.get(Bin.INT, s + 4 + 4L * i);
                int end = raw & Bin.OFFSET_MASK;
                Bin.checkRange(start, end, e - s, dataStart, path);
                if (i % 2 == 0) {
                    if (raw < 0) throw Bin.corrupt(path + ": null map key");
                    k = key.read(seg, s + start, s + end, depth + 1);
                } else {
                    out.put(k, raw < 0 ? (optionalValue ? Optional.empty() : null)
                        : value.read(seg, s + start, s + end, depth + 1));
                }
                start = end;
            }
            return Collections.unmodifiableMap(out);
        }
    }

    record OptionalReader(ValueReader element, String path) implements ValueReader {
        @Override
        public Object read(MemorySegment seg, long s, long e, int depth) {
            if (e - s < 1) throw Bin.corrupt(path + ": empty optional item (expected: >= 1 byte)");
            if (!Scalars.bool(seg.get(Bin.BYTE, s), path)) {
                Bin.checkWidth(s, e, 1, path);
                return Optional.empty();
            }
            Bin.checkDepth(depth, path);
            return Optional.of(element.read(seg, s + 1, e, depth + 1));
        }
    }

    /**
     * An enum: writer constant index to reader constant; a null entry is a constant the reader
     * does not know and has no fallback for.
     */
    record EnumReader(Object[] constants, List<String> writerNames, String error,
        String path) implements ValueReader {
        @Override
        public Object read(MemorySegment seg, long s, long e, int depth) {
            Bin.checkWidth(s, e, 4, path);
            int index = seg.get(Bin.INT, s);
            if (index < 0 || index >= constants.length) {
                throw Bin.corrupt(path + ": enum constant " + index + " (expected: < "
                    + constants.length + ")");
            }
            Object c = constants[index];
            if (c == null) throw new SchemaMismatchException(error + ": constant "
                + writerNames.get(index) + error2());
            return c;
        }

        private String error2() {
            return " is unknown to the reader's enum, which has no @Fallback constant";
        }
    }

    /** A sealed interface: writer variant index to the reader of that variant. */
    record UnionReader(ValueReader[] variants, String path) implements ValueReader {
        @Override
        public Object read(MemorySegment seg, long s, long e, int depth) {
            if (e - s < 4) throw Bin.corrupt(path + ": union of " + (e - s)
                + " bytes (expected: >= 4)");
            int variant = seg.get(Bin.INT, s);
            if (variant < 0 || variant >= variants.length) {
                throw Bin.corrupt(path + ": variant " + variant + " (expected: < " + variants.length
                    + ")");
            }
            Bin.checkDepth(depth, path);
            return variants[variant].read(seg, s + 4, e, depth + 1);
        }
    }

    /** A writer variant the reader does not know and has no fallback for. */
    record UnknownVariant(String message) implements ValueReader {
        @Override
        public Object read(MemorySegment seg, long s, long e, int depth) {
            throw new SchemaMismatchException(message);
        }
    }

    /** A fixed value, e.g. the fallback constant for any variant that is an unknown enum. */
    record Constant(Object value) implements ValueReader {
        @Override
        public Object read(MemorySegment seg, long s, long e, int depth) {
            return value;
        }
    }

    static Object[] items(ValueReader element, boolean optional, MemorySegment seg, long s, long e,
        int depth, String path) {
        int n = Bin.count(seg, s, e, 1, path);
        if (n > 0) Bin.checkDepth(depth, path);
        Object[] out = new Object[n];
        int dataStart = 4 + 4 * n;
        int start = dataStart;
        for (int i = 0; i < n; i++) {
            int raw = seg.get(Bin.INT, s + 4 + 4L * i);
            int end = raw & Bin.OFFSET_MASK;
            Bin.checkRange(start, end, e - s, dataStart, path);
            out[i] = raw < 0 ? (optional ? Optional.empty() : null)
                : element.read(seg, s + start, s + end, depth + 1);
            start = end;
        }
        return out;
    }

    /** An unmodifiable list over an array it owns; allows null elements. */
    static final class FrozenList extends AbstractList<Object> implements RandomAccess {
        private final Object[] items;

        FrozenList(Object[] items) {
            this.items = items;
        }

        @Override
        public Object get(int index) {
            return items[index];
        }

        @Override
        public int size() {
            return items.length;
        }

        @Override
        public Object[] toArray() {
            return items.clone();
        }
    }

    // Fixed-part accessors, bound into a record's constructor handle (record-format.md §3).

    static boolean fixedBoolean(long offset, String path, MemorySegment seg, long s, long e,
        int depth) {
        return Scalars.bool(seg.get(Bin.BYTE, s + offset), path);
    }

    static byte fixedByte(long offset, MemorySegment seg, long s, long e, int depth) {
        return seg.get(Bin.BYTE, s + offset);
    }

    static short fixedShort(long offset, MemorySegment seg, long s, long e, int depth) {
        return seg.get(Bin.SHORT, s + offset);
    }

    static char fixedChar(long offset, MemorySegment seg, long s, long e, int depth) {
        return seg.get(Bin.CHAR, s + offset);
    }

    static int fixedInt(long offset, MemorySegment seg, long s, long e, int depth) {
        return seg.get(Bin.INT, s + offset);
    }

    static long fixedLong(long offset, MemorySegment seg, long s, long e, int depth) {
        return seg.get(Bin.LONG, s + offset);
    }

    static float fixedFloat(long offset, MemorySegment seg, long s, long e, int depth) {
        return seg.get(Bin.FLOAT, s + offset);
    }

    static double fixedDouble(long offset, MemorySegment seg, long s, long e, int depth) {
        return seg.get(Bin.DOUBLE, s + offset);
    }

    static boolean unboxBoolean(Object v) {
        return v != null && (Boolean) v;
    }

    static byte unboxByte(Object v) {
        return v == null ? 0 : (Byte) v;
    }

    static short unboxShort(Object v) {
        return v == null ? 0 : (Short) v;
    }

    static char unboxChar(Object v) {
        return v == null ? 0 : (Character) v;
    }

    static int unboxInt(Object v) {
        return v == null ? 0 : (Integer) v;
    }

    static long unboxLong(Object v) {
        return v == null ? 0 : (Long) v;
    }

    static float unboxFloat(Object v) {
        return v == null ? 0 : (Float) v;
    }

    static double unboxDouble(Object v) {
        return v == null ? 0 : (Double) v;
    }

    static Object emptyIfNull(Object v) {
        return v == null ? Optional.empty() : v;
    }

    static byte[] cloneBytes(byte[] v) {
        return v == null ? null : v.clone();
    }
}
