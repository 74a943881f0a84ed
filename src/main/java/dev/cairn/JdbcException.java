package dev.cairn;

/**
 * A JDBC database refused or failed a transfer of a tree ({@link GenericTree#exportJdbc},
 * {@link GenericTree#importJdbc}); the cause is the driver's {@link java.sql.SQLException}. The
 * message names the tree, the table and, where known, the row, and says what was rolled back.
 */
public class JdbcException extends CairnException {
    private static final long serialVersionUID = 1L;

    public JdbcException(String message) {
        super(message);
    }

    public JdbcException(String message, Throwable cause) {
        super(message, cause);
    }
}
