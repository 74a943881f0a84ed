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
import java.util.Set;

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
        if (!sameShape(st, tt)) {
            // Versions no class reads across (a String made an enum, a list a record): an export
            // to such a version, of a record stored as it came before a migration, cast one to the
            // other and failed with a ClassCastException (probe 108).
            throw new SchemaMismatchException(context + path + ": " + SchemaFormat.typeName(source, st) + " and "
                + SchemaFormat.typeName(target, tt) + " cannot read each other's data");
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
     * True when a value of {@code st} (source) can be converted to {@code tt} (target) at this
     * level: the same kind of type and, for a reference, the same kind of definition (record,
     * enum, union). Scalars of two kinds are left to {@link Compat#scalar}, which widens or refuses.
     */
    private boolean sameShape(FieldType st, FieldType tt) {
        if (st.getClass() != tt.getClass()) return false;
        if (!(st instanceof Ref s)) return true;
        return source.definition(s).getClass() == target.definition((Ref) tt).getClass();
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

    /**
     * The top-level components of {@code value} (of the source schema) whose data {@code
     * converted} (its conversion to the target) does not carry: a component the target lacks that
     * holds other than its default, or one whose converted value does not convert back to the
     * same (an enum constant or union variant replaced by a fallback, a nested component left
     * out). Empty when the conversion lost nothing.
     */
    List<String> notCarried(GenericRecord value, GenericRecord converted) {
        RecordDef sr = value.definition();
        RecordDef tr = converted.definition();
        boolean[] matched = new boolean[sr.components().size()];
        List<String> lost = new ArrayList<>();
        Convert back = new Convert(target, source, context);
        for (int ti = 0; ti < tr.components().size(); ti++) {
            Component tc = tr.components().get(ti);
            int si = Compat.match(sr, tc);
            if (si < 0) continue;
            matched[si] = true;
            Component sc = sr.components().get(si);
            Object again;
            try {
                again = back.value(tc.type(), sc.type(), converted.value(ti), "." + sc.name(), 1);
            } catch (RuntimeException e) {
                again = e;
            }
            if (!Objects.deepEquals(again, value.value(si))) lost.add(sc.name());
        }
        for (int si = 0; si < matched.length; si++) {
            Component sc = sr.components().get(si);
            if (!matched[si] && !Objects.deepEquals(value.value(si), Defaults.generic(source, sc, 1))) lost.add(sc.name());
        }
        return lost;
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
     * Thrown by {@link #merge} where the stored value holds data the reader does not know that the
     * merge cannot carry over exactly (record-format.md §6.4, step 3); the message names the path
     * and why.
     */
    static final class Refused extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Merges {@code update} (a value of {@code ut} in the source schema, what an older reader
     * wrote) into {@code stored} (a value of {@code tt} in the newer target schema): what the
     * reader left unchanged keeps its stored value, so that constants, variants and components
     * the reader cannot see survive; records, optionals and the elements and entries of
     * collections that it changed are merged where they can be matched unambiguously (list
     * elements by position, set elements by value, map entries by key); a changed scalar, enum
     * constant or union variant is converted. Where the stored value holds data the reader does
     * not know and the change cannot be matched without guessing, {@link Refused}.
     */
    Object merge(FieldType ut, FieldType tt, Object update, Object stored, Convert back,
        String path, int depth) {
        if (update == null) return value(ut, tt, update, path, depth);
        // A stored null that the reader sees as its neutral value (a null box read as a
        // primitive, §6.2) and left so is kept: written as the value, it became 0 (probe 96).
        if (stored == null) {
            return sameForReader(ut, tt, update, null, back, path, depth) ? null : value(ut, tt, update, path, depth);
        }
        // The one nesting rule (§1): only a level (record, union, non-empty collection, present
        // optional) deeper than DEPTH_MAX is refused; a scalar there is fine, as value() has it.
        if (isLevel(ut, update) && depth > Bin.DEPTH_MAX) {
            throw new IllegalArgumentException(path + ": nested deeper than " + Bin.DEPTH_MAX
                + " levels (record-format.md §1)");
        }
        if (sameForReader(ut, tt, update, stored, back, path, depth)) return stored;
        return switch (tt) {
            case Ref tr -> switch (target.definition(tr)) {
                case RecordDef trd -> mergeRecord((GenericRecord) update, (GenericRecord) stored, trd, back, path, depth);
                case UnionDef tu -> mergeVariant((UnionDef) source.definition((Ref) ut), tu, update, stored, back, path,
                    depth);
                case EnumDef te -> value(ut, tt, update, path, depth);
            };
            case ListOf tl -> Collections.unmodifiableList(mergeList(((ListOf) ut).element(), tl.element(),
                (List<?>) update, (List<?>) stored, back, path, depth));
            case SetOf ts -> Collections.unmodifiableSet(mergeSet(((SetOf) ut).element(), ts.element(),
                (Set<?>) update, (Set<?>) stored, back, path, depth));
            case MapOf tm -> Collections.unmodifiableMap(mergeMap((MapOf) ut, tm, (Map<?, ?>) update,
                (Map<?, ?>) stored, back, path, depth));
            case OptionalOf to -> {
                Optional<?> u = (Optional<?>) update;
                Optional<?> s = (Optional<?>) stored;
                if (u.isEmpty() || s.isEmpty()) yield value(ut, tt, update, path, depth);
                yield Optional.of(merge(((OptionalOf) ut).element(), to.element(), u.get(), s.get(), back, path,
                    depth + 1));
            }
            case Scalar ignored -> value(ut, tt, update, path, depth);
        };
    }

    private GenericRecord mergeRecord(GenericRecord u, GenericRecord s, RecordDef trd, Convert back, String path,
        int depth) {
        Object[] out = s.values().clone();
        for (int i = 0; i < out.length; i++) {
            Component tc = trd.components().get(i);
            int ui = Compat.match(u.definition(), tc);
            if (ui < 0) continue;
            out[i] = merge(u.definition().components().get(ui).type(), tc.type(), u.value(ui), s.value(i), back,
                path + "." + tc.name(), depth + 1);
        }
        return new GenericRecord(trd, out);
    }

    /**
     * A union value: the same variant on both sides is merged as that variant; another variant
     * replaces the stored one. A stored variant the reader does not know reads as its fallback
     * record: a change of that record cannot be written back as the stored variant, and written
     * as the fallback it would lose the variant, so it is refused.
     */
    private Object mergeVariant(UnionDef uu, UnionDef tu, Object update, Object stored, Convert back, String path,
        int depth) {
        String storedName = variantName(stored);
        String updateName = variantName(update);
        int uv = variantIndex(source, uu, storedName);
        if (uv >= 0) {
            if (!storedName.equals(updateName)) return variant(uu, tu, update, path, depth);
            int tv = variantIndex(target, tu, storedName);
            return merge(new Ref(uv), new Ref(tv), update, stored, back, path + "<" + storedName + ">", depth + 1);
        }
        if (uu.fallback() >= 0 && source.definitions().get(uu.variants().get(uu.fallback())).name().equals(updateName)
            && update instanceof GenericRecord) {
            throw new Refused(path + ": the stored " + storedName + " reads as this class's @Fallback "
                + updateName + ", which was changed; written back it would replace the " + storedName
                + " and lose what " + updateName + " does not have");
        }
        return variant(uu, tu, update, path, depth);
    }

    private static String variantName(Object value) {
        return value instanceof GenericRecord g ? g.typeName() : ((GenericEnum) value).type();
    }

    /** The definition index of the variant named {@code name} of {@code union}, or -1. */
    private static int variantIndex(Schema schema, UnionDef union, String name) {
        for (int v : union.variants()) if (schema.definitions().get(v).name().equals(name)) return v;
        return -1;
    }

    /**
     * A list: elements the reader left in place keep their stored value. Same length: each
     * changed element is merged with the stored one at its position (an edit in place), unless
     * it looks like another element with unknown data moved or copied there. Another length: the
     * common beginning and end are kept, and the elements between them are replaced, which is
     * refused when a replaced stored element holds unknown data and something was put in its
     * place (an edit cannot be told from a replacement), or when which elements were removed or
     * inserted is ambiguous and the choice would matter.
     */
    private List<Object> mergeList(FieldType ue, FieldType te, List<?> ul, List<?> sl, Convert back, String path,
        int depth) {
        int m = ul.size();
        int n = sl.size();
        List<Object> views = new ArrayList<>(n);
        List<Integer> unknown = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            views.add(back.value(te, ue, sl.get(i), path, depth + 1));
            if (carriesUnknown(ue, te, sl.get(i), views.get(i), path, depth + 1)) unknown.add(i);
        }
        List<Object> out = new ArrayList<>(m);
        if (m == n) {
            for (int i = 0; i < m; i++) {
                if (same(ul.get(i), views.get(i))) {
                    out.add(sl.get(i));
                    continue;
                }
                refuseLookAlike(ul.get(i), views, unknown, i, path + "[" + i + "]");
                out.add(merge(ue, te, ul.get(i), sl.get(i), back, path + "[" + i + "]", depth + 1));
            }
            return out;
        }
        int min = Math.min(m, n);
        int prefix = 0;
        while (prefix < min && same(ul.get(prefix), views.get(prefix))) prefix++;
        int suffix = 0;
        while (suffix < min && same(ul.get(m - 1 - suffix), views.get(n - 1 - suffix))) suffix++;
        if (prefix + suffix > min) {
            // the inserted or removed run could start anywhere in [min - suffix, prefix]
            int d = Math.abs(m - n);
            for (int p = min - suffix; p < prefix; p++) {
                for (int k = p; k <= p + d && k < m; k++) {
                    if (!same(element(ue, te, ul, sl, p, k, path, depth), element(ue, te, ul, sl, p + 1, k, path,
                        depth))) {
                        throw new Refused(path + ": which elements were " + (m > n ? "inserted" : "removed")
                            + " cannot be told (they look alike to this class but differ in data it does not know)");
                    }
                }
            }
            suffix = min - prefix;
        }
        for (int i = 0; i < prefix; i++) out.add(sl.get(i));
        if (prefix < m - suffix) {
            for (int i : unknown) {
                if (i >= prefix && i < n - suffix) {
                    throw new Refused(path + "[" + i + "]: changed in a list whose length changed, and holds data "
                        + "this class does not know or cannot hold (an edit cannot be told from a replacement)");
                }
            }
        }
        for (int i = prefix; i < m - suffix; i++) {
            refuseLookAlike(ul.get(i), views, unknown, -1, path + "[" + i + "]");
            out.add(value(ue, te, ul.get(i), path + "[" + i + "]", depth + 1));
        }
        for (int i = n - suffix; i < n; i++) out.add(sl.get(i));
        return out;
    }

    /**
     * Element {@code k} of the list that inserts the reader's run at {@code p} (longer update),
     * or removes the stored run at {@code p} (shorter update), in the target schema.
     */
    private Object element(FieldType ue, FieldType te, List<?> ul, List<?> sl, int p, int k, String path, int depth) {
        int d = Math.abs(ul.size() - sl.size());
        if (k < p) return sl.get(k);
        if (ul.size() < sl.size()) return sl.get(k + d);
        return k < p + d ? value(ue, te, ul.get(k), path, depth + 1) : sl.get(k - d);
    }

    /**
     * Refuses a value the reader put in a collection that looks like a stored element other than
     * {@code at} holding unknown data: moved or copied, that element would lose it (an unknown
     * constant would be written as the fallback, and merged in place it would give its position's
     * unknown data to another element).
     */
    private static void refuseLookAlike(Object value, List<Object> views, List<Integer> unknown, int at,
        String path) {
        for (int j : unknown) {
            if (j != at && same(value, views.get(j))) {
                throw new Refused(path + ": looks like the stored element " + j + " moved or copied, which holds "
                    + "data this class does not know or cannot hold; written here it would lose it");
            }
        }
    }

    /**
     * A set: stored elements whose reader view the update still has are kept; the others are
     * removed, the reader's new elements converted. A stored element with unknown data removed
     * while another is added is refused: that may be an edit.
     */
    private Set<Object> mergeSet(FieldType ue, FieldType te, Set<?> us, Set<?> ss, Convert back, String path,
        int depth) {
        Set<Object> updateKeys = new java.util.HashSet<>();
        for (Object u : us) updateKeys.add(normal(u));
        Set<Object> seenKeys = new java.util.HashSet<>();
        Set<Object> out = new LinkedHashSet<>();
        String lost = null;
        for (Object s : ss) {
            Object view = back.value(te, ue, s, path, depth + 1);
            Object key = normal(view);
            seenKeys.add(key);
            if (updateKeys.contains(key)) out.add(s);
            else if (lost == null && carriesUnknown(ue, te, s, view, path, depth + 1)) lost = String.valueOf(view);
        }
        for (Object u : us) {
            if (seenKeys.contains(normal(u))) continue;
            if (lost != null) {
                throw new Refused(path + ": the stored element read as " + lost + " was removed and " + u
                    + " added; that may be an edit, and the element holds data this class does not know or cannot hold");
            }
            out.add(value(ue, te, u, path + "[]", depth + 1));
        }
        return out;
    }

    /**
     * A map: entries are matched by key. A stored entry whose key the update lacks is removed; a
     * new key is added; an entry the reader changed is merged with the stored one. Where several
     * stored keys read as one (constants the reader lacks, read as its fallback), a changed value
     * cannot be written to any of them and is refused.
     */
    private Map<Object, Object> mergeMap(MapOf ut, MapOf tt, Map<?, ?> um, Map<?, ?> sm, Convert back, String path,
        int depth) {
        Map<?, ?> seen = (Map<?, ?>) back.value(tt, ut, sm, path, depth);
        // the stored keys (and their positions in sm) each key of the reader's stands for
        Map<Object, List<Object>> storedKeys = new LinkedHashMap<>();
        Map<Object, Integer> position = new java.util.HashMap<>();
        List<Object> valueViews = new ArrayList<>(sm.size());
        List<Integer> unknown = new ArrayList<>();
        for (Map.Entry<?, ?> e : sm.entrySet()) {
            Object key = back.value(tt.key(), ut.key(), e.getKey(), path + "{key}", depth + 1);
            storedKeys.computeIfAbsent(key, k -> new ArrayList<>()).add(e.getKey());
            position.put(e.getKey(), valueViews.size());
            Object view = back.value(tt.value(), ut.value(), e.getValue(), path, depth + 1);
            if (carriesUnknown(ut.value(), tt.value(), e.getValue(), view, path, depth + 1)) {
                unknown.add(valueViews.size());
            }
            valueViews.add(view);
        }
        Map<Object, Object> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : um.entrySet()) {
            String at = path + "{" + e.getKey() + "}";
            List<Object> keys = storedKeys.getOrDefault(e.getKey(), List.of());
            if (!keys.isEmpty() && same(e.getValue(), seen.get(e.getKey()))) {
                for (Object k : keys) out.put(k, sm.get(k));
                continue;
            }
            if (keys.size() > 1) {
                throw new Refused(at + ": the stored keys " + keys + " all read as " + e.getKey()
                    + "; a changed value cannot be written to one of them");
            }
            refuseLookAlike(e.getValue(), valueViews, unknown, keys.isEmpty() ? -1 : position.get(keys.get(0)), at);
            if (keys.isEmpty()) {
                out.put(value(ut.key(), tt.key(), e.getKey(), path + "{key}", depth + 1),
                    value(ut.value(), tt.value(), e.getValue(), at, depth + 1));
            } else {
                Object k = keys.get(0);
                out.put(k, merge(ut.value(), tt.value(), e.getValue(), sm.get(k), back, at, depth + 1));
            }
        }
        return out;
    }

    /**
     * True when the stored value holds what the reader does not know: seen by the reader
     * ({@code view}) and converted back, it is not the same.
     */
    private boolean carriesUnknown(FieldType ut, FieldType tt, Object stored, Object view, String path, int depth) {
        try {
            return !same(value(ut, tt, view, path, depth), stored);
        } catch (RuntimeException e) {
            return true;
        }
    }

    private static boolean sameForReader(FieldType ut, FieldType tt, Object update, Object stored,
        Convert back, String path, int depth) {
        try {
            return same(back.value(tt, ut, stored, path, depth), update);
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * Equality of class-free values, byte arrays by content and NaNs by their bits at any depth
     * (Double.equals takes every NaN for one: a change of a payload NaN would read as none).
     */
    static boolean same(Object a, Object b) {
        if (a == b) return true;
        if (a == null || b == null) return false;
        if (a instanceof byte[] x) return b instanceof byte[] y && java.util.Arrays.equals(x, y);
        return normal(a).equals(normal(b));
    }

    /** A NaN as its bits, so that NaNs compare by payload. */
    private record NanBits(long bits, boolean isFloat) { }

    /** {@code value} with every byte array replaced by a {@link java.nio.ByteBuffer} (equal by content) and every NaN by its bits. */
    private static Object normal(Object value) {
        return switch (value) {
            case null -> null;
            case byte[] b -> java.nio.ByteBuffer.wrap(b);
            case Double d when d.isNaN() -> new NanBits(Double.doubleToRawLongBits(d), false);
            case Float f when f.isNaN() -> new NanBits(Float.floatToRawIntBits(f), true);
            case GenericRecord g -> {
                Object[] out = new Object[g.values().length];
                for (int i = 0; i < out.length; i++) out[i] = normal(g.values()[i]);
                yield new GenericRecord(g.definition(), out);
            }
            case List<?> l -> {
                List<Object> out = new ArrayList<>(l.size());
                for (Object o : l) out.add(normal(o));
                yield out;
            }
            case Set<?> set -> {
                Set<Object> out = new java.util.HashSet<>();
                for (Object o : set) out.add(normal(o));
                yield out;
            }
            case Map<?, ?> map -> {
                Map<Object, Object> out = new java.util.HashMap<>();
                for (Map.Entry<?, ?> e : map.entrySet()) out.put(normal(e.getKey()), normal(e.getValue()));
                yield out;
            }
            case Optional<?> o -> o.map(Convert::normal);
            default -> value;
        };
    }
}
