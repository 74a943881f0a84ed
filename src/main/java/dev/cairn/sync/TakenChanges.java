package dev.cairn.sync;

import dev.cairn.internal.Limits;
import dev.cairn.store.Cursor;
import dev.cairn.store.WriteTxn;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.zip.CRC32C;

/**
 * The CHANGED changes the server took from each client lately, by the client's outbox sequence
 * and a hash of the key and value it sent: so that one sent again because its Ack was lost (the
 * connection ended first) is known as taken even after the record changed since, and is
 * answered SUPERSEDED instead of being refused as a change never made, or taken again over the
 * newer version (sync-protocol.md §5.1; probe 105 F2).
 *
 * <p>Only a change in flight when a connection ended can come again: at most a send window's
 * ({@link Limits#GROUP_CHANGES_MAX_V8}), so that many are kept per client, the oldest dropped
 * first. A node sends its pending changes oldest first, so once a later connection of the
 * client sends sequence {@code s}, the changes taken on earlier connections below {@code s} were
 * acknowledged there and are dropped.
 *
 * <p>Kept in memory and in the tree {@link #TAKEN} of the round's write transaction, the one that
 * stores the change: a server restarted between taking a change and its retransmission still
 * knows it. (Kept in memory only, that retransmission was refused CHANGED_SINCE, and the node
 * told the application that a change the server holds was not made: probe 107.)
 */
final class TakenChanges {
    /**
     * {@code client:uuid, outboxSeq:i64, hash:i64} → empty: one row per change kept
     * (sync-protocol.md §6). The hash is in the key, so that two changes under one sequence (two
     * copies of a node) are two rows.
     */
    static final String TAKEN = "srv.taken";
    private static final int PER_CLIENT_MAX = Limits.GROUP_CHANGES_MAX_V8;
    private static final int ROW_BYTES = 16 + 8 + 8;
    private static final byte[] NO_VALUE = new byte[0];
    private static final int FIRST_CAPACITY = 16;

    /** One client's changes, oldest first, in a ring; with rows in {@link #TAKEN} when {@code kept}. */
    private static final class Client {
        final UUID id;
        final boolean kept;
        long[] seqs = new long[FIRST_CAPACITY];
        long[] hashes = new long[FIRST_CAPACITY];
        int first;
        int size;
        /** How many of the oldest were taken on earlier connections than the client's latest. */
        int fromEarlier;

        Client(UUID id, boolean kept) {
            this.id = id;
            this.kept = kept;
        }

        int at(int i) {
            return (first + i) % seqs.length;
        }

        /** Drops the oldest, and its row. */
        void dropFirst(WriteTxn w) {
            if (kept) w.delete(TAKEN, row(id, seqs[first], hashes[first]));
            first = (first + 1) % seqs.length;
            size--;
            if (fromEarlier > 0) fromEarlier--;
        }

        /** Adds to memory, dropping the oldest's row in {@code w} when full; the caller writes the new row. */
        void add(long seq, long hash, WriteTxn w) {
            if (size == PER_CLIENT_MAX) dropFirst(w);
            if (size == seqs.length) grow();
            seqs[at(size)] = seq;
            hashes[at(size)] = hash;
            size++;
        }

        private void grow() {
            long[] s = new long[seqs.length * 2];
            long[] h = new long[s.length];
            for (int i = 0; i < size; i++) {
                s[i] = seqs[at(i)];
                h[i] = hashes[at(i)];
            }
            seqs = s;
            hashes = h;
            first = 0;
        }
    }

    private final Map<UUID, Client> clients = new HashMap<>();
    /**
     * The CREATED changes taken lately, in memory only: one sent again after its Ack was lost,
     * of a record another node removed since, is answered SUPERSEDED, not refused REMOVED with
     * the node told to enter the data again (probe 125; the tombstone keeps no trace of the
     * insert). Not in the folder: a row per insert would cost every insert a write, and after a
     * restart such an insert is refused REMOVED as before.
     */
    private final Map<UUID, Client> inserts = new HashMap<>();
    private final Supplier<WriteTxn> txn;

    /** {@code txn}: the round's write transaction. */
    TakenChanges(Supplier<WriteTxn> txn) {
        this.txn = txn;
    }

    /**
     * Reads what the server stored, in {@code w} (the open's transaction): every change kept
     * counts as taken on an earlier connection. A client's rows come in sequence order, which is
     * the order a node sends in; rows past {@link #PER_CLIENT_MAX} (none, unless the tree was
     * edited) go, the oldest first.
     */
    void load(WriteTxn w) {
        List<byte[]> rows = new ArrayList<>();
        try (Cursor c = w.cursor(TAKEN)) {
            for (boolean ok = c.first(); ok; ok = c.next()) rows.add(Bytes.copy(c.key()));
        }
        for (byte[] row : rows) {
            // Added once the cursor is closed: one past the bound deletes its oldest row.
            if (row.length != ROW_BYTES) continue; // not a row a server writes: ignored
            ByteBuffer k = ByteBuffer.wrap(row);
            UUID client = new UUID(k.getLong(), k.getLong());
            clients.computeIfAbsent(client, id -> new Client(id, true)).add(k.getLong(), k.getLong(), w);
        }
        for (Client c : clients.values()) c.fromEarlier = c.size;
    }

    /** The row of a change kept, in {@link #TAKEN}. */
    static byte[] row(UUID client, long seq, long hash) {
        return ByteBuffer.allocate(ROW_BYTES).putLong(client.getMostSignificantBits())
            .putLong(client.getLeastSignificantBits()).putLong(seq).putLong(hash).array();
    }

    /** The hash a taken change is known by: CRC32C of its record key (the server's, Bytes.recordKey) and of its value. */
    static long hash(byte[] recordKey, byte[] value) {
        CRC32C k = new CRC32C();
        k.update(recordKey);
        CRC32C v = new CRC32C();
        v.update(value);
        return k.getValue() << 32 | v.getValue();
    }

    /** A new connection of {@code client}: what it was sent before is from earlier connections now. */
    void connected(UUID client) {
        for (Map<UUID, Client> m : List.of(clients, inserts)) {
            Client c = m.get(client);
            if (c != null) c.fromEarlier = c.size;
        }
    }

    /** {@code client} sends sequence {@code seq}: its changes from earlier connections below it were acknowledged. */
    void sending(UUID client, long seq) {
        for (Map<UUID, Client> m : List.of(clients, inserts)) {
            Client c = m.get(client);
            if (c == null) continue;
            while (c.fromEarlier > 0 && c.seqs[c.first] < seq) c.dropFirst(c.kept ? txn.get() : null);
            if (c.size == 0) m.remove(client);
        }
    }

    /** The server takes {@code client}'s change of sequence {@code seq}, known by {@code hash}, in the round's transaction. */
    void took(UUID client, long seq, long hash) {
        WriteTxn w = txn.get();
        clients.computeIfAbsent(client, id -> new Client(id, true)).add(seq, hash, w);
        w.put(TAKEN, row(client, seq, hash), NO_VALUE);
    }

    /** The server takes {@code client}'s insert of sequence {@code seq}, known by {@code hash} (kept in memory only). */
    void tookInsert(UUID client, long seq, long hash) {
        inserts.computeIfAbsent(client, id -> new Client(id, false)).add(seq, hash, null);
    }

    /** Forgets every change kept of {@code client}, rows too: a node that will not come back (release NODE). */
    void forget(UUID client) {
        Client c = clients.remove(client);
        while (c != null && c.size > 0) c.dropFirst(txn.get());
        inserts.remove(client);
    }

    /** True when the server took {@code client}'s change of sequence {@code seq} with this {@code hash}, as far as it keeps. */
    boolean taken(UUID client, long seq, long hash) {
        return holds(clients.get(client), seq, hash);
    }

    /** True when the server took {@code client}'s insert of sequence {@code seq} with this {@code hash} since it started, as far as it keeps. */
    boolean takenInsert(UUID client, long seq, long hash) {
        return holds(inserts.get(client), seq, hash);
    }

    private static boolean holds(Client c, long seq, long hash) {
        if (c == null) return false;
        for (int i = c.size - 1; i >= 0; i--) {
            int at = c.at(i);
            if (c.seqs[at] == seq && c.hashes[at] == hash) return true;
        }
        return false;
    }

    /** Changes kept, over all clients (for tests). */
    int size() {
        int n = 0;
        for (Client c : clients.values()) n += c.size;
        return n;
    }
}
