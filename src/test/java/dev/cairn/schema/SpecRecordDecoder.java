package dev.cairn.schema;

import dev.cairn.Key;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * A second decoder of stored record values, written from spec/record-format.md §1-§4 alone
 * (the schema's binary form and the record bytes), using none of this package's classes. It
 * gives a value as plain data: a record as {@link Rec} (definition name, components by name in
 * schema order), an enum constant as {@link Constant}, a union's value as a {@link Variant}, a list
 * as a List, a set as a Set and a map as a Map (both in stored order), an Optional as an Optional, {@code byte[]} as hex,
 * a Key as {@link KeyItem}, and the other scalars as their Java values. It checks the bounds the
 * spec gives and the canonical order of sets and maps, and fails with an AssertionError naming
 * the component path.
 */
public final class SpecRecordDecoder {
    public record Rec(String name, Map<String, Object> components) { }

    public record Constant(String enumName, String constant) { }

    public record KeyItem(String tree, int id, int revision) { }

    /** A union's value: its variant's value (a {@link Rec} or a {@link Constant}). */
    public record Variant(Object value) { }

    /**
     * A set whose elements hold a {@code byte[]}: equal elements may repeat (§4.3). Equal to a bag
     * with the same elements in any order (compared by their text, which is enough for tests).
     */
    public record Bag(List<Object> items) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Bag b && sorted().equals(b.sorted());
        }

        @Override
        public int hashCode() {
            return sorted().hashCode();
        }

        private List<String> sorted() {
            return items.stream().map(String::valueOf).sorted().toList();
        }
    }

    /** §2.2, parsed: definitions (Record, Enum, Union). */
    sealed interface Def permits RecordDef, EnumDef, UnionDef { }

    record RecordDef(String name, List<Comp> components) implements Def { }

    record EnumDef(String name, List<String> constants) implements Def { }

    record UnionDef(String name, List<Integer> variants) implements Def { }

    record Comp(String name, Type type) { }

    /** tag as in §2.2; args: element types (list, set, optional: 1; map: 2), ref: the definition. */
    record Type(int tag, List<Type> args, int ref) { }

    private final List<Def> defs;

    private SpecRecordDecoder(List<Def> defs) {
        this.defs = defs;
    }

    /** The value of stored bytes; {@code schemas.get(v - 1)} is the binary form of version v. */
    public static Object decode(byte[] value, List<byte[]> schemas) {
        ByteBuffer b = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
        check(value.length >= 3 && (b.get(0) & 0xFF) == 0xC1, "format tag");
        int version = b.getShort(1) & 0xFFFF;
        check(version >= 1 && version <= schemas.size(), "writer version " + version);
        SpecRecordDecoder d = new SpecRecordDecoder(parseSchema(schemas.get(version - 1)));
        return d.body(0, b.slice(3, value.length - 3).order(ByteOrder.LITTLE_ENDIAN), "");
    }

    /** The compact JSON text form (record-format.md §7) of stored bytes, printed from what {@link #decode} reads. */
    public static String toJson(byte[] value, List<byte[]> schemas) {
        return toJson(value, schemas, false);
    }

    /** The JSON text form (§7), compact or pretty. */
    public static String toJson(byte[] value, List<byte[]> schemas, boolean pretty) {
        int version = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN).getShort(1) & 0xFFFF;
        SpecRecordDecoder d = new SpecRecordDecoder(parseSchema(schemas.get(version - 1)));
        StringBuilder out = new StringBuilder();
        d.json(decode(value, schemas), new Type(0x24, List.of(), 0), out, pretty ? 0 : -1);
        return out.toString();
    }

    /** Prints {@code v}; {@code level} is the pretty form's indentation level, -1 for the compact form. */
    private void json(Object v, Type t, StringBuilder out, int level) {
        int tag = t.tag();
        if (tag == 0x23) {
            Optional<?> o = (Optional<?>) v;
            if (o.isEmpty()) out.append("null");
            else json(o.get(), t.args().getFirst(), out, level);
            return;
        }
        if (v == null) {
            out.append("null");
            return;
        }
        String nameEnd = level < 0 ? ":" : ": ";
        switch (tag) {
            case 0x20, 0x21 -> {
                // Pretty: a list or set of scalars on one line, of anything else an element a line.
                Type element = t.args().getFirst();
                boolean oneLine = level < 0 || element.tag() <= 0x0F || element.tag() > 0x40;
                out.append('[');
                String sep = "";
                Collection<?> items = v instanceof Bag b ? b.items() : (Collection<?>) v;
                for (Object e : items) {
                    out.append(sep);
                    if (!oneLine) newline(out, level < 0 ? -1 : level + 1);
                    json(e, element, out, level < 0 ? -1 : level + 1);
                    sep = level < 0 || !oneLine ? "," : ", ";
                }
                if (!oneLine && !items.isEmpty()) newline(out, level);
                out.append(']');
            }
            case 0x22 -> {
                boolean object = t.args().get(0).tag() == 9;
                Map<?, ?> map = (Map<?, ?>) v;
                out.append(object ? '{' : '[');
                String sep = "";
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    out.append(sep);
                    newline(out, level < 0 ? -1 : level + 1);
                    int inner = level < 0 ? -1 : level + 1;
                    if (object) {
                        string((String) e.getKey(), out);
                        out.append(nameEnd);
                    } else {
                        out.append('[');
                        json(e.getKey(), t.args().get(0), out, inner);
                        out.append(level < 0 ? "," : ", ");
                    }
                    json(e.getValue(), t.args().get(1), out, inner);
                    if (!object) out.append(']');
                    sep = ",";
                }
                if (!map.isEmpty()) newline(out, level);
                out.append(object ? '}' : ']');
            }
            case 0x24 -> {
                switch (v) {
                    case Rec r -> record(r, null, out, level);
                    case Constant c -> string(c.constant(), out);
                    case Variant(Rec r) -> record(r, r.name(), out, level);
                    case Variant(Constant c) -> {
                        out.append('{');
                        newline(out, level < 0 ? -1 : level + 1);
                        out.append("\"@type\"").append(nameEnd);
                        string(c.enumName(), out);
                        out.append(',');
                        newline(out, level < 0 ? -1 : level + 1);
                        out.append("\"value\"").append(nameEnd);
                        string(c.constant(), out);
                        newline(out, level);
                        out.append('}');
                    }
                    default -> throw new AssertionError("spec record decoder: " + v + " as a definition");
                }
            }
            default -> scalarJson(tag > 0x40 ? tag & 0x3F : tag, v, out);
        }
    }

    /** Pretty form only: a line break and 2 spaces a level. */
    private static void newline(StringBuilder out, int level) {
        if (level < 0) return;
        out.append('\n').append("  ".repeat(level));
    }

    /** A record as an object, its components in schema order; in a union, "@type" first. */
    private void record(Rec r, String type, StringBuilder out, int level) {
        RecordDef def = (RecordDef) defs.stream().filter(d -> d instanceof RecordDef rd && rd.name().equals(r.name()))
            .findFirst().orElseThrow();
        String nameEnd = level < 0 ? ":" : ": ";
        out.append('{');
        String sep = "";
        if (type != null) {
            newline(out, level < 0 ? -1 : level + 1);
            out.append("\"@type\"").append(nameEnd);
            string(type, out);
            sep = ",";
        }
        for (Comp c : def.components()) {
            out.append(sep);
            newline(out, level < 0 ? -1 : level + 1);
            string(c.name(), out);
            out.append(nameEnd);
            json(r.components().get(c.name()), c.type(), out, level < 0 ? -1 : level + 1);
            sep = ",";
        }
        if (!sep.isEmpty()) newline(out, level);
        out.append('}');
    }

    /** §10: the CREATE TABLE statement of a tree whose current schema has this binary form. */
    public static String sqlCreateTable(String table, byte[] schema) {
        SpecRecordDecoder d = new SpecRecordDecoder(parseSchema(schema));
        StringBuilder out = new StringBuilder("CREATE TABLE ").append(identifier(table))
            .append(" (\"id\" INTEGER NOT NULL, \"revision\" INTEGER NOT NULL");
        for (Comp c : ((RecordDef) d.defs.getFirst()).components()) {
            out.append(", ").append(identifier(c.name())).append(' ').append(d.sqlType(c.type()));
            if (unboxed(c.type())) out.append(" NOT NULL");
        }
        return out.append(", PRIMARY KEY (\"id\", \"revision\"));").toString();
    }

    /** §10: the INSERT statement of one stored value, written by the version it is read with. */
    public static String sqlInsert(String table, int id, int revision, byte[] value, List<byte[]> schemas) {
        int version = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN).getShort(1) & 0xFFFF;
        SpecRecordDecoder d = new SpecRecordDecoder(parseSchema(schemas.get(version - 1)));
        List<Comp> comps = ((RecordDef) d.defs.getFirst()).components();
        StringBuilder out = new StringBuilder("INSERT INTO ").append(identifier(table)).append(" (\"id\", \"revision\"");
        for (Comp c : comps) out.append(", ").append(identifier(c.name()));
        out.append(") VALUES (").append(id).append(", ").append(revision);
        Rec r = (Rec) decode(value, schemas);
        for (Comp c : comps) d.sqlLiteral(r.components().get(c.name()), c.type(), out.append(", "));
        return out.append(");").toString();
    }

    private String sqlType(Type t) {
        int tag = t.tag() == 0x23 && t.args().getFirst().tag() <= 0x0F ? t.args().getFirst().tag() : t.tag();
        if (tag > 0x40 && tag <= 0x48) tag &= 0x3F;
        if (tag == 0x24 && defs.get(t.ref()) instanceof EnumDef) return "VARCHAR(255)";
        return switch (tag) {
            case 1 -> "BOOLEAN";
            case 2, 3 -> "SMALLINT";
            case 5 -> "INTEGER";
            case 6 -> "BIGINT";
            case 7 -> "REAL";
            case 8 -> "DOUBLE PRECISION";
            case 4 -> "CHAR(1)";
            case 10 -> "VARBINARY(65535)";
            case 11 -> "CHAR(36)";
            case 12 -> "VARCHAR(40)";
            case 13 -> "DATE";
            case 14 -> "DECIMAL";
            case 15 -> "VARCHAR(300)";
            default -> "VARCHAR(65535)"; // String, and the JSON text of anything else
        };
    }

    private void sqlLiteral(Object v, Type t, StringBuilder out) {
        boolean optionalScalar = t.tag() == 0x23 && t.args().getFirst().tag() <= 0x0F;
        if (optionalScalar) {
            Optional<?> o = (Optional<?>) v;
            v = o.isEmpty() ? null : o.get();
            t = t.args().getFirst();
        }
        int tag = t.tag() > 0x40 && t.tag() <= 0x48 ? t.tag() & 0x3F : t.tag();
        if (v == null) {
            out.append("NULL");
            return;
        }
        if (tag == 0x24 && v instanceof Constant c) {
            sqlString(c.constant(), out);
            return;
        }
        switch (tag) {
            case 1 -> out.append((Boolean) v ? "TRUE" : "FALSE");
            case 2, 3, 5, 6 -> out.append(v);
            case 7 -> {
                float f = (Float) v;
                if (Float.isFinite(f)) out.append(Float.toString(f));
                else sqlString(Float.isNaN(f) ? "NaN" : f > 0 ? "Infinity" : "-Infinity", out);
            }
            case 8 -> {
                double x = (Double) v;
                if (Double.isFinite(x)) out.append(Double.toString(x));
                else sqlString(Double.isNaN(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity", out);
            }
            case 4 -> sqlString(String.valueOf((char) (Character) v), out);
            case 9 -> sqlString((String) v, out);
            case 10 -> out.append("X'").append(((String) v).toLowerCase(java.util.Locale.ROOT)).append('\'');
            case 13 -> sqlString(v.toString(), out); // ISO-8601 in quotes (record-format.md §10)
            case 14 -> out.append(((BigDecimal) v).toString());
            case 15 -> {
                KeyItem k = (KeyItem) v;
                sqlString(k.tree() + "/" + k.id() + "." + k.revision(), out);
            }
            case 11, 12 -> sqlString(v.toString(), out);
            default -> {
                StringBuilder json = new StringBuilder();
                json(v, t, json, -1);
                sqlString(json.toString(), out);
            }
        }
    }

    private static String identifier(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    private static void sqlString(String text, StringBuilder out) {
        out.append('\'').append(text.replace("'", "''")).append('\'');
    }

    private static void scalarJson(int kind, Object v, StringBuilder out) {
        switch (kind) {
            case 1, 2, 3, 5, 6 -> out.append(v);
            case 4 -> string(String.valueOf((char) (Character) v), out);
            case 7 -> {
                float f = (Float) v;
                int bits = Float.floatToRawIntBits(f);
                if (Float.isNaN(f)) string(bits == 0x7fc00000 ? "NaN" : "NaN:" + String.format("%08x", bits), out);
                else if (Float.isInfinite(f)) string(f > 0 ? "Infinity" : "-Infinity", out);
                else out.append(Float.toString(f));
            }
            case 8 -> {
                double d = (Double) v;
                long bits = Double.doubleToRawLongBits(d);
                if (Double.isNaN(d)) string(bits == 0x7ff8000000000000L ? "NaN" : "NaN:" + String.format("%016x", bits), out);
                else if (Double.isInfinite(d)) string(d > 0 ? "Infinity" : "-Infinity", out);
                else out.append(Double.toString(d));
            }
            case 9 -> string((String) v, out);
            case 10 -> string(java.util.Base64.getEncoder().encodeToString(HexFormat.of().parseHex((String) v)), out);
            case 14 -> out.append(((BigDecimal) v).toString());
            case 15 -> {
                KeyItem k = (KeyItem) v;
                string(k.tree() + "/" + k.id() + "." + k.revision(), out);
            }
            default -> string(v.toString(), out); // UUID, Instant, LocalDate
        }
    }

    /** §7 strings: {@code " \\} escaped, \b \f \n \r \t, other controls and lone surrogates as \\u and 4 lowercase hex digits. */
    private static void string(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean lone = Character.isHighSurrogate(c) ? i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))
                : Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(s.charAt(i - 1)));
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || lone) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
            }
        }
        out.append('"');
    }

    // ---------------------------------------------------------------- §2.2 schema binary form

    static List<Def> parseSchema(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        check(in.get() == 'C' && in.get() == 'S' && in.get() == 1, "schema magic");
        int n = varint(in);
        List<Def> defs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int kind = in.get();
            String name = string(in);
            int count = varint(in);
            switch (kind) {
                case 1 -> {
                    List<Comp> comps = new ArrayList<>();
                    for (int c = 0; c < count; c++) {
                        String cname = string(in);
                        Type type = type(in);
                        for (int f = varint(in); f > 0; f--) string(in); // former names
                        if (in.get() == 1) string(in);                   // default JSON
                        comps.add(new Comp(cname, type));
                    }
                    defs.add(new RecordDef(name, comps));
                }
                case 2 -> {
                    List<String> constants = new ArrayList<>();
                    for (int c = 0; c < count; c++) constants.add(string(in));
                    varint(in); // fallback + 1
                    defs.add(new EnumDef(name, constants));
                }
                case 3 -> {
                    List<Integer> variants = new ArrayList<>();
                    for (int c = 0; c < count; c++) variants.add(varint(in));
                    varint(in); // fallback + 1
                    defs.add(new UnionDef(name, variants));
                }
                default -> throw new AssertionError("spec record decoder: definition kind " + kind);
            }
        }
        check(!in.hasRemaining(), "bytes after the schema's definitions");
        check(defs.getFirst() instanceof RecordDef, "definition 0 is not a record");
        return defs;
    }

    private static Type type(ByteBuffer in) {
        int tag = in.get() & 0xFF;
        if ((tag >= 0x01 && tag <= 0x0F) || (tag >= 0x41 && tag <= 0x48)) return new Type(tag, List.of(), -1);
        return switch (tag) {
            case 0x20, 0x21, 0x23 -> new Type(tag, List.of(type(in)), -1);
            case 0x22 -> new Type(tag, List.of(type(in), type(in)), -1);
            case 0x24 -> new Type(tag, List.of(), varint(in));
            default -> throw new AssertionError("spec record decoder: type tag " + tag);
        };
    }

    private static int varint(ByteBuffer in) {
        int value = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            int b = in.get() & 0xFF;
            value |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw new AssertionError("spec record decoder: varint longer than 5 bytes");
    }

    private static String string(ByteBuffer in) {
        byte[] b = new byte[varint(in)];
        in.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- §3 record body, §4 items

    /** A record body of definition {@code def} filling {@code body}. */
    private Rec body(int def, ByteBuffer body, String path) {
        RecordDef rd = (RecordDef) defs.get(def);
        int fixedBytes = 0;
        for (Comp c : rd.components()) fixedBytes += fixedWidth(c.type());
        check(fixedBytes <= body.limit(), path + ": body of " + body.limit() + " bytes, fixed part " + fixedBytes);
        Map<String, Object> out = new LinkedHashMap<>();
        int at = 0;
        int start = fixedBytes;
        for (Comp c : rd.components()) {
            String where = path + "." + c.name();
            if (unboxed(c.type())) {
                out.put(c.name(), scalar(c.type().tag(), body.slice(at, fixedWidth(c.type())).order(ByteOrder.LITTLE_ENDIAN), where));
            } else {
                int slot = body.getInt(at);
                int end = slot & 0x7FFFFFFF;
                check(start <= end && end <= body.limit(), where + ": item [" + start + ", " + end + ") of a body of " + body.limit());
                if (slot < 0) {
                    check(start == end, where + ": a null with bytes");
                    out.put(c.name(), c.type().tag() == 0x23 ? Optional.empty() : null);
                } else {
                    out.put(c.name(), item(c.type(), body.slice(start, end - start).order(ByteOrder.LITTLE_ENDIAN), where));
                }
                start = end;
            }
            at += fixedWidth(c.type());
        }
        return new Rec(rd.name(), out);
    }

    private static boolean unboxed(Type t) {
        return t.tag() >= 0x01 && t.tag() <= 0x08;
    }

    /** Bytes of a component in the fixed part: its value for an unboxed primitive, else a u32 slot. */
    private static int fixedWidth(Type t) {
        return unboxed(t) ? width(t.tag()) : 4;
    }

    private static int width(int kind) {
        return switch (kind) {
            case 1, 2 -> 1;
            case 3, 4 -> 2;
            case 5, 7 -> 4;
            default -> 8;
        };
    }

    /** One item of type {@code t} filling {@code b}. */
    private Object item(Type t, ByteBuffer b, String path) {
        int tag = t.tag();
        if (tag >= 0x01 && tag <= 0x0F) return scalar(tag, b, path);
        if (tag >= 0x41 && tag <= 0x48) return scalar(tag & 0x3F, b, path);
        return switch (tag) {
            case 0x20, 0x21 -> {
                List<ByteBuffer> items = collection(b, 1, path);
                List<Object> out = new ArrayList<>();
                Type element = t.args().getFirst();
                for (int i = 0; i < items.size(); i++) {
                    out.add(items.get(i) == null ? (element.tag() == 0x23 ? Optional.empty() : null)
                        : item(element, items.get(i), path + "[" + i + "]"));
                }
                if (tag == 0x20) yield out;
                boolean bag = holdsBytes(element, new HashSet<>());
                ascending(items, 1, bag, path);
                yield bag ? new Bag(out) : new LinkedHashSet<>(out);
            }
            case 0x22 -> {
                List<ByteBuffer> items = collection(b, 2, path);
                Map<Object, Object> out = new LinkedHashMap<>();
                for (int i = 0; i < items.size(); i += 2) {
                    check(items.get(i) != null, path + ": a null map key");
                    Object key = item(t.args().get(0), items.get(i), path + "{" + i / 2 + "}");
                    ByteBuffer v = items.get(i + 1);
                    Object value = v == null ? (t.args().get(1).tag() == 0x23 ? Optional.empty() : null)
                        : item(t.args().get(1), v, path + "{" + key + "}");
                    check(!out.containsKey(key), path + ": map key " + key + " twice");
                    out.put(key, value);
                }
                ascending(items, 2, false, path);
                yield out;
            }
            case 0x23 -> {
                check(b.limit() >= 1, path + ": an optional without its byte");
                int present = b.get(0);
                check(present == 0 ? b.limit() == 1 : present == 1, path + ": optional byte " + present);
                yield present == 0 ? Optional.empty()
                    : Optional.of(item(t.args().getFirst(), b.slice(1, b.limit() - 1).order(ByteOrder.LITTLE_ENDIAN), path));
            }
            case 0x24 -> ref(t.ref(), b, path);
            default -> throw new AssertionError("spec record decoder: type tag " + tag + " at " + path);
        };
    }

    private Object ref(int def, ByteBuffer b, String path) {
        return switch (defs.get(def)) {
            case RecordDef r -> body(def, b, path);
            case EnumDef e -> {
                check(b.limit() == 4, path + ": enum item of " + b.limit() + " bytes");
                yield new Constant(e.name(), e.constants().get(b.getInt(0)));
            }
            case UnionDef u -> {
                check(b.limit() >= 4, path + ": union item of " + b.limit() + " bytes");
                int variant = u.variants().get(b.getInt(0));
                yield new Variant(ref(variant, b.slice(4, b.limit() - 4).order(ByteOrder.LITTLE_ENDIAN), path + "<" + variant + ">"));
            }
        };
    }

    /** §4.2: the items of a collection of {@code count * k} items, null for a null one. */
    private static List<ByteBuffer> collection(ByteBuffer b, int k, String path) {
        check(b.limit() >= 4, path + ": collection without its count");
        long items = (b.getInt(0) & 0xFFFFFFFFL) * k;
        check(4 + 4 * items <= b.limit(), path + ": " + items + " offsets in " + b.limit() + " bytes");
        List<ByteBuffer> out = new ArrayList<>();
        int start = Math.toIntExact(4 + 4 * items);
        for (int i = 0; i < items; i++) {
            int slot = b.getInt(4 + 4 * i);
            int end = slot & 0x7FFFFFFF;
            check(start <= end && end <= b.limit(), path + ": item " + i + " at [" + start + ", " + end + ")");
            if (slot < 0) {
                check(start == end, path + ": a null item with bytes");
                out.add(null);
            } else {
                out.add(b.slice(start, end - start).order(ByteOrder.LITTLE_ENDIAN));
            }
            start = end;
        }
        check(start == b.limit(), path + ": bytes after the collection's items");
        return out;
    }

    /** §4.3: whether items of this type may hold a byte[], at any depth (then a set may hold equal ones). */
    private boolean holdsBytes(Type t, java.util.Set<Integer> seen) {
        if (t.tag() == 10) return true;
        if (t.tag() == 0x24) {
            if (!seen.add(t.ref())) return false;
            return switch (defs.get(t.ref())) {
                case RecordDef r -> r.components().stream().anyMatch(c -> holdsBytes(c.type(), seen));
                case UnionDef u -> u.variants().stream().anyMatch(v -> holdsBytes(new Type(0x24, List.of(), v), seen));
                case EnumDef e -> false;
            };
        }
        return t.args().stream().anyMatch(a -> holdsBytes(a, seen));
    }

    /**
     * §4.3: set elements, and map entries by key, ascend by their encoded bytes, unsigned; a null
     * element (empty bytes) comes first, before an element whose bytes are empty too (""); equal
     * items only where the elements hold a byte[] ({@code equalAllowed}).
     */
    private static void ascending(List<ByteBuffer> items, int k, boolean equalAllowed, String path) {
        byte[] previous = null;
        boolean previousNull = false;
        for (int i = 0; i < items.size(); i += k) {
            ByteBuffer item = items.get(i);
            byte[] bytes = new byte[item == null ? 0 : item.limit()];
            if (item != null) item.get(0, bytes);
            int order = previous == null ? -1 : Arrays.compareUnsigned(previous, bytes);
            boolean tieAllowed = previousNull ? item != null : equalAllowed && item != null;
            check(order < 0 || (order == 0 && tieAllowed), path + ": not in canonical order at item " + i);
            previous = bytes;
            previousNull = item == null;
        }
    }

    /** §2.1: a scalar of kind 1..15 filling exactly {@code b}. */
    private static Object scalar(int kind, ByteBuffer b, String path) {
        int n = b.limit();
        if (kind <= 8 || kind == 11 || kind == 12 || kind == 13) {
            int expected = switch (kind) {
                case 11 -> 16;
                case 12 -> 12;
                case 13 -> 8;
                default -> width(kind);
            };
            check(n == expected, path + ": scalar of kind " + kind + " in " + n + " bytes");
        }
        return switch (kind) {
            case 1 -> {
                int v = b.get(0);
                check(v == 0 || v == 1, path + ": boolean byte " + v);
                yield v == 1;
            }
            case 2 -> b.get(0);
            case 3 -> b.getShort(0);
            case 4 -> b.getChar(0);
            case 5 -> b.getInt(0);
            case 6 -> b.getLong(0);
            case 7 -> Float.intBitsToFloat(b.getInt(0));
            case 8 -> Double.longBitsToDouble(b.getLong(0));
            case 9 -> StandardCharsets.UTF_8.decode(b.duplicate()).toString();
            case 10 -> {
                byte[] bytes = new byte[n];
                b.get(0, bytes);
                yield HexFormat.of().formatHex(bytes);
            }
            case 11 -> new UUID(b.getLong(0), b.getLong(8));
            case 12 -> Instant.ofEpochSecond(b.getLong(0), b.getInt(8));
            case 13 -> LocalDate.ofEpochDay(b.getLong(0));
            case 14 -> {
                check(n >= 5, path + ": BigDecimal of " + n + " bytes");
                byte[] unscaled = new byte[n - 4];
                b.get(4, unscaled);
                yield new BigDecimal(new BigInteger(unscaled), b.getInt(0));
            }
            case 15 -> {
                check(n >= 8, path + ": Key of " + n + " bytes");
                byte[] tree = new byte[n - 8];
                b.get(8, tree);
                yield new KeyItem(new String(tree, StandardCharsets.UTF_8), b.getInt(0), b.getInt(4));
            }
            default -> throw new AssertionError("spec record decoder: scalar kind " + kind + " at " + path);
        };
    }

    /** What this decoder should give for a Java value of {@code type} (its declared type): the oracle of the tests. */
    public static Object expected(Object value, java.lang.reflect.Type type) {
        Class<?> raw = type instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) type;
        if (raw == Optional.class) {
            Optional<?> o = (Optional<?>) value;
            return o == null || o.isEmpty() ? Optional.empty() : Optional.of(expected(o.get(), arg(type, 0)));
        }
        if (value == null) return null;
        if (value instanceof byte[] b) return HexFormat.of().formatHex(b);
        if (value instanceof Key<?> k) return new KeyItem(k.tree(), k.id(), k.revision());
        if (raw.isSealed() && raw.isInterface()) return new Variant(expected(value, value.getClass()));
        if (value instanceof Enum<?> e) return new Constant(e.getDeclaringClass().getSimpleName(), e.name());
        if (value instanceof Record r) {
            Map<String, Object> components = new LinkedHashMap<>();
            for (RecordComponent c : r.getClass().getRecordComponents()) {
                try {
                    components.put(c.getName(), expected(c.getAccessor().invoke(r), c.getGenericType()));
                } catch (ReflectiveOperationException e) {
                    throw new AssertionError(e);
                }
            }
            return new Rec(r.getClass().getSimpleName(), components);
        }
        if (value instanceof List<?> list) return list.stream().map(e -> expected(e, arg(type, 0))).toList();
        if (value instanceof Set<?> set) {
            List<Object> out = new ArrayList<>();
            for (Object e : set) out.add(expected(e, arg(type, 0)));
            return holdsBytes(arg(type, 0), new HashSet<>()) ? new Bag(out) : new HashSet<>(out);
        }
        if (value instanceof Map<?, ?> map) {
            Map<Object, Object> out = new HashMap<>();
            map.forEach((k, v) -> out.put(expected(k, arg(type, 0)), expected(v, arg(type, 1))));
            return out;
        }
        if (value instanceof Collection<?>) throw new AssertionError("collection type " + type);
        return value; // a scalar: its Java value
    }

    /** Whether values of a Java type may hold a {@code byte[]}, at any depth. */
    private static boolean holdsBytes(java.lang.reflect.Type type, Set<Class<?>> seen) {
        if (type instanceof ParameterizedType p) {
            if (p.getRawType() == Key.class) return false; // a Key<T> names a record of T, it holds none
            for (java.lang.reflect.Type a : p.getActualTypeArguments()) if (holdsBytes(a, seen)) return true;
            return false;
        }
        Class<?> c = (Class<?>) type;
        if (c == byte[].class) return true;
        if (!seen.add(c)) return false;
        if (c.isRecord()) {
            for (RecordComponent rc : c.getRecordComponents()) if (holdsBytes(rc.getGenericType(), seen)) return true;
        }
        if (c.isSealed() && c.isInterface()) {
            for (Class<?> v : c.getPermittedSubclasses()) if (holdsBytes(v, seen)) return true;
        }
        return false;
    }

    private static java.lang.reflect.Type arg(java.lang.reflect.Type type, int i) {
        return ((ParameterizedType) type).getActualTypeArguments()[i];
    }

    private static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError("spec record decoder: " + what);
    }
}
