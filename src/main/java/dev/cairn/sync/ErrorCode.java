package dev.cairn.sync;

/** The codes of {@link Message.Error} and {@link Message.Refused} (sync-protocol.md §6). */
public final class ErrorCode {
    private ErrorCode() { }

    /** A malformed frame or a message out of order. */
    public static final int PROTOCOL = 1;
    /** The peer speaks another protocol version. */
    public static final int VERSION = 2;
    /** The client's application id differs from the server's. */
    public static final int APP_ID = 3;
    /** A first link claimed ids the server already issued to another client. */
    public static final int ID_CONFLICT = 4;
    /** The client read too slowly; its outbound queue went over PENDING_BYTES_MAX. */
    public static final int TOO_SLOW = 5;
    /** The server is shutting down. */
    public static final int SHUTDOWN = 6;
    /** A tree's versioning flag differs from the server's. */
    public static final int TREE_MISMATCH = 7;
    /** The server holds too many bytes of partly received frames (over all connections); retry later. */
    public static final int BUSY = 8;
    /** The node's database is an older copy of itself (restored from a backup, or copied): its link token is not the last one. */
    public static final int NODE_COPY = 9;
    /**
     * The node has synced past the end of the server's database, linked after it, or holds ids it
     * never issued to the node (sync-protocol.md §4.4): the server's data is older than what it served.
     */
    public static final int SERVER_BEHIND = 10;
    /**
     * Another connection presenting this node's client id and link token was accepted: it
     * replaced this one (a node makes one connection at a time), so this connection is a second
     * process using the node's database, a copied folder. The client stops.
     */
    public static final int REPLACED = 11;
    /**
     * The node is linked to another server (the Hello's {@code serverId}, version 4 on): nothing
     * changed, and the node stops with {@link dev.cairn.WrongServerException}.
     */
    public static final int WRONG_SERVER = 12;
    /**
     * The operator released this node ({@code release NODE}) while it was connected: its
     * check-outs were broken and it left every queue. The client reconnects and asks again for
     * the check-outs its application still waits for. A node older than this code shows it as
     * "code 13" and reconnects likewise.
     */
    public static final int NODE_RELEASED = 13;

    /** Refused: CHANGED/REMOVED without holding the check-out. */
    public static final int NOT_CHECKED_OUT = 20;
    /** Refused: CREATED with an id outside the client's ranges. */
    public static final int NOT_YOUR_ID = 21;
    /** Refused: the record was removed; removed records never come back. */
    public static final int REMOVED = 22;
    /** Refused: CHANGED/REMOVED of a record the server does not have. */
    public static final int UNKNOWN_RECORD = 23;
    /** Refused: a data change or removal of a released record. */
    public static final int RELEASED = 24;
    /** Refused: CREATED of a revision another client made first (two nodes revised one record). */
    public static final int REVISION_TAKEN = 25;
    /**
     * Refused: a CHANGED made on a version of the record that another node's change replaced
     * since: a state change from a client without the check-out, or (version 9, by its base) the
     * holder's change; or a CREATED sent again with the node's later changes after another node
     * changed the record (sync-protocol.md §5.1). A node older than this code shows it as "code
     * 26" and rolls back as for any refusal.
     */
    public static final int CHANGED_SINCE = 26;
    /**
     * Refused: the change itself breaks a rule every node keeps (sync-protocol.md §5.1): a value
     * over RECORD_BYTES_MAX, a record header that does not decode or whose state kind does not
     * fit the tree, record bytes that do not decode with their schema, or iterations above
     * ITERATION_MAX or further above the stored record's than a node's changes take them. Refused
     * rather than closing the connection, so the node's later changes still go through. A node
     * older than this code shows it as "code 27" and rolls back as for any refusal.
     */
    public static final int INVALID_CHANGE = 27;
    /**
     * Refused: a CREATED of a record the server holds as this client's own, made by it, whose
     * {@code createdMillis} differs: another record under an id the node had used already, as a
     * copy of a node restored from a backup does when it inserts before it learns what the node
     * made after the copy. The server keeps its record. A node older than this code shows it as
     * "code 28" and rolls back as for any refusal.
     */
    public static final int ID_REUSED = 28;
    /**
     * Refused: a CREATED of a record the server holds, not removed, that another client changed
     * since (or that is not this client's): a retransmission whose Ack was lost, the record's
     * later version made elsewhere. Also a CHANGED the server took and got again (its Ack lost)
     * after the record changed or was removed since ({@link TakenChanges}). The server keeps its state and sends it in the refusal, so the
     * node's copy is set to it in the same message (an Ack followed by a Pushed, as before this
     * code, left the node with its own version when the connection ended between the two). The
     * node's insert or change was made, so it publishes no {@code ChangeRefused}; a node older than this
     * code shows it as "code 29" and rolls back as for any refusal, to the same state.
     */
    public static final int SUPERSEDED = 29;

    public static String name(int code) {
        return switch (code) {
            case PROTOCOL -> "PROTOCOL";
            case VERSION -> "VERSION";
            case APP_ID -> "APP_ID";
            case ID_CONFLICT -> "ID_CONFLICT";
            case TOO_SLOW -> "TOO_SLOW";
            case SHUTDOWN -> "SHUTDOWN";
            case TREE_MISMATCH -> "TREE_MISMATCH";
            case BUSY -> "BUSY";
            case NODE_COPY -> "NODE_COPY";
            case SERVER_BEHIND -> "SERVER_BEHIND";
            case REPLACED -> "REPLACED";
            case WRONG_SERVER -> "WRONG_SERVER";
            case NODE_RELEASED -> "NODE_RELEASED";
            case NOT_CHECKED_OUT -> "NOT_CHECKED_OUT";
            case NOT_YOUR_ID -> "NOT_YOUR_ID";
            case REMOVED -> "REMOVED";
            case UNKNOWN_RECORD -> "UNKNOWN_RECORD";
            case RELEASED -> "RELEASED";
            case REVISION_TAKEN -> "REVISION_TAKEN";
            case CHANGED_SINCE -> "CHANGED_SINCE";
            case INVALID_CHANGE -> "INVALID_CHANGE";
            case ID_REUSED -> "ID_REUSED";
            case SUPERSEDED -> "SUPERSEDED";
            default -> "code " + code;
        };
    }
}
