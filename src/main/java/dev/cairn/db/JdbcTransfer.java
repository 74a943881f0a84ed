package dev.cairn.db;

import dev.cairn.JdbcException;
import dev.cairn.TransferRefusedException;
import dev.cairn.schema.Schema;
import dev.cairn.schema.SqlColumn;
import dev.cairn.schema.SqlForm;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A tree's records to a table of a JDBC database and back (record-format.md §11), in the columns
 * of {@link SqlColumn}: the table the SQL text form describes.
 */
final class JdbcTransfer {
    /** Rows per {@code executeBatch}. */
    static final int BATCH_ROWS = 500;

    /** One record as a row: its key and its column values, in {@link SqlColumn#of} order. */
    record Row(int id, int revision, List<Object> values) { }

    /** The records to export, in key order; walked twice (insert, then read back). */
    interface Records {
        void forEach(RowAction action) throws SQLException;
    }

    interface RowAction {
        void accept(Row row) throws SQLException;
    }

    private JdbcTransfer() { }

    /**
     * Writes {@code records} into {@code table} in one JDBC transaction: creates the table when
     * there is none, refuses one that holds rows unless {@code append}, inserts in batches, reads
     * every row back and compares it with what was written (a database whose column types cannot
     * hold a value, e.g. a {@code DECIMAL} of scale 0, would otherwise change it silently), then
     * commits. Any failure rolls the transaction back. The connection's auto-commit is restored.
     */
    static void export(String tree, String table, Connection c, boolean append, Schema schema, Records records) {
        String what = "export of tree " + tree + " to table " + table;
        boolean autoCommit;
        try {
            autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
        } catch (SQLException e) {
            throw failed(what, e, "nothing written");
        }
        String[] step = {"looking for the table"};
        try {
            boolean exists = tableExists(c, table);
            if (exists) {
                step[0] = "counting its rows";
                long held = rowCount(c, table);
                if (held > 0 && !append) {
                    throw new TransferRefusedException(what + ": the table holds " + held + " row" + (held == 1 ? "" : "s")
                        + " already (append to add the tree's records to them; nothing written)");
                }
            } else {
                step[0] = "creating the table";
                try (Statement s = c.createStatement()) {
                    s.executeUpdate(withoutSemicolon(SqlForm.createTable(table, schema)));
                }
            }
            insert(c, table, schema, records, step);
            step[0] = "reading the rows back";
            verify(what, c, table, schema, records);
            step[0] = "committing";
            c.commit();
        } catch (SQLException | RuntimeException e) {
            rollback(c, e);
            if (e instanceof SQLException s) throw failed(what + ", " + step[0], s, "rolled back: no row written");
            throw (RuntimeException) e;
        } finally {
            try {
                c.setAutoCommit(autoCommit);
            } catch (SQLException e) {
                // the transaction is over either way; the caller's setting could not be put back
                System.getLogger(JdbcTransfer.class.getName()).log(System.Logger.Level.WARNING,
                    "cannot restore auto-commit after " + what, e);
            }
        }
    }

    private static void insert(Connection c, String table, Schema schema, Records records, String[] step)
            throws SQLException {
        List<SqlColumn> columns = SqlColumn.of(schema);
        try (PreparedStatement p = c.prepareStatement(SqlForm.insertParameters(table, schema))) {
            List<Row> batch = new ArrayList<>(BATCH_ROWS);
            records.forEach(row -> {
                step[0] = "at row " + name(row);
                bind(p, columns, row);
                p.addBatch();
                batch.add(row);
                if (batch.size() == BATCH_ROWS) execute(c, p, columns, batch, step);
            });
            if (!batch.isEmpty()) execute(c, p, columns, batch, step);
        }
    }

    private static void bind(PreparedStatement p, List<SqlColumn> columns, Row row) throws SQLException {
        p.setInt(1, row.id());
        p.setInt(2, row.revision());
        for (int i = 0; i < columns.size(); i++) JdbcColumns.bind(p, i + 3, columns.get(i).type(), row.values().get(i));
    }

    private static String name(Row row) {
        return row.id() + "." + row.revision();
    }

    /**
     * Runs one batch. When it fails, names the row that failed: from the update counts of a
     * {@link BatchUpdateException} where the driver gives them; else (sqlite-jdbc throws a plain
     * {@link SQLException}, whose message would leave the last row added named) by rolling back
     * to a savepoint set before the batch and inserting its rows one at a time until one fails,
     * all inside the transaction that is then rolled back. A driver without savepoints gets the
     * batch's range.
     */
    private static void execute(Connection c, PreparedStatement p, List<SqlColumn> columns, List<Row> batch,
                                String[] step) throws SQLException {
        java.sql.Savepoint before = savepoint(c);
        try {
            p.executeBatch();
        } catch (SQLException e) {
            step[0] = batch.size() == 1 ? "at row " + name(batch.getFirst())
                : "in the rows " + name(batch.getFirst()) + " to " + name(batch.getLast());
            int[] counts = e instanceof BatchUpdateException b ? b.getUpdateCounts() : null;
            int failed = counts == null ? -1 : counts.length < batch.size() ? counts.length : indexOfFailed(counts);
            if (failed >= 0) {
                step[0] = "at row " + name(batch.get(failed));
            } else if (before != null && batch.size() > 1) {
                Row row = rowThatFails(c, p, columns, batch, before);
                if (row != null) step[0] = "at row " + name(row);
            }
            throw e;
        }
        batch.clear();
    }

    private static int indexOfFailed(int[] counts) {
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] == Statement.EXECUTE_FAILED) return i;
        }
        return -1;
    }

    /** A savepoint, or null where the driver has none (the failing row is then named by its batch). */
    private static java.sql.Savepoint savepoint(Connection c) {
        try {
            return c.setSavepoint();
        } catch (SQLException | UnsupportedOperationException e) {
            return null;
        }
    }

    /** The first row of {@code batch} that fails alone, after rolling back to {@code before}; null if none does. */
    private static Row rowThatFails(Connection c, PreparedStatement p, List<SqlColumn> columns, List<Row> batch,
                                    java.sql.Savepoint before) {
        try {
            c.rollback(before);
            p.clearBatch();
            for (Row row : batch) {
                bind(p, columns, row);
                try {
                    p.executeUpdate();
                } catch (SQLException e) {
                    return row;
                }
            }
        } catch (SQLException | UnsupportedOperationException e) {
            // the batch's range stays named; the transaction is rolled back either way
        }
        return null;
    }

    /** Every exported record must read back from the table as it was written. */
    private static void verify(String what, Connection c, String table, Schema schema, Records records)
            throws SQLException {
        List<SqlColumn> columns = SqlColumn.of(schema);
        try (TableRows rows = TableRows.select(c, table, columns, SqlColumn.recordName(schema))) {
            boolean[] more = {rows.next()};
            records.forEach(row -> {
                while (more[0] && compare(rows.id(), rows.revision(), row) < 0) more[0] = rows.next();
                if (!more[0] || compare(rows.id(), rows.revision(), row) != 0) {
                    throw new JdbcException(what + ": row " + row.id() + "." + row.revision() + " is not in the table when"
                        + " read back; rolled back: no row written");
                }
                List<Object> read = rows.values();
                for (int i = 0; i < rows.columns().size(); i++) {
                    SqlColumn column = rows.columns().get(i);
                    String written = SqlColumn.json(column.type(), row.values().get(columns.indexOf(column)));
                    String back = SqlColumn.json(column.type(), read.get(i));
                    if (!written.equals(back)) {
                        throw new JdbcException(what + ": row " + row.id() + "." + row.revision() + " column " + column.name()
                            + " reads back as " + back + " where " + written + " was written: the database's "
                            + column.type().sql() + " cannot hold it exactly; rolled back: no row written");
                    }
                }
            });
        }
    }

    private static int compare(int id, int revision, Row row) {
        int byId = Integer.compare(id, row.id());
        return byId != 0 ? byId : Integer.compare(revision, row.revision());
    }

    /**
     * Every row of {@code table} as a JSON record of the schema, in key order, read in one
     * statement (nothing is written to the database).
     */
    static List<SqlForm.Row> read(String tree, String table, Connection c, Schema schema) {
        List<SqlForm.Row> rows = new ArrayList<>();
        try (TableRows fromTable = TableRows.select(c, table, SqlColumn.of(schema), SqlColumn.recordName(schema))) {
            while (fromTable.next()) {
                rows.add(new SqlForm.Row(fromTable.id(), fromTable.revision(), SqlColumn.json(fromTable.columns(), fromTable.values())));
            }
        } catch (SQLException e) {
            throw failed("import of table " + table + " into tree " + tree + (rows.isEmpty() ? "" : ", after "
                + rows.size() + " rows"), e, "nothing imported");
        }
        return rows;
    }

    /** Whether the connection's catalog and schema hold a table named exactly {@code table}. */
    static boolean tableExists(Connection c, String table) throws SQLException {
        DatabaseMetaData meta = c.getMetaData();
        String escape = meta.getSearchStringEscape();
        String pattern = escape == null || escape.isEmpty() ? table
            : table.replace(escape, escape + escape).replace("_", escape + "_").replace("%", escape + "%");
        try (ResultSet tables = meta.getTables(c.getCatalog(), c.getSchema(), pattern, null)) {
            while (tables.next()) {
                if (table.equals(tables.getString("TABLE_NAME"))) return true;
            }
        }
        return false;
    }

    private static long rowCount(Connection c, String table) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + SqlForm.identifier(table))) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Drivers differ on a trailing {@code ;} in one statement; none needs it. */
    private static String withoutSemicolon(String sql) {
        return sql.endsWith(";") ? sql.substring(0, sql.length() - 1) : sql;
    }

    private static void rollback(Connection c, Exception failure) {
        try {
            c.rollback();
        } catch (SQLException e) {
            failure.addSuppressed(e);
        }
    }

    private static JdbcException failed(String what, SQLException e, String outcome) {
        Objects.requireNonNull(e);
        return new JdbcException(what + ": " + e.getMessage() + (e.getSQLState() == null ? "" : " (SQLState "
            + e.getSQLState() + ")") + "; " + outcome, e);
    }
}
