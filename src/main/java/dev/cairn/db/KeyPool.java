package dev.cairn.db;

import dev.cairn.NoIdsLeftException;

import dev.cairn.CorruptionException;
import dev.cairn.internal.Check;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The ids one node may still hand out for one tree, as disjoint ranges {@code [from, to)} in
 * ascending order (spec/database-layout.md §4). {@link #take()} takes the lowest free id;
 * {@link #takeBelow} every id below a bound (an import that keeps exported ids).
 *
 * <ul>
 *   <li>A standalone database grants itself the single range {@code [0, Integer.MAX_VALUE)}
 *       when the tree is created; a database linked to a server starts empty and receives ranges
 *       through {@link #add} (the server never issues an id twice).
 *   <li>The pool only shrinks from below, so an id once taken is never offered again, and the
 *       caller stores {@link #toBytes()} in the same transaction as the insert that took it.
 * </ul>
 * Not thread-safe: the database uses it under its write lock.
 */
public final class KeyPool {
    private static final byte FORMAT = 1;

    private final List<int[]> ranges;
    /**
     * One more than the highest id a server issued into this pool (used or not), 0 if none. Not
     * in the byte form, which an older Cairn reads: the database keeps it beside the pool once
     * it is above {@link #high} (database-layout.md §4).
     */
    private int issuedHigh;

    private KeyPool(List<int[]> ranges, int issuedHigh) {
        this.ranges = ranges;
        this.issuedHigh = issuedHigh;
    }

    /** The pool of a standalone database: every id. */
    public static KeyPool standalone() {
        List<int[]> r = new ArrayList<>();
        r.add(new int[] {0, Integer.MAX_VALUE});
        return new KeyPool(r, 0); // granted by no server
    }

    /** An empty pool, filled by ranges from a server. */
    public static KeyPool empty() {
        return new KeyPool(new ArrayList<>(), 0);
    }

    /**
     * The next id, removed from the pool. The database looks ({@link #peek}) before it takes, and
     * says why none is left in the caller's terms.
     *
     * @throws NoIdsLeftException naming the tree if none is left
     */
    public int take(String tree) {
        if (ranges.isEmpty()) throw new NoIdsLeftException("no ids left in the key pool of tree " + tree);
        int[] first = ranges.getFirst();
        int id = first[0];
        first[0]++;
        if (first[0] == first[1]) ranges.removeFirst();
        Check.that(id >= 0, "taken id %d (expected: >= 0)", id);
        return id;
    }

    /** True when {@code id} is in the pool (free: never handed out from it). */
    public boolean contains(int id) {
        for (int[] r : ranges) {
            if (id < r[0]) return false;
            if (id < r[1]) return true;
        }
        return false;
    }

    /**
     * Takes every id below {@code toExclusive} out of the pool: ranges below it go, the one
     * holding it is cut there. Still shrinking from below, so the invariants hold.
     */
    public void takeBelow(int toExclusive) {
        while (!ranges.isEmpty() && ranges.getFirst()[1] <= toExclusive) ranges.removeFirst();
        if (!ranges.isEmpty() && ranges.getFirst()[0] < toExclusive) ranges.getFirst()[0] = toExclusive;
    }

    /** Adds {@code [from, toExclusive)}; it must not overlap what the pool holds. */
    public void add(int from, int toExclusive) {
        if (from < 0 || toExclusive <= from) {
            throw new IllegalArgumentException("range [" + from + ", " + toExclusive + ") (expected: 0 <= from < to)");
        }
        int at = 0;
        while (at < ranges.size() && ranges.get(at)[0] < from) at++;
        if ((at > 0 && ranges.get(at - 1)[1] > from) || (at < ranges.size() && ranges.get(at)[0] < toExclusive)) {
            throw new IllegalArgumentException("range [" + from + ", " + toExclusive + ") overlaps the pool " + this);
        }
        ranges.add(at, new int[] {from, toExclusive});
        issuedHigh = Math.max(issuedHigh, toExclusive);
    }

    /**
     * Records that a server issued this node the ids below {@code toExclusive} (a never-linked
     * database's claim of the ids it used on its own; the value kept beside a used-up pool),
     * without adding any to the pool.
     */
    public void markIssued(int toExclusive) {
        issuedHigh = Math.max(issuedHigh, toExclusive);
    }

    /**
     * One more than the highest id a server issued into this pool, also once it is used up; 0 if
     * none. A Hello names it (sync-protocol.md §4.4): a server restored from an older backup
     * that issued that id to another node since must refuse this one, or both would make
     * records with the same ids (probe 98: a node whose pool was used up named none).
     */
    public int issuedHigh() {
        return issuedHigh;
    }

    /** How many ids are left. */
    public long available() {
        long n = 0;
        for (int[] r : ranges) n += r[1] - r[0];
        return n;
    }

    /** One more than the highest id in the pool, or 0 if empty. */
    public int high() {
        return ranges.isEmpty() ? 0 : ranges.getLast()[1];
    }

    /** The lowest id {@link #take} would return, or -1 if empty. */
    public int peek() {
        return ranges.isEmpty() ? -1 : ranges.getFirst()[0];
    }

    public KeyPool copy() {
        List<int[]> r = new ArrayList<>(ranges.size());
        for (int[] x : ranges) r.add(x.clone());
        return new KeyPool(r, issuedHigh);
    }

    /** {@code format:u8, count:u32, (from:i32, to:i32)*count}, big-endian. */
    public byte[] toBytes() {
        ByteBuffer b = ByteBuffer.allocate(1 + 4 + 8 * ranges.size());
        b.put(FORMAT).putInt(ranges.size());
        for (int[] r : ranges) b.putInt(r[0]).putInt(r[1]);
        return b.array();
    }

    /** The pool of its byte form; {@link #issuedHigh} is its ranges' end (a standalone pool's: 0) until {@link #markIssued}. */
    public static KeyPool fromBytes(byte[] bytes, String tree) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        if (bytes.length < 5 || b.get() != FORMAT) throw corrupt(tree, "bad format byte or length " + bytes.length);
        int count = b.getInt();
        if (count < 0 || count != (bytes.length - 5) / 8 || (bytes.length - 5) % 8 != 0) {
            throw corrupt(tree, "range count " + count + " for " + bytes.length + " bytes");
        }
        List<int[]> r = new ArrayList<>(count);
        int previousTo = 0;
        for (int i = 0; i < count; i++) {
            int from = b.getInt();
            int to = b.getInt();
            if (from < previousTo || to <= from) throw corrupt(tree, "range " + i + " [" + from + ", " + to + ")");
            r.add(new int[] {from, to});
            previousTo = to;
        }
        // A standalone pool's [.., MAX) was issued by no server.
        return new KeyPool(r, previousTo == Integer.MAX_VALUE ? 0 : previousTo);
    }

    private static CorruptionException corrupt(String tree, String what) {
        return new CorruptionException("key pool of tree " + tree + ": " + what);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("KeyPool[");
        for (int[] r : ranges) s.append('[').append(r[0]).append(", ").append(r[1]).append(')');
        return s.append(']').toString();
    }
}
