package dev.cairn.sync;

import dev.cairn.Key;
import dev.cairn.store.Cursor;
import dev.cairn.store.ReadTxn;
import dev.cairn.store.WriteTxn;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The server's check-outs (sync-protocol.md §5.4): per record its holder, since when, and the
 * queue of clients waiting for it, first in line first; and, per record, the clients whose
 * check-out an administrator broke and that have not asked for it or given it up since. Kept in
 * memory and in the trees {@link #BORROWS} and {@link #BROKEN} of the round's write transaction.
 * Each operation returns the {@link Message.Borrow} that tells the clients the record's new
 * state; sending it is the caller's ({@link ServerCore}). Not thread-safe: the loop's thread owns it.
 */
final class ServerCheckOuts {
    /** Record key → {@code holder:uuid, count:u16, queue:uuid*, since:i64} (sync-protocol.md §6). */
    static final String BORROWS = "srv.borrows";
    /**
     * Record key → {@code count:u16, client:uuid*}: the clients whose check-out of the record the
     * administrator broke and that have not asked for it or given it up since.
     */
    static final String BROKEN = "srv.broken";

    /** Holder ({@link Message#NONE} = free), since when it holds the record, and the queue of one record's check-out. */
    private static final class Entry {
        UUID holder = Message.NONE;
        /** When the holder got the record, in ms since the epoch; 0 unknown (stored by an older server). */
        long sinceMillis;
        final List<UUID> queue = new ArrayList<>();

        void handTo(UUID client) {
            holder = client;
            sinceMillis = client.equals(Message.NONE) ? 0 : System.currentTimeMillis();
        }

        /** To the first in the queue, or free. */
        void passOn() {
            handTo(queue.isEmpty() ? Message.NONE : queue.removeFirst());
        }
    }

    private final Supplier<WriteTxn> txn;
    private final Function<UUID, String> names;
    private final Map<Key<?>, Entry> entries = new LinkedHashMap<>();
    private final Map<Key<?>, Set<UUID>> broken = new LinkedHashMap<>();

    /** {@code txn}: the round's write transaction; {@code names}: a client's node name ("" unknown). */
    ServerCheckOuts(Supplier<WriteTxn> txn, Function<UUID, String> names) {
        this.txn = txn;
        this.names = names;
    }

    /** Reads what the server stored. */
    void load(ReadTxn r) {
        try (Cursor c = r.cursor(BORROWS)) {
            for (boolean ok = c.first(); ok; ok = c.next()) {
                ByteBuffer v = ByteBuffer.wrap(Bytes.copy(c.value()));
                Entry e = new Entry();
                e.holder = new UUID(v.getLong(), v.getLong());
                int n = v.getShort() & 0xFFFF;
                for (int i = 0; i < n; i++) e.queue.add(new UUID(v.getLong(), v.getLong()));
                // Absent in a value an older server wrote: unknown.
                if (v.remaining() >= Long.BYTES) e.sinceMillis = v.getLong();
                entries.put(Bytes.recordKeyOf(Bytes.copy(c.key())), e);
            }
        }
        try (Cursor c = r.cursor(BROKEN)) {
            for (boolean ok = c.first(); ok; ok = c.next()) {
                ByteBuffer v = ByteBuffer.wrap(Bytes.copy(c.value()));
                Set<UUID> clients = new LinkedHashSet<>();
                int n = v.getShort() & 0xFFFF;
                for (int i = 0; i < n; i++) clients.add(new UUID(v.getLong(), v.getLong()));
                broken.put(Bytes.recordKeyOf(Bytes.copy(c.key())), clients);
            }
        }
    }

    /** Every record's check-out that has a holder, in key order (tree, id, revision). */
    List<ServerCore.CheckOutState> all() {
        return entries.keySet().stream().map(this::of).filter(Objects::nonNull)
            .sorted(Comparator.comparing((ServerCore.CheckOutState c) -> c.key().tree())
                .thenComparingInt(c -> c.key().id()).thenComparingInt(c -> c.key().revision()))
            .toList();
    }

    /** The check-out of {@code key}, or null when nobody holds the record. */
    ServerCore.CheckOutState of(Key<?> key) {
        Entry e = entries.get(key);
        if (e == null || e.holder.equals(Message.NONE)) return null;
        return new ServerCore.CheckOutState(key, e.holder, e.sinceMillis, e.queue);
    }

    /** The record's holder, {@link Message#NONE} when free. */
    UUID holder(Key<?> key) {
        Entry e = entries.get(key);
        return e == null ? Message.NONE : e.holder;
    }

    boolean heldBy(Key<?> key, UUID client) {
        return holder(key).equals(client);
    }

    /** An administrator broke {@code client}'s check-out of {@code key}, and it has not been heard on it since. */
    boolean brokenFrom(Key<?> key, UUID client) {
        Set<UUID> from = broken.get(key);
        return from != null && from.contains(client);
    }

    /**
     * The snapshot a client gets on linking (sync-protocol.md §4.1 step 5): every record that is
     * checked out or waited for, in the trees it wants; and a record whose check-out was taken
     * from it and is free now, listed as free: else the node, which may not have heard of the
     * break (it was offline, or the Borrow was lost with its connection), would take the record
     * for its own and ask for it again.
     */
    List<Message.Borrow> snapshotFor(UUID client, Predicate<String> wants) {
        List<Message.Borrow> list = new ArrayList<>();
        for (Map.Entry<Key<?>, Entry> e : entries.entrySet()) {
            if (wants.test(e.getKey().tree())) list.add(message(e.getKey(), e.getValue(), true));
        }
        for (Map.Entry<Key<?>, Set<UUID>> e : broken.entrySet()) {
            if (e.getValue().contains(client) && !entries.containsKey(e.getKey()) && wants.test(e.getKey().tree())) {
                list.add(message(e.getKey(), new Entry(), true));
            }
        }
        return list;
    }

    /** {@code client} asks for {@code key}: it holds it when free, else it joins the queue (once). */
    Message.Borrow take(Key<?> key, UUID client) {
        heard(client, key);
        Entry e = entries.computeIfAbsent(key, k -> new Entry());
        if (e.holder.equals(Message.NONE)) {
            e.handTo(client);
        } else if (!e.holder.equals(client) && !e.queue.contains(client)) {
            e.queue.add(client);
        }
        store(key, e);
        return message(key, e, false);
    }

    /**
     * {@code client} gives {@code key} up: its holder hands it to the next in line, a waiting
     * client leaves the queue. Null when nobody holds or waits for the record.
     */
    Message.Borrow giveUp(Key<?> key, UUID client) {
        heard(client, key);
        Entry e = entries.get(key);
        if (e == null) return null;
        if (e.holder.equals(client)) {
            e.passOn();
        } else {
            e.queue.remove(client);
        }
        store(key, e);
        return message(key, e, false);
    }

    /** Takes {@code client} out of every queue it waits in; the Borrows that say so, in key order of entry. */
    List<Message.Borrow> leaveEveryQueue(UUID client) {
        List<Message.Borrow> out = new ArrayList<>();
        for (Map.Entry<Key<?>, Entry> m : entries.entrySet()) {
            if (m.getValue().queue.remove(client)) {
                store(m.getKey(), m.getValue());
                out.add(message(m.getKey(), m.getValue(), false));
            }
        }
        return out;
    }

    /** The records {@code client} holds. */
    List<Key<?>> heldBy(UUID client) {
        List<Key<?>> out = new ArrayList<>();
        for (Map.Entry<Key<?>, Entry> m : entries.entrySet()) {
            if (m.getValue().holder.equals(client)) out.add(m.getKey());
        }
        return out;
    }

    /**
     * Takes the check-out of {@code key} from its holder and hands it to the next in line (or
     * frees it); null when nobody held it. The holder is remembered until it asks for the record
     * or gives it up (see {@link #snapshotFor}).
     */
    Message.Borrow breakHolder(Key<?> key) {
        Entry e = entries.get(key);
        if (e == null || e.holder.equals(Message.NONE)) return null;
        Set<UUID> from = broken.computeIfAbsent(key, k -> new LinkedHashSet<>());
        from.add(e.holder);
        storeBroken(key, from);
        e.passOn();
        store(key, e);
        return message(key, e, false);
    }

    /**
     * {@code key} was removed: nobody holds or waits for it any more, for ever. The Borrow that
     * frees it, or null when nobody held or waited for it.
     */
    Message.Borrow removed(Key<?> key) {
        if (broken.remove(key) != null) txn.get().delete(BROKEN, Bytes.recordKey(key));
        if (entries.remove(key) == null) return null;
        txn.get().delete(BORROWS, Bytes.recordKey(key));
        return free(key);
    }

    /** A Borrow saying that {@code key} is free. */
    Message.Borrow free(Key<?> key) {
        return message(key, new Entry(), false);
    }

    /** {@code client} asked for {@code key} or gave it up: a break of its check-out is no news to it any more. */
    private void heard(UUID client, Key<?> key) {
        Set<UUID> from = broken.get(key);
        if (from != null && from.remove(client)) storeBroken(key, from);
    }

    private void storeBroken(Key<?> key, Set<UUID> from) {
        byte[] rk = Bytes.recordKey(key);
        if (from.isEmpty()) {
            broken.remove(key);
            txn.get().delete(BROKEN, rk);
            return;
        }
        ByteBuffer v = ByteBuffer.allocate(2 + 16 * from.size());
        v.putShort((short) from.size());
        for (UUID u : from) v.putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
        txn.get().put(BROKEN, rk, v.array());
    }

    private void store(Key<?> key, Entry e) {
        byte[] rk = Bytes.recordKey(key);
        if (e.holder.equals(Message.NONE) && e.queue.isEmpty()) {
            entries.remove(key);
            txn.get().delete(BORROWS, rk);
            return;
        }
        ByteBuffer v = ByteBuffer.allocate(26 + 16 * e.queue.size());
        v.putLong(e.holder.getMostSignificantBits()).putLong(e.holder.getLeastSignificantBits());
        v.putShort((short) e.queue.size());
        for (UUID u : e.queue) v.putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
        v.putLong(e.sinceMillis);
        txn.get().put(BORROWS, rk, v.array());
    }

    private Message.Borrow message(Key<?> key, Entry e, boolean snapshot) {
        String name = e.holder.equals(Message.NONE) ? "" : names.apply(e.holder);
        return new Message.Borrow(key, snapshot, e.holder, name, List.copyOf(e.queue));
    }
}
