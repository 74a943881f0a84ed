package dev.cairn.db;

import dev.cairn.CairnException;
import dev.cairn.ChangeKind;
import dev.cairn.CorruptionException;
import dev.cairn.internal.Limits;
import dev.cairn.store.Cursor;
import dev.cairn.store.ReadTxn;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Checks of a node's stored layout (spec/database-layout.md) that the store's page walk cannot
 * make, on a read snapshot, writing nothing: for {@code cairn verify}. Every record's header
 * (§3): it decodes ({@code 0 <= dataIteration <= metaIteration}, format, state kind, modifiedBy
 * inside the value), and no change is barred by {@code metaIteration} at {@code ITERATION_MAX}
 * (§5). The outbox (§6): the order and group trees list exactly its entries, every start row
 * names an entry with a group start below its sequence, every entry readable,
 * below {@code outboxNext} and with its group start at or below its sequence,
 * naming a tree that exists and, unless REMOVED, a record that exists; none in a database that
 * never linked. Every removed revision (§2 {@code cairn.removedrevisions}): decodes, has an id
 * of 0 or above, names a versioned tree in the catalog, and no longer exists.
 */
public final class LayoutCheck {
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    /** Problems listed at most; a damaged tree could yield one per entry. */
    private static final int PROBLEMS_MAX = 100;

    private LayoutCheck() { }

    /** The problems found, empty when the layout holds. */
    public static List<String> problems(ReadTxn r) {
        List<String> problems = new ArrayList<>();
        headerProblems(r, problems);
        removedRevisionProblems(r, problems);
        if (!r.hasTree(Layout.NODE) || !r.hasTree(Layout.OUTBOX)) return problems;
        boolean linked = r.get(Layout.NODE, SyncReplica.SERVER_ID) != null;
        MemorySegment next = r.get(Layout.NODE, Layout.OUTBOX_NEXT);
        long outboxNext = next == null || next.byteSize() != 8 ? 0 : next.get(I64, 0);
        Map<Long, Long> groupStarts = new TreeMap<>(); // sequence -> groupStart of each entry read
        boolean starts = r.hasTree(Layout.OUTBOX_START);
        try (Cursor c = r.cursor(Layout.OUTBOX)) {
            for (boolean ok = c.first(); ok && problems.size() < PROBLEMS_MAX; ok = c.next()) {
                Layout.OutboxEntry e;
                try {
                    byte[] key = Layout.copy(c.key());
                    e = starts ? Outbox.read(r, key, c.value()) : Layout.OutboxEntry.fromStored(key, Layout.copy(c.value()));
                } catch (CairnException bad) {
                    problems.add(Layout.OUTBOX + ": " + bad.getMessage());
                    continue;
                }
                String what = Layout.OUTBOX + " entry " + e.sequence() + " (" + e.kind() + " " + e.tree() + "/" + e.id()
                    + "." + e.revision() + ")";
                if (!linked) problems.add(what + ": the database never linked, so its outbox must be empty");
                if (e.sequence() >= outboxNext) problems.add(what + ": sequence not below outboxNext " + outboxNext);
                if (e.groupStart() < 0 || e.groupStart() > e.sequence()) {
                    problems.add(what + ": groupStart " + e.groupStart() + " (expected: 0 up to its sequence)");
                }
                if (groupStarts.putIfAbsent(e.sequence(), e.groupStart()) != null) {
                    problems.add(what + ": sequence used by another entry too");
                }
                String data = Layout.dataTree(e.tree());
                if (!r.hasTree(data)) {
                    problems.add(what + ": no tree " + data);
                } else if (e.kind() != ChangeKind.REMOVED && r.get(data, Layout.recordKey(e.id(), e.revision())) == null) {
                    problems.add(what + ": the record does not exist");
                }
            }
        }
        orderProblems(r, !groupStarts.isEmpty(), problems);
        startProblems(r, !groupStarts.isEmpty(), problems);
        baseProblems(r, problems);
        groupProblems(r, groupStarts, problems);
        return problems;
    }

    /**
     * Adds a problem for every {@code cairn.outboxstart} row that does not name a 25-byte entry
     * with a group start from 0 to below the entry's sequence: only such an entry has a row.
     */
    private static void startProblems(ReadTxn r, boolean entries, List<String> problems) {
        if (!r.hasTree(Layout.OUTBOX_START)) {
            if (entries) problems.add(Layout.OUTBOX_START + " is missing");
            return;
        }
        try (Cursor c = r.cursor(Layout.OUTBOX_START)) {
            for (boolean ok = c.first(); ok && problems.size() < PROBLEMS_MAX; ok = c.next()) {
                byte[] key = Layout.copy(c.key());
                String what = Layout.OUTBOX_START + " row " + outboxKeyText(key);
                MemorySegment entry = r.get(Layout.OUTBOX, key);
                if (entry == null || entry.byteSize() < 8) {
                    problems.add(what + ": names no " + Layout.OUTBOX + " entry");
                } else if (entry.byteSize() != Layout.OutboxEntry.VALUE_BYTES) {
                    problems.add(what + ": its entry has a value of " + entry.byteSize() + " bytes (expected: "
                        + Layout.OutboxEntry.VALUE_BYTES + ")");
                } else if (c.value().byteSize() != 8) {
                    problems.add(what + ": a value of " + c.value().byteSize() + " bytes (expected: groupStart:i64)");
                } else {
                    long groupStart = c.value().get(I64, 0);
                    long sequence = Outbox.sequenceOf(entry);
                    if (groupStart < 0 || groupStart >= sequence) {
                        problems.add(what + ": groupStart " + groupStart + " (expected: 0 up to below its entry's"
                            + " sequence " + sequence + ")");
                    }
                }
            }
        }
    }

    /**
     * Adds a problem for every {@code cairn.outboxbase} row that is not 16 bytes, or whose entry
     * (the one with the row's sequence) is not CHANGED or has a metaIteration at or below the
     * row's base. A row whose record has no entry, or an entry of another sequence, is stale
     * (an older Cairn replaced or dropped the entry): it counts as none, and is no problem.
     */
    private static void baseProblems(ReadTxn r, List<String> problems) {
        if (!r.hasTree(Layout.OUTBOX_BASE)) return; // a database of before it: open makes it
        try (Cursor c = r.cursor(Layout.OUTBOX_BASE)) {
            for (boolean ok = c.first(); ok && problems.size() < PROBLEMS_MAX; ok = c.next()) {
                byte[] key = Layout.copy(c.key());
                String what = Layout.OUTBOX_BASE + " row " + outboxKeyText(key);
                if (c.value().byteSize() != Outbox.BASE_ROW_BYTES) {
                    problems.add(what + ": a value of " + c.value().byteSize() + " bytes (expected: sequence:i64, baseMeta:i64)");
                    continue;
                }
                MemorySegment entry = r.get(Layout.OUTBOX, key);
                if (entry == null || entry.byteSize() != Layout.OutboxEntry.VALUE_BYTES
                        || Outbox.sequenceOf(entry) != c.value().get(I64, 0)) {
                    continue;
                }
                Layout.OutboxEntry e = Layout.OutboxEntry.fromStored(key, Layout.copy(entry));
                long base = c.value().get(I64, 8);
                if (e.kind() != ChangeKind.CHANGED) {
                    problems.add(what + ": names entry " + e.sequence() + ", which is " + e.kind() + " (expected: CHANGED)");
                } else if (base < 0 || base >= e.metaIteration()) {
                    problems.add(what + ": base metaIteration " + base + " (expected: 0 up to below its entry's "
                        + e.metaIteration() + ")");
                }
            }
        }
    }

    /** An outbox key as {@code tree/id.revision}, or its size when it is not one. */
    private static String outboxKeyText(byte[] key) {
        int zero = 0;
        while (zero < key.length && key[zero] != 0) zero++;
        if (key.length != zero + 9) return "(a key of " + key.length + " bytes)";
        java.nio.ByteBuffer k = java.nio.ByteBuffer.wrap(key, zero + 1, 8);
        return new String(key, 0, zero, StandardCharsets.UTF_8) + "/" + k.getInt() + "." + k.getInt();
    }

    /** Adds a problem unless {@code cairn.outboxorder} lists exactly the outbox's entries by sequence. */
    private static void orderProblems(ReadTxn r, boolean entries, List<String> problems) {
        if (!r.hasTree(Layout.OUTBOX_ORDER)) {
            if (entries) problems.add(Layout.OUTBOX_ORDER + " is missing");
            return;
        }
        long orderEntries = 0;
        try (Cursor c = r.cursor(Layout.OUTBOX_ORDER)) {
            for (boolean ok = c.first(); ok && problems.size() < PROBLEMS_MAX; ok = c.next()) {
                orderEntries++;
                long sequence = c.key().byteSize() == 8 ? c.key().get(I64, 0) : -1;
                MemorySegment entry = r.get(Layout.OUTBOX, Layout.copy(c.value()));
                if (sequence < 0 || entry == null || entry.byteSize() < 8 || Outbox.sequenceOf(entry) != sequence) {
                    problems.add(Layout.OUTBOX_ORDER + " entry " + sequence + " names no " + Layout.OUTBOX
                        + " entry with that sequence");
                }
            }
        }
        countProblem(r, Layout.OUTBOX_ORDER, orderEntries, problems);
    }

    /**
     * Adds a problem unless {@code cairn.outboxgroup} lists exactly the outbox's entries by
     * (groupStart, sequence): a key missing there lets sync cut a group apart (§6).
     */
    private static void groupProblems(ReadTxn r, Map<Long, Long> groupStarts, List<String> problems) {
        if (!r.hasTree(Layout.OUTBOX_GROUP)) {
            if (!groupStarts.isEmpty()) problems.add(Layout.OUTBOX_GROUP + " is missing");
            return;
        }
        long groupEntries = 0;
        try (Cursor c = r.cursor(Layout.OUTBOX_GROUP)) {
            for (boolean ok = c.first(); ok && problems.size() < PROBLEMS_MAX; ok = c.next()) {
                groupEntries++;
                if (c.key().byteSize() != 16) {
                    problems.add(Layout.OUTBOX_GROUP + ": a key of " + c.key().byteSize()
                        + " bytes (expected: groupStart:i64, sequence:i64)");
                    continue;
                }
                long groupStart = c.key().get(I64, 0);
                long sequence = c.key().get(I64, 8);
                Long entryStart = groupStarts.get(sequence);
                if (entryStart == null || entryStart != groupStart) {
                    problems.add(Layout.OUTBOX_GROUP + " entry (" + groupStart + ", " + sequence + ") names no "
                        + Layout.OUTBOX + " entry with that group start and sequence");
                }
            }
        }
        for (Map.Entry<Long, Long> e : groupStarts.entrySet()) {
            if (problems.size() >= PROBLEMS_MAX) break;
            if (r.get(Layout.OUTBOX_GROUP, Outbox.groupKey(e.getValue(), e.getKey())) == null) {
                problems.add(Layout.OUTBOX + " entry " + e.getKey() + ": its key (" + e.getValue() + ", " + e.getKey()
                    + ") is missing in " + Layout.OUTBOX_GROUP);
            }
        }
        countProblem(r, Layout.OUTBOX_GROUP, groupEntries, problems);
    }

    private static void countProblem(ReadTxn r, String tree, long entries, List<String> problems) {
        if (entries != r.count(Layout.OUTBOX)) {
            problems.add(tree + " holds " + entries + " entries, " + Layout.OUTBOX + " " + r.count(Layout.OUTBOX)
                + " (expected: the same)");
        }
    }

    /**
     * Adds a problem for every {@code cairn.removedrevisions} entry (§2) whose key or value does
     * not decode, whose id is negative, that names a tree not in the catalog or not versioned
     * (only a versioned tree's removals are noted), or whose revision still exists: a
     * removed revision never comes back, and newRevision would hand out a number past a record
     * it still holds.
     */
    private static void removedRevisionProblems(ReadTxn r, List<String> problems) {
        if (!r.hasTree(Layout.REMOVED_REVISIONS)) return;
        try (Cursor c = r.cursor(Layout.REMOVED_REVISIONS)) {
            for (boolean ok = c.first(); ok && problems.size() < PROBLEMS_MAX; ok = c.next()) {
                byte[] key = Layout.copy(c.key());
                int nameEnd = key.length - 5;
                if (nameEnd < 1 || key[nameEnd] != 0) {
                    problems.add(Layout.REMOVED_REVISIONS + ": a key of " + key.length + " bytes is not name, 0x00, id:i32");
                    continue;
                }
                String tree = new String(key, 0, nameEnd, StandardCharsets.UTF_8);
                int id = java.nio.ByteBuffer.wrap(key, nameEnd + 1, 4).getInt();
                String what = Layout.REMOVED_REVISIONS + " entry " + tree + "/" + id;
                if (id < 0) {
                    problems.add(what + ": id " + id + " (expected: 0 or above)");
                    continue;
                }
                if (c.value().byteSize() != 4) {
                    problems.add(what + ": a value of " + c.value().byteSize() + " bytes (expected: revision:i32)");
                    continue;
                }
                int revision = c.value().get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), 0);
                if (revision <= 0) {
                    problems.add(what + ": revision " + revision + " (expected: above 0)");
                    continue;
                }
                MemorySegment catalog = r.get(Layout.CATALOG, tree.getBytes(StandardCharsets.UTF_8));
                if (catalog == null) {
                    problems.add(what + "." + revision + ": no tree " + tree + " in " + Layout.CATALOG);
                } else if (!Layout.catalogVersioned(catalog)) {
                    problems.add(what + "." + revision + ": tree " + tree + " is not versioned (only a versioned tree's"
                        + " removed revisions are noted)");
                } else if (r.hasTree(Layout.dataTree(tree)) && r.get(Layout.dataTree(tree), Layout.recordKey(id, revision)) != null) {
                    problems.add(what + "." + revision + ": noted as removed, but the record exists");
                }
            }
        }
    }

    /**
     * Adds a problem for every record whose header does not decode, or whose metaIteration bars
     * every change (§3, §5). Reading the record bytes (the typed check of verify) skips the
     * header, so a header that every read of its metadata and every change refuses read as OK.
     */
    private static void headerProblems(ReadTxn r, List<String> problems) {
        if (!r.hasTree(Layout.CATALOG)) return;
        List<String> names = new ArrayList<>();
        try (Cursor c = r.cursor(Layout.CATALOG)) {
            for (boolean ok = c.first(); ok; ok = c.next()) names.add(new String(Layout.copy(c.key()), StandardCharsets.UTF_8));
        }
        for (String name : names) {
            String data = Layout.dataTree(name);
            if (!r.hasTree(data)) continue; // the catalog's own checks are the open's
            MemorySegment entry = r.get(Layout.CATALOG, Layout.utf8(name));
            int dataFrom = entry.byteSize() >= Layout.CATALOG_BYTES ? Layout.catalogDataFrom(entry) : 1;
            try (Cursor c = r.cursor(data)) {
                for (boolean ok = c.first(); ok && problems.size() < PROBLEMS_MAX; ok = c.next()) {
                    String key = name + "/" + Layout.idOf(c.key()) + "." + Layout.revisionOf(c.key());
                    try {
                        RecordHeader h = RecordHeader.decode(c.value(), key);
                        if (h.atIterationLimit()) {
                            problems.add("record " + key + ": metaIteration " + h.metaIteration() + " is at or above "
                                + "ITERATION_MAX " + Limits.ITERATION_MAX + ", so it cannot change any more");
                        }
                        int version = dev.cairn.schema.RecordCodec.versionOf(RecordHeader.body(c.value()));
                        if (version < dataFrom) {
                            // A class that migrated the tree past that version reads such a record
                            // nowhere, and its open does not migrate it (probe 108: an import did it).
                            problems.add("record " + key + ": schema version " + version + ", below the tree's dataFromVersion "
                                + dataFrom + " (" + Layout.CATALOG + "), which every record's version must reach");
                        }
                    } catch (CorruptionException bad) {
                        problems.add(bad.getMessage());
                    }
                }
            }
        }
    }
}
