package dev.cairn.testing;

import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.SQLException;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * Test helper: a {@link Driver} for URLs {@code jdbc:fake:NAME}, each a {@link FakeJdbc} database
 * kept in memory until {@link #drop}; registered with {@link DriverManager} by {@link #register}.
 */
public final class FakeDriver implements Driver {
    private static final FakeDriver INSTANCE = new FakeDriver();
    private static final Map<String, FakeJdbc> DATABASES = new ConcurrentHashMap<>();
    private static boolean registered;

    /** Registers the driver once; returns the database of {@code jdbc:fake:name}. */
    public static synchronized FakeJdbc register(String name) throws SQLException {
        if (!registered) DriverManager.registerDriver(INSTANCE);
        registered = true;
        return DATABASES.computeIfAbsent(name, n -> new FakeJdbc());
    }

    public static void drop(String name) {
        DATABASES.remove(name);
    }

    @Override
    public Connection connect(String url, Properties info) throws SQLException {
        if (!acceptsURL(url)) return null;
        FakeJdbc db = DATABASES.get(url.substring("jdbc:fake:".length()));
        if (db == null) throw new SQLException("fake JDBC: no database " + url);
        return db.connect();
    }

    @Override
    public boolean acceptsURL(String url) {
        return url.startsWith("jdbc:fake:");
    }

    @Override
    public DriverPropertyInfo[] getPropertyInfo(String url, Properties info) {
        return new DriverPropertyInfo[0];
    }

    @Override
    public int getMajorVersion() {
        return 1;
    }

    @Override
    public int getMinorVersion() {
        return 0;
    }

    @Override
    public boolean jdbcCompliant() {
        return false;
    }

    @Override
    public Logger getParentLogger() {
        return Logger.getLogger("fake");
    }
}
