package dev.cairn.db;

import dev.cairn.CorruptionException;
import dev.cairn.store.Cursor;
import dev.cairn.store.ReadTxn;
import dev.cairn.store.WriteTxn;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The outbox's two trees (spec/database-layout.md §6): {@code cairn.outbox} holds one entry per
 * record with a pending change, {@code cairn.outboxorder} the same entries by sequence, so that
 * sync reads the oldest few without listing them all. Every write goes through here, so the two
 * stay inverse.
 */
final class Outbox {
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private Outbox() { }

    /** The sequence of a stored entry value. */
    static long sequenceOf(MemorySegment entry) {
        return entry.get(I64, 0);
    }

    /**
     * Stores {@code e} for its record, replacing the record's earlier entry {@code old} (the
     * value the caller read for that key in this transaction, or null).
     */
    static void put(WriteTxn txn, Layout.OutboxEntry e, MemorySegment old) {
        byte[] k = e.key();
        if (old != null) txn.delete(Layout.OUTBOX_ORDER, Layout.longBytes(sequenceOf(old)));
        txn.put(Layout.OUTBOX, k, e.value());
        txn.put(Layout.OUTBOX_ORDER, Layout.longBytes(e.sequence()), k);
    }

    /** Drops the entry of the record {@code key} (an outbox key); false if it had none. */
    static boolean delete(WriteTxn txn, byte[] key) {
        return deleteIf(txn, key, -1);
    }

    /**
     * Drops the entry of the record {@code key} if its sequence is {@code sequence} (any when -1):
     * a newer change that replaced it stays.
     */
    static boolean deleteIf(WriteTxn txn, byte[] key, long sequence) {
        MemorySegment old = txn.get(Layout.OUTBOX, key);
        if (old == null) return false;
        long s = sequenceOf(old);
        if (sequence != -1 && s != sequence) return false;
        txn.delete(Layout.OUTBOX, key);
        if (!txn.delete(Layout.OUTBOX_ORDER, Layout.longBytes(s))) {
            throw new CorruptionException("outbox entry " + s + " of " + Layout.OutboxEntry.fromStored(key, Layout.copy(old))
                + " is missing in " + Layout.OUTBOX_ORDER);
        }
        return true;
    }

    /** At most {@code max} entries of the given trees (empty = all), oldest first. */
    static List<Layout.OutboxEntry> oldest(ReadTxn r, Set<String> trees, int max) {
        List<Layout.OutboxEntry> list = new ArrayList<>();
        try (Cursor c = r.cursor(Layout.OUTBOX_ORDER)) {
            for (boolean ok = c.first(); ok && list.size() < max; ok = c.next()) {
                long s = c.key().get(I64, 0);
                byte[] k = Layout.copy(c.value());
                MemorySegment v = r.get(Layout.OUTBOX, k);
                Layout.OutboxEntry e = v == null ? null : Layout.OutboxEntry.fromStored(k, Layout.copy(v));
                if (e == null || e.sequence() != s) {
                    throw new CorruptionException(Layout.OUTBOX_ORDER + " names entry " + s + " for a record whose "
                        + Layout.OUTBOX + " entry is " + e);
                }
                if (trees.isEmpty() || trees.contains(e.tree())) list.add(e);
            }
        }
        return list;
    }

    /** Drops every entry (both trees stay, empty). */
    static void clear(WriteTxn txn) {
        for (String tree : new String[] {Layout.OUTBOX, Layout.OUTBOX_ORDER}) {
            if (txn.hasTree(tree)) txn.dropTree(tree);
            txn.createTree(tree);
        }
    }

    /** (Re)builds the order tree from the outbox: at open, when it is missing or does not match. */
    static void buildOrder(WriteTxn txn) {
        if (txn.hasTree(Layout.OUTBOX_ORDER)) txn.dropTree(Layout.OUTBOX_ORDER);
        txn.createTree(Layout.OUTBOX_ORDER);
        try (Cursor c = txn.cursor(Layout.OUTBOX)) {
            for (boolean ok = c.first(); ok; ok = c.next()) {
                txn.put(Layout.OUTBOX_ORDER, Layout.longBytes(sequenceOf(c.value())), Layout.copy(c.key()));
            }
        }
    }
}
