package dev.cairn.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.ChangeKind;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.store.Cursor;
import dev.cairn.store.ReadTxn;
import dev.cairn.store.Store;
import dev.cairn.store.WriteTxn;
import dev.cairn.testing.Fixtures;
import dev.cairn.testing.Fixtures.Doc;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The stored layout of spec/database-layout.md, read back through the raw store. */
class LayoutTest {
    @TempDir Path dir;

    /** The outbox entries in sequence order, checking that the order tree lists exactly them. */
    List<Layout.OutboxEntry> outbox() {
        try (Store store = Store.open(dir); ReadTxn r = store.beginRead()) {
            assertTrue(store.verify().ok(), store.verify().toString());
            List<Layout.OutboxEntry> entries = new ArrayList<>();
            try (Cursor c = r.cursor(Layout.OUTBOX)) {
                for (boolean ok = c.first(); ok; ok = c.next()) entries.add(Outbox.read(r, Layout.copy(c.key()), c.value()));
            }
            entries.sort(Comparator.comparingLong(Layout.OutboxEntry::sequence));
            assertEquals(entries.size(), r.count(Layout.OUTBOX_ORDER), "order entries");
            assertEquals(entries, Outbox.oldest(r, Set.of(), Integer.MAX_VALUE), "by the order tree");
            assertEquals(entries.stream().map(e -> e.groupStart() + "," + e.sequence()).sorted().toList(), groupKeys(r),
                "the group tree lists the same entries");
            return entries;
        }
    }

    /** The group tree's keys as "groupStart,sequence", sorted as text. */
    static List<String> groupKeys(ReadTxn r) {
        List<String> keys = new ArrayList<>();
        try (Cursor c = r.cursor(Layout.OUTBOX_GROUP)) {
            for (boolean ok = c.first(); ok; ok = c.next()) {
                java.nio.ByteBuffer k = java.nio.ByteBuffer.wrap(Layout.copy(c.key()));
                keys.add(k.getLong() + "," + k.getLong());
            }
        }
        return keys.stream().sorted().toList();
    }

    /** What sync does once the server has the changes. */
    void acknowledgeOutbox() {
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            List<byte[]> keys = new ArrayList<>();
            try (Cursor c = w.cursor(Layout.OUTBOX)) {
                for (boolean ok = c.first(); ok; ok = c.next()) keys.add(Layout.copy(c.key()));
            }
            for (byte[] k : keys) assertTrue(Outbox.delete(w, k));
            w.commit();
        }
    }

    /**
     * Never linked, a database keeps no outbox entries (the link writes them: OutboxTest), and
     * at open it drops those an older Cairn wrote. The other trees hold what the changes made.
     */
    @Test
    void aNeverLinkedDatabaseKeepsNoOutboxAndDropsTheEntriesAnOlderCairnWrote() {
        Key<Part> a;
        Key<Part> b;
        Key<Doc> d;
        try (Cairn db = Cairn.open(dir)) {
            Tree<Part> parts = db.tree(Part.class);
            Tree<Doc> docs = db.tree(Doc.class);
            a = parts.insert(Fixtures.part(1));
            parts.checkOut(a).join();
            parts.update(a, Fixtures.part(2));
            b = parts.insert(Fixtures.part(3));
            parts.checkOut(b).join();
            parts.remove(b);
            d = docs.insert(new Doc("x", 1));
            docs.checkOut(d).join();
            docs.release(d);
            docs.newRevision(d);
        }
        assertEquals(List.of(), outbox());
        // What an older Cairn wrote for the same changes.
        List<Layout.OutboxEntry> older = List.of(new Layout.OutboxEntry(1, ChangeKind.CREATED, "Part", a.id(), 0, 1, 1),
            new Layout.OutboxEntry(3, ChangeKind.CREATED, "Doc", d.id(), 0, 0, 0));
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            for (Layout.OutboxEntry e : older) Outbox.put(w, e, null);
            w.commit();
        }
        assertEquals(older, outbox());
        try (Cairn db = Cairn.open(dir)) {
            assertEquals(1, db.tree(Part.class).size());
        }
        assertEquals(List.of(), outbox(), "dropped at open");
        try (Store store = Store.open(dir); ReadTxn r = store.beginRead()) {
            assertEquals(Set.copyOf(List.of(Layout.NODE, Layout.CATALOG, Layout.SCHEMAS, Layout.POOLS,
                Layout.CHECKOUTS, Layout.OUTBOX, Layout.OUTBOX_ORDER, Layout.OUTBOX_GROUP, Layout.OUTBOX_START, Layout.OUTBOX_BASE, Layout.CLASSES, Layout.REMOVED_REVISIONS, "data:Part",
                "data:Doc")),
                Set.copyOf(r.treeNames()));
            assertEquals(1, java.nio.ByteBuffer.wrap(Layout.copy(r.get(Layout.CLASSES, Layout.utf8("Part")))).getInt(),
                "the version of the class that opened Part last");
            KeyPool pool = KeyPool.fromBytes(Layout.copy(r.get(Layout.POOLS, Layout.utf8("Part"))), "Part");
            assertEquals(b.id() + 1, pool.peek());
            assertEquals(2, r.count(Layout.CHECKOUTS));
            assertEquals(1, r.count("data:Part"));
            assertEquals(2, r.count("data:Doc"));
        }
    }

    /** A database written before the order tree existed, or changed by a Cairn that knew none, gets it rebuilt at open. */
    @Test
    void anOutboxWithoutItsOrderTreeGetsOneAtOpen() {
        try (Cairn db = Cairn.open(dir)) {
            Tree<Part> parts = db.tree(Part.class);
            for (int i = 0; i < 5; i++) parts.insert(Fixtures.part(i));
        }
        // Linked (a server id), with a pending change per record; the first record changed last.
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            w.put(Layout.NODE, SyncReplica.SERVER_ID, Layout.uuidBytes(java.util.UUID.randomUUID()));
            for (int i = 0; i < 5; i++) {
                Outbox.put(w, new Layout.OutboxEntry(i == 0 ? 5 : i, i == 0 ? ChangeKind.CHANGED : ChangeKind.CREATED,
                    "Part", i, 0, 0, 0), null);
            }
            w.commit();
        }
        List<Layout.OutboxEntry> before = outbox();
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            w.dropTree(Layout.OUTBOX_ORDER);
            w.commit();
        }
        try (Cairn db = Cairn.open(dir)) {
            assertEquals(5, db.tree(Part.class).size());
        }
        assertEquals(before, outbox());
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L), before.stream().map(Layout.OutboxEntry::sequence).toList());
        // An older Cairn, which knows no order tree, adds an entry: the next open lists it too.
        Layout.OutboxEntry older = new Layout.OutboxEntry(6, ChangeKind.CREATED, "Doc", 7, 0, 0, 0);
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            w.put(Layout.OUTBOX, older.key(), older.value());
            w.commit();
        }
        try (Cairn db = Cairn.open(dir)) {
            assertEquals(5, db.tree(Part.class).size());
        }
        List<Layout.OutboxEntry> after = new ArrayList<>(before);
        after.add(older);
        assertEquals(after, outbox());
    }

    /**
     * An entry's value is 25 bytes, as every Cairn reads it, whatever its group start; a 33-byte
     * value (groupStart appended, written by a Cairn of before cairn.outboxstart) reads with its
     * group start; other sizes are refused.
     */
    @Test
    void anEntryValueIs25BytesAndA33ByteOneReadsWithItsGroupStart() {
        Layout.OutboxEntry now = new Layout.OutboxEntry(7, ChangeKind.CHANGED, "Part", 3, 0, 2, 1, 4);
        byte[] value = now.value();
        assertEquals(25, value.length);
        assertEquals(now.withGroupStart(7), Layout.OutboxEntry.fromStored(now.key(), value), "the value alone: its sequence");
        byte[] grouped = java.nio.ByteBuffer.allocate(33).put(value).putLong(4).array();
        assertEquals(now, Layout.OutboxEntry.fromStored(now.key(), grouped));
        assertEquals(4, Outbox.groupStartOf(java.lang.foreign.MemorySegment.ofArray(grouped), null));
        assertEquals(5, Outbox.groupStartOf(java.lang.foreign.MemorySegment.ofArray(value),
            java.lang.foreign.MemorySegment.ofArray(Layout.longBytes(5))), "a 25-byte value: from its start row");
        dev.cairn.CorruptionException bad = org.junit.jupiter.api.Assertions.assertThrows(dev.cairn.CorruptionException.class,
            () -> Layout.OutboxEntry.fromStored(now.key(), java.util.Arrays.copyOf(value, 30)));
        assertEquals("outbox entry: key of 13 bytes, value of 30 bytes (expected: name, 0, 8 bytes; 25 bytes, or 33"
            + " with a group start)", bad.getMessage());
    }

    /**
     * A linked database without the group tree (written before it) gets it at open, from the
     * entries' group starts; so does one an older Cairn changed since: it rewrote an entry (25
     * bytes, a new sequence) and kept the order tree, so only the group tree is off, its counts
     * still equal.
     */
    @Test
    void theGroupTreeIsBuiltAtOpenWhenMissingOrLeftBehindByAnOlderCairn() {
        List<Key<Part>> keys = linkedWithPendingParts();
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            // Parts 1 and 2 rewritten by one transaction (from 3); 2 carries 0's transaction too.
            for (int i = 1; i < 3; i++) {
                byte[] k = Layout.checkoutKey("Part", keys.get(i).id(), 0);
                Outbox.put(w, new Layout.OutboxEntry(2 + i, ChangeKind.CREATED, "Part", keys.get(i).id(), 0, 0, 0,
                    i == 2 ? 0 : 3), w.get(Layout.OUTBOX, k));
            }
            w.put(Layout.NODE, Layout.OUTBOX_NEXT, Layout.longBytes(5));
            w.dropTree(Layout.OUTBOX_GROUP);
            w.commit();
        }
        try (Cairn db = Cairn.open(dir)) {
            assertEquals(3, db.tree(Part.class).size());
        }
        List<String> built = List.of("0,0", "0,4", "3,3");
        try (Store store = Store.open(dir); ReadTxn r = store.beginRead()) {
            assertEquals(built, groupKeys(r));
        }
        assertEquals(List.of(), layoutProblems());
        // An older Cairn rewrites part 0: a 25-byte entry at sequence 5, the order tree kept.
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            byte[] k = Layout.checkoutKey("Part", keys.get(0).id(), 0);
            w.delete(Layout.OUTBOX_ORDER, Layout.longBytes(0));
            byte[] older = java.util.Arrays.copyOf(
                new Layout.OutboxEntry(5, ChangeKind.CREATED, "Part", keys.get(0).id(), 0, 1, 1).value(), 25);
            w.put(Layout.OUTBOX, k, older);
            w.put(Layout.OUTBOX_ORDER, Layout.longBytes(5), k);
            w.put(Layout.NODE, Layout.OUTBOX_NEXT, Layout.longBytes(6));
            w.commit();
        }
        assertEquals(List.of(Layout.OUTBOX_GROUP + " entry (0, 0) names no " + Layout.OUTBOX
            + " entry with that group start and sequence",
            Layout.OUTBOX + " entry 5: its key (5, 5) is missing in " + Layout.OUTBOX_GROUP), layoutProblems());
        try (Cairn db = Cairn.open(dir)) {
            assertEquals(3, db.tree(Part.class).size());
        }
        try (Store store = Store.open(dir); ReadTxn r = store.beginRead()) {
            assertEquals(List.of("0,4", "3,3", "5,5"), groupKeys(r), "rebuilt: the older entry a group of its own");
        }
        assertEquals(List.of(), layoutProblems());
    }

    /**
     * Multi-record batches of a linked node leave every cairn.outbox value at 25 bytes, the
     * value an older Cairn reads and syncs (33 bytes stopped its sync and failed its verify);
     * their group starts are in cairn.outboxstart, a row only for an entry whose group starts
     * before its sequence.
     */
    @Test
    void multiRecordBatchesLeaveEveryOutboxValueAsAnOlderCairnReadsIt() {
        List<Key<Part>> keys = linkedWithGroupedBatches();
        try (Store store = Store.open(dir); ReadTxn r = store.beginRead()) {
            try (Cursor c = r.cursor(Layout.OUTBOX)) {
                for (boolean ok = c.first(); ok; ok = c.next()) {
                    assertEquals(25, c.value().byteSize(), "the value of " + Layout.OutboxEntry.fromStored(
                        Layout.copy(c.key()), Layout.copy(c.value())));
                }
            }
            assertEquals(List.of("3,6", "3,7", "5,5"), groupKeys(r));
        }
        assertEquals(List.of("Part/" + keys.get(0).id() + "@7 from 3", "Part/" + keys.get(1).id() + "@6 from 3"),
            startRows());
        assertEquals(List.of(), layoutProblems());
    }

    /**
     * An older Cairn writes the outbox but neither cairn.outboxstart nor cairn.outboxgroup: the
     * next open finds them behind and mends them. An entry it rewrote keeps the group start of
     * its row (a larger group, which is safe); the row of an entry it deleted goes; an entry it
     * added is a group of its own.
     */
    @Test
    void startAndGroupTreesLeftBehindByAnOlderCairnAreMendedAtOpen() {
        List<Key<Part>> keys = linkedWithGroupedBatches();
        // What an older Cairn does, through the raw store: the outbox and order tree only.
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            byte[] k0 = Layout.checkoutKey("Part", keys.get(0).id(), 0);
            byte[] k1 = Layout.checkoutKey("Part", keys.get(1).id(), 0);
            byte[] k2 = Layout.checkoutKey("Part", keys.get(2).id(), 0);
            // Part 1 acknowledged (sequence 6), part 2 rewritten at 8, part 0 rewritten at 9.
            w.delete(Layout.OUTBOX, k1);
            w.delete(Layout.OUTBOX_ORDER, Layout.longBytes(6));
            w.delete(Layout.OUTBOX_ORDER, Layout.longBytes(5));
            w.put(Layout.OUTBOX, k2, new Layout.OutboxEntry(8, ChangeKind.CHANGED, "Part", keys.get(2).id(), 0, 3, 3).value());
            w.put(Layout.OUTBOX_ORDER, Layout.longBytes(8), k2);
            w.delete(Layout.OUTBOX_ORDER, Layout.longBytes(7));
            w.put(Layout.OUTBOX, k0, new Layout.OutboxEntry(9, ChangeKind.CHANGED, "Part", keys.get(0).id(), 0, 4, 4).value());
            w.put(Layout.OUTBOX_ORDER, Layout.longBytes(9), k0);
            w.put(Layout.NODE, Layout.OUTBOX_NEXT, Layout.longBytes(10));
            w.commit();
        }
        String entry1 = "Part/" + keys.get(1).id() + ".0";
        assertEquals(List.of(Layout.OUTBOX_START + " row " + entry1 + ": names no " + Layout.OUTBOX + " entry",
            Layout.OUTBOX_GROUP + " entry (3, 6) names no " + Layout.OUTBOX + " entry with that group start and sequence",
            Layout.OUTBOX_GROUP + " entry (3, 7) names no " + Layout.OUTBOX + " entry with that group start and sequence",
            Layout.OUTBOX_GROUP + " entry (5, 5) names no " + Layout.OUTBOX + " entry with that group start and sequence",
            Layout.OUTBOX + " entry 8: its key (8, 8) is missing in " + Layout.OUTBOX_GROUP,
            Layout.OUTBOX + " entry 9: its key (3, 9) is missing in " + Layout.OUTBOX_GROUP,
            Layout.OUTBOX_GROUP + " holds 3 entries, " + Layout.OUTBOX + " 2 (expected: the same)"), layoutProblems());
        try (Cairn db = Cairn.open(dir)) {
            assertEquals(3, db.tree(Part.class).size());
        }
        try (Store store = Store.open(dir); ReadTxn r = store.beginRead()) {
            assertEquals(List.of("3,9", "8,8"), groupKeys(r), "rebuilt: part 0 keeps its row's start, part 2 its own");
        }
        assertEquals(List.of("Part/" + keys.get(0).id() + "@9 from 3"), startRows(), "part 1's row dropped");
        assertEquals(List.of(), layoutProblems());
        // Then it adds an entry for a record of its own: counts differ, a group of its own.
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            Layout.OutboxEntry added = new Layout.OutboxEntry(10, ChangeKind.CHANGED, "Part", keys.get(1).id(), 0, 5, 5);
            w.put(Layout.OUTBOX, added.key(), added.value());
            w.put(Layout.OUTBOX_ORDER, Layout.longBytes(10), added.key());
            w.put(Layout.NODE, Layout.OUTBOX_NEXT, Layout.longBytes(11));
            w.commit();
        }
        try (Cairn db = Cairn.open(dir)) {
            assertEquals(3, db.tree(Part.class).size());
        }
        try (Store store = Store.open(dir); ReadTxn r = store.beginRead()) {
            assertEquals(List.of("10,10", "3,9", "8,8"), groupKeys(r));
        }
        assertEquals(List.of(), layoutProblems());
    }

    /**
     * A database written between the group start's coming and cairn.outboxstart (33-byte values,
     * no start tree) gets 25-byte values at open, the group starts moved to start rows.
     */
    @Test
    void thirtyThreeByteValuesBecome25BytesAndStartRowsAtOpen() {
        List<Key<Part>> keys = linkedWithGroupedBatches();
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            List<byte[][]> rows = new ArrayList<>();
            try (Cursor c = w.cursor(Layout.OUTBOX)) {
                for (boolean ok = c.first(); ok; ok = c.next()) {
                    byte[] k = Layout.copy(c.key());
                    long start = Outbox.groupStartOf(w, k, c.value());
                    rows.add(new byte[][] {k, java.nio.ByteBuffer.allocate(33).put(Layout.copy(c.value())).putLong(start).array()});
                }
            }
            for (byte[][] row : rows) w.put(Layout.OUTBOX, row[0], row[1]);
            w.dropTree(Layout.OUTBOX_START);
            w.commit();
        }
        try (Cairn db = Cairn.open(dir)) {
            assertEquals(3, db.tree(Part.class).size());
        }
        try (Store store = Store.open(dir); ReadTxn r = store.beginRead()) {
            try (Cursor c = r.cursor(Layout.OUTBOX)) {
                for (boolean ok = c.first(); ok; ok = c.next()) assertEquals(25, c.value().byteSize());
            }
            assertEquals(List.of("3,6", "3,7", "5,5"), groupKeys(r));
        }
        assertEquals(List.of("Part/" + keys.get(0).id() + "@7 from 3", "Part/" + keys.get(1).id() + "@6 from 3"),
            startRows());
        assertEquals(List.of(), layoutProblems());
        // Such a Cairn again, on the start tree it ignores: part 2 rewritten at 8, its group from 3,
        // the order and group trees kept; the last entry's 33 bytes tell the next open.
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            byte[] k2 = Layout.checkoutKey("Part", keys.get(2).id(), 0);
            w.delete(Layout.OUTBOX_ORDER, Layout.longBytes(5));
            w.delete(Layout.OUTBOX_GROUP, Outbox.groupKey(5, 5));
            w.put(Layout.OUTBOX, k2, java.nio.ByteBuffer.allocate(33)
                .put(new Layout.OutboxEntry(8, ChangeKind.CHANGED, "Part", keys.get(2).id(), 0, 3, 3).value()).putLong(3).array());
            w.put(Layout.OUTBOX_ORDER, Layout.longBytes(8), k2);
            w.put(Layout.OUTBOX_GROUP, Outbox.groupKey(3, 8), new byte[0]);
            w.put(Layout.NODE, Layout.OUTBOX_NEXT, Layout.longBytes(9));
            w.commit();
        }
        try (Cairn db = Cairn.open(dir)) {
            assertEquals(3, db.tree(Part.class).size());
        }
        try (Store store = Store.open(dir); ReadTxn r = store.beginRead()) {
            assertEquals(25, r.get(Layout.OUTBOX, Layout.checkoutKey("Part", keys.get(2).id(), 0)).byteSize());
            assertEquals(List.of("3,6", "3,7", "3,8"), groupKeys(r));
        }
        assertEquals(List.of("Part/" + keys.get(0).id() + "@7 from 3", "Part/" + keys.get(1).id() + "@6 from 3",
            "Part/" + keys.get(2).id() + "@8 from 3"), startRows());
        assertEquals(List.of(), layoutProblems());
    }

    /**
     * Three parts checked out, then linked with an empty outbox at outboxNext 3, then: a batch
     * updating parts 0 and 1 (sequences 3, 4: group from 3), a batch updating 2 and 1 (5, and 6
     * carrying 1's group: from 3), and part 0 alone (7, carrying its group: from 3).
     */
    private List<Key<Part>> linkedWithGroupedBatches() {
        List<Key<Part>> keys;
        try (Cairn db = Cairn.open(dir)) {
            Tree<Part> parts = db.tree(Part.class);
            keys = parts.insertAll(List.of(Fixtures.part(0), Fixtures.part(1), Fixtures.part(2)));
            for (Key<Part> k : keys) parts.checkOut(k).join();
        }
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            w.put(Layout.NODE, SyncReplica.SERVER_ID, Layout.uuidBytes(java.util.UUID.randomUUID()));
            w.put(Layout.NODE, Layout.OUTBOX_NEXT, Layout.longBytes(3));
            w.commit();
        }
        try (Cairn db = Cairn.open(dir)) {
            Tree<Part> parts = db.tree(Part.class);
            db.write(() -> {
                parts.update(keys.get(0), Fixtures.part(0).withStock(10));
                parts.update(keys.get(1), Fixtures.part(1).withStock(11));
            });
            db.write(() -> {
                parts.update(keys.get(2), Fixtures.part(2).withStock(12));
                parts.update(keys.get(1), Fixtures.part(1).withStock(13));
            });
            parts.update(keys.get(0), Fixtures.part(0).withStock(14));
        }
        return keys;
    }

    /** The start tree's rows as "tree/id@sequence from groupStart", in key order. */
    private List<String> startRows() {
        List<String> rows = new ArrayList<>();
        try (Store store = Store.open(dir); ReadTxn r = store.beginRead(); Cursor c = r.cursor(Layout.OUTBOX_START)) {
            for (boolean ok = c.first(); ok; ok = c.next()) {
                byte[] k = Layout.copy(c.key());
                java.lang.foreign.MemorySegment v = r.get(Layout.OUTBOX, k);
                // A row without an entry shows as "@-1": a made-up entry of sequence -1 for its key.
                Layout.OutboxEntry e = Layout.OutboxEntry.fromStored(k, v != null ? Layout.copy(v)
                    : new Layout.OutboxEntry(-1, ChangeKind.CHANGED, "x", 0, 0, 0, 0).value());
                rows.add(e.tree() + "/" + e.id() + "@" + e.sequence() + " from " + c.value().get(
                    java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 0));
            }
        }
        return rows;
    }

    /** Each {@code cairn.outboxbase} row as {@code tree/id@sequence base B}, the sequence the row's own. */
    private List<String> baseRows() {
        List<String> rows = new ArrayList<>();
        try (Store store = Store.open(dir); ReadTxn r = store.beginRead(); Cursor c = r.cursor(Layout.OUTBOX_BASE)) {
            for (boolean ok = c.first(); ok; ok = c.next()) {
                java.nio.ByteBuffer k = java.nio.ByteBuffer.wrap(Layout.copy(c.key()), 5, 8); // "Part", 0x00
                java.nio.ByteBuffer v = java.nio.ByteBuffer.wrap(Layout.copy(c.value()));
                rows.add("Part/" + k.getInt() + "@" + v.getLong() + " base " + v.getLong());
            }
        }
        return rows;
    }

    /**
     * {@code cairn.outboxbase} (database-layout.md §6): a CHANGED entry's row keeps the base its
     * first change was made on when later changes replace the entry; cairn verify checks each
     * row; a row of another sequence (an older Cairn rewrote the entry) counts as none; one
     * whose entry is gone is dropped by the rebuild at open.
     */
    @Test
    void baseRowsKeepTheFirstChangesBaseAreCheckedAndAStaleOneCountsAsNone() {
        List<Key<Part>> keys = linkedWithGroupedBatches();
        int id0 = keys.get(0).id();
        int id1 = keys.get(1).id();
        int id2 = keys.get(2).id();
        // Parts 0 and 1 were changed twice (entries 7 and 6 replaced 3 and 4), part 2 once (5): all on version 0.
        assertEquals(List.of("Part/" + id0 + "@7 base 0", "Part/" + id1 + "@6 base 0", "Part/" + id2 + "@5 base 0"), baseRows());
        assertEquals(List.of(), layoutProblems());
        byte[] k0 = Layout.checkoutKey("Part", id0, 0);
        byte[] k1 = Layout.checkoutKey("Part", id1, 0);
        byte[] k2 = Layout.checkoutKey("Part", id2, 0);
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            w.put(Layout.OUTBOX_BASE, k0, new byte[15]);
            w.put(Layout.OUTBOX_BASE, k1, java.nio.ByteBuffer.allocate(16).putLong(6).putLong(2).array()); // its meta is 2
            w.put(Layout.OUTBOX_BASE, k2, java.nio.ByteBuffer.allocate(16).putLong(4).putLong(0).array()); // stale: entry 5
            w.commit();
        }
        assertEquals(List.of(Layout.OUTBOX_BASE + " row Part/" + id0 + ".0: a value of 15 bytes (expected: sequence:i64, baseMeta:i64)",
            Layout.OUTBOX_BASE + " row Part/" + id1 + ".0: base metaIteration 2 (expected: 0 up to below its entry's 2)"),
            layoutProblems());
        try (Store store = Store.open(dir); ReadTxn r = store.beginRead()) {
            assertEquals(Outbox.NO_BASE, Outbox.baseOf(r, k2, r.get(Layout.OUTBOX, k2)), "stale: counts as none");
            assertEquals(Outbox.NO_BASE, Outbox.baseOf(r, k0, r.get(Layout.OUTBOX, k0)), "15 bytes: counts as none");
            assertEquals(Outbox.NO_BASE, Outbox.baseOf(r, k1, r.get(Layout.OUTBOX, k1)), "not below its meta: counts as none");
        }
        // A row for a record without an entry (an older Cairn's Ack): more rows than entries, so
        // the next open rebuilds, and drops every row that does not count.
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            w.put(Layout.OUTBOX_BASE, Layout.checkoutKey("Part", 99, 0), java.nio.ByteBuffer.allocate(16).putLong(1).putLong(0).array());
            w.commit();
        }
        try (Cairn db = Cairn.open(dir)) {
            assertEquals(3, db.tree(Part.class).size());
        }
        assertEquals(List.of(), baseRows(), "none counted: all dropped");
        assertEquals(List.of(), layoutProblems());
    }

    /** A linked database (a server id) whose outbox holds a CREATED entry for each of its 3 parts. */
    private List<Key<Part>> linkedWithPendingParts() {
        List<Key<Part>> keys;
        try (Cairn db = Cairn.open(dir)) {
            keys = db.tree(Part.class).insertAll(List.of(Fixtures.part(0), Fixtures.part(1), Fixtures.part(2)));
        }
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            w.put(Layout.NODE, SyncReplica.SERVER_ID, Layout.uuidBytes(java.util.UUID.randomUUID()));
            for (int i = 0; i < 3; i++) Outbox.put(w, new Layout.OutboxEntry(i, ChangeKind.CREATED, "Part", keys.get(i).id(), 0, 0, 0), null);
            w.put(Layout.NODE, Layout.OUTBOX_NEXT, Layout.longBytes(3));
            w.commit();
        }
        return keys;
    }

    private List<String> layoutProblems() {
        try (Store store = Store.open(dir); ReadTxn r = store.beginRead()) {
            return LayoutCheck.problems(r);
        }
    }

    /** What each kind of damage to the outbox makes LayoutCheck (cairn verify) say. */
    @Test
    void layoutCheckFindsADamagedOutbox() {
        List<Key<Part>> keys = linkedWithPendingParts();
        assertEquals(List.of(), layoutProblems(), "intact");
        // An entry for a record that does not exist, with a sequence at outboxNext.
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            Outbox.put(w, new Layout.OutboxEntry(3, ChangeKind.CHANGED, "Part", 99, 0, 1, 1), null);
            w.commit();
        }
        List<String> problems = layoutProblems();
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("entry 3 (CHANGED Part/99.0): sequence not below outboxNext 3"), problems.toString());
        assertTrue(problems.get(1).contains("entry 3 (CHANGED Part/99.0): the record does not exist"), problems.toString());
        // The order tree names a sequence the entry does not have.
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            Outbox.delete(w, Layout.checkoutKey("Part", 99, 0));
            w.put(Layout.OUTBOX_ORDER, Layout.longBytes(7), Layout.checkoutKey("Part", keys.get(0).id(), 0));
            w.commit();
        }
        problems = layoutProblems();
        assertEquals(List.of(Layout.OUTBOX_ORDER + " entry 7 names no " + Layout.OUTBOX + " entry with that sequence",
            Layout.OUTBOX_ORDER + " holds 4 entries, " + Layout.OUTBOX + " 3 (expected: the same)"), problems);
        // The group tree: a key missing, one stray, and a group start above the entry's sequence.
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            w.delete(Layout.OUTBOX_ORDER, Layout.longBytes(7));
            w.delete(Layout.OUTBOX_GROUP, Outbox.groupKey(1, 1));
            w.put(Layout.OUTBOX_GROUP, Outbox.groupKey(0, 9), new byte[0]);
            w.put(Layout.OUTBOX_GROUP, new byte[] {1, 2, 3}, new byte[0]);
            byte[] k = Layout.checkoutKey("Part", keys.get(2).id(), 0);
            Outbox.put(w, new Layout.OutboxEntry(2, ChangeKind.CREATED, "Part", keys.get(2).id(), 0, 0, 0, 3),
                w.get(Layout.OUTBOX, k));
            w.commit();
        }
        problems = layoutProblems();
        String gt = Layout.OUTBOX_GROUP;
        assertEquals(List.of(Layout.OUTBOX + " entry 2 (CREATED Part/" + keys.get(2).id()
                + ".0): groupStart 3 (expected: 0 up to its sequence)",
            Layout.OUTBOX_START + " row Part/" + keys.get(2).id() + ".0: groupStart 3 (expected: 0 up to below its"
                + " entry's sequence 2)",
            gt + " entry (0, 9) names no " + Layout.OUTBOX + " entry with that group start and sequence",
            gt + ": a key of 3 bytes (expected: groupStart:i64, sequence:i64)",
            Layout.OUTBOX + " entry 1: its key (1, 1) is missing in " + gt,
            gt + " holds 4 entries, " + Layout.OUTBOX + " 3 (expected: the same)"), problems);
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            w.delete(Layout.OUTBOX_GROUP, Outbox.groupKey(0, 9));
            w.delete(Layout.OUTBOX_GROUP, new byte[] {1, 2, 3});
            w.put(Layout.OUTBOX_GROUP, Outbox.groupKey(1, 1), new byte[0]);
            byte[] k = Layout.checkoutKey("Part", keys.get(2).id(), 0);
            Outbox.put(w, new Layout.OutboxEntry(2, ChangeKind.CREATED, "Part", keys.get(2).id(), 0, 0, 0),
                w.get(Layout.OUTBOX, k));
            w.commit();
        }
        assertEquals(List.of(), layoutProblems(), "mended");
        // Never linked, yet entries.
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            w.delete(Layout.NODE, SyncReplica.SERVER_ID);
            w.commit();
        }
        problems = layoutProblems();
        assertEquals(3, problems.size(), problems.toString());
        assertTrue(problems.stream().allMatch(p -> p.endsWith("the database never linked, so its outbox must be empty")), problems.toString());
    }

    /** What LayoutCheck (cairn verify) says of cairn.removedrevisions entries that cannot be right. */
    @Test
    void layoutCheckFindsRemovedRevisionsThatCannotBeRight() {
        Key<Doc> third;
        try (Cairn db = Cairn.open(dir)) {
            Tree<Doc> docs = db.tree(Doc.class);
            Key<Doc> first = docs.insert(new Doc("a", 1));
            docs.release(first);
            Key<Doc> second = docs.newRevision(first);
            docs.checkOut(second);
            docs.remove(second);
            third = docs.newRevision(first);
            assertEquals(2, third.revision(), "the revision after the removed one");
        }
        assertEquals(List.of(), layoutProblems(), "intact, with the removed revision 1 noted");
        String tree = third.tree();
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            w.put(Layout.REMOVED_REVISIONS, Layout.removedRevisionsKey(tree, third.id()), java.nio.ByteBuffer.allocate(4).putInt(2).array());
            w.put(Layout.REMOVED_REVISIONS, Layout.removedRevisionsKey(tree, third.id() + 1), java.nio.ByteBuffer.allocate(4).putInt(0).array());
            w.put(Layout.REMOVED_REVISIONS, Layout.removedRevisionsKey(tree, third.id() + 2), new byte[] {0, 0, 1});
            w.put(Layout.REMOVED_REVISIONS, Layout.removedRevisionsKey("Gone", 5), java.nio.ByteBuffer.allocate(4).putInt(2).array());
            w.put(Layout.REMOVED_REVISIONS, new byte[] {'x', 0, 1}, java.nio.ByteBuffer.allocate(4).putInt(2).array());
            // id -1 ("Doc\0 ff ff ff ff") and a tree that is not versioned passed (probe-56)
            w.put(Layout.REMOVED_REVISIONS, Layout.removedRevisionsKey(tree, -1), java.nio.ByteBuffer.allocate(4).putInt(2).array());
            w.put(Layout.CATALOG, Layout.utf8("Plain"), Layout.catalogEntry(false, 1));
            w.put(Layout.REMOVED_REVISIONS, Layout.removedRevisionsKey("Plain", 3), java.nio.ByteBuffer.allocate(4).putInt(1).array());
            w.commit();
        }
        String rr = Layout.REMOVED_REVISIONS + " entry ";
        assertEquals(List.of(
            rr + tree + "/" + third.id() + ".2: noted as removed, but the record exists",
            rr + tree + "/" + (third.id() + 1) + ": revision 0 (expected: above 0)",
            rr + tree + "/" + (third.id() + 2) + ": a value of 3 bytes (expected: revision:i32)",
            rr + tree + "/-1: id -1 (expected: 0 or above)",                // ff ff ff ff sorts last
            rr + "Gone/5.2: no tree Gone in " + Layout.CATALOG,
            rr + "Plain/3.1: tree Plain is not versioned (only a versioned tree's removed revisions are noted)",
            Layout.REMOVED_REVISIONS + ": a key of 3 bytes is not name, 0x00, id:i32"), layoutProblems());
    }
    /** cairn verify reports a record of a schema version below its tree's dataFromVersion: no class that migrated past it reads it (probe 108). */
    @Test
    void aRecordBelowItsTreesDataFromVersionIsReported() {
        Key<Part> k;
        try (Cairn db = Cairn.open(dir)) {
            k = db.tree(Part.class).insert(Fixtures.part(1));
        }
        assertEquals(List.of(), layoutProblems());
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            // As if a migration had moved the tree to version 2 while this record stayed in 1.
            w.put(Layout.SCHEMAS, Layout.schemaKey("Part", 2), Layout.copy(w.get(Layout.SCHEMAS, Layout.schemaKey("Part", 1))));
            w.put(Layout.CATALOG, Layout.utf8("Part"), Layout.catalogEntry(false, 2));
            w.commit();
        }
        assertEquals(List.of("record Part/" + k.id() + ".0: schema version 1, below the tree's dataFromVersion 2 ("
            + Layout.CATALOG + "), which every record's version must reach"), layoutProblems());
    }
}
