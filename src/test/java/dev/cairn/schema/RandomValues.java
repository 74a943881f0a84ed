package dev.cairn.schema;

import dev.cairn.Key;
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
import java.lang.reflect.Constructor;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;

/**
 * Test helper: random values of any supported record class (by reflection) or any schema type
 * (class-free).
 */
final class RandomValues {
    private static final int DEPTH_MAX = 4;
    private final Random rnd;

    RandomValues(long seed) {
        this.rnd = new Random(seed);
    }

    // ---------------------------------------------------------------- typed

    @SuppressWarnings("unchecked")
    <V extends Record> V record(Class<V> type) {
        return (V) typed(type, 0);
    }

    /**
     * A record that has a SQL form: one whose top-level char (or Optional of one), a column of its
     * own, holds an unpaired surrogate has none (record-format.md §10) and is drawn again.
     */
    <V extends Record> V recordWithSqlForm(Class<V> type) {
        while (true) {
            V r = record(type);
            if (!loneSurrogateColumn(r)) return r;
        }
    }

    private static boolean loneSurrogateColumn(Record r) {
        try {
            for (java.lang.reflect.RecordComponent c : r.getClass().getRecordComponents()) {
                Object v = c.getAccessor().invoke(r);
                if (v instanceof java.util.Optional<?> o) v = o.orElse(null);
                if (v instanceof Character ch && Character.isSurrogate(ch)) return true;
            }
            return false;
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private Object typed(Type type, int depth) {
        if (type instanceof ParameterizedType p) {
            Class<?> raw = (Class<?>) p.getRawType();
            Type[] args = p.getActualTypeArguments();
            int n = depth >= DEPTH_MAX ? 0 : rnd.nextInt(4);
            if (raw == List.class) {
                List<Object> out = new ArrayList<>();
                for (int i = 0; i < n; i++) out.add(nullable(args[0], depth + 1));
                return out;
            }
            if (raw == Set.class) {
                Set<Object> out = new HashSet<>();
                for (int i = 0; i < n; i++) out.add(nullable(args[0], depth + 1));
                return out;
            }
            if (raw == Map.class) {
                Map<Object, Object> out = new HashMap<>();
                for (int i = 0; i < n; i++) {
                    Object k = typed(args[0], depth + 1);
                    if (k != null) out.put(k, nullable(args[1], depth + 1));
                }
                return out;
            }
            if (raw == Optional.class) return rnd.nextBoolean() ? Optional.empty()
                : Optional.ofNullable(typed(args[0], depth + 1));
            if (raw == Key.class) {
                // A Key<T> of a record class takes keys of T's tree only (record-format.md §2).
                Key<?> k = key();
                return args[0] instanceof Class<?> t && t.isRecord() ? new Key<>(Schema.treeNameOf(t), k.id(), k.revision()) : k;
            }
            throw new AssertionError(type);
        }
        Class<?> c = (Class<?>) type;
        if (c.isPrimitive() || c == String.class || c == byte[].class || c == UUID.class
            || c == Instant.class
            || c == LocalDate.class || c == BigDecimal.class || c == Key.class
            || Number.class.isAssignableFrom(c)
            || c == Boolean.class || c == Character.class) {
            return scalar(kindOf(c));
        }
        if (c.isEnum()) return c.getEnumConstants()[rnd.nextInt(c.getEnumConstants().length)];
        if (c.isSealed()) {
            Class<?>[] permitted = c.getPermittedSubclasses();
            return typed(permitted[rnd.nextInt(permitted.length)], depth);
        }
        if (c.isRecord()) {
            RecordComponent[] rcs = c.getRecordComponents();
            Object[] args = new Object[rcs.length];
            Class<?>[] params = new Class<?>[rcs.length];
            for (int i = 0; i < rcs.length; i++) {
                params[i] = rcs[i].getType();
                args[i] = params[i].isPrimitive() ? typed(params[i], depth + 1)
                    : nullable(rcs[i].getGenericType(), depth + 1);
            }
            try {
                Constructor<?> ctor = c.getDeclaredConstructor(params);
                ctor.setAccessible(true);
                return ctor.newInstance(args);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
        throw new AssertionError(type);
    }

    private Object nullable(Type type, int depth) {
        boolean optional = type instanceof ParameterizedType p && p.getRawType() == Optional.class;
        if (!optional && rnd.nextInt(10) == 0) return null;
        if (depth >= DEPTH_MAX && type instanceof Class<?> c && (c.isRecord()
            || c.isSealed())) return null;
        return typed(type, depth);
    }

    private static Kind kindOf(Class<?> c) {
        if (c == boolean.class || c == Boolean.class) return Kind.BOOLEAN;
        if (c == byte.class || c == Byte.class) return Kind.BYTE;
        if (c == short.class || c == Short.class) return Kind.SHORT;
        if (c == char.class || c == Character.class) return Kind.CHAR;
        if (c == int.class || c == Integer.class) return Kind.INT;
        if (c == long.class || c == Long.class) return Kind.LONG;
        if (c == float.class || c == Float.class) return Kind.FLOAT;
        if (c == double.class || c == Double.class) return Kind.DOUBLE;
        if (c == String.class) return Kind.STRING;
        if (c == byte[].class) return Kind.BYTES;
        if (c == UUID.class) return Kind.UUID;
        if (c == Instant.class) return Kind.INSTANT;
        if (c == LocalDate.class) return Kind.LOCAL_DATE;
        if (c == BigDecimal.class) return Kind.BIG_DECIMAL;
        return Kind.KEY;
    }

    Object scalar(Kind kind) {
        return switch (kind) {
            case BOOLEAN -> rnd.nextBoolean();
            case BYTE -> (byte) rnd.nextInt();
            case SHORT -> (short) rnd.nextInt();
            case CHAR -> (char) rnd.nextInt(0x10000);
            case INT -> pick(rnd.nextInt(), 0, Integer.MIN_VALUE, Integer.MAX_VALUE, -1);
            case LONG -> pick(rnd.nextLong(), 0L, Long.MIN_VALUE, Long.MAX_VALUE, (1L << 53) + 1);
            case FLOAT -> pick(rnd.nextFloat() * 1e6f - 5e5f, Float.NaN, Float.NEGATIVE_INFINITY,
                -0.0f, Float.MIN_VALUE,
                Float.intBitsToFloat(rnd.nextInt() & 0x7F7FFFFF));
            case DOUBLE -> pick(rnd.nextGaussian() * 1e9, Double.NaN, Double.POSITIVE_INFINITY,
                -0.0, Double.MAX_VALUE, 0.1);
            case STRING -> string();
            case BYTES -> {
                byte[] b = new byte[rnd.nextInt(6)];
                rnd.nextBytes(b);
                yield b;
            }
            case UUID -> new UUID(rnd.nextLong(), rnd.nextLong());
            case INSTANT -> Instant.ofEpochSecond(rnd.nextLong(Instant.MIN.getEpochSecond(),
                Instant.MAX.getEpochSecond()),
                rnd.nextInt(1_000_000_000));
            case LOCAL_DATE -> LocalDate.ofEpochDay(rnd.nextLong(LocalDate.MIN.toEpochDay(),
                LocalDate.MAX.toEpochDay()));
            case BIG_DECIMAL -> new BigDecimal(new BigInteger(rnd.nextInt(130),
                rnd).multiply(BigInteger.valueOf(
                rnd.nextBoolean() ? 1 : -1)), rnd.nextInt(41) - 20);
            case KEY -> key();
        };
    }

    @SafeVarargs
    private <T> T pick(T... choices) {
        return rnd.nextInt(3) > 0 ? choices[0] : choices[rnd.nextInt(choices.length)];
    }

    String string() {
        int n = rnd.nextInt(8);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            switch (rnd.nextInt(5)) {
                case 0 -> b.append((char) ('a' + rnd.nextInt(26)));
                case 1 -> b.append("\"\\\n\t/\u0000\r\u2028\u2029\u0085\ufeff".charAt(rnd.nextInt(11)));
                case 2 -> b.append((char) (0x80 + rnd.nextInt(0x700)));
                case 3 -> b.appendCodePoint(0x10000 + rnd.nextInt(0x10000));
                default -> {
                    char c = (char) (0x800 + rnd.nextInt(0xD000));
                    b.append(Character.isSurrogate(c) ? 'x' : c);
                }
            }
        }
        return b.toString();
    }

    private Key<?> key() {
        return new Key<>("T" + rnd.nextInt(100), rnd.nextInt(Integer.MAX_VALUE), rnd.nextInt(5));
    }

    // ---------------------------------------------------------------- class-free

    Object generic(Schema schema, FieldType type, int depth) {
        return switch (type) {
            case Scalar s -> s.boxed() && rnd.nextInt(8) == 0 ? null : scalar(s.kind());
            case ListOf l -> {
                List<Object> out = new ArrayList<>();
                int n = depth >= DEPTH_MAX ? 0 : rnd.nextInt(3);
                for (int i = 0; i < n; i++) out.add(nullableGeneric(schema, l.element(), depth
                    + 1));
                yield out;
            }
            case SetOf st -> {
                Set<Object> out = new LinkedHashSet<>();
                int n = depth >= DEPTH_MAX ? 0 : rnd.nextInt(3);
                for (int i = 0; i < n; i++) out.add(nullableGeneric(schema, st.element(), depth
                    + 1));
                yield out;
            }
            case MapOf m -> {
                Map<Object, Object> out = new LinkedHashMap<>();
                int n = depth >= DEPTH_MAX ? 0 : rnd.nextInt(3);
                for (int i = 0; i < n; i++) {
                    Object k = generic(schema, m.key(), depth + 1);
                    if (k != null) out.put(k, nullableGeneric(schema, m.value(), depth + 1));
                }
                yield out;
            }
            case OptionalOf o -> depth >= DEPTH_MAX || rnd.nextBoolean() ? Optional.empty()
                : Optional.of(nonNull(schema, o.element(), depth + 1));
            case Ref r -> switch (schema.definition(r)) {
                case RecordDef rd -> {
                    Object[] values = new Object[rd.components().size()];
                    for (int i = 0; i < values.length; i++) {
                        FieldType ct = rd.components().get(i).type();
                        values[i] = FieldType.isFixed(ct) ? generic(schema, ct, depth + 1)
                            : nullableGeneric(schema, ct, depth + 1);
                    }
                    yield new GenericRecord(rd, values);
                }
                case EnumDef en -> new GenericEnum(en.name(),
                    en.constants().get(rnd.nextInt(en.constants().size())));
                case UnionDef u -> generic(schema,
                    new Ref(u.variants().get(rnd.nextInt(u.variants().size()))), depth);
            };
        };
    }

    private Object nonNull(Schema schema, FieldType type, int depth) {
        Object v = generic(schema, type, depth);
        return v != null ? v : generic(schema, type instanceof Scalar s ? new Scalar(s.kind(),
            false) : type, depth);
    }

    private Object nullableGeneric(Schema schema, FieldType type, int depth) {
        if (rnd.nextInt(8) == 0) return type instanceof OptionalOf ? Optional.empty() : null;
        if (depth >= DEPTH_MAX && type instanceof Ref r
            && !(schema.definition(r) instanceof EnumDef)) return null;
        return generic(schema, type, depth);
    }

    // ---------------------------------------------------------------- random schemas

    /**
     * A random schema: up to 6 definitions, random components of every kind, possibly recursive.
     */
    Schema schema() {
        int records = 1 + rnd.nextInt(3);
        int enums = rnd.nextInt(2);
        int unions = rnd.nextInt(2);
        int total = records + enums + unions;
        List<TypeDef> defs = new ArrayList<>();
        for (int i = 0; i < records; i++) {
            List<Component> components = new ArrayList<>();
            int n = rnd.nextInt(6);
            for (int c = 0; c < n; c++) {
                components.add(new Component("c" + c, type(total, records, enums, 0), List.of(),
                    null));
            }
            defs.add(new RecordDef("R" + i, components));
        }
        for (int i = 0; i < enums; i++) {
            List<String> constants = new ArrayList<>();
            int n = 1 + rnd.nextInt(4);
            for (int c = 0; c < n; c++) constants.add("K" + c);
            defs.add(new EnumDef("E" + i, constants, rnd.nextInt(n + 1) - 1));
        }
        for (int i = 0; i < unions; i++) {
            List<Integer> variants = new ArrayList<>();
            for (int v = 0; v < records + enums; v++) if (rnd.nextBoolean()) variants.add(v);
            if (variants.isEmpty()) variants.add(0);
            defs.add(new UnionDef("U" + i, variants, rnd.nextInt(variants.size() + 1) - 1));
        }
        return new Schema(defs);
    }

    private FieldType scalarKey() {
        Kind kind = Kind.values()[rnd.nextInt(Kind.BYTES.ordinal())];
        return new Scalar(kind, kind.primitive());
    }

    private FieldType type(int total, int records, int enums, int depth) {
        int pick = rnd.nextInt(depth > 2 ? 6 : 10);
        return switch (pick) {
            case 0, 1, 2, 3 -> {
                Kind kind = Kind.values()[rnd.nextInt(Kind.values().length)];
                yield new Scalar(kind, depth > 0 && kind.primitive());
            }
            case 4 -> new Scalar(Kind.values()[rnd.nextInt(Kind.DOUBLE.ordinal() + 1)], true);
            case 5 -> new Ref(rnd.nextInt(total));
            case 6 -> new ListOf(type(total, records, enums, depth + 1));
            case 7 -> new SetOf(type(total, records, enums, depth + 1));
            case 8 -> {
                FieldType key = enums > 0 && rnd.nextBoolean() ? new Ref(records
                    + rnd.nextInt(enums))
                    : scalarKey();
                yield new MapOf(key, type(total, records, enums, depth + 1));
            }
            default -> {
                FieldType element = type(total, records, enums, depth + 1);
                yield element instanceof OptionalOf ? element : new OptionalOf(element);
            }
        };
    }
}
