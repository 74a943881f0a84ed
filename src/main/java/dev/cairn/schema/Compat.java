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
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The evolution rules (record-format.md §6): which pairs of types can read each other's data,
 * in both directions, and the value conversions between them. The relation is symmetric.
 *
 * <ul>
 *   <li>Same scalar kind (primitive or boxed); numeric pairs byte/short/int/long among
 *       themselves, float-double, byte/short/int-double, byte/short-float. long-double and
 *       int-float are refused: not every value survives the trip.
 *   <li>List, Set, Map and Optional with compatible elements.
 *   <li>Records whose components with the same name (or a former name) are compatible.
 *   <li>Any two enums (constants match by name); unions whose same-named variants are.
 * </ul>
 */
final class Compat {
    private Compat() { }

    static boolean numeric(Kind a, Kind b) {
        if (a == b) return true;
        if (a.integral() && b.integral()) return true;
        if (a.ordinal() > b.ordinal()) return numeric(b, a);
        return switch (b) {
            case FLOAT -> a == Kind.BYTE || a == Kind.SHORT;
            case DOUBLE -> a == Kind.BYTE || a == Kind.SHORT || a == Kind.INT || a == Kind.FLOAT;
            default -> false;
        };
    }

    /** Adds to {@code problems} a sentence per incompatible component below {@code path}. */
    static void check(Schema ws, FieldType wt, Schema rs, FieldType rt, String path,
        List<String> problems) {
        check(ws, wt, rs, rt, path, problems, new HashSet<>());
    }

    private static void check(Schema ws, FieldType wt, Schema rs, FieldType rt, String path,
        List<String> problems,
                              Set<String> visited) {
        boolean ok = switch (wt) {
            case Scalar w -> rt instanceof Scalar r && numeric(w.kind(), r.kind());
            case ListOf w -> {
                if (!(rt instanceof ListOf r)) yield false;
                check(ws, w.element(), rs, r.element(), path + "[]", problems, visited);
                yield true;
            }
            case SetOf w -> {
                if (!(rt instanceof SetOf r)) yield false;
                check(ws, w.element(), rs, r.element(), path + "[]", problems, visited);
                yield true;
            }
            case MapOf w -> {
                if (!(rt instanceof MapOf r)) yield false;
                check(ws, w.key(), rs, r.key(), path + "{key}", problems, visited);
                check(ws, w.value(), rs, r.value(), path + "{}", problems, visited);
                yield true;
            }
            case OptionalOf w -> {
                if (!(rt instanceof OptionalOf r)) yield false;
                check(ws, w.element(), rs, r.element(), path + "?", problems, visited);
                yield true;
            }
            case Ref w -> rt instanceof Ref r && refs(ws, w, rs, r, path, problems, visited);
        };
        if (!ok) {
            problems.add(path + ": " + SchemaFormat.typeName(ws, wt) + " and "
                + SchemaFormat.typeName(rs, rt)
                + " cannot read each other's data");
        }
    }

    private static boolean refs(Schema ws, Ref w, Schema rs, Ref r, String path,
        List<String> problems, Set<String> visited) {
        TypeDef wd = ws.definition(w);
        TypeDef rd = rs.definition(r);
        if (!visited.add(w.definition() + "/" + r.definition())) return true;
        return switch (wd) {
            case EnumDef we -> rd instanceof EnumDef;
            case RecordDef wr -> {
                if (!(rd instanceof RecordDef rr)) yield false;
                ambiguousNames(wr, rr, path, problems);
                for (Component rc : rr.components()) {
                    int wi = match(wr, rc);
                    if (wi >= 0) check(ws, wr.components().get(wi).type(), rs, rc.type(), path + "."
                        + rc.name(), problems, visited);
                }
                yield true;
            }
            case UnionDef wu -> {
                if (!(rd instanceof UnionDef ru)) yield false;
                for (int wv : wu.variants()) {
                    for (int rv : ru.variants()) {
                        if (ws.definitions().get(wv).name().equals(rs.definitions().get(rv).name())) {
                            check(ws, new Ref(wv), rs, new Ref(rv), path + "<"
                                + rs.definitions().get(rv).name() + ">",
                                problems, visited);
                        }
                    }
                }
                yield true;
            }
        };
    }

    /**
     * Adds a problem for each component that answers, by its name or a former name on either
     * side, to two components of the other record at once (probe 97: V1 (title, description),
     * V2 (@FormerNames("description") title): V2's title read V1's title, and its update was
     * merged into both, losing description). A name stands for one component only (§6.1). Each
     * problem is placed at a component of {@code reader}, the record the caller checks (probe 99:
     * it named a component of the other version as the reader's).
     */
    private static void ambiguousNames(RecordDef writer, RecordDef reader, String path, List<String> problems) {
        for (Component rc : reader.components()) {
            List<String> answering = answering(writer, rc);
            if (answering.size() > 1) {
                problems.add(path + "." + rc.name() + ": answers, by its name and @FormerNames on either side, to the other"
                    + " version's components " + String.join(" and ", answering) + " at once, so an update would write"
                    + " one value into both (a name stands for one component only: take the other's name out of its"
                    + " @FormerNames, or give the component another name)");
            }
        }
        for (Component wc : writer.components()) {
            List<String> answering = answering(reader, wc);
            if (answering.size() > 1) {
                problems.add(path + "." + answering.getFirst() + ": with " + String.join(" and ", answering.subList(1,
                    answering.size())) + ", answers, by its name and @FormerNames on either side, to the other version's"
                    + " component " + wc.name() + ", so its data would be read into both and an update would write both"
                    + " into it (a name stands for one component only: take " + wc.name() + " out of their @FormerNames,"
                    + " or rename one of them)");
            }
        }
    }

    /** The names of the components of {@code record} that {@code c} answers to, by name or a former name on either side. */
    private static List<String> answering(RecordDef record, Component c) {
        List<String> out = new ArrayList<>();
        for (Component other : record.components()) {
            if (other.name().equals(c.name()) || other.sameAs(c)) out.add(other.name());
        }
        return out;
    }

    /**
     * Index of the writer component that {@code reader} reads: same name first, then former names;
     * or -1.
     */
    static int match(RecordDef writer, Component reader) {
        int exact = writer.indexOf(reader.name());
        if (exact >= 0) return exact;
        for (int i = 0; i < writer.components().size(); i++) {
            if (writer.components().get(i).sameAs(reader)) return i;
        }
        return -1;
    }

    /**
     * Converts a boxed number of kind {@code from} to kind {@code to}, refusing values that do not
     * fit.
     */
    static Object scalar(Object value, Kind from, Kind to, String path) {
        if (from == to || value == null) return value;
        if (to == Kind.FLOAT) {
            return value instanceof Double d ? (float) (double) d
                : (float) ((Number) value).intValue();
        }
        if (to == Kind.DOUBLE) return ((Number) value).doubleValue();
        long v;
        if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            v = (long) d;
            if (v != d) throw narrowing(value, to, path);
        } else {
            v = ((Number) value).longValue();
        }
        return switch (to) {
            case BYTE -> {
                if (v != (byte) v) throw narrowing(value, to, path);
                yield (byte) v;
            }
            case SHORT -> {
                if (v != (short) v) throw narrowing(value, to, path);
                yield (short) v;
            }
            case INT -> {
                if (v != (int) v) throw narrowing(value, to, path);
                yield (int) v;
            }
            case LONG -> v;
            default -> throw new AssertionError("no numeric conversion to " + to);
        };
    }

    private static SchemaMismatchException narrowing(Object value, Kind to, String path) {
        return new SchemaMismatchException(path + ": stored value " + value
            + " does not fit the reader's "
            + to.name().toLowerCase(java.util.Locale.ROOT)
            + " (data written by a newer, wider schema version)");
    }
}
