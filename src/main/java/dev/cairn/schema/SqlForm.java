package dev.cairn.schema;

import dev.cairn.schema.FieldType.Kind;
import dev.cairn.schema.FieldType.OptionalOf;
import dev.cairn.schema.FieldType.Ref;
import dev.cairn.schema.FieldType.Scalar;
import dev.cairn.schema.TypeDef.EnumDef;
import dev.cairn.schema.TypeDef.RecordDef;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/**
 * A tree as SQL text (record-format.md §10): a {@code CREATE TABLE} derived from the tree's latest
 * schema and one {@code INSERT} per record, and back from that text to records (as JSON, which
 * {@link JsonForm#fromJson} encodes).
 *
 * <ul>
 *   <li>Columns: {@code id} and {@code revision} (the primary key), then one column per top-level
 *       component in schema order. Scalars, enums and {@code Optional}s of them get SQL types;
 *       every other component (nested records, collections, maps, sealed types) is a
 *       {@code VARCHAR} holding the component's JSON text, so nothing is lost.
 *   <li>Records written by older schema versions are converted to the latest one first (missing
 *       components read as their defaults).
 *   <li>The round trip text → records is exact for every type: numbers as written, byte[] as
 *       {@code X'hex'}, times and ids as ISO/UUID text.
 * </ul>
 */
public final class SqlForm {
    private SqlForm() { }

    /** One row read back: the key columns and the record as JSON text. */
    public record Row(int id, int revision, String json) { }

    /** The {@code CREATE TABLE} statement for {@code schema}'s root record. */
    public static String createTable(String table, Schema schema) {
        StringBuilder sql = new StringBuilder("CREATE TABLE ").append(identifier(table))
            .append(" (\n  \"id\" INTEGER NOT NULL,\n  \"revision\" INTEGER NOT NULL");
        for (Component c : root(schema).components()) {
            sql.append(",\n  ").append(identifier(c.name())).append(' ').append(sqlType(schema, c.type()));
            if (FieldType.isFixed(c.type())) sql.append(" NOT NULL");
        }
        return sql.append(",\n  PRIMARY KEY (\"id\", \"revision\")\n);").toString();
    }

    /** The {@code INSERT} statement of one stored record, converted to the latest schema. */
    public static String insert(String table, int id, int revision, MemorySegment bytes, SchemaVersions versions) {
        Schema latest = versions.latest();
        GenericRecord record = JsonForm.parse(JsonForm.toJson(bytes, versions), latest);
        StringBuilder sql = new StringBuilder("INSERT INTO ").append(identifier(table)).append(" (\"id\", \"revision\"");
        for (Component c : root(latest).components()) sql.append(", ").append(identifier(c.name()));
        sql.append(") VALUES (").append(id).append(", ").append(revision);
        for (Component c : root(latest).components()) {
            sql.append(", ");
            literal(latest, c.type(), record.get(c.name()), sql);
        }
        return sql.append(");").toString();
    }

    /**
     * Reads back every {@code INSERT INTO table} statement of {@code sql} (other statements, such
     * as the {@code CREATE TABLE}, are skipped) as JSON records of {@code schema}.
     *
     * @throws IllegalArgumentException naming the statement, line and column when the text is
     *     not of the form {@link #insert} writes, or a column is not a component of the schema
     */
    public static List<Row> parseInserts(String sql, String table, Schema schema) {
        List<Row> rows = new ArrayList<>();
        SqlReader reader = new SqlReader(sql);
        while (reader.skipToInsert()) {
            String into = reader.identifierOrWord();
            if (!into.equals(table)) {
                throw reader.fail("INSERT INTO " + into + " (expected: table " + table + ")");
            }
            List<String> columns = reader.columnList();
            reader.keyword("VALUES");
            do {
                rows.add(row(reader, columns, schema));
            } while (reader.comma());
            reader.statementEnd();
        }
        return rows;
    }

    private static Row row(SqlReader reader, List<String> columns, Schema schema) {
        List<SqlReader.Literal> values = reader.valueList();
        if (values.size() != columns.size()) {
            throw reader.fail(values.size() + " values for " + columns.size() + " columns");
        }
        int id = -1;
        int revision = -1;
        StringBuilder json = new StringBuilder("{");
        RecordDef root = root(schema);
        for (int i = 0; i < columns.size(); i++) {
            String column = columns.get(i);
            SqlReader.Literal v = values.get(i);
            switch (column) {
                case "id" -> id = v.intValue(reader, column);
                case "revision" -> revision = v.intValue(reader, column);
                default -> {
                    int index = root.indexOf(column);
                    if (index < 0) throw reader.fail("column " + column + " is no component of " + root.name());
                    if (json.length() > 1) json.append(',');
                    JsonPrinter.quote(column, json);
                    json.append(':');
                    jsonValue(schema, root.components().get(index).type(), v, json);
                }
            }
        }
        if (id < 0 || revision < 0) throw reader.fail("row without id and revision columns");
        return new Row(id, revision, json.append('}').toString());
    }

    // ---------------------------------------------------------------- types and literals

    private static RecordDef root(Schema schema) {
        return (RecordDef) schema.definition(Schema.ROOT);
    }

    private static String sqlType(Schema schema, FieldType type) {
        return switch (type) {
            case Scalar s -> scalarType(s.kind());
            case OptionalOf o when o.element() instanceof Scalar s -> scalarType(s.kind());
            case Ref r when schema.definition(r) instanceof EnumDef -> "VARCHAR(255)";
            default -> "VARCHAR(65535)";
        };
    }

    private static String scalarType(Kind kind) {
        return switch (kind) {
            case BOOLEAN -> "BOOLEAN";
            case BYTE, SHORT -> "SMALLINT";
            case INT -> "INTEGER";
            case LONG -> "BIGINT";
            case FLOAT -> "REAL";
            case DOUBLE -> "DOUBLE PRECISION";
            case CHAR -> "CHAR(1)";
            case STRING -> "VARCHAR(65535)";
            case BYTES -> "VARBINARY(65535)";
            case UUID -> "CHAR(36)";
            case INSTANT -> "VARCHAR(40)";
            case LOCAL_DATE -> "DATE";
            case BIG_DECIMAL -> "DECIMAL";
            case KEY -> "VARCHAR(300)";
        };
    }

    /** Whether a column of this type holds the component's JSON text. */
    private static boolean jsonColumn(Schema schema, FieldType type) {
        return switch (type) {
            case Scalar s -> false;
            case OptionalOf o -> !(o.element() instanceof Scalar);
            case Ref r -> !(schema.definition(r) instanceof EnumDef);
            default -> true;
        };
    }

    private static void literal(Schema schema, FieldType type, Object value, StringBuilder sql) {
        if (type instanceof OptionalOf o && o.element() instanceof Scalar) {
            java.util.Optional<?> opt = (java.util.Optional<?>) value;
            value = opt == null ? null : opt.orElse(null);
        }
        if (value == null) {
            sql.append("NULL");
        } else if (jsonColumn(schema, type)) {
            quote(JsonPrinter.print(schema, type, value, false), sql);
        } else {
            switch (value) {
                case Boolean b -> sql.append(b ? "TRUE" : "FALSE");
                case Float f when Float.isFinite(f) -> sql.append(f);
                case Double d when Double.isFinite(d) -> sql.append(d);
                case Byte b -> sql.append(b);
                case Short s -> sql.append(s);
                case Integer i -> sql.append(i);
                case Long l -> sql.append(l);
                case java.math.BigDecimal d -> sql.append(d);
                case byte[] bytes -> sql.append("X'").append(HexFormat.of().formatHex(bytes)).append('\'');
                case java.time.LocalDate date -> quote(date.toString(), sql.append("DATE "));
                case GenericEnum e -> quote(e.constant(), sql);
                default -> quote(value.toString(), sql);
            }
        }
    }

    private static void jsonValue(Schema schema, FieldType type, SqlReader.Literal v, StringBuilder json) {
        if (v.kind() == SqlReader.LiteralKind.NULL) {
            json.append("null");
            return;
        }
        if (jsonColumn(schema, type)) {
            json.append(v.text());
            return;
        }
        Kind kind = type instanceof Scalar s ? s.kind()
            : type instanceof OptionalOf o && o.element() instanceof Scalar s ? s.kind() : Kind.STRING;
        switch (v.kind()) {
            case NUMBER, BOOLEAN -> json.append(v.text());
            case BINARY -> JsonPrinter.quote(Base64.getEncoder().encodeToString(HexFormat.of().parseHex(v.text())), json);
            case STRING -> {
                if (kind == Kind.BIG_DECIMAL || kind.primitive() && kind != Kind.CHAR && kind != Kind.BOOLEAN
                    && !v.text().matches("-?(NaN|Infinity)")) {
                    json.append(v.text());
                } else {
                    JsonPrinter.quote(v.text(), json);
                }
            }
            case NULL -> json.append("null");
        }
    }

    private static String identifier(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    private static void quote(String text, StringBuilder sql) {
        sql.append('\'').append(text.replace("'", "''")).append('\'');
    }
}
