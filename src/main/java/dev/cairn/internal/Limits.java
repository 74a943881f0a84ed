package dev.cairn.internal;

/**
 * Every size limit in one place (STYLE.md §5). Relationships between limits are checked at
 * class load, so a change that breaks one fails on the first use.
 */
public final class Limits {
    private Limits() { }

    /** Page size of new files, bytes. The page size of an existing file is read from its header. */
    public static final int PAGE_BYTES = 4096;
    /** Longest key a tree accepts, bytes (storage-format.md). */
    public static final int KEY_BYTES_MAX = 1024;
    /** Largest value a tree accepts, bytes. Larger than a fraction of a page goes to overflow pages. */
    public static final int VALUE_BYTES_MAX = 64 * 1024 * 1024;
    /** Deepest B+tree descent; a deeper path means a cycle or damage. */
    public static final int TREE_DEPTH_MAX = 32;
    /** Longest tree name, bytes of UTF-8. */
    public static final int TREE_NAME_BYTES_MAX = 255;
    /**
     * Longest node name, user name and application id, bytes of UTF-8: a user name is written
     * into every record it changes (database-layout.md §3, a u16 length), and names go into the
     * server's messages (probe 103: a user name of 65,536 bytes wrapped its length and damaged
     * the record; an app id or node name of 65,535 bytes made an error text too long to send,
     * and the server stopped).
     */
    public static final int NAME_BYTES_MAX = 255;
    /**
     * Longest reason text of an Error or Refused, chars (sync-protocol.md §3): a longer one is
     * cut, so that names quoted in it never take a message past its frame.
     */
    public static final int REASON_CHARS_MAX = 4096;
    /** Largest sync frame, bytes after its length field (sync-protocol.md §2). */
    public static final int FRAME_BYTES_MAX = 16 * 1024 * 1024;
    /**
     * Largest record a node stores from the application (record bytes with their metadata,
     * database-layout.md §3): every message that carries one, with its key and a refusal's reason,
     * fits {@link #FRAME_BYTES_MAX}. The server refuses larger ones (sync-protocol.md §5.1).
     */
    public static final int RECORD_BYTES_MAX = FRAME_BYTES_MAX - 64 * 1024;
    /** Largest schema a tree takes, bytes of its encoded form: its SchemaDef must fit one frame (probe 103). */
    public static final int SCHEMA_BYTES_MAX = FRAME_BYTES_MAX - 64 * 1024;
    /**
     * On a connection of protocol version 7 or older: the changes a node has in flight at most
     * (its send window, sync-protocol.md §4.1 step 3), and so the most Changes or Pushed one
     * Group may announce (version 7, §3): a group goes whole within the window. A version 7
     * decoder refuses a larger Group, so a newer server sends a version 7 node none.
     */
    public static final int GROUP_CHANGES_MAX_V7 = 256;
    /**
     * The same from protocol version 8 (sync-protocol.md §3, §4.1 step 3): write batches of up to
     * this many records reach other nodes whole. The bytes in flight stay bounded by {@link
     * #WINDOW_BYTES} whatever the count.
     */
    public static final int GROUP_CHANGES_MAX_V8 = 4096;
    /**
     * Bytes of values of the changes a node has in flight below which another change may go
     * (sync-protocol.md §4.1 step 3).
     */
    public static final long WINDOW_BYTES = 4 << 20;
    /**
     * Most value bytes of the Changes of one Group the server holds, and of the Pushed of one
     * Group a node holds, until the group is whole (sync-protocol.md §4.2, §5.3): what the send
     * window lets be in flight, {@code WINDOW_BYTES} plus the one record that may start below it.
     */
    public static final long GROUP_BYTES_MAX = WINDOW_BYTES + RECORD_BYTES_MAX;
    /**
     * Most bytes of a catch-up (values and schemas, and {@code 64} per message) a node keeps
     * unapplied until the catch-up's {@code CaughtUp}, so that it applies the whole catch-up in
     * one transaction (sync-protocol.md §4.1 step 4); a larger catch-up is applied in parts of at
     * least this much. A node keeps at most a 64th of its heap (ClientSession.CATCH_UP_KEPT_BYTES).
     */
    public static final long CATCH_UP_HELD_BYTES = 8 << 20;
    /**
     * Longest a node keeps a catch-up's frames unapplied (sync-protocol.md §4.1 step 4): a slower
     * catch-up is applied in parts, each storing its marks, so that a poor link that drops every
     * few seconds keeps its progress (what is kept is lost with the connection).
     */
    public static final long CATCH_UP_HELD_MILLIS = 1_000;
    /** Bytes queued for one sync connection before the server drops it as too slow. */
    public static final int PENDING_BYTES_MAX = 64 * 1024 * 1024;
    /** Largest frame a connection may announce before its Hello was accepted (sync-protocol.md §8). */
    public static final int HELLO_FRAME_BYTES_MAX = 1024 * 1024;
    /** How long a new connection has to send its Hello before the server closes it. */
    public static final long HELLO_MILLIS = 10_000;
    /**
     * Heartbeat (sync-protocol.md §4.3, version 3 and later connections): a node sends a Ping when it has
     * sent nothing, or received nothing, for this long.
     */
    public static final long PING_MILLIS = 5_000;
    /**
     * Heartbeat: a node drops a connection on which nothing arrived for this long: a Ping
     * unanswered for {@code DEAD_MILLIS - PING_MILLIS}.
     */
    public static final long DEAD_MILLIS = 15_000;
    /**
     * Heartbeat: the server closes a version 3 connection that sent nothing for this long. Longer
     * than {@link #DEAD_MILLIS}: a node that reconnects replaces its dead connection anyway
     * (sync-protocol.md §4.2), so this only frees what a node that does not come back holds, and
     * it spares a node whose sync thread waits on its own application (a long write batch).
     */
    public static final long SILENT_MILLIS = 60_000;
    /**
     * Longest line of JSON lines, or statement of SQL text, an import reads (characters): it
     * reads a file one line or statement at a time, and no Java string holds much more (the
     * import of a file used to read it whole into one string, whatever its size).
     */
    public static final int IMPORT_TEXT_CHARS_MAX = 1_000_000_000;
    /** Bytes of partly received frames the server holds over all connections (sync-protocol.md §8). */
    public static final long PARTIAL_FRAMES_BYTES_MAX = 256L * 1024 * 1024;
    /**
     * How long a partly received frame is judged last when the server sheds partial frames over
     * {@link #PARTIAL_FRAMES_BYTES_MAX}: too young for its rate to say anything (sync-protocol.md §2).
     */
    public static final long PARTIAL_FRAME_GRACE_MILLIS = 1_000;
    /**
     * Bytes of outbound frames the server holds queued over all connections (each frame counted
     * once, however many connections it goes to), or a quarter of its heap if less
     * (sync-protocol.md §4.2 step 4).
     */
    public static final long QUEUED_BYTES_MAX = 256L * 1024 * 1024;

    /**
     * Highest {@code metaIteration} (and so {@code dataIteration}) of a record header
     * (database-layout.md §3, §5): a node refuses a change that would go past it, naming the
     * record, and the server refuses a change that carries more (sync-protocol.md §5.1). 2^62:
     * no node makes that many changes of one record (a million a second for 146,000 years), and
     * the +1 of a change can never overflow a {@code long}.
     */
    public static final long ITERATION_MAX = 1L << 62;
    /**
     * Most a change sent to the server may carry above the stored record's iterations
     * (sync-protocol.md §5.1): a node's offline changes of one record reach the server as one
     * change (one outbox entry per record), each iteration +1, so a node exceeds the stored ones by
     * its changes since the version it last had. 2^40 is a million changes a second of one
     * record for 12 days without a sync; far above that is a client that made its iterations up.
     */
    public static final long ITERATION_STEP_MAX = 1L << 40;

    /** Deepest nesting of records, collections, optionals and unions in one record value (record-format.md §1). */
    public static final int VALUE_DEPTH_MAX = 100;
    /** Schema versions per tree: the version tag of a record is a u16 (record-format.md §3). */
    public static final int SCHEMA_VERSIONS_MAX = 0xFFFF;
    /**
     * Highest record id an import keeps (database-layout.md §4): keeping id n takes every id up
     * to n out of the tree's pool, so a higher one would leave the tree (and the server it links
     * to later) next to no ids to insert with; at least 147,483,647 are left.
     */
    public static final int IMPORT_KEPT_ID_MAX = 2_000_000_000;

    static {
        Check.that(KEY_BYTES_MAX < PAGE_BYTES / 3, "KEY_BYTES_MAX %d (expected: < PAGE_BYTES/3 %d)",
            KEY_BYTES_MAX, PAGE_BYTES / 3);
        Check.that(TREE_NAME_BYTES_MAX <= KEY_BYTES_MAX, "tree names are catalog keys");
        Check.that(FRAME_BYTES_MAX <= PENDING_BYTES_MAX / 2, "two largest frames fit the outbound queue");
        Check.that(2 * PING_MILLIS <= DEAD_MILLIS, "a Ping has at least PING_MILLIS to be answered");
        Check.that(ITERATION_STEP_MAX < ITERATION_MAX && ITERATION_MAX <= Long.MAX_VALUE - ITERATION_STEP_MAX,
            "a stored iteration plus a step never overflows");
        Check.that(GROUP_CHANGES_MAX_V7 <= GROUP_CHANGES_MAX_V8 && GROUP_CHANGES_MAX_V8 <= 0xFFFF,
            "a Group's count is a u16, and version 8 allows what version 7 does");
        Check.that(DEAD_MILLIS <= SILENT_MILLIS, "the server waits at least as long as a node");
    }
}
