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
 * The outbox's five trees (spec/database-layout.md §6): {@code cairn.outbox} holds one entry per
 * record with a pending change, {@code cairn.outboxorder} the same entries by sequence, so that
 * sync reads the oldest few without listing them all, {@code cairn.outboxgroup} the same
 * entries by group start, so that it finds where it may cut them ({@link OutboxGroups}), and
 * {@code cairn.outboxstart} the group start of each entry whose group starts before its
 * sequence, and {@code cairn.outboxbase} the server version a CHANGED entry's change was made on.
 * The group start and the base are kept out of the entry's value so that an older Cairn, which
 * takes only 25-byte values, still reads and syncs the outbox. Every write goes through here, so
 * the five agree.
 */
final class Outbox {
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private static final String[] TREES = {Layout.OUTBOX, Layout.OUTBOX_ORDER, Layout.OUTBOX_GROUP, Layout.OUTBOX_START,
        Layout.OUTBOX_BASE};
    private static final byte[] NONE = new byte[0];
    /** The base of an entry that has none: not CHANGED, or made by a Cairn of before {@link Layout#OUTBOX_BASE}. */
    static final long NO_BASE = -1;
    /** Bytes of a {@link Layout#OUTBOX_BASE} row: {@code sequence:i64, baseMeta:i64}. */
    static final int BASE_ROW_BYTES = 16;

    private Outbox() { }

    /** The sequence of a stored entry value. */
    static long sequenceOf(MemorySegment entry) {
        return entry.get(I64, 0);
    }

    /** The group start of the entry stored under {@code key} with value {@code entry}: see {@link #groupStartOf(MemorySegment, MemorySegment)}. */
    static long groupStartOf(ReadTxn r, byte[] key, MemorySegment entry) {
        return groupStartOf(entry, grouped(entry) ? null : r.get(Layout.OUTBOX_START, key));
    }

    /**
     * The group start of a stored entry value: the one a 33-byte value carries (written by a
     * Cairn of before {@code cairn.outboxstart}), else the entry's {@code cairn.outboxstart} row
     * {@code row} (null: none), else its sequence.
     */
    static long groupStartOf(MemorySegment entry, MemorySegment row) {
        if (grouped(entry)) return entry.get(I64, Layout.OutboxEntry.VALUE_BYTES);
        return row != null && row.byteSize() == 8 ? row.get(I64, 0) : sequenceOf(entry);
    }

    /** True for a value with its group start appended (33 bytes). */
    private static boolean grouped(MemorySegment entry) {
        return entry.byteSize() == Layout.OutboxEntry.GROUPED_VALUE_BYTES;
    }

    /**
     * The base metaIteration of the entry {@code entry} stored under {@code key} (see {@link
     * Layout#OUTBOX_BASE}): its row's when the row holds the entry's sequence and a base from 0
     * to below the entry's metaIteration, else {@link #NO_BASE} (no row, a stale or damaged one:
     * the change goes without a base, as an older Cairn sends it).
     */
    static long baseOf(ReadTxn r, byte[] key, MemorySegment entry) {
        if (!r.hasTree(Layout.OUTBOX_BASE) || entry.byteSize() < Layout.OutboxEntry.VALUE_BYTES
                || Layout.OutboxEntry.kindOf(entry) != dev.cairn.ChangeKind.CHANGED) {
            return NO_BASE;
        }
        MemorySegment row = r.get(Layout.OUTBOX_BASE, key);
        if (row == null || row.byteSize() != BASE_ROW_BYTES || row.get(I64, 0) != sequenceOf(entry)) return NO_BASE;
        long base = row.get(I64, 8);
        return base >= 0 && base < entry.get(I64, 9) ? base : NO_BASE; // metaIteration: after sequence and kind
    }

    /** The entry a stored key and value hold, with its group start (from {@code cairn.outboxstart} if there). */
    static Layout.OutboxEntry read(ReadTxn r, byte[] key, MemorySegment value) {
        Layout.OutboxEntry e = Layout.OutboxEntry.fromStored(key, Layout.copy(value));
        return grouped(value) ? e : e.withGroupStart(groupStartOf(r, key, value));
    }

    /** The {@code cairn.outboxgroup} key of an entry. */
    static byte[] groupKey(long groupStart, long sequence) {
        return java.nio.ByteBuffer.allocate(16).putLong(groupStart).putLong(sequence).array();
    }

    /**
     * Stores {@code e} for its record, replacing the record's earlier entry {@code old} (the
     * value the caller read for that key in this transaction, or null), with no base.
     */
    static void put(WriteTxn txn, Layout.OutboxEntry e, MemorySegment old) {
        put(txn, e, old, old == null ? -1 : groupStartOf(txn, e.key(), old), NO_BASE);
    }

    /**
     * {@link #put(WriteTxn, Layout.OutboxEntry, MemorySegment)}, given {@code old}'s group start
     * (when old is not null), and {@code base}, the metaIteration the change of a CHANGED entry
     * was made on ({@link #NO_BASE}: none, for any other kind).
     */
    static void put(WriteTxn txn, Layout.OutboxEntry e, MemorySegment old, long oldStart, long base) {
        byte[] k = e.key();
        boolean row = e.groupStart() != e.sequence();
        if (base != NO_BASE && (e.kind() != dev.cairn.ChangeKind.CHANGED || base < 0 || base >= e.metaIteration())) {
            throw new IllegalArgumentException("outbox entry " + e + " with base metaIteration " + base
                + " (expected: a CHANGED entry's, 0 up to below its metaIteration)");
        }
        if (old != null) {
            long s = sequenceOf(old);
            txn.delete(Layout.OUTBOX_ORDER, Layout.longBytes(s));
            txn.delete(Layout.OUTBOX_GROUP, groupKey(oldStart, s));
            if (oldStart != s && !row) txn.delete(Layout.OUTBOX_START, k);
            if (base == NO_BASE) txn.delete(Layout.OUTBOX_BASE, k);
        }
        txn.put(Layout.OUTBOX, k, e.value());
        txn.put(Layout.OUTBOX_ORDER, Layout.longBytes(e.sequence()), k);
        txn.put(Layout.OUTBOX_GROUP, groupKey(e.groupStart(), e.sequence()), NONE);
        // Most entries start their own group (a batch's first, a single-record batch): no row.
        if (row) txn.put(Layout.OUTBOX_START, k, Layout.longBytes(e.groupStart()));
        if (base != NO_BASE) {
            txn.put(Layout.OUTBOX_BASE, k, java.nio.ByteBuffer.allocate(BASE_ROW_BYTES).putLong(e.sequence()).putLong(base).array());
        }
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
        long g = groupStartOf(txn, key, old);
        byte[] value = Layout.copy(old); // for a message below, read before the delete
        txn.delete(Layout.OUTBOX, key);
        if (!txn.delete(Layout.OUTBOX_ORDER, Layout.longBytes(s))) throw missing(key, value, Layout.OUTBOX_ORDER);
        if (!txn.delete(Layout.OUTBOX_GROUP, groupKey(g, s))) {
            throw missing(key, value, Layout.OUTBOX_GROUP);
        }
        if (g != s) txn.delete(Layout.OUTBOX_START, key);
        txn.delete(Layout.OUTBOX_BASE, key);
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
        return window(r, trees, -1, max, true).entries();
    }

    /**
     * At most {@code max} entries of the given trees (empty = all) with a sequence above
     * {@code afterSeq}, oldest first, and what follows them. Without {@code groupStarts} an
     * entry's group start is not looked up in {@code cairn.outboxstart} (sync's listing needs only
     * where the outbox may be cut, which {@link OutboxGroups} finds by the group tree): the
     * entries then carry the group start their value holds, else their sequence.
     */
    static Window window(ReadTxn r, Set<String> trees, long afterSeq, int max, boolean groupStarts) {
        List<Layout.OutboxEntry> list = new ArrayList<>();
        try (Cursor c = r.cursor(Layout.OUTBOX_ORDER)) {
            boolean first = afterSeq < 0 ? c.first() : c.seek(Layout.longBytes(afterSeq + 1));
            for (boolean ok = first; ok; ok = c.next()) {
                long s = c.key().get(I64, 0);
                byte[] k = Layout.copy(c.value());
                MemorySegment v = r.get(Layout.OUTBOX, k);
                Layout.OutboxEntry e = v == null ? null
                    : groupStarts ? read(r, k, v) : Layout.OutboxEntry.fromStored(k, Layout.copy(v));
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

    /** True when the outbox's five trees exist and are empty. */
    static boolean isEmpty(ReadTxn r) {
        for (String tree : TREES) {
            if (!r.hasTree(tree) || r.count(tree) > 0) return false;
        }
        return true;
    }

    /** Drops every entry (the five trees stay, empty). */
    static void clear(WriteTxn txn) {
        for (String tree : TREES) {
            if (txn.hasTree(tree)) txn.dropTree(tree);
            txn.createTree(tree);
        }
    }

    /**
     * False when the order, group or start tree is missing or, as far as open can tell cheaply,
     * does not agree with the outbox: counts differ, more start rows than entries, or the last
     * entry by sequence is not in both other trees or is a 33-byte value. That finds what an
     * older Cairn did meanwhile. One that knew no group tree kept the order tree but wrote
     * entries at sequences above all others: if any is left, the last entry is one and the group
     * tree lacks it (no key of ours has its sequence); if none is left, every entry it replaced
     * or deleted left a group key behind, and the counts differ. A Cairn of before the start tree
     * wrote 33-byte values, which the rebuild makes 25 bytes again.
     */
    static boolean indexesMatch(ReadTxn r) {
        for (String tree : TREES) if (!r.hasTree(tree)) return false;
        long n = r.count(Layout.OUTBOX);
        if (r.count(Layout.OUTBOX_ORDER) != n || r.count(Layout.OUTBOX_GROUP) != n || r.count(Layout.OUTBOX_START) > n
                || r.count(Layout.OUTBOX_BASE) > n) {
            return false;
        }
        if (n == 0) return true;
        try (Cursor c = r.cursor(Layout.OUTBOX_ORDER)) {
            c.last();
            long s = c.key().byteSize() == 8 ? c.key().get(I64, 0) : -1;
            byte[] k = Layout.copy(c.value());
            MemorySegment v = r.get(Layout.OUTBOX, k);
            return v != null && v.byteSize() >= 8 && !grouped(v) && sequenceOf(v) == s
                && r.get(Layout.OUTBOX_GROUP, groupKey(groupStartOf(r, k, v), s)) != null;
        }
    }

    /**
     * (Re)builds the order and group trees from the outbox and mends the start tree: at open,
     * when they are missing or do not match ({@link #indexesMatch}). A start row stays where it
     * names a 25-byte entry and a group start from 0 to below that entry's sequence, also when an
     * older Cairn rewrote the entry since (a larger group than needed, which is safe); other rows
     * go, and their entries are groups of their own, as an older Cairn, which records no groups,
     * left them. A 33-byte value becomes 25 bytes and its group start a row, so that an older
     * Cairn reads it.
     */
    static void buildOrder(WriteTxn txn) {
        for (String tree : new String[] {Layout.OUTBOX_ORDER, Layout.OUTBOX_GROUP}) {
            if (txn.hasTree(tree)) txn.dropTree(tree);
            txn.createTree(tree);
        }
        txn.createTree(Layout.OUTBOX_START);
        List<byte[]> stale = new ArrayList<>();
        try (Cursor c = txn.cursor(Layout.OUTBOX_START)) {
            for (boolean ok = c.first(); ok; ok = c.next()) {
                byte[] k = Layout.copy(c.key());
                MemorySegment v = txn.get(Layout.OUTBOX, k);
                boolean valid = v != null && v.byteSize() == Layout.OutboxEntry.VALUE_BYTES && c.value().byteSize() == 8
                    && c.value().get(I64, 0) >= 0 && c.value().get(I64, 0) < sequenceOf(v);
                if (!valid) stale.add(k);
            }
        }
        for (byte[] k : stale) txn.delete(Layout.OUTBOX_START, k);
        txn.createTree(Layout.OUTBOX_BASE);
        stale.clear();
        try (Cursor c = txn.cursor(Layout.OUTBOX_BASE)) {
            for (boolean ok = c.first(); ok; ok = c.next()) {
                byte[] k = Layout.copy(c.key());
                MemorySegment v = txn.get(Layout.OUTBOX, k);
                if (v == null || baseOf(txn, k, v) == NO_BASE) stale.add(k);
            }
        }
        for (byte[] k : stale) txn.delete(Layout.OUTBOX_BASE, k);
        List<byte[]> grouped = new ArrayList<>(); // keys of 33-byte values, rewritten below
        try (Cursor c = txn.cursor(Layout.OUTBOX)) {
            for (boolean ok = c.first(); ok; ok = c.next()) {
                if (c.value().byteSize() < 8) continue; // damage verify reports; sync refuses the entry
                byte[] k = Layout.copy(c.key());
                long s = sequenceOf(c.value());
                long g = groupStartOf(txn, k, c.value());
                if (g < 0 || g > s) g = s;
                if (grouped(c.value())) grouped.add(k);
                txn.put(Layout.OUTBOX_ORDER, Layout.longBytes(s), k);
                txn.put(Layout.OUTBOX_GROUP, groupKey(g, s), NONE);
            }
        }
        for (byte[] k : grouped) {
            MemorySegment v = txn.get(Layout.OUTBOX, k);
            long s = sequenceOf(v);
            long g = groupStartOf(v, null);
            byte[] value = java.util.Arrays.copyOf(Layout.copy(v), Layout.OutboxEntry.VALUE_BYTES);
            txn.put(Layout.OUTBOX, k, value);
            if (g >= 0 && g < s) txn.put(Layout.OUTBOX_START, k, Layout.longBytes(g));
        }
    }
}
