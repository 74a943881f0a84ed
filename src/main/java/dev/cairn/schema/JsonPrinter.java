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
import java.util.Base64;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;

/**
 * Prints a class-free value as JSON text (record-format.md §7): components in schema order,
 * numbers exact, byte[] as base64, times ISO-8601, enums by name, sealed types with an
 * {@code "@type"} member first, keys as {@code "tree/id.revision"}.
 */
final class JsonPrinter {
    static final String TYPE_MEMBER = "@type";
    private final Schema schema;
    private final StringBuilder out = new StringBuilder(128);
    private final boolean pretty;

    private JsonPrinter(Schema schema, boolean pretty) {
        this.schema = schema;
        this.pretty = pretty;
    }

    static String print(Schema schema, FieldType type, Object value, boolean pretty) {
        JsonPrinter p = new JsonPrinter(schema, pretty);
        p.value(type, value, 0);
        return p.out.toString();
    }

    private void value(FieldType type, Object v, int indent) {
        if (v == null) {
            out.append("null");
            return;
        }
        switch (type) {
            case Scalar s -> scalar(s.kind(), v);
            case ListOf l -> array(l.element(), (Collection<?>) v, indent);
            case SetOf s -> array(s.element(), (Collection<?>) v, indent);
            case MapOf m -> map(m, (Map<?, ?>) v, indent);
            case OptionalOf o -> {
                Optional<?> opt = (Optional<?>) v;
                if (opt.isPresent()) value(o.element(), opt.get(), indent);
                else out.append("null");
            }
            case Ref r -> {
                switch (schema.definition(r)) {
                    case RecordDef rd -> record((GenericRecord) v, null, indent);
                    case EnumDef en -> quote(((GenericEnum) v).constant(), out);
                    case UnionDef u -> {
                        if (v instanceof GenericRecord g) {
                            record(g, g.typeName(), indent);
                        } else {
                            GenericEnum g = (GenericEnum) v;
                            out.append('{');
                            newline(indent + 1);
                            quote(TYPE_MEMBER, out);
                            out.append(pretty ? ": " : ":");
                            quote(g.type(), out);
                            out.append(',');
                            newline(indent + 1);
                            out.append(pretty ? "\"value\": " : "\"value\":");
                            quote(g.constant(), out);
                            newline(indent);
                            out.append('}');
                        }
                    }
                }
            }
        }
    }

    private void record(GenericRecord g, String typeTag, int indent) {
        out.append('{');
        boolean first = true;
        if (typeTag != null) {
            newline(indent + 1);
            quote(TYPE_MEMBER, out);
            out.append(pretty ? ": " : ":");
            quote(typeTag, out);
            first = false;
        }
        RecordDef def = g.definition();
        for (int i = 0; i < def.components().size(); i++) {
            Component c = def.components().get(i);
            if (!first) out.append(',');
            first = false;
            newline(indent + 1);
            quote(c.name(), out);
            out.append(pretty ? ": " : ":");
            value(c.type(), g.value(i), indent + 1);
        }
        if (!first) newline(indent);
        out.append('}');
    }

    private void array(FieldType element, Collection<?> values, int indent) {
        out.append('[');
        boolean first = true;
        for (Object v : values) {
            if (!first) out.append(',');
            first = false;
            if (pretty && !(element instanceof Scalar)) newline(indent + 1);
            else if (pretty && values.size() > 0
                && out.charAt(out.length() - 1) == ',') out.append(' ');
            value(element, v, indent + 1);
        }
        if (pretty && !first && !(element instanceof Scalar)) newline(indent);
        out.append(']');
    }

    private void map(MapOf type, Map<?, ?> map, int indent) {
        boolean stringKeys = type.key() instanceof Scalar s && s.kind() == Kind.STRING;
        out.append(stringKeys ? '{' : '[');
        boolean first = true;
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!first) out.append(',');
            first = false;
            newline(indent + 1);
            if (stringKeys) {
                quote((String) e.getKey(), out);
                out.append(pretty ? ": " : ":");
                value(type.value(), e.getValue(), indent + 1);
            } else {
                out.append('[');
                value(type.key(), e.getKey(), indent + 1);
                out.append(pretty ? ", " : ",");
                value(type.value(), e.getValue(), indent + 1);
                out.append(']');
            }
        }
        if (!first) newline(indent);
        out.append(stringKeys ? '}' : ']');
    }

    private void scalar(Kind kind, Object v) {
        switch (kind) {
            case BOOLEAN, BYTE, SHORT, INT, LONG -> out.append(v);
            case FLOAT -> {
                float f = (Float) v;
                if (Float.isFinite(f)) out.append(Float.toString(f));
                else quote(special(f), out);
            }
            case DOUBLE -> {
                double d = (Double) v;
                if (Double.isFinite(d)) out.append(Double.toString(d));
                else quote(special(d), out);
            }
            case CHAR -> quote(String.valueOf((char) (Character) v), out);
            case STRING -> quote((String) v, out);
            case BYTES -> quote(Base64.getEncoder().encodeToString((byte[]) v), out);
            case BIG_DECIMAL -> out.append(v);
            case UUID, INSTANT, LOCAL_DATE, KEY -> quote(v.toString(), out);
        }
    }

    /** Prefix of a NaN other than Java's canonical one: its bits follow in lowercase hex. */
    static final String NAN_BITS = "NaN:";
    static final int CANONICAL_FLOAT_NAN = 0x7fc00000;
    static final long CANONICAL_DOUBLE_NAN = 0x7ff8000000000000L;

    /**
     * The JSON string of a float that is not finite (record-format.md §7): {@code "Infinity"},
     * {@code "-Infinity"}, {@code "NaN"} for the canonical NaN, and for any other NaN its bits, so
     * that its payload survives: {@code "NaN:7fc00042"}.
     */
    static String special(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (!Float.isNaN(f) || bits == CANONICAL_FLOAT_NAN) return Float.toString(f);
        return NAN_BITS + String.format("%08x", bits);
    }

    /** As {@link #special(float)}: {@code "NaN:7ff8000000000123"} for a NaN with a payload. */
    static String special(double d) {
        long bits = Double.doubleToRawLongBits(d);
        if (!Double.isNaN(d) || bits == CANONICAL_DOUBLE_NAN) return Double.toString(d);
        return NAN_BITS + String.format("%016x", bits);
    }

    private void newline(int indent) {
        if (!pretty) return;
        out.append('\n');
        for (int i = 0; i < indent; i++) out.append("  ");
    }

    static void quote(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || Character.isSurrogate(c) && !validSurrogate(s, i)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    private static boolean validSurrogate(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) return i + 1 < s.length()
            && Character.isLowSurrogate(s.charAt(i + 1));
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }
}
