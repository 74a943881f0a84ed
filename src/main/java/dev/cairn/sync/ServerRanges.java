package dev.cairn.sync;

import dev.cairn.store.Cursor;
import dev.cairn.store.ReadTxn;
import dev.cairn.store.WriteTxn;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * The id ranges the server issued (sync-protocol.md §5.2): per tree, consecutive ranges from id
 * 0, each to one client, never twice. Kept in memory and in the tree {@link #RANGES} of the
 * round's write transaction, so a range is stored before the Keys frame that carries it is sent.
 * Not thread-safe: the loop's thread owns it.
 */
final class ServerRanges {
    /** {@code tree, 0x00, from:i32} → {@code toExclusive:i32, client:uuid}. */
    static final String RANGES = "srv.ranges";

    /** One issued id range. */
    record Range(int from, int toExclusive, UUID client) { }

    private final Supplier<WriteTxn> txn;
    private final Map<String, TreeMap<Integer, Range>> ranges = new HashMap<>();

    ServerRanges(Supplier<WriteTxn> txn) {
        this.txn = txn;
    }

    /** Reads what the server stored. */
    void load(ReadTxn r) {
        try (Cursor c = r.cursor(RANGES)) {
            for (boolean ok = c.first(); ok; ok = c.next()) {
                byte[] k = Bytes.copy(c.key());
                ByteBuffer v = ByteBuffer.wrap(Bytes.copy(c.value()));
                String tree = new String(k, 0, k.length - 5, StandardCharsets.UTF_8);
                int from = ByteBuffer.wrap(k, k.length - 4, 4).getInt();
                ranges.computeIfAbsent(tree, x -> new TreeMap<>())
                    .put(from, new Range(from, v.getInt(), new UUID(v.getLong(), v.getLong())));
            }
        }
    }

    /** A range of {@code tree} issued to a client other than {@code client} that starts below {@code toExclusive}, or null. */
    Range otherBelow(String tree, int toExclusive, UUID client) {
        for (Range r : ranges.getOrDefault(tree, new TreeMap<>()).values()) {
            if (!r.client().equals(client) && r.from() < toExclusive) return r;
        }
        return null;
    }

    /** True when id {@code id} of {@code tree} lies in a range issued to {@code client}. */
    boolean owns(String tree, int id, UUID client) {
        TreeMap<Integer, Range> m = ranges.get(tree);
        if (m == null) return false;
        Map.Entry<Integer, Range> e = m.floorEntry(id);
        return e != null && id < e.getValue().toExclusive() && e.getValue().client().equals(client);
    }

    /** True when id {@code id} of {@code tree} lies in a range issued to any client. */
    boolean issued(String tree, int id) {
        TreeMap<Integer, Range> m = ranges.get(tree);
        if (m == null) return false;
        Map.Entry<Integer, Range> e = m.floorEntry(id);
        return e != null && id < e.getValue().toExclusive();
    }

    /** The first id of {@code tree} never issued. */
    int next(String tree) {
        TreeMap<Integer, Range> m = ranges.get(tree);
        return m == null || m.isEmpty() ? 0 : m.lastEntry().getValue().toExclusive();
    }

    /** Issues {@code [from, toExclusive)} of {@code tree} to {@code client}; {@code from} must be {@link #next}. */
    void issue(String tree, int from, int toExclusive, UUID client) {
        if (from != next(tree) || toExclusive <= from) {
            throw new IllegalStateException("tree " + tree + ": range [" + from + ", " + toExclusive
                + ") does not follow the last issued one (next id " + next(tree) + ")");
        }
        ranges.computeIfAbsent(tree, x -> new TreeMap<>()).put(from, new Range(from, toExclusive, client));
        txn.get().put(RANGES, Bytes.rangeKey(tree, from), ByteBuffer.allocate(20).putInt(toExclusive)
            .putLong(client.getMostSignificantBits()).putLong(client.getLeastSignificantBits()).array());
    }
}
