package dev.cairn.schema;

import dev.cairn.SchemaMismatchException;
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
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Builds the readers of one (writer schema, reader class) pair: the evolution plan of
 * record-format.md §6, resolved once and then reused for every record of that version. Not
 * thread-safe; {@link RecordCodec} builds under its lock.
 */
final class ReaderBuilder {
    private static final MethodType READ = MethodType.methodType(Object.class, MemorySegment.class,
        long.class, long.class,
        int.class);
    /**
     * Components up to which the whole record is one combined method handle (arity limit 255
     * slots).
     */
    private static final int COMBINED_COMPONENTS_MAX = 40;
    private static final MethodHandles.Lookup LOOKUP = MethodHandles.lookup();

    private final Schema ws;
    private final Schema rs;
    private final List<Class<?>> classes;
    private final String context;
    private final Map<String, RecordReader> records = new HashMap<>();
    private ReaderBuilder self;

    /**
     * @param context names the tree and both versions, for messages: "tree Part, data of schema
     *     version 3 read by dev.x.Part (version 2)"
     */
    ReaderBuilder(Schema ws, Schema rs, List<Class<?>> classes, String context) {
        this.ws = ws;
        this.rs = rs;
        this.classes = classes;
        this.context = context;
    }

    /** The reader of root records. */
    RecordReader root() {
        return record(0, 0, false, rs.name());
    }

    RecordReader record(int wdef, int rdef, boolean lenient, String path) {
        String key = wdef + "/" + rdef + (lenient ? "L" : "");
        RecordReader known = records.get(key);
        if (known != null) return known;
        RecordDef wr = ws.record(wdef);
        RecordDef rr = rs.record(rdef);
        Layout layout = ws.layout(wdef);
        RecordReader reader = new RecordReader(path, layout.fixedBytes);
        records.put(key, reader);
        Class<?> type = classes.get(rdef);
        RecordComponent[] rcs = type.getRecordComponents();
        MethodHandle[] filters = new MethodHandle[rcs.length];
        Class<?>[] params = new Class<?>[rcs.length];
        for (int j = 0; j < rcs.length; j++) {
            Component rc = rr.components().get(j);
            params[j] = rcs[j].getType();
            int wi = Compat.match(wr, rc);
            String cpath = path + "." + rc.name();
            if (wi >= 0 && lenient) {
                List<String> problems = new ArrayList<>();
                Compat.check(ws, wr.components().get(wi).type(), rs, rc.type(), cpath, problems);
                if (!problems.isEmpty()) wi = -1;
            }
            filters[j] = wi < 0 ? missing(rc, params[j], cpath)
                : component(wr.components().get(wi), layout, wi, rc, params[j], cpath);
        }
        reader.construct = construct(type, params, filters);
        reader.compiled = Generated.reader(reader.construct);
        return reader;
    }

    private MethodHandle construct(Class<?> type, Class<?>[] params, MethodHandle[] filters) {
        MethodHandle ctor;
        try {
            ctor = Access.lookup(type).findConstructor(type, MethodType.methodType(void.class,
                params));
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException(type.getName()
                + ": canonical constructor not accessible: " + e, e);
        }
        if (filters.length > COMBINED_COMPONENTS_MAX) {
            MethodHandle[] objectFilters = new MethodHandle[filters.length];
            for (int j = 0; j < filters.length; j++) objectFilters[j] = filters[j].asType(READ);
            MethodHandle spreader = ctor.asSpreader(Object[].class, filters.length)
                .asType(MethodType.methodType(Object.class, Object[].class));
            return Access.LOOP_CONSTRUCT.bindTo(new Access.Loop(objectFilters, spreader));
        }
        MethodHandle h = ctor;
        for (int j = filters.length - 1; j >= 0; j--) h = MethodHandles.collectArguments(h, j,
            filters[j]);
        int[] reorder = new int[4 * filters.length];
        for (int i = 0; i < reorder.length; i++) reorder[i] = i % 4;
        h = MethodHandles.permuteArguments(h, READ.changeReturnType(type), reorder);
        return h.asType(READ);
    }

    /** Handle {@code (seg, s, e, depth) -> param} reading writer component {@code wi}. */
    private MethodHandle component(Component wc, Layout layout, int wi, Component rc,
        Class<?> param, String path) {
        if (layout.fixed[wi] && param.isPrimitive()) {
            Kind wk = ((Scalar) wc.type()).kind();
            Kind rk = ((Scalar) rc.type()).kind();
            requireCompatible(wc.type(), rc.type(), path);
            MethodHandle fixed = Access.fixed(wk, layout.offset[wi], path);
            if (wk == rk) return fixed;
            if (widens(wk, rk)) return fixed.asType(fixed.type().changeReturnType(param));
            MethodHandle boxed = fixed.asType(fixed.type().changeReturnType(Object.class));
            MethodHandle narrow = MethodHandles.insertArguments(Access.NARROW, 1, wk, rk, context
                + path);
            return Access.unbox(MethodHandles.filterReturnValue(boxed, narrow), param);
        }
        ValueReader reader = value(wc.type(), rc.type(), path);
        int previousSlot = layout.previousSlot[wi];
        MethodHandle h;
        if (layout.fixed[wi]) {
            Kind wk = ((Scalar) wc.type()).kind();
            MethodHandle fixed = Access.fixed(wk, layout.offset[wi], path);
            h = MethodHandles.filterReturnValue(fixed.asType(fixed.type().changeReturnType(Object.class)),
                MethodHandles.insertArguments(Access.NARROW, 1, wk, ((Scalar) rc.type()).kind(),
                    context + path));
        } else {
            h = Access.VAR_READ.bindTo(new Readers.VarSlot(reader, layout.offset[wi], previousSlot,
                layout.fixedBytes, path));
        }
        if (param.isPrimitive()) return Access.unbox(h, param);
        if (param == Optional.class) h = MethodHandles.filterReturnValue(h, Access.EMPTY_IF_NULL);
        return h.asType(h.type().changeReturnType(param));
    }

    private static boolean widens(Kind from, Kind to) {
        return switch (from) {
            case BYTE -> to == Kind.SHORT || to == Kind.INT || to == Kind.LONG || to == Kind.FLOAT
                || to == Kind.DOUBLE;
            case SHORT -> to == Kind.INT || to == Kind.LONG || to == Kind.FLOAT
                || to == Kind.DOUBLE;
            case INT -> to == Kind.LONG || to == Kind.DOUBLE;
            case FLOAT -> to == Kind.DOUBLE;
            default -> false;
        };
    }

    /** Handle returning the reader's default for a component the writer lacks (§6.3). */
    private MethodHandle missing(Component rc, Class<?> param, String path) {
        Object value = defaultValue(rc, path);
        MethodHandle constant;
        if (param == byte[].class && value != null) {
            constant = MethodHandles.filterReturnValue(MethodHandles.constant(byte[].class, value),
                Access.CLONE_BYTES);
        } else if (param.isPrimitive() && value == null) {
            constant = MethodHandles.zero(param);
        } else {
            constant = MethodHandles.constant(param, value);
        }
        return MethodHandles.dropArguments(constant, 0, MemorySegment.class, long.class, long.class,
            int.class);
    }

    /**
     * The reader's typed default: the generic default encoded, then read by the reader's own plan.
     */
    Object defaultValue(Component rc, String path) {
        Object generic = Defaults.generic(rs, rc, 0);
        if (generic == null) return null;
        Sink sink = Sink.acquire();
        try {
            GenericCodec.encode(rs, rc.type(), generic, sink, 0, path);
            MemorySegment item = MemorySegment.ofArray(sink.toBytes());
            return selfBuilder().value(rc.type(), rc.type(), path).read(item, 0, item.byteSize(),
                0);
        } finally {
            sink.release();
        }
    }

    private ReaderBuilder selfBuilder() {
        if (ws == rs) return this;
        if (self == null) self = new ReaderBuilder(rs, rs, classes, context);
        return self;
    }

    /** The reader of an item of writer type {@code wt} as reader type {@code rt}. */
    ValueReader value(FieldType wt, FieldType rt, String path) {
        requireCompatible(wt, rt, path);
        return switch (wt) {
            case Scalar w -> {
                Kind rk = ((Scalar) rt).kind();
                yield w.kind() == Kind.STRING ? new Readers.StringReader()
                    : new Readers.ScalarReader(w.kind(), rk, context + path);
            }
            case ListOf w -> new Readers.ListReader(value(w.element(), ((ListOf) rt).element(), path
                + "[]"), ((ListOf) rt).element() instanceof OptionalOf, path);
            case SetOf w -> new Readers.SetReader(value(w.element(), ((SetOf) rt).element(), path
                + "[]"), ((SetOf) rt).element() instanceof OptionalOf, path);
            case MapOf w -> new Readers.MapReader(value(w.key(), ((MapOf) rt).key(), path
                + "{key}"),
                value(w.value(), ((MapOf) rt).value(), path + "{}"),
                ((MapOf) rt).value() instanceof OptionalOf, path);
            case OptionalOf w -> new Readers.OptionalReader(value(w.element(),
                ((OptionalOf) rt).element(), path + "?"), path);
            case Ref w -> ref(w, (Ref) rt, path);
        };
    }

    private ValueReader ref(Ref w, Ref r, String path) {
        return switch (ws.definition(w)) {
            case RecordDef wr -> record(w.definition(), r.definition(), false, path);
            case EnumDef we -> enumReader(we, (EnumDef) rs.definition(r), r.definition(), path);
            case UnionDef wu -> union(wu, (UnionDef) rs.definition(r), path);
        };
    }

    private ValueReader enumReader(EnumDef we, EnumDef re, int rdef, String path) {
        Object[] constants = classes.get(rdef).getEnumConstants();
        Object[] mapped = new Object[we.constants().size()];
        for (int i = 0; i < mapped.length; i++) {
            int ri = re.constants().indexOf(we.constants().get(i));
            mapped[i] = ri >= 0 ? constants[ri] : re.fallback() >= 0 ? constants[re.fallback()]
                : null;
        }
        return new Readers.EnumReader(mapped, we.constants(), context + path + " (" + re.name()
            + ")", context + path);
    }

    private ValueReader union(UnionDef wu, UnionDef ru, String path) {
        ValueReader[] variants = new ValueReader[wu.variants().size()];
        for (int v = 0; v < variants.length; v++) {
            int wdef = wu.variants().get(v);
            String name = ws.definitions().get(wdef).name();
            int rdef = -1;
            for (int rv : ru.variants()) {
                if (rs.definitions().get(rv).name().equals(name)) rdef = rv;
            }
            String vpath = path + "<" + name + ">";
            if (rdef >= 0) {
                variants[v] = ref(new Ref(wdef), new Ref(rdef), vpath);
            } else if (ru.fallback() < 0) {
                variants[v] = new Readers.UnknownVariant(context + vpath + ": " + name + " of "
                    + wu.name()
                    + " is unknown to the reader's " + ru.name()
                    + ", which has no @Fallback permitted type");
            } else {
                int fdef = ru.variants().get(ru.fallback());
                variants[v] = fallback(wdef, fdef, vpath);
            }
        }
        return new Readers.UnionReader(variants, path);
    }

    private ValueReader fallback(int wdef, int fdef, String path) {
        TypeDef fd = rs.definitions().get(fdef);
        if (fd instanceof EnumDef fe) {
            return new Readers.Constant(classes.get(fdef).getEnumConstants()[Math.max(0,
                fe.fallback())]);
        }
        if (ws.definitions().get(wdef) instanceof RecordDef) return record(wdef, fdef, true, path);
        // An unknown enum variant read as the fallback record: every component at its default.
        RecordDef fr = (RecordDef) fd;
        Class<?> type = classes.get(fdef);
        Object[] args = new Object[fr.components().size()];
        Class<?>[] params = new Class<?>[args.length];
        for (int j = 0; j < args.length; j++) {
            params[j] = type.getRecordComponents()[j].getType();
            Object d = defaultValue(fr.components().get(j), path);
            args[j] = d == null && params[j].isPrimitive()
                ? Scalars.neutral((Scalar) fr.components().get(j).type()) : d;
        }
        try {
            return new Readers.Constant(Access.lookup(type).findConstructor(type,
                MethodType.methodType(void.class, params))
                .invokeWithArguments(args));
        } catch (Throwable t) {
            throw new IllegalArgumentException(path + ": cannot build the @Fallback record: " + t,
                t);
        }
    }

    private void requireCompatible(FieldType wt, FieldType rt, String path) {
        List<String> problems = new ArrayList<>();
        if (wt instanceof Ref || rt instanceof Ref) {
            boolean sameShape = wt instanceof Ref w && rt instanceof Ref r
                && ws.definition(w).getClass() == rs.definition(r).getClass();
            if (sameShape) return;
        }
        Compat.check(ws, wt, rs, rt, path, problems);
        if (!problems.isEmpty()) throw new SchemaMismatchException(context + problems.get(0));
    }
}
