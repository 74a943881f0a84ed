package dev.cairn.sync;

import dev.cairn.Key;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * What a {@link ClientSession} needs from the local database (implemented by the typed layer,
 * which publishes the events). Every method that changes data does so in one durable local
 * transaction; {@code advance} asks it to store the new last-synced server sequence in the
 * same transaction (spec/sync-protocol.md §5.3).
 */
public interface Replica {
    /**
     * Runs {@code body} as one local transaction: the changes of all calls inside commit
     * together (one force for a whole read of messages), or not at all if it throws.
     */
    void batch(Runnable body);

    UUID nodeId();

    String nodeName();

    /** The database's folder: the link's log lines name it, as several nodes may run in one JVM. */
    java.nio.file.Path directory();

    String appId();

    /** The server this database linked to, or null when it never linked. */
    UUID serverId();

    /** The link token of the last link ({@link Message#NONE} before the first), sync-protocol.md §5.7. */
    UUID linkToken();

    /** Stores the token a Welcome issued, durably, in the batch that applies the Welcome. */
    void linkTokenIssued(UUID token);

    /**
     * The server run ({@link Message.Welcome#epoch}) in which this replica got its {@link
     * #lastSeq}, stored with it; {@link Message#NONE} when unknown (sync-protocol.md §4.4).
     */
    UUID syncEpoch();

    /**
     * The run of this connection's server ({@link Message#NONE} when its version names none):
     * from now on every transaction that moves {@link #lastSeq} stores it with the sequence.
     */
    void epochWelcomed(UUID epoch);

    /**
     * For a linked replica, per tree of {@code trees} (empty = all) that holds ids from the
     * server: the highest ones it holds (sync-protocol.md §4.4). Empty before the first link.
     */
    List<Message.TreeIds> treeIds(Set<String> trees);

    /**
     * The server sequence this replica's catch-up resumes after (its syncSeq): it has every
     * record of the last caught-up trees whose latest change is at or below it, as of the
     * server's sequence {@link #epochSeq} (sync-protocol.md §4.1 step 4).
     */
    long lastSeq();

    /**
     * The server sequence of run {@link #syncEpoch} that this replica's records come from: {@link
     * #lastSeq}, or above it after a catch-up cut short ({@link #caughtUpTo}). The Hello names it
     * (epochSeq), so that a server restored from a backup taken before it refuses the node
     * (sync-protocol.md §4.4).
     */
    long epochSeq();

    /**
     * The sequence a connection replicating {@code trees} (empty = all) catches up from: {@link
     * #lastSeq}, or 0 when {@code trees} holds a tree that the last connection to catch up did
     * not replicate, whose changes since then this replica lacks (sync-protocol.md §5.6).
     */
    long catchUpFrom(Set<String> trees);

    /** For a never-linked database: per tree with records, the ids {@code [0, n)} it used itself. */
    List<Message.Claim> claims();

    /**
     * First link accepted: remembers {@code serverId} for ever and empties the self-allocated
     * key pools (their used ids became server ranges through the claims).
     */
    void link(UUID serverId);

    /**
     * One pending outbox entry. {@code groupEnds}: the outbox may be cut after this entry and
     * before the next entry of the listed trees (the next one listed, or the first beyond the
     * list), so that the entries up to here, sent and applied together, leave the receiver in a
     * state this node had after one of its own transactions (for a subset of trees: that state
     * of those trees): no entry after the cut, of any tree, carries a transaction that reaches
     * back to or before it (spec/database-layout.md §6). Always true for the last entry of the
     * listed trees in the outbox.
     */
    record Pending(long outboxSeq, Key<?> key, Message.Kind kind, boolean groupEnds) { }

    /** A change ready to send, with the schema its fingerprint names (null for REMOVED). */
    record Outgoing(Message.Change change, Message.SchemaDef schema) { }

    /** The oldest pending outbox entries of the given trees (empty = all), at most {@code max}, oldest change first. */
    default List<Pending> outbox(Set<String> trees, int max) {
        return outbox(trees, -1, max);
    }

    /**
     * {@link #outbox(Set, int)} of the entries with a sequence above {@code afterSeq}: a
     * connection with changes in flight lists only what follows the last one it sent.
     */
    List<Pending> outbox(Set<String> trees, long afterSeq, int max);

    /** True when {@code key} has a pending outbox entry. */
    boolean hasPending(Key<?> key);

    /** The message for {@code p}, or null when the entry changed or vanished since it was listed. */
    Outgoing outgoing(Pending p);

    /** The server stored the change: drop its outbox entry unless a newer change replaced it. */
    void acknowledged(Message.Ack ack, boolean advance);

    /**
     * Applies the server's state of one record unless the record has a pending outbox entry
     * (then the outbox change is on its way and the server decides). {@code schema} is the
     * definition of {@code p.fingerprint()} (null when removed).
     *
     * @throws dev.cairn.SchemaMismatchException when the local class cannot read that schema;
     *     nothing is changed
     */
    void apply(Message.Pushed p, Message.SchemaDef schema, boolean advance);

    /** Rolls the record back to the server's version and drops its outbox entry; tells the app. */
    void refused(Message.Refused r, Message.SchemaDef schema);

    /** Every change of {@code trees} (empty = all) up to {@code serverSeq} is applied. */
    void caughtUp(long serverSeq, Set<String> trees);

    /**
     * A catch-up's mark (protocol version 6): every record of {@code trees} (empty = all) whose
     * latest change, as of the server's {@code serverSeq}, is at or below {@code seq} is applied.
     * Stores, in one transaction, {@code seq} as the sequence the next catch-up of those trees
     * resumes after (below the one stored when this connection's full catch-up has not reached
     * it yet, sync-protocol.md §5.6), {@code trees} as the last caught-up trees, and {@code
     * serverSeq} as the {@link #epochSeq} with the connection's run.
     */
    void caughtUpTo(long seq, long serverSeq, Set<String> trees);

    /** Adds a server-issued id range to the pool of its tree. */
    void keysReceived(Message.Keys keys);

    /** Ids left in the local pool of {@code tree}. */
    long idsAvailable(String tree);

    /** Ids per tree to keep in hand: the session asks for another range while a tree has fewer. */
    long idReserve();

    /** The local tree names. */
    Set<String> trees();

    /** Applies the server's check-out state of one record (stored holder, events). */
    void borrow(Message.Borrow b);

    /** Check-outs the application asked for and the server has not granted yet. */
    Set<Key<?>> requestedCheckOuts();

    /** True when the application asked for {@code key}'s check-out and the server has not granted it yet. */
    boolean requested(Key<?> key);

    /** The records this node holds checked out, as stored locally. */
    Set<Key<?>> heldHere();

    /** True when this node holds {@code key} checked out, as stored locally (one lookup, not a scan). */
    boolean holdsHere(Key<?> key);

    /** The records this node last knew held by another node, as stored locally. */
    Set<Key<?>> heldElsewhere();

    /** A connection ended, linked or not (a first link that did not complete is abandoned). */
    default void sessionEnded() { }

    /**
     * Connection state changed (events Connected / Disconnected), published in order with the
     * events of commits; it stores nothing, so it is published also while the database refuses
     * writes (after a failed write).
     */
    void connectionChanged(boolean connected, UUID server, String reason);
}
