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
 * The outbox's three trees (spec/database-layout.md §6): {@code cairn.outbox} holds one entry per
 * record with a pending change, {@code cairn.outboxorder} the same entries by sequence, so that
 * sync reads the oldest few without listing them all, and {@code cairn.outboxgroup} the same
 * entries by group start, so that it finds where it may cut them ({@link OutboxGroups}). Every
 * write goes through here, so the three list the same entries.
 */
final class Outbox {
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private static final String[] TREES = {Layout.OUTBOX, Layout.OUTBOX_ORDER, Layout.OUTBOX_GROUP};

    private Outbox() { }

    /** The sequence of a stored entry value. */
    static long sequenceOf(MemorySegment entry) {
        return entry.get(I64, 0);
    }

    /** The group start of a stored entry value: its sequence in one an older Cairn wrote (25 bytes). */
    static long groupStartOf(MemorySegment entry) {
        return entry.byteSize() >= Layout.OutboxEntry.VALUE_BYTES ? entry.get(I64, Layout.OutboxEntry.OLDER_VALUE_BYTES)
            : sequenceOf(entry);
    }

    /** The {@code cairn.outboxgroup} key of an entry. */
    static byte[] groupKey(long groupStart, long sequence) {
        return java.nio.ByteBuffer.allocate(16).putLong(groupStart).putLong(sequence).array();
    }

    /**
     * Stores {@code e} for its record, replacing the record's earlier entry {@code old} (the
     * value the caller read for that key in this transaction, or null).
     */
    static void put(WriteTxn txn, Layout.OutboxEntry e, MemorySegment old) {
        byte[] k = e.key();
        if (old != null) {
            long s = sequenceOf(old);
            long g = groupStartOf(old);
            txn.delete(Layout.OUTBOX_ORDER, Layout.longBytes(s));
            txn.delete(Layout.OUTBOX_GROUP, groupKey(g, s));
        }
        txn.put(Layout.OUTBOX, k, e.value());
        txn.put(Layout.OUTBOX_ORDER, Layout.longBytes(e.sequence()), k);
        txn.put(Layout.OUTBOX_GROUP, groupKey(e.groupStart(), e.sequence()), new byte[0]);
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
        long g = groupStartOf(old);
        byte[] value = Layout.copy(old); // for a message below, read before the delete
        txn.delete(Layout.OUTBOX, key);
        if (!txn.delete(Layout.OUTBOX_ORDER, Layout.longBytes(s))) throw missing(key, value, Layout.OUTBOX_ORDER);
        if (!txn.delete(Layout.OUTBOX_GROUP, groupKey(g, s))) {
            throw missing(key, value, Layout.OUTBOX_GROUP);
        }
        return true;
    }

    private static CorruptionException missing(byte[] key, byte[] value, String tree) {
        return new CorruptionException("outbox entry " + sequenceOf(MemorySegment.ofArray(value)) + " of "
            + Layout.OutboxEntry.fromStored(key, value) + " is missing in " + tree);
    }

    /**
     * A window of the outbox: {@code entries} of some trees, oldest first, and {@code nextSequence},
     * the sequence of the first entry of those trees after them (-1: none, the window reaches the
     * end of those trees' entries).
     */
    record Window(List<Layout.OutboxEntry> entries, long nextSequence) { }

    /** At most {@code max} entries of the given trees (empty = all), oldest first. */
    static List<Layout.OutboxEntry> oldest(ReadTxn r, Set<String> trees, int max) {
        return window(r, trees, max).entries();
    }

    /** At most {@code max} entries of the given trees (empty = all), oldest first, and what follows them. */
    static Window window(ReadTxn r, Set<String> trees, int max) {
        List<Layout.OutboxEntry> list = new ArrayList<>();
        try (Cursor c = r.cursor(Layout.OUTBOX_ORDER)) {
            for (boolean ok = c.first(); ok; ok = c.next()) {
                long s = c.key().get(I64, 0);
                byte[] k = Layout.copy(c.value());
                MemorySegment v = r.get(Layout.OUTBOX, k);
                Layout.OutboxEntry e = v == null ? null : Layout.OutboxEntry.fromStored(k, Layout.copy(v));
                if (e == null || e.sequence() != s) {
                    throw new CorruptionException(Layout.OUTBOX_ORDER + " names entry " + s + " for a record whose "
                        + Layout.OUTBOX + " entry is " + e);
                }
                if (!trees.isEmpty() && !trees.contains(e.tree())) continue;
                if (list.size() == max) return new Window(list, s);
                list.add(e);
            }
        }
        return new Window(list, -1);
    }

    /** True when the outbox's three trees exist and are empty. */
    static boolean isEmpty(ReadTxn r) {
        for (String tree : TREES) {
            if (!r.hasTree(tree) || r.count(tree) > 0) return false;
        }
        return true;
    }

    /** Drops every entry (the three trees stay, empty). */
    static void clear(WriteTxn txn) {
        for (String tree : TREES) {
            if (txn.hasTree(tree)) txn.dropTree(tree);
            txn.createTree(tree);
        }
    }

    /**
     * False when the order or group tree is missing or, as far as open can tell cheaply, does not
     * list the outbox's entries: counts differ, or the last entry by sequence is not in both. That
     * finds what an older Cairn did meanwhile. One that knew no group tree kept the order tree but
     * wrote 25-byte entries (group start = sequence) at sequences above all others: if any is
     * left, the last entry is one and the group tree lacks it; if none is left, every entry it
     * replaced or deleted left a group key behind, and the counts differ.
     */
    static boolean indexesMatch(ReadTxn r) {
        if (!r.hasTree(Layout.OUTBOX_ORDER) || !r.hasTree(Layout.OUTBOX_GROUP)) return false;
        long n = r.count(Layout.OUTBOX);
        if (r.count(Layout.OUTBOX_ORDER) != n || r.count(Layout.OUTBOX_GROUP) != n) return false;
        if (n == 0) return true;
        try (Cursor c = r.cursor(Layout.OUTBOX_ORDER)) {
            c.last();
            long s = c.key().byteSize() == 8 ? c.key().get(I64, 0) : -1;
            MemorySegment v = r.get(Layout.OUTBOX, Layout.copy(c.value()));
            return v != null && v.byteSize() >= 8 && sequenceOf(v) == s
                && r.get(Layout.OUTBOX_GROUP, groupKey(groupStartOf(v), s)) != null;
        }
    }

    /**
     * (Re)builds the order and group trees from the outbox: at open, when they are missing or do
     * not match ({@link #indexesMatch}).
     */
    static void buildOrder(WriteTxn txn) {
        for (String tree : new String[] {Layout.OUTBOX_ORDER, Layout.OUTBOX_GROUP}) {
            if (txn.hasTree(tree)) txn.dropTree(tree);
            txn.createTree(tree);
        }
        byte[] none = new byte[0];
        try (Cursor c = txn.cursor(Layout.OUTBOX)) {
            for (boolean ok = c.first(); ok; ok = c.next()) {
                long s = sequenceOf(c.value());
                long g = groupStartOf(c.value());
                byte[] k = Layout.copy(c.key());
                txn.put(Layout.OUTBOX_ORDER, Layout.longBytes(s), k);
                txn.put(Layout.OUTBOX_GROUP, groupKey(g, s), none);
            }
        }
    }
}
