package dev.cairn.sync;

import dev.cairn.Key;
import dev.cairn.internal.Limits;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * Every frame of the sync protocol (spec/sync-protocol.md §3), one record per tag. Compact
 * constructors check what a decoder cannot express in types; {@link FrameCodec} turns their
 * failures into {@link ProtocolException}.
 */
public sealed interface Message {
    /** A UUID of all zero bits, meaning "none" on the wire. */
    UUID NONE = new UUID(0, 0);

    /** The wire tag of this message (sync-protocol.md §3). */
    int tag();

    /**
     * C→S, first frame. {@code trees} empty = every tree; {@code claims} only on a first link;
     * {@code linkToken} the token of the node's last link ({@link #NONE} before its first),
     * which tells a node from an older copy of itself (sync-protocol.md §5.7); {@code serverId}
     * the server the node is linked to ({@link #NONE} before its first link), on the wire from
     * version 4 on: the server refuses a node linked to another server before any other check
     * of its state (sync-protocol.md §4.2 step 1). From version 5 on: {@code epoch} the server
     * run ({@link Welcome#epoch}) in which the node got its sequence {@code epochSeq} ({@link
     * #NONE} when unknown): its syncSeq, or, after a catch-up cut short, the {@code serverSeq} of
     * the last {@link CaughtUpTo} it stored, the state its records come from (§4.1 step 4); {@code
     * lastSeq} is then that mark's {@code seq}. And {@code ids} per tree the highest ids it holds from
     * the server, so that a server restored from a backup can tell it is behind the node
     * (sync-protocol.md §4.4).
     */
    record Hello(int protocolVersion, String appId, UUID clientId, String clientName, long lastSeq,
                 List<String> trees, List<Claim> claims, byte[] auth, UUID linkToken, UUID serverId,
                 UUID epoch, long epochSeq, List<TreeIds> ids) implements Message {
        public Hello {
            Objects.requireNonNull(appId);
            Objects.requireNonNull(clientId);
            Objects.requireNonNull(clientName);
            trees = List.copyOf(trees);
            claims = List.copyOf(claims);
            Objects.requireNonNull(auth);
            Objects.requireNonNull(linkToken);
            Objects.requireNonNull(serverId);
            Objects.requireNonNull(epoch);
            ids = List.copyOf(ids);
            if (lastSeq < 0) throw new IllegalArgumentException("lastSeq " + lastSeq + " (expected: >= 0)");
            if (epochSeq < 0) throw new IllegalArgumentException("epochSeq " + epochSeq + " (expected: >= 0)");
        }

        /** A Hello without the fields of version 5 (none known): any before version 5. */
        public Hello(int protocolVersion, String appId, UUID clientId, String clientName, long lastSeq,
                     List<String> trees, List<Claim> claims, byte[] auth, UUID linkToken, UUID serverId) {
            this(protocolVersion, appId, clientId, clientName, lastSeq, trees, claims, auth, linkToken, serverId, NONE, 0,
                List.of());
        }

        /** A Hello that names no server ({@link #NONE}): a node's first, or any before version 4. */
        public Hello(int protocolVersion, String appId, UUID clientId, String clientName, long lastSeq,
                     List<String> trees, List<Claim> claims, byte[] auth, UUID linkToken) {
            this(protocolVersion, appId, clientId, clientName, lastSeq, trees, claims, auth, linkToken, NONE);
        }

        public int tag() {
            return 1;
        }
    }

    /**
     * Of a linked node's Hello (version 5), per tree: {@code idHigh} is one more than the highest
     * id it holds from the server (its key pool's ranges and its records), {@code poolHigh} one
     * more than the highest id of its key pool (0 = empty pool), which lies in a range the server
     * issued to this node.
     */
    record TreeIds(String tree, int idHigh, int poolHigh) {
        public TreeIds {
            Objects.requireNonNull(tree);
            if (idHigh < 0 || poolHigh < 0 || poolHigh > idHigh) {
                throw new IllegalArgumentException("ids of tree " + tree + ": idHigh " + idHigh + ", poolHigh " + poolHigh
                    + " (expected: 0 <= poolHigh <= idHigh)");
            }
        }
    }

    /** Ids {@code [0, toExclusive)} of {@code tree} a never-linked database already used. */
    record Claim(String tree, int toExclusive) {
        public Claim {
            Objects.requireNonNull(tree);
            if (toExclusive <= 0) throw new IllegalArgumentException("claim " + toExclusive + " (expected: > 0)");
        }
    }

    /**
     * S→C, the answer to an accepted {@link Hello}. {@code epoch} (on the wire from version 5 on)
     * names this run of the server: a node stores it with the sequence it gets on this
     * connection, and names it in its next Hello (sync-protocol.md §4.4).
     */
    record Welcome(int protocolVersion, UUID serverId, long serverSeq, UUID linkToken, UUID epoch) implements Message {
        public Welcome {
            Objects.requireNonNull(serverId);
            Objects.requireNonNull(linkToken);
            Objects.requireNonNull(epoch);
        }

        /** A Welcome naming no run ({@link #NONE}): any before version 5. */
        public Welcome(int protocolVersion, UUID serverId, long serverSeq, UUID linkToken) {
            this(protocolVersion, serverId, serverSeq, linkToken, NONE);
        }

        public int tag() {
            return 2;
        }
    }

    /** Either way; the sender closes the connection after it. Codes: {@link ErrorCode}. */
    record Error(int code, String text) implements Message {
        public Error {
            Objects.requireNonNull(text);
            text = cut(text);
        }

        public int tag() {
            return 3;
        }
    }

    /** Either way, before the first record that names {@code fingerprint} on a connection. */
    record SchemaDef(String tree, boolean versioned, long fingerprint, byte[] schema) implements Message {
        public SchemaDef {
            Objects.requireNonNull(tree);
            Objects.requireNonNull(schema);
        }

        public int tag() {
            return 4;
        }
    }

    /**
     * C→S: one outbox entry. {@code value} is header + record bytes, empty for REMOVED. {@code
     * baseMeta}, version 9 (tag 20), for a CHANGED only: the metaIteration of the server's
     * version the node's pending change was made on, so that the server takes a change of the
     * state alone from a node without the check-out only on the version it was made on
     * (sync-protocol.md §5.1); {@link #NO_BASE} when not sent (tag 5).
     */
    record Change(long outboxSeq, Key<?> key, Kind kind, long fingerprint, byte[] value, long baseMeta) implements Message {
        /** {@code baseMeta} of a Change that names no base: tag 5, as before version 9. */
        public static final long NO_BASE = -1;

        public Change {
            Objects.requireNonNull(key);
            Objects.requireNonNull(kind);
            Objects.requireNonNull(value);
            if ((kind == Kind.REMOVED) != (value.length == 0)) {
                throw new IllegalArgumentException("change " + kind + " with " + value.length
                    + " value bytes (expected: empty exactly for REMOVED)");
            }
            if (baseMeta != NO_BASE && (kind != Kind.CHANGED || baseMeta < 0 || baseMeta > Limits.ITERATION_MAX)) {
                throw new IllegalArgumentException("change " + kind + " of " + key + " with base metaIteration " + baseMeta
                    + " (expected: a base for CHANGED only, 0 to ITERATION_MAX " + Limits.ITERATION_MAX + ")");
            }
        }

        /** A change that names no base (tag 5). */
        public Change(long outboxSeq, Key<?> key, Kind kind, long fingerprint, byte[] value) {
            this(outboxSeq, key, kind, fingerprint, value, NO_BASE);
        }

        /** This change without its base: as sent on a connection below version 9. */
        public Change withoutBase() {
            return baseMeta == NO_BASE ? this : new Change(outboxSeq, key, kind, fingerprint, value);
        }

        public int tag() {
            return baseMeta == NO_BASE ? 5 : 20;
        }
    }

    /** The kinds of change (same order as {@code dev.cairn.ChangeKind}). */
    enum Kind { CREATED, CHANGED, REMOVED }

    /** S→C: the change with {@code outboxSeq} is stored as {@code serverSeq}. */
    record Ack(long outboxSeq, Key<?> key, long serverSeq) implements Message {
        public Ack {
            Objects.requireNonNull(key);
        }

        public int tag() {
            return 6;
        }
    }

    /** S→C: the change was refused; {@code current} is the server's version to roll back to. */
    record Refused(long outboxSeq, int code, String reason, Pushed current) implements Message {
        public Refused {
            Objects.requireNonNull(reason);
            Objects.requireNonNull(current);
            reason = cut(reason);
        }

        public int tag() {
            return 7;
        }
    }

    /**
     * S→C: the server's state of one record as of {@code serverSeq}: present ({@code value}
     * non-empty) or absent (removed, or never stored: {@code serverSeq} 0).
     */
    record Pushed(long serverSeq, Key<?> key, long fingerprint, byte[] value) implements Message {
        public Pushed {
            Objects.requireNonNull(key);
            Objects.requireNonNull(value);
            if (serverSeq < 0) throw new IllegalArgumentException("serverSeq " + serverSeq + " (expected: >= 0)");
        }

        public boolean removed() {
            return value.length == 0;
        }

        public int tag() {
            return 8;
        }
    }

    /** S→C: every change up to {@code serverSeq} of the client's trees has been sent. */
    record CaughtUp(long serverSeq) implements Message {
        public int tag() {
            return 9;
        }
    }

    /**
     * S→C, version 6 and later only, while the client catches up, after a batch of its catch-up
     * (sync-protocol.md §4.2 step 2): every record of the client's trees whose latest change, as
     * of the server's sequence {@code serverSeq}, is at or below {@code seq} has been sent by
     * this connection's catch-up (Pushed frames sent out of the log's order do not count). A
     * node stores it as its syncSeq, so that a catch-up cut short resumes after {@code seq}, and
     * names {@code serverSeq} as its epochSeq (§4.1 step 4, §4.4): a server restored from a
     * backup taken before {@code serverSeq} may hold, at or below {@code seq}, states of records
     * the catch-up sent in their later state, or not at all.
     */
    record CaughtUpTo(long seq, long serverSeq) implements Message {
        public CaughtUpTo {
            if (seq < 0 || serverSeq < seq) {
                throw new IllegalArgumentException("CaughtUpTo seq " + seq + ", serverSeq " + serverSeq
                    + " (expected: 0 <= seq <= serverSeq)");
            }
        }

        public int tag() {
            return 18;
        }
    }

    /**
     * Either way, version 7 and later only (sync-protocol.md §3): C→S, the next {@code count}
     * Change frames of the connection are one group, which the server holds until the last has
     * come and then takes in one round; S→C, the next {@code count} Pushed frames are the records
     * one such group changed, which the node applies in one local transaction. SchemaDef frames
     * may come between the members; {@code 2 <= count <= GROUP_CHANGES_MAX_V8}, the bound of the
     * newest version (a version 7 connection allows {@code GROUP_CHANGES_MAX_V7}: the session
     * and the server check that against the connection's version, {@link FrameCodec#groupChangesMax}).
     */
    record Group(int count) implements Message {
        public Group {
            if (count < 2 || count > Limits.GROUP_CHANGES_MAX_V8) {
                throw new IllegalArgumentException("Group of " + count + " (expected: 2 to " + Limits.GROUP_CHANGES_MAX_V8 + ")");
            }
        }

        public int tag() {
            return 19;
        }
    }

    /** C→S: asks for one more id range of {@code tree}. */
    record NeedKeys(String tree) implements Message {
        public NeedKeys {
            Objects.requireNonNull(tree);
        }

        public int tag() {
            return 10;
        }
    }

    /** S→C: ids {@code [from, toExclusive)} of {@code tree} now belong to this client. */
    record Keys(String tree, int from, int toExclusive) implements Message {
        public Keys {
            Objects.requireNonNull(tree);
            if (from < 0 || toExclusive <= from) {
                throw new IllegalArgumentException("range [" + from + ", " + toExclusive + ") (expected: 0 <= from < to)");
            }
        }

        public int tag() {
            return 11;
        }
    }

    /** C→S: queue this client for the check-out of {@code key}. */
    record CheckOut(Key<?> key) implements Message {
        public CheckOut {
            Objects.requireNonNull(key);
        }

        public int tag() {
            return 12;
        }
    }

    /** C→S: give up the check-out of {@code key} (or leave its queue). */
    record CheckIn(Key<?> key) implements Message {
        public CheckIn {
            Objects.requireNonNull(key);
        }

        public int tag() {
            return 13;
        }
    }

    /**
     * S→C: who holds {@code key} ({@link #NONE} = free) and who waits, in order.
     * {@code snapshot} marks the table sent once after {@link Welcome}.
     */
    record Borrow(Key<?> key, boolean snapshot, UUID holder, String holderName, List<UUID> queue)
        implements Message {
        public Borrow {
            Objects.requireNonNull(key);
            Objects.requireNonNull(holder);
            Objects.requireNonNull(holderName);
            queue = List.copyOf(queue);
        }

        public int tag() {
            return 14;
        }
    }

    /** C→S, after the Welcome's {@code linkToken} is stored durably on the node: the server forgets the one before. */
    record LinkStored(UUID linkToken) implements Message {
        public LinkStored {
            Objects.requireNonNull(linkToken);
        }

        public int tag() {
            return 15;
        }
    }

    /**
     * C→S, version 3 and later only: sent when the client has sent or received nothing for a while, so
     * that the server hears from it and answers (sync-protocol.md §4.3). No payload.
     */
    record Ping() implements Message {
        public int tag() {
            return 16;
        }
    }

    /** S→C, version 3 and later only: the answer to a {@link Ping}. No payload. */
    record Pong() implements Message {
        public int tag() {
            return 17;
        }
    }

    /**
     * A reason text of at most {@link dev.cairn.internal.Limits#REASON_CHARS_MAX} chars: a longer
     * one (it quotes a peer's names) is cut, never inside a surrogate pair, and says so. Long, it
     * took its message past the u16 string length or the frame, and the server stopped (probe 103).
     */
    static String cut(String text) {
        int max = dev.cairn.internal.Limits.REASON_CHARS_MAX;
        if (text.length() <= max) return text;
        int end = max - 64;
        if (Character.isHighSurrogate(text.charAt(end - 1))) end--;
        return text.substring(0, end) + " ... (" + (text.length() - end) + " more chars cut)";
    }
}
