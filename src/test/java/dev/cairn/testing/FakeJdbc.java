package dev.cairn.testing;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.math.BigDecimal;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Test helper: an in-memory JDBC database of tables of rows, reached through {@link Proxy} based
 * {@link Connection}, {@link Statement}, {@link PreparedStatement}, {@link ResultSet} and
 * {@link DatabaseMetaData}. It understands only the statements Cairn's JDBC transfer sends
 * (the {@code CREATE TABLE} of the SQL form, a parameterized {@code INSERT}, {@code SELECT
 * COUNT(*)} and {@code SELECT *}), keeps values as the Java objects bound, and fails loudly
 * (UnsupportedOperationException) on any other call, so a test sees everything the code uses.
 */
public final class FakeJdbc {
    /** Rows of one table: column names, then one value list per row. */
    public record Table(List<String> columns, List<List<Object>> rows) {
        Table copy() {
            List<List<Object>> copied = new ArrayList<>();
            for (List<Object> row : rows) copied.add(new ArrayList<>(row));
            return new Table(columns, copied);
        }
    }

    private Map<String, Table> committed = new LinkedHashMap<>();
    /** The insert (counted over the database's life, from 1) that fails, or 0. */
    private int failAtInsert;
    private int inserts;
    public int commits;
    public int rollbacks;
    /**
     * Whether a failing batch throws a plain {@link SQLException}, with the rows before the
     * failing one inserted and no update counts, as sqlite-jdbc does; else a {@link BatchUpdateException}.
     */
    public boolean plainBatchErrors;
    /** Rows (values in the table's column order) the database refuses, as a constraint would. */
    public java.util.function.Predicate<List<Object>> refuses = row -> false;
    /** What the database stores for a bound value: the value itself unless a test makes it lossy. */
    public java.util.function.UnaryOperator<Object> stores = v -> v;

    /** The committed tables. */
    public Map<String, Table> tables() {
        return committed;
    }

    /** Makes the {@code k}-th row inserted from now on fail, as a constraint violation would. */
    public void failAtInsert(int k) {
        failAtInsert = inserts + k;
    }

    public Connection connect() {
        return proxy(Connection.class, new Conn());
    }

    @SuppressWarnings("unchecked")
    private static <T> T proxy(Class<T> type, Object target) {
        InvocationHandler handler = (p, method, args) -> {
            Object[] a = args == null ? new Object[0] : args;
            if (method.getName().equals("toString") && a.length == 0) return "fake " + type.getSimpleName();
            for (var m : target.getClass().getDeclaredMethods()) {
                if (m.getName().equals(method.getName()) && Arrays.equals(m.getParameterTypes(), method.getParameterTypes())) {
                    m.setAccessible(true);
                    try {
                        return m.invoke(target, a);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                }
            }
            throw new UnsupportedOperationException("fake JDBC: " + type.getSimpleName() + "." + method.getName()
                + Arrays.toString(method.getParameterTypes()) + " is not implemented");
        };
        return (T) Proxy.newProxyInstance(FakeJdbc.class.getClassLoader(), new Class<?>[] {type}, handler);
    }

    private static final Pattern CREATE = Pattern.compile("CREATE TABLE \"((?:[^\"]|\"\")+)\" \\(\\n(.*)\\)", Pattern.DOTALL);
    private static final Pattern COLUMN = Pattern.compile("^  \"((?:[^\"]|\"\")+)\" ", Pattern.MULTILINE);
    private static final Pattern INSERT = Pattern.compile("INSERT INTO \"((?:[^\"]|\"\")+)\" \\((.*)\\) VALUES \\(([?, ]*)\\)");
    private static final Pattern COUNT = Pattern.compile("SELECT COUNT\\(\\*\\) FROM \"((?:[^\"]|\"\")+)\"");
    private static final Pattern SELECT = Pattern.compile("SELECT \\* FROM \"((?:[^\"]|\"\")+)\" ORDER BY \"id\", \"revision\"");

    private static String name(String quoted) {
        return quoted.replace("\"\"", "\"");
    }

    private final class Conn {
        private boolean closed;
        /** The tables of the open transaction; null in auto-commit mode, which works on the committed ones. */
        private Map<String, Table> txn;

        Map<String, Table> working() {
            return txn != null ? txn : committed;
        }

        boolean getAutoCommit() {
            return txn == null;
        }

        void setAutoCommit(boolean on) {
            if (on && txn != null) {
                commit();
                txn = null;
            } else if (!on && txn == null) {
                begin();
            }
        }

        private void begin() {
            txn = new LinkedHashMap<>();
            for (var e : committed.entrySet()) txn.put(e.getKey(), e.getValue().copy());
        }

        void commit() {
            if (txn == null) throw new IllegalStateException("fake JDBC: commit in auto-commit mode");
            committed = txn;
            commits++;
            begin();
        }

        void rollback() {
            if (txn == null) throw new IllegalStateException("fake JDBC: rollback in auto-commit mode");
            rollbacks++;
            begin();
        }

        /** A savepoint: a copy of the transaction's tables, which {@code rollback(Savepoint)} puts back. */
        java.sql.Savepoint setSavepoint() {
            if (txn == null) throw new IllegalStateException("fake JDBC: savepoint in auto-commit mode");
            Map<String, Table> copy = new LinkedHashMap<>();
            for (var e : txn.entrySet()) copy.put(e.getKey(), e.getValue().copy());
            savepoints.add(copy);
            return proxy(java.sql.Savepoint.class, new Object() {
                int getSavepointId() {
                    return savepoints.indexOf(copy);
                }
            });
        }

        void rollback(java.sql.Savepoint savepoint) throws SQLException {
            Map<String, Table> copy = savepoints.get(savepoint.getSavepointId());
            txn = new LinkedHashMap<>();
            for (var e : copy.entrySet()) txn.put(e.getKey(), e.getValue().copy());
        }

        private final List<Map<String, Table>> savepoints = new ArrayList<>();

        String getCatalog() {
            return null;
        }

        String getSchema() {
            return null;
        }

        DatabaseMetaData getMetaData() {
            return proxy(DatabaseMetaData.class, new Meta(this));
        }

        Statement createStatement() {
            return proxy(Statement.class, new Stmt(this, null));
        }

        PreparedStatement prepareStatement(String sql) {
            return proxy(PreparedStatement.class, new Stmt(this, sql));
        }

        void close() {
            txn = null; // an open transaction is rolled back
            closed = true;
        }

        boolean isClosed() {
            return closed;
        }

        Table table(String name) throws SQLException {
            Table t = working().get(name);
            if (t == null) throw new SQLException("fake JDBC: no table " + name, "42S02");
            return t;
        }
    }

    private final class Meta {
        private final Conn conn;

        Meta(Conn conn) {
            this.conn = conn;
        }

        String getSearchStringEscape() {
            return "\\";
        }

        ResultSet getTables(String catalog, String schema, String pattern, String[] types) {
            // LIKE: \ escapes, _ one character, % any
            StringBuilder regex = new StringBuilder();
            for (int i = 0; i < pattern.length(); i++) {
                char c = pattern.charAt(i);
                if (c == '\\' && i + 1 < pattern.length()) regex.append(Pattern.quote(String.valueOf(pattern.charAt(++i))));
                else if (c == '_') regex.append('.');
                else if (c == '%') regex.append(".*");
                else regex.append(Pattern.quote(String.valueOf(c)));
            }
            List<List<Object>> rows = new ArrayList<>();
            for (String name : conn.working().keySet()) {
                if (name.matches(regex.toString())) rows.add(List.of(name));
            }
            return proxy(ResultSet.class, new Rows(List.of("TABLE_NAME"), rows));
        }
    }

    private final class Stmt {
        private final Conn conn;
        private final String sql;
        private final Map<Integer, Object> parameters = new LinkedHashMap<>();
        private final List<Map<Integer, Object>> batch = new ArrayList<>();

        Stmt(Conn conn, String sql) {
            this.conn = conn;
            this.sql = sql;
            if (sql != null && !INSERT.matcher(sql).matches()) throw new UnsupportedOperationException("fake JDBC prepares: " + sql);
        }

        int executeUpdate(String ddl) throws SQLException {
            Matcher m = CREATE.matcher(ddl);
            if (!m.matches()) throw new UnsupportedOperationException("fake JDBC executes: " + ddl);
            if (conn.working().containsKey(name(m.group(1)))) throw new SQLException("fake JDBC: table exists " + m.group(1));
            List<String> columns = new ArrayList<>();
            Matcher c = COLUMN.matcher(m.group(2));
            while (c.find()) columns.add(name(c.group(1)));
            conn.working().put(name(m.group(1)), new Table(List.copyOf(columns), new ArrayList<>()));
            return 0;
        }

        ResultSet executeQuery(String query) throws SQLException {
            Matcher count = COUNT.matcher(query);
            if (count.matches()) {
                return proxy(ResultSet.class, new Rows(List.of("COUNT(*)"),
                    List.of(List.of((long) conn.table(name(count.group(1))).rows().size()))));
            }
            Matcher select = SELECT.matcher(query);
            if (!select.matches()) throw new UnsupportedOperationException("fake JDBC queries: " + query);
            Table t = conn.table(name(select.group(1)));
            List<List<Object>> rows = new ArrayList<>(t.rows());
            int id = t.columns().indexOf("id");
            int revision = t.columns().indexOf("revision");
            rows.sort(Comparator.<List<Object>, Integer>comparing(r -> (Integer) r.get(id)).thenComparing(r -> (Integer) r.get(revision)));
            return proxy(ResultSet.class, new Rows(t.columns(), rows));
        }

        void setInt(int i, int v) { parameters.put(i, v); }
        void setShort(int i, short v) { parameters.put(i, v); }
        void setLong(int i, long v) { parameters.put(i, v); }
        void setFloat(int i, float v) { parameters.put(i, v); }
        void setDouble(int i, double v) { parameters.put(i, v); }
        void setBoolean(int i, boolean v) { parameters.put(i, v); }
        void setString(int i, String v) { parameters.put(i, v); }
        void setBytes(int i, byte[] v) { parameters.put(i, v.clone()); }
        void setBigDecimal(int i, BigDecimal v) { parameters.put(i, v); }
        void setNull(int i, int sqlType) { parameters.put(i, null); }

        void setObject(int i, Object v) {
            if (!(v instanceof LocalDate)) throw new UnsupportedOperationException("fake JDBC setObject of " + v.getClass());
            parameters.put(i, v);
        }

        void addBatch() {
            batch.add(new LinkedHashMap<>(parameters));
            parameters.clear();
        }

        /** One row: the bound parameters as a batch of one. */
        int executeUpdate() throws SQLException {
            addBatch();
            return executeBatch()[0];
        }

        void clearBatch() {
            batch.clear();
        }

        int[] executeBatch() throws SQLException {
            Matcher m = INSERT.matcher(sql);
            if (!m.matches()) throw new IllegalStateException(sql);
            Table t = conn.table(name(m.group(1)));
            List<String> columns = Arrays.stream(m.group(2).split(", ")).map(c -> name(c.substring(1, c.length() - 1))).toList();
            int[] counts = new int[batch.size()];
            for (int b = 0; b < batch.size(); b++) {
                Map<Integer, Object> p = batch.get(b);
                if (p.size() != columns.size()) throw new IllegalStateException(p.size() + " parameters for " + columns);
                List<Object> row = new ArrayList<>();
                for (String column : t.columns()) {
                    int at = columns.indexOf(column);
                    row.add(at < 0 ? null : stores.apply(p.get(at + 1)));
                }
                if (refuses.test(row)) {
                    batch.clear();
                    if (plainBatchErrors) throw new SQLException("fake JDBC: row refused", "23000");
                    throw new BatchUpdateException("fake JDBC: row refused", "23000", 0, Arrays.copyOf(counts, b), null);
                }
                if (++inserts == failAtInsert) {
                    batch.clear();
                    if (plainBatchErrors) throw new SQLException("fake JDBC: insert " + inserts + " refused", "23000");
                    throw new BatchUpdateException("fake JDBC: insert " + inserts + " refused", "23000", 0,
                        Arrays.copyOf(counts, b), null);
                }
                for (List<Object> other : t.rows()) {
                    if (other.get(0).equals(row.get(0)) && other.get(1).equals(row.get(1))) {
                        batch.clear();
                        if (plainBatchErrors) throw new SQLException("fake JDBC: primary key exists", "23505");
                        throw new BatchUpdateException("fake JDBC: primary key " + row.get(0) + "." + row.get(1) + " exists",
                            "23505", 0, Arrays.copyOf(counts, b), null);
                    }
                }
                t.rows().add(row);
                counts[b] = 1;
            }
            batch.clear();
            return counts;
        }

        void close() { }
    }

    /** A result set over rows of Java objects; each getter wants the exact class it returns. */
    private static final class Rows {
        private final List<String> columns;
        private final List<List<Object>> rows;
        private int at = -1;
        private boolean wasNull;

        Rows(List<String> columns, List<List<Object>> rows) {
            this.columns = columns;
            this.rows = rows;
        }

        boolean next() {
            return ++at < rows.size();
        }

        private Object get(int i, Class<?> type) throws SQLException {
            if (at < 0 || at >= rows.size()) throw new SQLException("fake JDBC: no current row");
            Object v = rows.get(at).get(i - 1);
            wasNull = v == null;
            if (v != null && !type.isInstance(v)) {
                throw new SQLException("fake JDBC: column " + columns.get(i - 1) + " holds " + v.getClass().getSimpleName()
                    + ", read as " + type.getSimpleName());
            }
            return v;
        }

        private Object get(String label, Class<?> type) throws SQLException {
            return get(columns.indexOf(label) + 1, type);
        }

        int getInt(int i) throws SQLException { Object v = get(i, Integer.class); return v == null ? 0 : (Integer) v; }
        short getShort(int i) throws SQLException { Object v = get(i, Short.class); return v == null ? 0 : (Short) v; }
        long getLong(int i) throws SQLException { Object v = get(i, Long.class); return v == null ? 0 : (Long) v; }
        float getFloat(int i) throws SQLException { Object v = get(i, Float.class); return v == null ? 0 : (Float) v; }
        double getDouble(int i) throws SQLException { Object v = get(i, Double.class); return v == null ? 0 : (Double) v; }
        boolean getBoolean(int i) throws SQLException { Object v = get(i, Boolean.class); return v != null && (Boolean) v; }
        String getString(int i) throws SQLException { return (String) get(i, String.class); }
        String getString(String label) throws SQLException { return (String) get(label, String.class); }
        byte[] getBytes(int i) throws SQLException { byte[] v = (byte[]) get(i, byte[].class); return v == null ? null : v.clone(); }
        BigDecimal getBigDecimal(int i) throws SQLException { return (BigDecimal) get(i, BigDecimal.class); }

        <T> T getObject(int i, Class<T> type) throws SQLException {
            if (type != LocalDate.class) throw new UnsupportedOperationException("fake JDBC getObject as " + type);
            return type.cast(get(i, type));
        }

        boolean wasNull() {
            return wasNull;
        }

        ResultSetMetaData getMetaData() {
            return proxy(ResultSetMetaData.class, new Object() {
                int getColumnCount() {
                    return columns.size();
                }

                String getColumnLabel(int i) {
                    return columns.get(i - 1);
                }
            });
        }

        void close() { }
    }
}
