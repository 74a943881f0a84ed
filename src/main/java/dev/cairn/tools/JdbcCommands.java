package dev.cairn.tools;

import dev.cairn.Cairn;
import dev.cairn.GenericTree;
import dev.cairn.JdbcException;
import dev.cairn.TransferRefusedException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * {@code cairn export DIR TREE --jdbc URL} and {@code cairn import DIR TREE --jdbc URL}: a tree to
 * a table of any database whose JDBC driver is on the class path, and back
 * ({@link GenericTree#exportJdbc}, {@link GenericTree#importJdbc}).
 */
final class JdbcCommands {
    /** Where the rows go or come from; {@code passwordEnv} names the environment variable holding the password. */
    record Target(String url, String table, String user, String passwordEnv) { }

    private JdbcCommands() { }

    /**
     * Writes the tree into the table, in schema version {@code schemaVersion} (0: the current
     * one), saying on {@code err} what of its data that version cannot carry, as a file export
     * does ({@link Commands#warnIfNotCarried}).
     */
    static int export(Path dir, String treeName, Target target, boolean append, int schemaVersion, PrintStream out,
                      PrintStream err) {
        try (Cairn db = Commands.openToExport(dir, treeName); Connection c = connect(target)) {
            GenericTree tree = db.genericTree(treeName);
            GenericTree.Exported exported;
            try {
                exported = tree.exportJdbc(target.table(), c, append, schemaVersion);
            } catch (TransferRefusedException | JdbcException e) {
                err.println("cairn export: " + e.getMessage());
                return 1;
            } catch (dev.cairn.SchemaMismatchException e) {
                err.println("cairn export: " + e.getMessage() + " (--schema-version N)");
                return 1;
            }
            Commands.warnIfNotCarried(treeName, exported, err);
            out.println("exported " + Commands.records(exported.records()) + " of " + treeName + " to table " + target.table() + " at "
                + shown(target.url()));
            return 0;
        } catch (SQLException e) {
            throw closeFailed(target, e);
        }
    }

    static int importTable(Path dir, String treeName, Target target, boolean append, boolean keepIds, PrintStream out,
                           PrintStream err) {
        try (Cairn db = Cairn.open(dir); Connection c = connect(target)) {
            GenericTree tree = db.genericTree(treeName);
            int imported;
            try {
                GenericTree.Imported result = tree.importJdbc(target.table(), c, append, keepIds);
                Commands.warnIfRenumbered("table " + target.table(), treeName, result.renumbered(), err);
                imported = result.keys().size();
            } catch (TransferRefusedException | JdbcException | IllegalArgumentException e) {
                err.println("cairn import: " + e.getMessage() + (e.getMessage().contains("nothing imported") ? ""
                    : " (nothing imported)"));
                return 1;
            }
            out.println("imported " + Commands.records(imported) + " into " + treeName + " from table " + target.table() + " at "
                + shown(target.url()));
            return 0;
        } catch (SQLException e) {
            throw closeFailed(target, e);
        }
    }

    /**
     * Connects through {@link DriverManager}, which finds the drivers on the class path; a
     * missing driver is said in one line (the usual cause: {@code java -jar}, which ignores
     * {@code -cp}).
     */
    static Connection connect(Target target) {
        try {
            DriverManager.getDriver(target.url());
        } catch (SQLException e) {
            throw new IllegalStateException("no JDBC driver for URL " + shown(target.url()) + ": put the driver's jar on the"
                + " class path with -cp (java -cp cairn.jar:DRIVER.jar dev.cairn.tools.Main ..., not java -jar, which"
                + " ignores -cp)");
        }
        Properties properties = new Properties();
        if (target.user() != null) properties.setProperty("user", target.user());
        if (target.passwordEnv() != null) {
            String password = System.getenv(target.passwordEnv());
            if (password == null) {
                throw new IllegalStateException("environment variable " + target.passwordEnv() + " (--password-env) is not set");
            }
            properties.setProperty("password", password);
        }
        try {
            return DriverManager.getConnection(target.url(), properties);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot connect to " + shown(target.url()) + ": " + e.getMessage(), e);
        }
    }

    /** The URL without its parameters, which may hold credentials. */
    static String shown(String url) {
        int cut = url.length();
        for (char c : new char[] {'?', ';'}) {
            int at = url.indexOf(c);
            if (at >= 0) cut = Math.min(cut, at);
        }
        return cut < url.length() ? url.substring(0, cut) + "..." : url;
    }

    private static IllegalStateException closeFailed(Target target, SQLException e) {
        return new IllegalStateException("cannot close the connection to " + shown(target.url()) + ": " + e.getMessage(), e);
    }
}
