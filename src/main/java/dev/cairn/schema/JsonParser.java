package dev.cairn.schema;

import dev.cairn.Key;
import dev.cairn.internal.Text;
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
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Parses JSON text into a class-free value, guided by a schema (record-format.md §7). Errors are
 * {@link IllegalArgumentException}s that give the line, the column and the component path.
 *
 * <ul>
 *   <li>Every loop consumes input; nesting is bounded by {@link Bin#DEPTH_MAX}, counted as the
 *       encoders count it (record-format.md §1), so no input can hang the parser or overflow
 *       the stack, and every value that encodes parses back from its JSON.
 *   <li>A missing component reads as its default; an unknown or repeated member is an error.
 * </ul>
 */
final class JsonParser {
    /** JSON containers a value of at most {@link Bin#DEPTH_MAX} levels can nest: see {@link #skipValue}. */
    private static final int SKIP_DEPTH_MAX = 2 * Bin.DEPTH_MAX + 1;
    private final String text;
    private final Schema schema;
    /** Where the text is in a file, for errors; null: errors name places in the text. */
    private final JsonOrigin origin;
    private int at;
    /** The error {@link #fail} made last: one of the text, passed on as it is, unlike a value parser's (a UUID's). */
    private IllegalArgumentException failed;

    private JsonParser(String text, Schema schema) {
        this(text, schema, null);
    }

    private JsonParser(String text, Schema schema, JsonOrigin origin) {
        this.text = text;
        this.schema = schema;
        this.origin = origin;
    }

    /** Parses {@code text}, which must hold exactly one value of {@code type}. */
    static Object parse(String text, Schema schema, FieldType type, String path) {
        return parse(text, schema, type, path, 0);
    }

    static Object parse(String text, Schema schema, FieldType type, String path, int depth) {
        return parse(text, schema, type, path, depth, null);
    }

    /** As {@link #parse(String, Schema, FieldType, String)}, errors naming places of {@code origin} (null: of the text). */
    static Object parse(String text, Schema schema, FieldType type, String path, int depth, JsonOrigin origin) {
        JsonParser p = new JsonParser(text, schema, origin);
        Object v = p.value(type, path, depth);
        p.space();
        if (p.at < text.length()) throw p.fail(path, "text after the value");
        return v;
    }

    private Object value(FieldType type, String path, int depth) {
        space();
        if (peekLiteral("null")) {
            if (FieldType.isFixed(type)) throw fail(path, "null for a primitive "
                + SchemaFormat.typeName(schema, type));
            at += 4;
            return type instanceof OptionalOf ? Optional.empty() : null;
        }
        return switch (type) {
            case Scalar s -> scalar(s.kind(), path);
            case ListOf l -> Collections.unmodifiableList(array(l.element(), path, depth, false));
            case SetOf s -> Collections.unmodifiableSet(new LinkedHashSet<>(array(s.element(), path,
                depth, true)));
            case MapOf m -> map(m, path, depth);
            case OptionalOf o -> {
                depth(depth, path);
                yield Optional.of(value(o.element(), path, depth + 1));
            }
            case Ref r -> switch (schema.definition(r)) {
                case RecordDef rd -> record(r.definition(), path, depth, false);
                case EnumDef en -> constant(en, path);
                case UnionDef u -> union(u, path, depth);
            };
        };
    }

    /**
     * Parses {@code text}, an object of the root record, as a change of {@code base}: members
     * given replace base's (a nested record given as an object changes base's the same way),
     * members left out keep base's values.
     */
    static GenericRecord patch(String text, Schema schema, GenericRecord base) {
        JsonParser p = new JsonParser(text, schema);
        p.space();
        GenericRecord v = p.record(Schema.ROOT.definition(), schema.name(), 0, false, base);
        p.space();
        if (p.at < text.length()) throw p.fail(schema.name(), "text after the value");
        return v;
    }

    /**
     * The members of the one JSON object {@code text} holds, without a schema: each name with its
     * value's raw JSON text, in the order given (any whitespace between tokens, RFC 8259). A
     * repeated name is an error. Nesting of the skipped values is bounded by {@link Bin#DEPTH_MAX}.
     */
    static java.util.LinkedHashMap<String, String> members(String text, String path) {
        java.util.LinkedHashMap<String, String> members = new java.util.LinkedHashMap<>();
        membersAt(text, path, null).forEach((name, at) -> members.put(name, text.substring(at[0], at[1])));
        return members;
    }

    /**
     * As {@link #members(String, String)}, each name with where its value's text starts and ends
     * in {@code text}; errors name places of {@code origin} (null: of the text).
     */
    static java.util.LinkedHashMap<String, int[]> membersAt(String text, String path, JsonOrigin origin) {
        JsonParser p = new JsonParser(text, null, origin);
        java.util.LinkedHashMap<String, int[]> members = new java.util.LinkedHashMap<>();
        p.expect('{', path);
        p.space();
        if (p.peek() == '}') {
            p.at++;
        } else {
            while (true) {
                int nameAt = p.at;
                String name = p.string(path);
                p.expect(':', path);
                p.space();
                int start = p.at;
                p.skipValue(path, 0);
                if (members.put(name, new int[] {start, p.at}) != null) {
                    p.at = nameAt;
                    throw p.fail(path, "repeated member \"" + name + "\"");
                }
                p.space();
                if (p.peek() == '}') {
                    p.at++;
                    break;
                }
                p.expect(',', path);
                p.space();
            }
        }
        p.space();
        if (p.at < text.length()) throw p.fail(path, "text after the value");
        return members;
    }

    /** The string one JSON string literal {@code text} holds (escapes decoded). */
    static String stringValue(String text, String path) {
        JsonParser p = new JsonParser(text, null);
        String s = p.string(path);
        p.space();
        if (p.at < text.length()) throw p.fail(path, "text after the value");
        return s;
    }

    /**
     * Moves past one JSON value of any kind, checking its syntax. Its bound is the stack's, not
     * the value's rule, which the schema's parse applies after: a scalar adds no level, and a map
     * whose keys are not strings prints each entry as a [key, value] array, one JSON level that is
     * no level of the value (record-format.md §1), so a value at the limit nests up to {@link
     * #SKIP_DEPTH_MAX} JSON containers (the {"key":..,"value":..} line around a record counts none).
     */
    private void skipValue(String path, int depth) {
        space();
        char c = peek();
        if (c == '"') {
            string(path);
        } else if (c == '{' || c == '[') {
            if (depth > SKIP_DEPTH_MAX) throw fail(path, "nested deeper than " + Bin.DEPTH_MAX + " levels");
            char close = c == '{' ? '}' : ']';
            at++;
            space();
            if (peek() == close) {
                at++;
                return;
            }
            while (true) {
                if (c == '{') {
                    string(path);
                    expect(':', path);
                }
                skipValue(path, depth + 1);
                space();
                if (peek() == close) {
                    at++;
                    return;
                }
                expect(',', path);
                space();
            }
        } else if (peekLiteral("true") || peekLiteral("null")) {
            at += 4;
        } else if (peekLiteral("false")) {
            at += 5;
        } else {
            number(path);
        }
    }

    private GenericRecord record(int def, String path, int depth, boolean afterType) {
        return record(def, path, depth, afterType, null);
    }

    /** A record object; members left out take {@code base}'s values, or their defaults when it is null. */
    private GenericRecord record(int def, String path, int depth, boolean afterType, GenericRecord base) {
        depth(depth, path);
        RecordDef rd = schema.record(def);
        Object[] values = new Object[rd.components().size()];
        String[] seen = new String[values.length]; // the name each member was given under
        if (!afterType) expect('{', path);
        space();
        boolean first = !afterType;
        while (true) {
            space();
            if (peek() == '}') {
                at++;
                break;
            }
            if (!first) {
                expect(',', path);
                space();
            }
            first = false;
            int memberAt = at;
            String name = string(path);
            expect(':', path);
            int i = rd.indexOfCurrentOrFormer(name);
            if (i < 0) {
                at = memberAt;
                throw fail(path, "unknown member \"" + name + "\" (expected: one of " + names(rd)
                    + ")");
            }
            if (seen[i] != null) {
                at = memberAt;
                throw fail(path, seen[i].equals(name) ? "member \"" + name + "\" given twice"
                    : "members \"" + seen[i] + "\" and \"" + name + "\" name one component, \""
                        + rd.components().get(i).name() + "\" (by @FormerNames)");
            }
            seen[i] = name;
            Component c = rd.components().get(i);
            space();
            if (base != null && base.value(i) instanceof GenericRecord nested && c.type() instanceof Ref r
                && schema.definition(r) instanceof RecordDef && peek() == '{') {
                values[i] = record(r.definition(), path + "." + name, depth + 1, false, nested);
            } else {
                values[i] = value(c.type(), path + "." + name, depth + 1);
            }
        }
        for (int i = 0; i < values.length; i++) {
            if (seen[i] == null) values[i] = base != null ? base.value(i) : Defaults.generic(schema, rd.components().get(i), depth + 1);
        }
        return new GenericRecord(rd, values);
    }

    private Object union(UnionDef u, String path, int depth) {
        depth(depth, path);
        expect('{', path);
        space();
        int memberAt = at;
        if (peek() != '"' || !JsonPrinter.TYPE_MEMBER.equals(string(path))) {
            at = memberAt;
            throw fail(path, "a " + u.name() + " needs \"" + JsonPrinter.TYPE_MEMBER
                + "\" as its first member");
        }
        expect(':', path);
        space();
        int nameAt = at;
        String variant = string(path);
        for (int v = 0; v < u.variants().size(); v++) {
            int def = u.variants().get(v);
            TypeDef d = schema.definitions().get(def);
            if (!d.name().equals(variant)) continue;
            if (d instanceof EnumDef en) {
                expect(',', path);
                space();
                int valueAt = at;
                if (!"value".equals(string(path))) {
                    at = valueAt;
                    throw fail(path, "expected member \"value\" after \"@type\" of an enum");
                }
                expect(':', path);
                space();
                GenericEnum g = constant(en, path);
                expect('}', path);
                return g;
            }
            space();
            if (peek() != ',' && peek() != '}') throw fail(path, "expected ',' or '}'");
            return record(def, path + "<" + variant + ">", depth + 1, true);
        }
        at = nameAt;
        throw fail(path, "unknown " + JsonPrinter.TYPE_MEMBER + " \"" + variant + "\" of "
            + u.name());
    }

    /**
     * Refuses a level (a record, a union, a non-empty collection or a present Optional) at
     * {@code depth} deeper than {@link Bin#DEPTH_MAX}: the rule of the encoders and decoders
     * (record-format.md §1), so that a value prints as JSON exactly when its JSON parses back.
     */
    private void depth(int depth, String path) {
        if (depth > Bin.DEPTH_MAX) throw fail(path, "nested deeper than " + Bin.DEPTH_MAX + " levels");
    }

    private GenericEnum constant(EnumDef en, String path) {
        int start = at;
        String name = string(path);
        if (!en.constants().contains(name)) {
            at = start;
            throw fail(path, "constant \"" + name + "\" (expected: one of " + en.constants() + ")");
        }
        return new GenericEnum(en.name(), name);
    }

    /**
     * The elements of a JSON array; for a set ({@code distinct}) an element equal to an earlier
     * one is refused, as a repeated map key or member is: the set would silently hold fewer
     * elements than the text gives.
     */
    private List<Object> array(FieldType element, String path, int depth, boolean distinct) {
        expect('[', path);
        List<Object> out = new ArrayList<>();
        Map<Object, Integer> seen = distinct ? new java.util.HashMap<>() : null;
        space();
        if (peek() == ']') {
            at++;
            return out;
        }
        depth(depth, path);
        while (true) {
            space();
            int elementAt = at;
            String elementPath = path + "[" + out.size() + "]";
            Object v = value(element, elementPath, depth + 1);
            if (seen != null) {
                // equal as the set built below finds them; byte arrays never are (a Set<byte[]> holds
                // arrays of equal content, and stores them, so its JSON must read back)
                Integer earlier = seen.putIfAbsent(v, out.size());
                if (earlier != null) {
                    at = elementAt;
                    throw fail(elementPath, "a set element given twice (also " + path + "[" + earlier + "])");
                }
            }
            out.add(v);
            space();
            char c = next(path);
            if (c == ']') return out;
            if (c != ',') {
                at--;
                throw fail(path, "expected ',' or ']'");
            }
        }
    }

    private Map<Object, Object> map(MapOf type, String path, int depth) {
        Map<Object, Object> out = new LinkedHashMap<>();
        boolean stringKeys = type.key() instanceof Scalar s && s.kind() == Kind.STRING;
        expect(stringKeys ? '{' : '[', path);
        space();
        char close = stringKeys ? '}' : ']';
        if (peek() == close) {
            at++;
            return Collections.unmodifiableMap(out);
        }
        depth(depth, path);
        while (true) {
            space();
            int keyAt = at;
            Object key;
            Object value;
            if (stringKeys) {
                key = utf8String(path);
                expect(':', path);
                value = value(type.value(), path + "{" + key + "}", depth + 1);
            } else {
                expect('[', path);
                key = value(type.key(), path + "{key}", depth + 1);
                if (key == null) throw fail(path, "null map key");
                space();
                expect(',', path);
                value = value(type.value(), path + "{" + key + "}", depth + 1);
                space();
                expect(']', path);
            }
            if (out.containsKey(key)) {
                at = keyAt;
                throw fail(path, "key " + key + " given twice");
            }
            out.put(key, value);
            space();
            char c = next(path);
            if (c == close) return Collections.unmodifiableMap(out);
            if (c != ',') {
                at--;
                throw fail(path, "expected ',' or '" + close + "'");
            }
        }
    }

    private Object scalar(Kind kind, String path) {
        int start = at;
        try {
            return switch (kind) {
                case BOOLEAN -> {
                    if (peekLiteral("true")) {
                        at += 4;
                        yield true;
                    }
                    if (peekLiteral("false")) {
                        at += 5;
                        yield false;
                    }
                    throw fail(path, "expected true or false");
                }
                case BYTE -> (byte) integer(path, Byte.MIN_VALUE, Byte.MAX_VALUE);
                case SHORT -> (short) integer(path, Short.MIN_VALUE, Short.MAX_VALUE);
                case INT -> (int) integer(path, Integer.MIN_VALUE, Integer.MAX_VALUE);
                case LONG -> integer(path, Long.MIN_VALUE, Long.MAX_VALUE);
                case FLOAT -> peek() == '"' ? (Object) Float.intBitsToFloat((int) special(path, 8))
                    : (Object) (float) floating(path, true);
                case DOUBLE -> peek() == '"' ? (Object) Double.longBitsToDouble(special(path, 16))
                    : (Object) floating(path, false);
                case CHAR -> {
                    String s = string(path);
                    if (s.length() != 1) {
                        at = start;
                        throw fail(path, "expected a string of one character");
                    }
                    yield s.charAt(0);
                }
                case STRING -> utf8String(path);
                case BYTES -> Base64.getDecoder().decode(string(path));
                case UUID -> UUID.fromString(string(path));
                case INSTANT -> Instant.parse(string(path));
                case LOCAL_DATE -> LocalDate.parse(string(path));
                case BIG_DECIMAL -> new BigDecimal(number(path));
                case KEY -> Key.parse(string(path));
            };
        } catch (DateTimeParseException | NumberFormatException e) {
            at = start;
            throw fail(path, "not a " + kind + " value: " + e.getMessage());
        } catch (IllegalArgumentException e) {
            if (e == failed) throw e;
            at = start;
            throw fail(path, "not a " + kind + " value: " + e.getMessage());
        }
    }

    /**
     * The bits of a float ({@code hexDigits} 8) or double (16) written as a string (record-format.md
     * §7): {@code "NaN"}, {@code "Infinity"}, {@code "-Infinity"}, or {@code "NaN:"} and the
     * lowercase hex bits of a NaN other than the canonical one (its payload kept).
     */
    private long special(String path, int hexDigits) {
        int start = at;
        String s = string(path);
        boolean isFloat = hexDigits == 8;
        switch (s) {
            case "NaN" -> {
                return isFloat ? JsonPrinter.CANONICAL_FLOAT_NAN : JsonPrinter.CANONICAL_DOUBLE_NAN;
            }
            case "Infinity" -> {
                return isFloat ? Float.floatToRawIntBits(Float.POSITIVE_INFINITY)
                    : Double.doubleToRawLongBits(Double.POSITIVE_INFINITY);
            }
            case "-Infinity" -> {
                return isFloat ? Float.floatToRawIntBits(Float.NEGATIVE_INFINITY)
                    : Double.doubleToRawLongBits(Double.NEGATIVE_INFINITY);
            }
            default -> { }
        }
        String hex = s.startsWith(JsonPrinter.NAN_BITS) ? s.substring(JsonPrinter.NAN_BITS.length()) : "";
        boolean lowerHex = hex.length() == hexDigits && hex.chars().allMatch(c -> c >= '0' && c <= '9' || c >= 'a' && c <= 'f');
        if (lowerHex) {
            long bits = Long.parseUnsignedLong(hex, 16);
            boolean nan = isFloat ? Float.isNaN(Float.intBitsToFloat((int) bits)) : Double.isNaN(Double.longBitsToDouble(bits));
            boolean canonical = bits == (isFloat ? JsonPrinter.CANONICAL_FLOAT_NAN : JsonPrinter.CANONICAL_DOUBLE_NAN);
            if (nan && !canonical) return bits;
        }
        at = start;
        throw fail(path, "expected a number, or \"NaN\", \"Infinity\", \"-Infinity\", or \"NaN:\" and the " + hexDigits
            + " lowercase hex digits of a NaN other than the canonical one (written \"NaN\")");
    }

    private long integer(String path, long min, long max) {
        int start = at;
        String n = number(path);
        long v;
        try {
            v = Long.parseLong(n);
        } catch (NumberFormatException e) {
            at = start;
            throw fail(path, "expected an integer, got " + n);
        }
        if (v < min || v > max) {
            at = start;
            throw fail(path, "integer " + n + " out of range [" + min + ", " + max + "]");
        }
        return v;
    }

    /**
     * A JSON number as a float ({@code isFloat}) or double. Rounding to the nearest is the
     * type's own precision, but a magnitude it cannot hold is refused as an integer out of
     * range is (record-format.md §7): a finite number that rounds to infinity, a non-zero one
     * that rounds to zero. Infinities are written as strings ({@link #special}).
     */
    private double floating(String path, boolean isFloat) {
        int start = at;
        String n = number(path);
        double v = isFloat ? Float.parseFloat(n) : Double.parseDouble(n);
        String type = isFloat ? "float" : "double";
        if (Double.isInfinite(v)) {
            at = start;
            throw fail(path, type + " " + n + " out of range: its magnitude is above " + (isFloat ? String.valueOf(Float.MAX_VALUE)
                : String.valueOf(Double.MAX_VALUE)) + ", the largest finite " + type + " (an infinity is written \"Infinity\" or"
                + " \"-Infinity\")");
        }
        if (v == 0 && nonZeroDigit(n)) {
            at = start;
            throw fail(path, type + " " + n + " out of range: not zero, but below " + (isFloat ? String.valueOf(Float.MIN_VALUE)
                : String.valueOf(Double.MIN_VALUE)) + ", the smallest non-zero " + type + ", it would read as 0.0");
        }
        return v;
    }

    /** Whether the digits of a JSON number before its exponent hold one other than 0. */
    private static boolean nonZeroDigit(String number) {
        for (int i = 0; i < number.length(); i++) {
            char c = number.charAt(i);
            if (c == 'e' || c == 'E') return false;
            if (c >= '1' && c <= '9') return true;
        }
        return false;
    }

    /** The text of a JSON number (RFC 8259 grammar). */
    private String number(String path) {
        int start = at;
        if (peek() == '-') at++;
        if (peek() == '0') {
            at++;
        } else if (digit(peek())) {
            while (digit(peek())) at++;
        } else {
            at = start;
            throw fail(path, "expected a number");
        }
        if (peek() == '.') {
            at++;
            if (!digit(peek())) throw fail(path, "expected a digit after '.'");
            while (digit(peek())) at++;
        }
        if (peek() == 'e' || peek() == 'E') {
            at++;
            if (peek() == '+' || peek() == '-') at++;
            if (!digit(peek())) throw fail(path, "expected a digit in the exponent");
            while (digit(peek())) at++;
        }
        return text.substring(start, at);
    }

    private static boolean digit(char c) {
        return c >= '0' && c <= '9';
    }

    /**
     * A string that is stored as UTF-8 (a String component, a map key): one with an unpaired
     * surrogate has no UTF-8 form and is refused here, where line and column are known. (A
     * char component may be a lone surrogate: it is stored as 16 bits.)
     */
    private String utf8String(String path) {
        int start = at;
        String s = string(path);
        int lone = Text.unpairedSurrogate(s);
        if (lone >= 0) {
            at = start;
            throw fail(path, "string with an unpaired surrogate at index " + lone + " (UTF-8 cannot hold it)");
        }
        return s;
    }

    private String string(String path) {
        space();
        if (peek() != '"') throw fail(path, "expected a string");
        at++;
        StringBuilder b = null;
        int runStart = at;
        while (true) {
            if (at >= text.length()) throw fail(path, "unterminated string");
            char c = text.charAt(at);
            if (c == '"') {
                String s = b == null ? text.substring(runStart, at) : b.append(text, runStart,
                    at).toString();
                at++;
                return s;
            }
            if (c < 0x20) throw fail(path, "control character in a string (expected: an escape)");
            if (c != '\\') {
                at++;
                continue;
            }
            if (b == null) b = new StringBuilder();
            b.append(text, runStart, at);
            at++;
            if (at >= text.length()) throw fail(path, "unterminated escape");
            char e = text.charAt(at++);
            switch (e) {
                case '"', '\\', '/' -> b.append(e);
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'u' -> {
                    if (text.length() - at < 4) throw fail(path, "truncated \\u escape");
                    int v = 0;
                    for (int i = 0; i < 4; i++) {
                        int d = Character.digit(text.charAt(at++), 16);
                        if (d < 0) throw fail(path, "bad hex digit in a \\u escape");
                        v = v * 16 + d;
                    }
                    b.append((char) v);
                }
                default -> {
                    at--;
                    throw fail(path, "unknown escape \\" + e);
                }
            }
            runStart = at;
        }
    }

    private void expect(char c, String path) {
        space();
        if (peek() != c) throw fail(path, "expected '" + c + "'");
        at++;
    }

    private char next(String path) {
        if (at >= text.length()) throw fail(path, "unexpected end of text");
        return text.charAt(at++);
    }

    private char peek() {
        return at < text.length() ? text.charAt(at) : '\0';
    }

    private boolean peekLiteral(String literal) {
        return text.startsWith(literal, at);
    }

    private void space() {
        while (at < text.length()) {
            char c = text.charAt(at);
            if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return;
            at++;
        }
    }

    private static String names(RecordDef rd) {
        List<String> names = new ArrayList<>();
        for (Component c : rd.components()) names.add(c.name());
        return names.toString();
    }

    private IllegalArgumentException fail(String path, String what) {
        String place = origin != null ? origin.place(text, at) : "JSON " + JsonOrigin.at(1, 1).place(text, at);
        // a text built from a file's values (a SQL row) is the file's in parts only: quote no more
        int quotable = origin != null ? origin.quotableEnd(at) : Integer.MAX_VALUE;
        String found = quotable <= at ? "" : at >= text.length() ? " (found end of text)" : " (found '"
            + text.substring(at, Math.min(Math.min(text.length(), quotable), at + 12)) + "')";
        failed = new IllegalArgumentException(place + " at " + path + ": " + what + found);
        return failed;
    }
}
