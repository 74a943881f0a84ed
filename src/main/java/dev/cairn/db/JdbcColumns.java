package dev.cairn.db;

import dev.cairn.schema.SqlColumn;
import java.math.BigDecimal;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.LocalDate;

/**
 * The JDBC side of the one SQL mapping ({@link SqlColumn}): binds a column value to a statement
 * parameter and reads it back from a result set, with the JDBC type of the column's SQL type.
 * Dates go as {@link LocalDate} (JDBC 4.2), so no time zone is involved.
 */
final class JdbcColumns {
    private JdbcColumns() { }

    static int jdbcType(SqlColumn.Type type) {
        return switch (type) {
            case BOOLEAN -> Types.BOOLEAN;
            case SMALLINT -> Types.SMALLINT;
            case INTEGER -> Types.INTEGER;
            case BIGINT -> Types.BIGINT;
            case REAL -> Types.REAL;
            case DOUBLE -> Types.DOUBLE;
            case CHAR, UUID -> Types.CHAR;
            case VARCHAR, INSTANT, KEY, ENUM, JSON -> Types.VARCHAR;
            case VARBINARY -> Types.VARBINARY;
            case DATE -> Types.DATE;
            case DECIMAL -> Types.DECIMAL;
        };
    }

    /** Sets parameter {@code index} to {@code value}, a value of {@code type}'s Java type or null. */
    static void bind(PreparedStatement p, int index, SqlColumn.Type type, Object value) throws SQLException {
        if (value == null) {
            p.setNull(index, jdbcType(type));
            return;
        }
        switch (type) {
            case BOOLEAN -> p.setBoolean(index, (Boolean) value);
            case SMALLINT -> p.setShort(index, (Short) value);
            case INTEGER -> p.setInt(index, (Integer) value);
            case BIGINT -> p.setLong(index, (Long) value);
            case REAL -> p.setFloat(index, (Float) value);
            case DOUBLE -> p.setDouble(index, (Double) value);
            case VARBINARY -> p.setBytes(index, (byte[]) value);
            case DATE -> p.setObject(index, (LocalDate) value);
            case DECIMAL -> p.setBigDecimal(index, (BigDecimal) value);
            case CHAR, VARCHAR, UUID, INSTANT, KEY, ENUM, JSON -> p.setString(index, (String) value);
        }
    }

    /** The value of column {@code index} of the current row as {@code type}'s Java type, or null for NULL. */
    static Object read(ResultSet rs, int index, SqlColumn.Type type) throws SQLException {
        Object value = switch (type) {
            case BOOLEAN -> rs.getBoolean(index);
            case SMALLINT -> rs.getShort(index);
            case INTEGER -> rs.getInt(index);
            case BIGINT -> rs.getLong(index);
            case REAL -> rs.getFloat(index);
            case DOUBLE -> rs.getDouble(index);
            case VARBINARY -> rs.getBytes(index);
            case DATE -> rs.getObject(index, LocalDate.class);
            case DECIMAL -> rs.getBigDecimal(index);
            case CHAR, VARCHAR, UUID, INSTANT, KEY, ENUM, JSON -> rs.getString(index);
        };
        return rs.wasNull() ? null : value;
    }
}
