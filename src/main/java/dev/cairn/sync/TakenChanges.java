package dev.cairn.sync;

import dev.cairn.internal.Limits;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
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
 * acknowledged there and are dropped. In memory only: a server restarted meanwhile refuses such
 * a retransmission as before (the node logs its data to enter again).
 */
final class TakenChanges {
    private static final int PER_CLIENT_MAX = Limits.GROUP_CHANGES_MAX_V8;
    private static final int FIRST_CAPACITY = 16;

    /** One client's changes, oldest first, in a ring. */
    private static final class Client {
        long[] seqs = new long[FIRST_CAPACITY];
        long[] hashes = new long[FIRST_CAPACITY];
        int first;
        int size;
        /** How many of the oldest were taken on earlier connections than the client's latest. */
        int fromEarlier;

        int at(int i) {
            return (first + i) % seqs.length;
        }

        void dropFirst() {
            first = (first + 1) % seqs.length;
            size--;
            if (fromEarlier > 0) fromEarlier--;
        }

        void add(long seq, long hash) {
            if (size == PER_CLIENT_MAX) dropFirst();
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
        Client c = clients.get(client);
        if (c != null) c.fromEarlier = c.size;
    }

    /** {@code client} sends sequence {@code seq}: its changes from earlier connections below it were acknowledged. */
    void sending(UUID client, long seq) {
        Client c = clients.get(client);
        if (c == null) return;
        while (c.fromEarlier > 0 && c.seqs[c.first] < seq) c.dropFirst();
        if (c.size == 0) clients.remove(client);
    }

    /** The server took (and committed) {@code client}'s change of sequence {@code seq}, known by {@code hash}. */
    void took(UUID client, long seq, long hash) {
        clients.computeIfAbsent(client, x -> new Client()).add(seq, hash);
    }

    /** True when the server took {@code client}'s change of sequence {@code seq} with this {@code hash}, as far as it keeps. */
    boolean taken(UUID client, long seq, long hash) {
        Client c = clients.get(client);
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
