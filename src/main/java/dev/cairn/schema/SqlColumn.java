package dev.cairn.schema;

import dev.cairn.schema.FieldType.Kind;
import dev.cairn.schema.FieldType.OptionalOf;
import dev.cairn.schema.FieldType.Ref;
import dev.cairn.schema.FieldType.Scalar;
import dev.cairn.schema.TypeDef.EnumDef;
import dev.cairn.schema.TypeDef.RecordDef;
import java.lang.foreign.MemorySegment;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * One column of a tree's SQL table (record-format.md §10): how a top-level component of the
 * latest schema maps to a SQL type and to a plain Java value. The SQL text form ({@link SqlForm})
 * and the JDBC transfer both go through this one mapping, so they write the same table.
 *
 * <p>Column values are {@code Boolean}, {@code Short}, {@code Integer}, {@code Long},
 * {@code Float}, {@code Double}, {@code String}, {@code byte[]}, {@link LocalDate},
 * {@link BigDecimal}, or null for SQL {@code NULL} ({@link Type#javaType}).
 */
public record SqlColumn(String name, SqlColumn.Type type, boolean notNull, List<String> formerNames) {
    public SqlColumn {
        formerNames = List.copyOf(formerNames);
    }

    private static final java.util.regex.Pattern JSON_NUMBER =
        java.util.regex.Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?");

    /** A value that is JSON text already (a number as SQL text gives it), put into the record as it is. */
    public record JsonText(String json) { }

    /** The SQL type of a column and the Java type of its values. */
    public enum Type {
        BOOLEAN("BOOLEAN", Boolean.class),
        SMALLINT("SMALLINT", Short.class),
        INTEGER("INTEGER", Integer.class),
        BIGINT("BIGINT", Long.class),
        REAL("REAL", Float.class),
        DOUBLE("DOUBLE PRECISION", Double.class),
        CHAR("CHAR(1)", String.class),
        VARCHAR("VARCHAR(65535)", String.class),
        VARBINARY("VARBINARY(65535)", byte[].class),
        UUID("CHAR(36)", String.class),
        INSTANT("VARCHAR(40)", String.class),
        DATE("DATE", LocalDate.class),
        DECIMAL("DECIMAL", BigDecimal.class),
        KEY("VARCHAR(300)", String.class),
        ENUM("VARCHAR(255)", String.class),
        /** A nested record, sealed type, collection or optional of those: its JSON text (§7). */
        JSON("VARCHAR(65535)", String.class);

        private final String sql;
        private final Class<?> javaType;

        Type(String sql, Class<?> javaType) {
            this.sql = sql;
            this.javaType = javaType;
        }

        /** As {@code CREATE TABLE} declares it. */
        public String sql() {
            return sql;
        }

        public Class<?> javaType() {
            return javaType;
        }

        private boolean numeric() {
            return this == SMALLINT || this == INTEGER || this == BIGINT || this == REAL || this == DOUBLE
                || this == DECIMAL;
        }
    }

    /** The columns of {@code schema}'s root record, in schema order (without {@code id} and {@code revision}). */
    public static List<SqlColumn> of(Schema schema) {
        List<SqlColumn> columns = new ArrayList<>();
        for (Component c : root(schema).components()) {
            if (c.name().equalsIgnoreCase("id") || c.name().equalsIgnoreCase("revision")) {
                // Two columns of one name: a table no database takes, and rows that do not read back.
                throw new IllegalArgumentException("record " + root(schema).name() + " has a component named '" + c.name()
                    + "', the name of a key column of its SQL table (\"id\", \"revision\"; record-format.md §10): "
                    + "the SQL form cannot hold it (expected: JSON lines, or rename the component with @FormerNames)");
            }
            columns.add(new SqlColumn(c.name(), typeOf(schema, c.type()), FieldType.isFixed(c.type()), c.formerNames()));
        }
        return List.copyOf(columns);
    }

    /**
     * The column of {@code columns} named {@code name}, or else the one of the component that had
     * that name ({@code @FormerNames}: a table exported before a rename), or null.
     */
    public static SqlColumn named(List<SqlColumn> columns, String name) {
        for (SqlColumn c : columns) {
            if (c.name().equals(name)) return c;
        }
        for (SqlColumn c : columns) {
            if (c.formerNames().contains(name)) return c;
        }
        return null;
    }

    /**
     * The column values of one stored record, converted to {@code schema} (one of {@code
     * versions}) first by the evolution rules ({@link GenericRecord#decodeAs}), in the order of
     * {@link #of}.
     *
     * @throws IllegalArgumentException naming the component, for a char that is an unpaired surrogate
     */
    public static List<Object> values(MemorySegment bytes, SchemaVersions versions, Schema schema) {
        GenericRecord record = GenericRecord.decodeAs(bytes, versions, schema);
        List<Object> values = new ArrayList<>();
        for (Component c : root(schema).components()) {
            Type type = typeOf(schema, c.type());
            Object value = value(schema, c.type(), type, record.get(c.name()));
            if (type == Type.CHAR && value instanceof String s && Character.isSurrogate(s.charAt(0))) {
                // Only a char holds one (a String with one is refused on insert, record-format.md §1); no
                // UTF-8 text holds it, and a database's CHAR(1) column holds characters: written, it
                // came back as '?', so it is refused, as a value a schema version cannot hold is.
                throw new IllegalArgumentException(String.format("component %s holds the char U+%04X, an unpaired"
                    + " surrogate (half of a character beyond U+FFFF), which neither SQL text (UTF-8) nor a CHAR(1)"
                    + " column holds (record-format.md §10)", c.name(), (int) s.charAt(0)));
            }
            values.add(value);
        }
        return values;
    }

    /**
     * A row read back as a JSON record: {@code columns.get(i)} holds {@code values.get(i)}, a
     * value of its type's {@link Type#javaType} (or, from SQL text, a {@link JsonText} number, or a
     * {@code String} holding a number for a numeric column). Columns left out take their defaults when the JSON is encoded.
     */
    public static String json(List<SqlColumn> columns, List<Object> values) {
        return json(columns, values, new int[columns.size()], new int[columns.size()]);
    }

    /** As {@link #json(List, List)}, setting {@code valueStarts[i]} and {@code valueEnds[i]} to where column i's value is in the JSON. */
    static String json(List<SqlColumn> columns, List<Object> values, int[] valueStarts, int[] valueEnds) {
        StringBuilder json = new StringBuilder("{");
        for (int i = 0; i < columns.size(); i++) {
            if (i > 0) json.append(',');
            JsonPrinter.quote(columns.get(i).name(), json);
            json.append(':');
            valueStarts[i] = json.length();
            jsonValue(columns.get(i).type(), values.get(i), json);
            valueEnds[i] = json.length();
        }
        return json.append('}').toString();
    }

    /** One column value as JSON (§7), as {@link #json(List, List)} writes it into the record. */
    public static String json(Type type, Object value) {
        StringBuilder json = new StringBuilder();
        jsonValue(type, value, json);
        return json.toString();
    }

    /**
     * Why a row may not hold column {@code name} of {@code column} after {@code earlier}, of the same
     * component: the same name twice, or two of its names ({@code @FormerNames}).
     */
    public static String twice(String earlier, String name, SqlColumn column) {
        return earlier.equals(name) ? "column " + name + " given twice"
            : "columns " + earlier + " and " + name + " name one component, " + column.name() + " (by @FormerNames)";
    }

    /** The name of {@code schema}'s root record, the record each row holds. */
    public static String recordName(Schema schema) {
        return root(schema).name();
    }

    static RecordDef root(Schema schema) {
        return (RecordDef) schema.definition(Schema.ROOT);
    }

    private static Type typeOf(Schema schema, FieldType type) {
        return switch (type) {
            case Scalar s -> scalarType(s.kind());
            case OptionalOf o when o.element() instanceof Scalar s -> scalarType(s.kind());
            case Ref r when schema.definition(r) instanceof EnumDef -> Type.ENUM;
            default -> Type.JSON;
        };
    }

    private static Type scalarType(Kind kind) {
        return switch (kind) {
            case BOOLEAN -> Type.BOOLEAN;
            case BYTE, SHORT -> Type.SMALLINT;
            case INT -> Type.INTEGER;
            case LONG -> Type.BIGINT;
            case FLOAT -> Type.REAL;
            case DOUBLE -> Type.DOUBLE;
            case CHAR -> Type.CHAR;
            case STRING -> Type.VARCHAR;
            case BYTES -> Type.VARBINARY;
            case UUID -> Type.UUID;
            case INSTANT -> Type.INSTANT;
            case LOCAL_DATE -> Type.DATE;
            case BIG_DECIMAL -> Type.DECIMAL;
            case KEY -> Type.KEY;
        };
    }

    /** A component value of a {@link GenericRecord} as the column's Java value. */
    private static Object value(Schema schema, FieldType component, Type column, Object value) {
        if (component instanceof OptionalOf o && o.element() instanceof Scalar) {
            java.util.Optional<?> opt = (java.util.Optional<?>) value;
            value = opt == null ? null : opt.orElse(null);
        }
        if (value == null) return null;
        return switch (column) {
            case JSON -> JsonPrinter.print(schema, component, value, false);
            case SMALLINT -> ((Number) value).shortValue();
            case ENUM -> ((GenericEnum) value).constant();
            case CHAR, VARCHAR, UUID, INSTANT, KEY -> value.toString();
            case BOOLEAN, INTEGER, BIGINT, REAL, DOUBLE, VARBINARY, DATE, DECIMAL -> value;
        };
    }

    private static void jsonValue(Type type, Object value, StringBuilder json) {
        switch (value) {
            case null -> json.append("null");
            case JsonText t -> json.append(t.json());
            case String s when type == Type.JSON -> json.append(s);
            // a number in quotes ('5') is read as the number; 'NaN', the infinities (JSON strings, §7) and
            // any other text are quoted, so text in a numeric column cannot add members to the record
            case String s when type.numeric() && JSON_NUMBER.matcher(s).matches() -> json.append(s);
            case Float f when !Float.isFinite(f) -> JsonPrinter.quote(f.toString(), json);
            case Double d when !Double.isFinite(d) -> JsonPrinter.quote(d.toString(), json);
            case Boolean b -> json.append(b);
            case Number n -> json.append(n);
            case byte[] bytes -> JsonPrinter.quote(Base64.getEncoder().encodeToString(bytes), json);
            case String s -> JsonPrinter.quote(s, json);
            case LocalDate d -> JsonPrinter.quote(d.toString(), json);
            default -> throw new IllegalArgumentException("column value " + value + " of " + value.getClass().getName()
                + " (expected: " + type.javaType().getSimpleName() + " for SQL type " + type.sql() + ")");
        }
    }
}
