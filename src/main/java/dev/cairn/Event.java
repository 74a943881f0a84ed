package dev.cairn;

import java.util.UUID;

/**
 * Something that happened to the database, delivered after it was committed, in commit order
 * (see {@link Cairn#events()} for delivery and overflow rules).
 */
public sealed interface Event {
    /** A record was created, changed (data or metadata) or removed; {@code remote} if by another node. */
    record RecordChanged(Key<?> key, ChangeKind kind, boolean remote) implements Event { }

    /** The check-out state of a record changed. */
    record BorrowChanged(Key<?> key, BorrowState state) implements Event { }

    /**
     * The link to the server with this UUID is up (the server welcomed this node), before the
     * catch-up's events: the node may still be catching up ({@link Cairn#connect}'s future
     * completes once it has).
     */
    record Connected(UUID server) implements Event { }

    /** The link to the server ended. */
    record Disconnected(String reason) implements Event { }

    /** The server granted the ids {@code [fromId, toIdExclusive)} of a tree to this node. */
    record KeysReceived(String tree, int fromId, int toIdExclusive) implements Event { }

    /**
     * The server refused a local change; the record was rolled back to the server's version.
     * {@code reason} is {@code "CODE: why"} with a code of sync-protocol.md §5.1, e.g.
     * {@code CHANGED_SINCE} for a state change another node's change overtook.
     */
    record ChangeRefused(Key<?> key, String reason) implements Event { }
}
