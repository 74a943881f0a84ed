package dev.cairn.schema;

import dev.cairn.CorruptionException;
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
import java.io.ByteArrayOutputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The canonical binary and JSON forms of a {@link Schema} (record-format.md §2), and the
 * structural rules every schema obeys, whether derived or decoded.
 */
final class SchemaFormat {
    static final byte MAGIC_0 = 'C';
    static final byte MAGIC_1 = 'S';
    static final byte FORMAT_VERSION = 1;
    static final int KIND_RECORD = 1;
    static final int KIND_ENUM = 2;
    static final int KIND_UNION = 3;
    static final int TAG_BOXED = 0x40;
    static final int TAG_LIST = 0x20;
    static final int TAG_SET = 0x21;
    static final int TAG_MAP = 0x22;
    static final int TAG_OPTIONAL = 0x23;
    static final int TAG_REF = 0x24;
    /** Deepest nesting of collection types inside one component type. */
    static final int TYPE_DEPTH_MAX = 32;
    static final int NAME_BYTES_MAX = 1024;
    static final int DEFINITIONS_MAX = 4096;

    private SchemaFormat() { }

    // ---------------------------------------------------------------- encode

    static byte[] encode(List<TypeDef> definitions) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(MAGIC_0);
        out.write(MAGIC_1);
        out.write(FORMAT_VERSION);
        varint(out, definitions.size());
        for (TypeDef d : definitions) {
            switch (d) {
                case RecordDef r -> {
                    out.write(KIND_RECORD);
                    string(out, r.name());
                    varint(out, r.components().size());
                    for (Component c : r.components()) {
                        string(out, c.name());
                        type(out, c.type());
                        varint(out, c.formerNames().size());
                        for (String f : c.formerNames()) string(out, f);
                        out.write(c.defaultJson() == null ? 0 : 1);
                        if (c.defaultJson() != null) string(out, c.defaultJson());
                    }
                }
                case EnumDef e -> {
                    out.write(KIND_ENUM);
                    string(out, e.name());
                    varint(out, e.constants().size());
                    for (String c : e.constants()) string(out, c);
                    varint(out, e.fallback() + 1);
                }
                case UnionDef u -> {
                    out.write(KIND_UNION);
                    string(out, u.name());
                    varint(out, u.variants().size());
                    for (int v : u.variants()) varint(out, v);
                    varint(out, u.fallback() + 1);
                }
            }
        }
        return out.toByteArray();
    }

    private static void type(ByteArrayOutputStream out, FieldType type) {
        switch (type) {
            case Scalar s -> out.write((s.kind().ordinal() + 1) | (s.boxed() ? TAG_BOXED : 0));
            case ListOf l -> {
                out.write(TAG_LIST);
                type(out, l.element());
            }
            case SetOf s -> {
                out.write(TAG_SET);
                type(out, s.element());
            }
            case MapOf m -> {
                out.write(TAG_MAP);
                type(out, m.key());
                type(out, m.value());
            }
            case OptionalOf o -> {
                out.write(TAG_OPTIONAL);
                type(out, o.element());
            }
            case Ref r -> {
                out.write(TAG_REF);
                varint(out, r.definition());
            }
        }
    }

    private static void varint(ByteArrayOutputStream out, int value) {
        while ((value & ~0x7F) != 0) {
            out.write((value & 0x7F) | 0x80);
            value >>>= 7;
        }
        out.write(value);
    }

    private static void string(ByteArrayOutputStream out, String s) {
        byte[] b = Schema.utf8(s);
        varint(out, b.length);
        out.write(b, 0, b.length);
    }

    // ---------------------------------------------------------------- decode

    static Schema decode(byte[] bytes) {
        In in = new In(bytes);
        try {
            if (bytes.length < 3 || bytes[0] != MAGIC_0 || bytes[1] != MAGIC_1) {
                throw in.fail("magic (expected: 'CS')");
            }
            if (bytes[2] != FORMAT_VERSION) throw in.fail("schema format version " + bytes[2]
                + " (expected: 1)");
            in.at = 3;
            int count = in.count(DEFINITIONS_MAX, 2);
            if (count == 0) throw in.fail("0 definitions (expected: >= 1, the root record)");
            List<TypeDef> defs = new ArrayList<>(count);
            for (int i = 0; i < count; i++) defs.add(definition(in));
            if (in.at != bytes.length) throw in.fail("trailing bytes after the last definition");
            Schema schema;
            try {
                schema = new Schema(defs);
            } catch (IllegalArgumentException e) {
                throw new CorruptionException("schema bytes: " + e.getMessage(), e);
            }
            if (!Arrays.equals(schema.toBytes(),
                bytes)) throw in.fail("bytes are not in canonical form");
            return schema;
        } catch (IllegalArgumentException e) {
            throw new CorruptionException("schema bytes at offset " + in.at + ": " + e.getMessage(),
                e);
        }
    }

    private static TypeDef definition(In in) {
        int kind = in.u8();
        String name = in.string();
        switch (kind) {
            case KIND_RECORD -> {
                int n = in.count(65_535, 3);
                List<Component> components = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    String cname = in.string();
                    FieldType type = type(in, 0);
                    int formerCount = in.count(255, 1);
                    List<String> former = new ArrayList<>(formerCount);
                    for (int f = 0; f < formerCount; f++) former.add(in.string());
                    int hasDefault = in.u8();
                    if (hasDefault > 1) throw in.fail("default flag " + hasDefault
                        + " (expected: 0 or 1)");
                    components.add(new Component(cname, type, former, hasDefault == 1 ? in.string()
                        : null));
                }
                return new RecordDef(name, components);
            }
            case KIND_ENUM -> {
                int n = in.count(65_535, 1);
                List<String> constants = new ArrayList<>(n);
                for (int i = 0; i < n; i++) constants.add(in.string());
                return new EnumDef(name, constants, in.varint() - 1);
            }
            case KIND_UNION -> {
                int n = in.count(65_535, 1);
                List<Integer> variants = new ArrayList<>(n);
                for (int i = 0; i < n; i++) variants.add(in.varint());
                return new UnionDef(name, variants, in.varint() - 1);
            }
            default -> throw in.fail("definition kind " + kind
                + " (expected: 1 record, 2 enum, 3 union)");
        }
    }

    private static FieldType type(In in, int depth) {
        if (depth > TYPE_DEPTH_MAX) throw in.fail("type nesting deeper than " + TYPE_DEPTH_MAX);
        int tag = in.u8();
        if (tag >= 1 && tag <= Kind.values().length) return new Scalar(Kind.values()[tag - 1],
            false);
        if ((tag & TAG_BOXED) != 0 && (tag & ~TAG_BOXED) >= 1
            && (tag & ~TAG_BOXED) <= Kind.DOUBLE.ordinal() + 1) {
            return new Scalar(Kind.values()[(tag & ~TAG_BOXED) - 1], true);
        }
        return switch (tag) {
            case TAG_LIST -> new ListOf(type(in, depth + 1));
            case TAG_SET -> new SetOf(type(in, depth + 1));
            case TAG_MAP -> new MapOf(type(in, depth + 1), type(in, depth + 1));
            case TAG_OPTIONAL -> new OptionalOf(type(in, depth + 1));
            case TAG_REF -> new Ref(in.varint());
            default -> throw in.fail("type tag 0x" + Integer.toHexString(tag)
                + " (expected: a tag of §2.2)");
        };
    }

    /** A bounded reader over schema bytes; every count is bounded by the bytes that remain. */
    private static final class In {
        final byte[] bytes;
        int at;

        In(byte[] bytes) {
            this.bytes = bytes;
        }

        int u8() {
            if (at >= bytes.length) throw fail("truncated");
            return bytes[at++] & 0xFF;
        }

        int varint() {
            int value = 0;
            for (int shift = 0; shift < 35; shift += 7) {
                int b = u8();
                value |= (b & 0x7F) << shift;
                if ((b & 0x80) == 0) {
                    if (value < 0) throw fail("varint " + Integer.toUnsignedString(value)
                        + " (expected: < 2^31)");
                    return value;
                }
            }
            throw fail("varint longer than 5 bytes");
        }

        int count(int max, int minBytesEach) {
            int n = varint();
            if (n > max) throw fail("count " + n + " (expected: <= " + max + ")");
            if ((long) n * minBytesEach > bytes.length - at) {
                throw fail("count " + n + " exceeds the " + (bytes.length - at)
                    + " bytes that remain");
            }
            return n;
        }

        String string() {
            int n = varint();
            if (n > NAME_BYTES_MAX && n > bytes.length - at) throw fail("string of " + n
                + " bytes exceeds the input");
            if (n > bytes.length - at) throw fail("string of " + n + " bytes exceeds the "
                + (bytes.length - at) + " left");
            try {
                String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes,
                    at, n)).toString();
                at += n;
                return s;
            } catch (CharacterCodingException e) {
                throw fail("string is not valid UTF-8");
            }
        }

        CorruptionException fail(String what) {
            return new CorruptionException("schema bytes at offset " + at + ": " + what);
        }
    }

    // ---------------------------------------------------------------- rules

    /**
     * Checks the structural rules of §2.4; throws IllegalArgumentException naming the first
     * broken one.
     */
    static void validate(List<TypeDef> defs) {
        if (defs.isEmpty() || !(defs.get(0) instanceof RecordDef)) {
            throw new IllegalArgumentException("definition 0 must be the root record");
        }
        if (defs.size() > DEFINITIONS_MAX) throw new IllegalArgumentException("more than "
            + DEFINITIONS_MAX + " definitions");
        Set<String> names = new HashSet<>();
        for (TypeDef d : defs) {
            name(d.name(), "definition");
            if (!names.add(d.name())) throw new IllegalArgumentException("two definitions named "
                + d.name());
            switch (d) {
                case RecordDef r -> {
                    Set<String> seen = new HashSet<>();
                    for (Component c : r.components()) {
                        name(c.name(), "component of " + r.name());
                        if (!seen.add(c.name())) {
                            throw new IllegalArgumentException("two components named " + c.name()
                                + " in " + r.name());
                        }
                        for (String f : c.formerNames()) name(f, "former name of " + r.name() + "."
                            + c.name());
                        checkType(defs, c.type(), r.name() + "." + c.name(), 0);
                    }
                }
                case EnumDef e -> {
                    Set<String> seen = new HashSet<>();
                    for (String c : e.constants()) {
                        name(c, "constant of " + e.name());
                        if (!seen.add(c)) throw new IllegalArgumentException("two constants named "
                            + c + " in " + e.name());
                    }
                }
                case UnionDef u -> {
                    if (u.variants().isEmpty()) throw new IllegalArgumentException("union "
                        + u.name() + " has no variants");
                    Set<Integer> seen = new HashSet<>();
                    for (int v : u.variants()) {
                        if (v < 0 || v >= defs.size() || defs.get(v) instanceof UnionDef) {
                            throw new IllegalArgumentException("union " + u.name() + " variant " + v
                                + " (expected: index of a record or enum definition)");
                        }
                        if (!seen.add(v)) throw new IllegalArgumentException("union " + u.name()
                            + " lists " + v + " twice");
                    }
                }
            }
        }
    }

    private static void name(String name, String what) {
        if (name.isEmpty() || Schema.utf8(name).length > NAME_BYTES_MAX) {
            throw new IllegalArgumentException(what + " name '" + name + "' (expected: 1 to "
                + NAME_BYTES_MAX + " bytes)");
        }
    }

    private static void checkType(List<TypeDef> defs, FieldType type, String path, int depth) {
        if (depth > TYPE_DEPTH_MAX) throw new IllegalArgumentException(path
            + ": type nesting deeper than " + TYPE_DEPTH_MAX);
        if (depth > 0 && type instanceof Scalar s && s.fixed()) {
            throw new IllegalArgumentException(path + ": unboxed " + s.kind()
                + " inside a collection or Optional"
                + " (expected: boxed)");
        }
        switch (type) {
            case Scalar s -> { }
            case ListOf l -> checkType(defs, l.element(), path + "[]", depth + 1);
            case SetOf s -> checkType(defs, s.element(), path + "[]", depth + 1);
            case MapOf m -> {
                boolean scalarKey = m.key() instanceof Scalar s && s.kind() != Kind.BYTES;
                boolean enumKey = m.key() instanceof Ref r && r.definition() < defs.size()
                    && defs.get(r.definition()) instanceof EnumDef;
                if (!scalarKey && !enumKey) {
                    throw new IllegalArgumentException(path + ": map key " + type
                        + " (expected: a scalar other than byte[], or an enum)");
                }
                checkType(defs, m.key(), path + "{key}", depth + 1);
                checkType(defs, m.value(), path + "{}", depth + 1);
            }
            case OptionalOf o -> {
                if (o.element() instanceof OptionalOf) throw new IllegalArgumentException(path
                    + ": Optional of Optional");
                checkType(defs, o.element(), path + "?", depth + 1);
            }
            case Ref r -> {
                if (r.definition() >= defs.size()) {
                    throw new IllegalArgumentException(path + ": definition " + r.definition()
                        + " (expected: < " + defs.size() + ")");
                }
            }
        }
    }

    /** Every declared default parses for its component's type (so reading one never fails). */
    static void validateDefaults(Schema schema) {
        for (TypeDef d : schema.definitions()) {
            if (!(d instanceof RecordDef r)) continue;
            for (Component c : r.components()) {
                if (c.defaultJson() == null) continue;
                try {
                    JsonParser.parse(c.defaultJson(), schema, c.type(), r.name() + "." + c.name());
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("@DefaultValue of " + r.name() + "."
                        + c.name() + ": "
                        + e.getMessage(), e);
                }
            }
        }
    }

    // ---------------------------------------------------------------- JSON

    static String toJson(Schema schema) {
        StringBuilder out = new StringBuilder(256);
        out.append("{\"format\":1,\"fingerprint\":\"").append(String.format("%016x",
            schema.fingerprint()))
            .append("\",\"definitions\":[");
        List<TypeDef> defs = schema.definitions();
        for (int i = 0; i < defs.size(); i++) {
            if (i > 0) out.append(',');
            switch (defs.get(i)) {
                case RecordDef r -> {
                    out.append("{\"record\":");
                    JsonPrinter.quote(r.name(), out);
                    out.append(",\"components\":[");
                    for (int c = 0; c < r.components().size(); c++) {
                        Component comp = r.components().get(c);
                        if (c > 0) out.append(',');
                        out.append("{\"name\":");
                        JsonPrinter.quote(comp.name(), out);
                        out.append(",\"type\":");
                        JsonPrinter.quote(typeName(schema, comp.type()), out);
                        if (!comp.formerNames().isEmpty()) {
                            out.append(",\"formerNames\":[");
                            for (int f = 0; f < comp.formerNames().size(); f++) {
                                if (f > 0) out.append(',');
                                JsonPrinter.quote(comp.formerNames().get(f), out);
                            }
                            out.append(']');
                        }
                        if (comp.defaultJson() != null) {
                            out.append(",\"default\":");
                            JsonPrinter.quote(comp.defaultJson(), out);
                        }
                        out.append('}');
                    }
                    out.append("]}");
                }
                case EnumDef e -> {
                    out.append("{\"enum\":");
                    JsonPrinter.quote(e.name(), out);
                    out.append(",\"constants\":[");
                    for (int c = 0; c < e.constants().size(); c++) {
                        if (c > 0) out.append(',');
                        JsonPrinter.quote(e.constants().get(c), out);
                    }
                    out.append(']');
                    if (e.fallback() >= 0) JsonPrinter.quote(e.constants().get(e.fallback()),
                        out.append(",\"fallback\":"));
                    out.append('}');
                }
                case UnionDef u -> {
                    out.append("{\"union\":");
                    JsonPrinter.quote(u.name(), out);
                    out.append(",\"variants\":[");
                    for (int v = 0; v < u.variants().size(); v++) {
                        if (v > 0) out.append(',');
                        JsonPrinter.quote(defs.get(u.variants().get(v)).name(), out);
                    }
                    out.append(']');
                    if (u.fallback() >= 0) {
                        JsonPrinter.quote(defs.get(u.variants().get(u.fallback())).name(),
                            out.append(",\"fallback\":"));
                    }
                    out.append('}');
                }
            }
        }
        return out.append("]}").toString();
    }

    /**
     * Human-readable type text: {@code int}, {@code Integer}, {@code List<String>}, {@code Dims}.
     */
    static String typeName(Schema schema, FieldType type) {
        return switch (type) {
            case Scalar s -> scalarName(s);
            case ListOf l -> "List<" + typeName(schema, l.element()) + ">";
            case SetOf s -> "Set<" + typeName(schema, s.element()) + ">";
            case MapOf m -> "Map<" + typeName(schema, m.key()) + "," + typeName(schema, m.value())
                + ">";
            case OptionalOf o -> "Optional<" + typeName(schema, o.element()) + ">";
            case Ref r -> schema.definition(r).name();
        };
    }

    static String scalarName(Scalar s) {
        return switch (s.kind()) {
            case BOOLEAN -> s.boxed() ? "Boolean" : "boolean";
            case BYTE -> s.boxed() ? "Byte" : "byte";
            case SHORT -> s.boxed() ? "Short" : "short";
            case CHAR -> s.boxed() ? "Character" : "char";
            case INT -> s.boxed() ? "Integer" : "int";
            case LONG -> s.boxed() ? "Long" : "long";
            case FLOAT -> s.boxed() ? "Float" : "float";
            case DOUBLE -> s.boxed() ? "Double" : "double";
            case STRING -> "String";
            case BYTES -> "byte[]";
            case UUID -> "UUID";
            case INSTANT -> "Instant";
            case LOCAL_DATE -> "LocalDate";
            case BIG_DECIMAL -> "BigDecimal";
            case KEY -> "Key";
        };
    }
}
