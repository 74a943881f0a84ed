package dev.cairn.schema;

import dev.cairn.Key;
import dev.cairn.WrongTreeException;
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
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The typed encoder of a record class with its own schema (record-format.md §3-§4): one writer
 * per shape, accessors resolved once as method handles, output into a reused {@link Sink}.
 */
final class Writers {
    /** Writes one non-null item at the sink's position. */
    interface ValueWriter {
        void write(Object value, Sink sink, int depth);
    }

    private final Schema schema;
    private final List<Class<?>> classes;
    private final Map<Integer, RecordWriter> records = new HashMap<>();

    Writers(Schema schema, List<Class<?>> classes) {
        this.schema = schema;
        this.classes = classes;
    }

    RecordWriter record(int def, String path) {
        RecordWriter known = records.get(def);
        if (known != null) return known;
        RecordWriter w = new RecordWriter(schema.layout(def), path);
        records.put(def, w);
        RecordDef rd = schema.record(def);
        Class<?> type = classes.get(def);
        RecordComponent[] rcs = type.getRecordComponents();
        int n = rcs.length;
        w.getters = new MethodHandle[n];
        w.writers = new ValueWriter[n];
        w.codes = new int[n];
        w.optional = new boolean[n];
        w.paths = new String[n];
        w.names = new String[n];
        for (int i = 0; i < n; i++) {
            FieldType ft = rd.components().get(i).type();
            w.names[i] = rcs[i].getName();
            w.paths[i] = path + "." + rcs[i].getName();
            MethodHandle getter;
            try {
                getter = Access.lookup(type).unreflect(rcs[i].getAccessor());
            } catch (IllegalAccessException e) {
                throw new IllegalArgumentException(w.paths[i] + ": accessor not accessible: " + e,
                    e);
            }
            if (FieldType.isFixed(ft)) {
                w.codes[i] = ((Scalar) ft).kind().ordinal() + 1;
                w.getters[i] = getter.asType(MethodType.methodType(rcs[i].getType(), Object.class));
            } else {
                w.getters[i] = getter.asType(MethodType.methodType(Object.class, Object.class));
                w.writers[i] = value(ft, rcs[i].getGenericType(), w.paths[i]);
                w.optional[i] = ft instanceof OptionalOf;
            }
        }
        w.compiled = Generated.writer(path, w.layout.fixedBytes, w.layout.offset, w.codes,
            w.optional, w.getters, w.writers, w.names);
        return w;
    }

    /**
     * The writer of a value of {@code type}; {@code generic} is the Java type it comes from (a
     * component's generic type, or a type argument of one), null when unknown (a union variant).
     */
    ValueWriter value(FieldType type, Type generic, String path) {
        return switch (type) {
            case Scalar s when s.kind() == Kind.STRING -> (v, sink, d) -> sink.putUtf8((String) v, path);
            case Scalar s when s.kind() == Kind.KEY && keyTarget(generic) != null -> {
                String tree = keyTarget(generic);
                yield (v, sink, d) -> {
                    if (!((Key<?>) v).tree().equals(tree)) {
                        throw new WrongTreeException(path + ": key " + v + " of tree " + ((Key<?>) v).tree()
                            + " (expected: a key of tree " + tree + ", as the component's type " + generic.getTypeName()
                            + " says)");
                    }
                    Scalars.write(Kind.KEY, v, sink, path);
                };
            }
            case Scalar s -> (v, sink, d) -> Scalars.write(s.kind(), v, sink, path);
            case ListOf l -> new ItemsWriter(value(l.element(), argument(generic, 0), path + "[]"),
                l.element() instanceof OptionalOf, false, false, path);
            case SetOf st -> new ItemsWriter(value(st.element(), argument(generic, 0), path + "[]"),
                st.element() instanceof OptionalOf, true, schema.holdsBytes(st.element()), path);
            case MapOf m -> new MapWriter(value(m.key(), argument(generic, 0), path + "{key}"),
                value(m.value(), argument(generic, 1), path + "{}"), m.value() instanceof OptionalOf, path);
            case OptionalOf o -> {
                ValueWriter element = value(o.element(), argument(generic, 0), path);
                yield (v, sink, d) -> {
                    Optional<?> opt = (Optional<?>) v;
                    sink.putByte(opt.isPresent() ? 1 : 0);
                    if (opt.isPresent()) {
                        depth(d, path);
                        element.write(opt.get(), sink, d + 1);
                    }
                };
            }
            case Ref r -> switch (schema.definition(r)) {
                case RecordDef rd -> record(r.definition(), path);
                case EnumDef en -> (v, sink, d) -> sink.putInt(((Enum<?>) v).ordinal());
                case UnionDef u -> union(u, path);
            };
        };
    }

    /** Type argument {@code i} of {@code generic}, or null when it has none (a raw type, or unknown). */
    private static Type argument(Type generic, int i) {
        return generic instanceof ParameterizedType p && p.getActualTypeArguments().length > i
            ? p.getActualTypeArguments()[i] : null;
    }

    /**
     * The tree a {@code Key<T>} must name, for a {@code T} that is a record class (its
     * {@code @TreeSpec} name or simple name, as {@code Cairn.tree} maps it); null when the type
     * does not say ({@code Key<?>}, a type variable, a raw {@code Key}).
     */
    static String keyTarget(Type generic) {
        return argument(generic, 0) instanceof Class<?> c && c.isRecord() ? Schema.treeNameOf(c) : null;
    }

    private ValueWriter union(UnionDef u, String path) {
        Class<?>[] variantClasses = new Class<?>[u.variants().size()];
        ValueWriter[] writers = new ValueWriter[variantClasses.length];
        String[] segments = new String[variantClasses.length];
        for (int v = 0; v < variantClasses.length; v++) {
            variantClasses[v] = classes.get(u.variants().get(v));
            segments[v] = "<" + schema.definitions().get(u.variants().get(v)).name() + ">";
            writers[v] = value(new Ref(u.variants().get(v)), null, path + segments[v]);
        }
        return (value, sink, d) -> {
            Class<?> c = value instanceof Enum<?> e ? e.getDeclaringClass() : value.getClass();
            for (int v = 0; v < variantClasses.length; v++) {
                if (variantClasses[v] == c) {
                    depth(d, path);
                    sink.putInt(v);
                    try {
                        writers[v].write(value, sink, d + 1);
                    } catch (TooDeep e) {
                        throw e.within(segments[v]);
                    }
                    return;
                }
            }
            throw new IllegalArgumentException(path + ": " + c.getName()
                + " (expected: a permitted type of " + u.name() + ")");
        };
    }

    /**
     * Refuses a level (a record body, a union, a non-empty collection or a present Optional) at
     * {@code depth} deeper than {@link Bin#DEPTH_MAX} (record-format.md §1). {@code path} is the
     * writer's path, the same for every use of a shared record writer: the exception collects
     * the real one on its way out (see {@link TooDeep}).
     */
    static void depth(int depth, String path) {
        if (depth > Bin.DEPTH_MAX) throw new TooDeep();
    }

    /**
     * A value nested deeper than {@link Bin#DEPTH_MAX}: every container it passes on its way out
     * adds its step ({@code .name}, {@code [i]}, {@code {key}}, {@code <Variant>}), so the
     * message names where the value is, as a class-free path names it.
     */
    static final class TooDeep extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final java.util.ArrayList<String> outward = new java.util.ArrayList<>();
        private String root = "";

        TooDeep() {
            super((String) null, null);
        }

        TooDeep within(String segment) {
            outward.add(segment);
            return this;
        }

        /** Names the root record of the path (the codec does, once the exception is out). */
        TooDeep from(String rootName) {
            root = rootName;
            return this;
        }

        @Override
        public String getMessage() {
            StringBuilder b = new StringBuilder(root);
            for (int i = outward.size() - 1; i >= 0; i--) b.append(outward.get(i));
            return b.append(": nested deeper than ").append(Bin.DEPTH_MAX)
                .append(" levels (record-format.md §1)").toString();
        }
    }

    /**
     * A refusal of an element's value (a string with an unpaired surrogate, a number out of
     * range, ...) with the element's place in its message: writers are built per type, so the
     * message names {@code R.tags[]}; the container knows the index or key and puts it there
     * ({@code R.tags[3]}, record-format.md §1). Other exceptions, and messages that do not start
     * with that path (a writer shared with another place), go out as they are.
     */
    static IllegalArgumentException at(IllegalArgumentException e, String typePath, String valuePath) {
        String m = e.getMessage();
        if (e.getClass() != IllegalArgumentException.class || m == null || !m.startsWith(typePath)) return e;
        return new IllegalArgumentException(valuePath + m.substring(typePath.length()), e.getCause() != null ? e.getCause() : e);
    }

    /** {@link #item} of record component {@code name}: a value too deep inside it names it. */
    static void component(ValueWriter writer, boolean optional, Object value, Sink sink, int depth,
        int base, int slotAt, String name) {
        try {
            item(writer, optional, value, sink, depth, base, slotAt);
        } catch (TooDeep e) {
            throw e.within("." + name);
        }
    }

    /**
     * Writes {@code value} (null allowed) as the item ending at the slot {@code slotAt} (relative
     * to {@code base}).
     */
    static void item(ValueWriter writer, boolean optional, Object value, Sink sink, int depth,
        int base, int slotAt) {
        if (value == null && optional) value = Optional.empty();
        if (value == null) {
            sink.putIntAt(slotAt, (sink.position - base) | Bin.NULL_BIT);
        } else {
            writer.write(value, sink, depth);
            sink.putIntAt(slotAt, sink.position - base);
        }
    }

    /**
     * A record body: fixed part, then the variable items in component order. {@link #compiled}
     * does the work (see {@link Generated#writer}); the interpreted loop of {@link #writeSlowly}
     * is the reference it must match.
     */
    static final class RecordWriter implements ValueWriter {
        private final Layout layout;
        ValueWriter compiled;
        private final String path;
        MethodHandle[] getters;
        ValueWriter[] writers;
        /** 0 for a variable component, else the fixed kind's ordinal + 1. */
        int[] codes;
        boolean[] optional;
        String[] paths;
        /** Component names, for {@link TooDeep}. */
        String[] names;

        RecordWriter(Layout layout, String path) {
            this.layout = layout;
            this.path = path;
        }

        @Override
        public void write(Object value, Sink sink, int depth) {
            compiled.write(value, sink, depth);
        }

        void writeSlowly(Object value, Sink sink, int depth) {
            depth(depth, path);
            int base = sink.reserve(layout.fixedBytes);
            int[] offsets = layout.offset;
            try {
                for (int i = 0; i < codes.length; i++) {
                    int at = base + offsets[i];
                    switch (codes[i]) {
                        case 0 -> component(writers[i], optional[i],
                            (Object) getters[i].invokeExact(value), sink, depth + 1, base, at,
                            names[i]);
                        case 1 -> sink.putByteAt(at, (boolean) getters[i].invokeExact(value) ? 1
                            : 0);
                        case 2 -> sink.putByteAt(at, (byte) getters[i].invokeExact(value));
                        case 3 -> sink.putShortAt(at, (short) getters[i].invokeExact(value));
                        case 4 -> sink.putShortAt(at, (char) getters[i].invokeExact(value));
                        case 5 -> sink.putIntAt(at, (int) getters[i].invokeExact(value));
                        case 6 -> sink.putLongAt(at, (long) getters[i].invokeExact(value));
                        case 7 -> sink.putIntAt(at,
                            Float.floatToRawIntBits((float) getters[i].invokeExact(value)));
                        case 8 -> sink.putLongAt(at,
                            Double.doubleToRawLongBits((double) getters[i].invokeExact(value)));
                        default -> throw new AssertionError("code " + codes[i]);
                    }
                }
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(path + ": " + t, t);
            }
        }
    }

    /**
     * A List or Set: count, end offsets, items; a Set's items sorted by their bytes, and kept
     * once unless {@code keepEqual} ({@link Sink#sortEntries}).
     */
    record ItemsWriter(ValueWriter element, boolean optional, boolean sorted, boolean keepEqual,
        String path) implements ValueWriter {
        @Override
        public void write(Object value, Sink sink, int depth) {
            Collection<?> values = (Collection<?>) value;
            int n = values.size();
            if (n > 0) depth(depth, path);
            int start = sink.reserve(4 + 4 * n);
            sink.putIntAt(start, n);
            int slot = start + 4;
            if (!sorted && values instanceof List<?> list
                && values instanceof java.util.RandomAccess) {
                // Indexed, so that encoding a list allocates no iterator.
                for (int i = 0; i < n; i++, slot += 4) {
                    try {
                        item(element, optional, list.get(i), sink, depth + 1, start, slot);
                    } catch (TooDeep e) {
                        throw e.within("[" + i + "]");
                    } catch (IllegalArgumentException e) {
                        throw at(e, path + "[]", path + "[" + i + "]");
                    }
                }
                return;
            }
            int written = 0;
            for (Object v : values) {
                if (written++ == n) break;
                try {
                    item(element, optional, v, sink, depth + 1, start, slot);
                } catch (TooDeep e) {
                    // A set's order is not its stored order (that is sorted later): no index.
                    throw e.within(sorted ? "[]" : "[" + (written - 1) + "]");
                } catch (IllegalArgumentException e) {
                    if (sorted) throw e;
                    throw at(e, path + "[]", path + "[" + (written - 1) + "]");
                }
                slot += 4;
            }
            if (written != n) throw new IllegalArgumentException(path
                + ": collection changed size while being encoded");
            if (sorted) sink.sortEntries(start, 1, keepEqual);
        }
    }

    /**
     * A Map: count, 2 x count end offsets, key and value items; entries sorted by key bytes. A
     * null Optional value is written as empty, as everywhere (record-format.md §4.1).
     */
    record MapWriter(ValueWriter key, ValueWriter value, boolean optionalValue, String path)
        implements ValueWriter {
        @Override
        public void write(Object map, Sink sink, int depth) {
            Map<?, ?> m = (Map<?, ?>) map;
            int n = m.size();
            if (n > 0) depth(depth, path);
            int start = sink.reserve(4 + 8 * n);
            sink.putIntAt(start, n);
            int slot = start + 4;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (e.getKey() == null) throw new IllegalArgumentException(path + ": null map key");
                try {
                    item(key, false, e.getKey(), sink, depth + 1, start, slot);
                } catch (TooDeep x) {
                    throw x.within("{key}");
                }
                try {
                    item(value, optionalValue, e.getValue(), sink, depth + 1, start, slot + 4);
                } catch (TooDeep x) {
                    throw x.within("{" + e.getKey() + "}");
                } catch (IllegalArgumentException x) {
                    throw at(x, path + "{}", path + "{" + e.getKey() + "}");
                }
                slot += 8;
            }
            sink.sortEntries(start, 2, true);
        }
    }
}
