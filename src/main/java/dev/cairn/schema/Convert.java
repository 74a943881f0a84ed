package dev.cairn.schema;

import dev.cairn.SchemaMismatchException;
import dev.cairn.schema.FieldType.ListOf;
import dev.cairn.schema.FieldType.MapOf;
import dev.cairn.schema.FieldType.OptionalOf;
import dev.cairn.schema.FieldType.Ref;
import dev.cairn.schema.FieldType.Scalar;
import dev.cairn.schema.FieldType.SetOf;
import dev.cairn.schema.TypeDef.EnumDef;
import dev.cairn.schema.TypeDef.RecordDef;
import dev.cairn.schema.TypeDef.UnionDef;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Converts class-free values from one schema version to another with the rules of
 * {@link Compat}, and merges a reader's value into newer stored data so that components the
 * reader does not know survive an update (record-format.md §6.4).
 */
final class Convert {
    private final Schema source;
    private final Schema target;
    private final String context;

    Convert(Schema source, Schema target, String context) {
        this.source = source;
        this.target = target;
        this.context = context;
    }

    /** {@code value} of {@code st} in the source schema, as a value of {@code tt} in the target. */
    Object value(FieldType st, FieldType tt, Object value, String path, int depth) {
        if (value == null) return FieldType.isFixed(tt) ? Defaults.neutral(target, tt) : null;
        if (isLevel(st, value) && depth > Bin.DEPTH_MAX) {
            throw new IllegalArgumentException(path + ": nested deeper than " + Bin.DEPTH_MAX
                + " levels (record-format.md §1)");
        }
        return switch (st) {
            case Scalar s -> Compat.scalar(value, s.kind(), ((Scalar) tt).kind(), context + path);
            case ListOf s -> Collections.unmodifiableList(items(s.element(),
                ((ListOf) tt).element(), (Collection<?>) value, path, depth));
            case SetOf s -> Collections.unmodifiableSet(new LinkedHashSet<>(items(s.element(),
                ((SetOf) tt).element(),
                (Collection<?>) value, path, depth)));
            case MapOf s -> {
                MapOf t = (MapOf) tt;
                Map<Object, Object> out = new LinkedHashMap<>();
                for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                    out.put(value(s.key(), t.key(), e.getKey(), path + "{key}", depth + 1),
                        value(s.value(), t.value(), e.getValue(), path + "{" + e.getKey() + "}",
                            depth + 1));
                }
                yield Collections.unmodifiableMap(out);
            }
            case OptionalOf s -> ((Optional<?>) value).map(v -> value(s.element(),
                ((OptionalOf) tt).element(), v, path, depth + 1));
            case Ref s -> ref(s, (Ref) tt, value, path, depth);
        };
    }

    /**
     * Whether a value counts as a level of nesting (record-format.md §1): a record or union, a
     * non-empty collection, a present Optional; scalars, enum constants and empty ones do not.
     */
    private boolean isLevel(FieldType type, Object value) {
        return switch (type) {
            case Scalar s -> false;
            case ListOf l -> !((Collection<?>) value).isEmpty();
            case SetOf s -> !((Collection<?>) value).isEmpty();
            case MapOf m -> !((Map<?, ?>) value).isEmpty();
            case OptionalOf o -> ((Optional<?>) value).isPresent();
            case Ref r -> !(source.definition(r) instanceof EnumDef);
        };
    }

    private List<Object> items(FieldType se, FieldType te, Collection<?> values, String path,
        int depth) {
        List<Object> out = new ArrayList<>(values.size());
        int i = 0;
        for (Object v : values) out.add(value(se, te, v, path + "[" + i++ + "]", depth + 1));
        return out;
    }

    private Object ref(Ref s, Ref t, Object value, String path, int depth) {
        TypeDef sd = source.definition(s);
        TypeDef td = target.definition(t);
        return switch (td) {
            case RecordDef tr -> record((GenericRecord) value, tr, t.definition(), false, path,
                depth);
            case EnumDef te -> constant((GenericEnum) value, te, path);
            case UnionDef tu -> variant((UnionDef) sd, tu, value, path, depth);
        };
    }

    GenericRecord record(GenericRecord value, RecordDef tr, int targetDef, boolean lenient,
        String path, int depth) {
        RecordDef sr = value.definition();
        Object[] out = new Object[tr.components().size()];
        for (int i = 0; i < out.length; i++) {
            Component tc = tr.components().get(i);
            int si = Compat.match(sr, tc);
            if (si >= 0 && lenient) {
                List<String> problems = new ArrayList<>();
                Compat.check(source, sr.components().get(si).type(), target, tc.type(), "",
                    problems);
                if (!problems.isEmpty()) si = -1;
            }
            out[i] = si < 0 ? Defaults.generic(target, tc, depth + 1)
                : value(sr.components().get(si).type(), tc.type(), value.value(si), path + "."
                + tc.name(), depth + 1);
        }
        return new GenericRecord(tr, out);
    }

    private GenericEnum constant(GenericEnum value, EnumDef te, String path) {
        if (te.constants().contains(value.constant())) return new GenericEnum(te.name(),
            value.constant());
        if (te.fallback() >= 0) return new GenericEnum(te.name(),
            te.constants().get(te.fallback()));
        throw new SchemaMismatchException(context + path + ": constant " + value.constant() + " of "
            + value.type()
            + " is unknown to " + te.name() + ", which has no @Fallback constant");
    }

    private Object variant(UnionDef su, UnionDef tu, Object value, String path, int depth) {
        String name = value instanceof GenericRecord g ? g.typeName()
            : ((GenericEnum) value).type();
        for (int tv : tu.variants()) {
            if (!target.definitions().get(tv).name().equals(name)) continue;
            for (int sv : su.variants()) {
                if (source.definitions().get(sv).name().equals(name)) {
                    return value(new Ref(sv), new Ref(tv), value, path + "<" + name + ">", depth
                        + 1);
                }
            }
        }
        if (tu.fallback() < 0) {
            throw new SchemaMismatchException(context + path + ": " + name + " of " + su.name()
                + " is unknown to "
                + tu.name() + ", which has no @Fallback permitted type");
        }
        int fallback = tu.variants().get(tu.fallback());
        return switch (target.definitions().get(fallback)) {
            case RecordDef fr when value instanceof GenericRecord g -> record(g, fr, fallback, true,
                path, depth + 1);
            case RecordDef fr -> record(new GenericRecord(new RecordDef(name, List.of()),
                new Object[0]), fr, fallback, true,
                path, depth + 1);
            case EnumDef fe -> new GenericEnum(fe.name(), fe.constants().get(Math.max(0,
                fe.fallback())));
            case UnionDef fu -> throw new AssertionError("a union variant is never a union");
        };
    }

    /**
     * Merges {@code update} (a value of {@code ut} in the source schema, what an older reader
     * wrote) into {@code stored} (a value of {@code tt} in the newer target schema): components
     * the reader left unchanged keep their stored value, so that constants, variants and
     * components the reader cannot see survive; changed ones are converted.
     */
    Object merge(FieldType ut, FieldType tt, Object update, Object stored, Convert back,
        String path, int depth) {
        if (depth > Bin.DEPTH_MAX) throw new IllegalArgumentException(path + ": nested deeper than "
            + Bin.DEPTH_MAX);
        if (stored != null && update != null && sameForReader(ut, tt, update, stored, back, path,
            depth)) return stored;
        if (update instanceof GenericRecord u && stored instanceof GenericRecord s
            && ut instanceof Ref ur
            && tt instanceof Ref tr && target.definition(tr) instanceof RecordDef trd
            && source.definition(ur) instanceof RecordDef) {
            Object[] out = s.values().clone();
            for (int i = 0; i < out.length; i++) {
                Component tc = trd.components().get(i);
                int ui = Compat.match(u.definition(), tc);
                if (ui < 0) continue;
                out[i] = merge(u.definition().components().get(ui).type(), tc.type(), u.value(ui),
                    s.value(i), back,
                    path + "." + tc.name(), depth + 1);
            }
            return new GenericRecord(trd, out);
        }
        if (update instanceof List<?> ul && stored instanceof List<?> sl && ul.size() == sl.size()
            && ut instanceof ListOf ule && tt instanceof ListOf tle) {
            List<Object> out = new ArrayList<>(ul.size());
            for (int i = 0; i < ul.size(); i++) {
                out.add(merge(ule.element(), tle.element(), ul.get(i), sl.get(i), back, path + "["
                    + i + "]", depth + 1));
            }
            return Collections.unmodifiableList(out);
        }
        return value(ut, tt, update, path, depth);
    }

    private static boolean sameForReader(FieldType ut, FieldType tt, Object update, Object stored,
        Convert back,
                                         String path, int depth) {
        try {
            Object seen = back.value(tt, ut, stored, path, depth);
            return Objects.deepEquals(seen, update) || seen instanceof byte[] a
                && update instanceof byte[] b
                && java.util.Arrays.equals(a, b);
        } catch (RuntimeException e) {
            return false;
        }
    }
}
