package dev.cairn.db;

import dev.cairn.schema.SqlColumn;
import dev.cairn.schema.SqlForm;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The rows of a tree's table in a JDBC database, one at a time in key order ({@code id}, then
 * {@code revision}), with each column read as the {@link SqlColumn} of the same name. Columns of
 * the tree's schema missing from the table are left out of the rows (they read as defaults);
 * a column that is no component of the schema is refused.
 */
final class TableRows implements AutoCloseable {
    private final Statement statement;
    private final ResultSet rs;
    private final int idIndex;
    private final int revisionIndex;
    private final List<SqlColumn> columns = new ArrayList<>();
    private final List<Integer> indexes = new ArrayList<>();

    private TableRows(Statement statement, ResultSet rs, String table, List<SqlColumn> all, String record)
            throws SQLException {
        this.statement = statement;
        this.rs = rs;
        ResultSetMetaData meta = rs.getMetaData();
        int id = -1;
        int revision = -1;
        for (int i = 1; i <= meta.getColumnCount(); i++) {
            String name = meta.getColumnLabel(i);
            switch (name) {
                case "id" -> id = i;
                case "revision" -> revision = i;
                default -> {
                    SqlColumn column = SqlColumn.named(all, name);
                    if (column == null) {
                        throw new IllegalArgumentException("table " + table + ": column " + name + " is no component of "
                            + record + " (expected: id, revision and components of " + record + ")");
                    }
                    int earlier = columns.indexOf(column);
                    if (earlier >= 0) {
                        String earlierName = meta.getColumnLabel(indexes.get(earlier));
                        throw new IllegalArgumentException("table " + table + ": " + SqlColumn.twice(earlierName, name, column));
                    }
                    columns.add(column);
                    indexes.add(i);
                }
            }
        }
        if (id < 0 || revision < 0) {
            throw new IllegalArgumentException("table " + table + " has no column " + (id < 0 ? "id" : "revision")
                + " (expected: the columns export writes, \"id\" and \"revision\" first)");
        }
        this.idIndex = id;
        this.revisionIndex = revision;
    }

    /** Selects every row of {@code table}; {@code record} names the schema's root record in errors. */
    static TableRows select(Connection c, String table, List<SqlColumn> all, String record) throws SQLException {
        Statement statement = c.createStatement();
        try {
            ResultSet rs = statement.executeQuery("SELECT * FROM " + SqlForm.identifier(table) + " ORDER BY "
                + SqlForm.identifier("id") + ", " + SqlForm.identifier("revision"));
            return new TableRows(statement, rs, table, all, record);
        } catch (SQLException | RuntimeException e) {
            try {
                statement.close();
            } catch (SQLException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    boolean next() throws SQLException {
        return rs.next();
    }

    int id() throws SQLException {
        return rs.getInt(idIndex);
    }

    int revision() throws SQLException {
        return rs.getInt(revisionIndex);
    }

    /** The columns of the table that are components, in the table's order. */
    List<SqlColumn> columns() {
        return columns;
    }

    /** The current row's values of {@link #columns}. */
    List<Object> values() throws SQLException {
        List<Object> values = new ArrayList<>(columns.size());
        for (int i = 0; i < columns.size(); i++) values.add(JdbcColumns.read(rs, indexes.get(i), columns.get(i).type()));
        return values;
    }

    @Override
    public void close() throws SQLException {
        try (statement) {
            rs.close();
        }
    }
}
