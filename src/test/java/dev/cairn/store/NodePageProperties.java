package dev.cairn.store;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Slot key heads (storage-format.md §4.1) against plain byte-array order. Keys come from a tiny
 * alphabet with zero bytes and short lengths, so heads tie often: a key and the same key with
 * zero bytes appended share a head, as do keys with one 8-byte prefix.
 */
class NodePageProperties {

    @Provide
    Arbitrary<byte[]> keys() {
        return Arbitraries.of((byte) 0, (byte) 1, (byte) 97, (byte) 0xFF).array(byte[].class).ofMaxSize(12);
    }

    @Property(tries = 2000)
    void differingHeadsOrderLikeTheKeys(@ForAll("keys") byte[] a, @ForAll("keys") byte[] b) {
        long ha = NodePage.head(a, 0, a.length);
        long hb = NodePage.head(b, 0, b.length);
        assertEquals(ha, NodePage.head(MemorySegment.ofArray(a), 0, a.length), "byte[] and segment heads agree");
        int order = Integer.signum(Arrays.compareUnsigned(a, b));
        if (order == 0) assertEquals(ha, hb);
        if (ha != hb) assertEquals(order, Integer.signum(Long.compareUnsigned(ha, hb)), "heads differ, so they decide");
    }

    @Property(tries = 300)
    void leafSearchFindsWhatASortedSetFinds(@ForAll("keySets") List<byte[]> keys, @ForAll("keys") byte[] probe) {
        TreeSet<byte[]> sorted = new TreeSet<>(Arrays::compareUnsigned);
        sorted.addAll(keys);
        List<byte[]> cells = new ArrayList<>();
        for (byte[] k : sorted) cells.add(NodePage.leafCell(k, MemorySegment.ofArray(new byte[] {7})));
        byte[] buffer = PageBuffer.create(4096, PageLayout.KIND_LEAF, 9, 1);
        PageBuffer.rebuild(buffer, cells);
        PageBuffer.seal(buffer);
        int expected = sorted.headSet(probe, false).size();
        assertEquals(expected, PageBuffer.lowerBound(buffer, probe), "writer's lower bound of " + Arrays.toString(probe));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment page = arena.allocate(4096); // off-heap, as a mapped page is
            MemorySegment.copy(MemorySegment.ofArray(buffer), 0, page, 0, 4096);
            assertNull(PageCheck.node(page, 9, 1), "the built page passes the structural check");
            MemorySegment p = MemorySegment.ofArray(probe);
            int found = NodePage.lowerBound(page, p, 0, probe.length);
            assertEquals(expected, found, "lower bound of " + Arrays.toString(probe));
            assertEquals(sorted.contains(probe), found < sorted.size() && NodePage.keyEquals(page, found, p, 0, probe.length));
        }
    }

    @Property(tries = 300)
    void branchSearchPicksTheChildWhoseRangeHoldsTheKey(@ForAll("keySets") List<byte[]> keys, @ForAll("keys") byte[] probe) {
        TreeSet<byte[]> sorted = new TreeSet<>(Arrays::compareUnsigned);
        sorted.addAll(keys);
        sorted.remove(new byte[0]);
        List<byte[]> cells = new ArrayList<>();
        cells.add(NodePage.branchCell(new byte[0], 100, 1));
        for (byte[] k : sorted) cells.add(NodePage.branchCell(k, 101 + cells.size(), 1));
        byte[] buffer = PageBuffer.create(4096, PageLayout.KIND_BRANCH, 9, 1);
        PageBuffer.rebuild(buffer, cells);
        PageBuffer.seal(buffer);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment page = arena.allocate(4096);
            MemorySegment.copy(MemorySegment.ofArray(buffer), 0, page, 0, 4096);
            assertNull(PageCheck.node(page, 9, 1), "the built page passes the structural check");
            int expected = sorted.headSet(probe, true).size(); // separators <= probe, after cell 0
            assertEquals(expected, NodePage.childIndex(page, MemorySegment.ofArray(probe), 0, probe.length),
                "child for " + Arrays.toString(probe));
        }
    }

    /**
     * After inserts and removes in random slots (which leave garbage between cells), compact
     * gives the very bytes rebuild gives from copies of the cells, and a page that checks out.
     */
    @Property(tries = 300)
    void compactGivesTheBytesOfARebuild(@ForAll("keySets") List<byte[]> keys, @ForAll boolean leaf,
                                        @ForAll("removals") List<Integer> removals) {
        byte[] page = PageBuffer.create(4096, leaf ? PageLayout.KIND_LEAF : PageLayout.KIND_BRANCH, 9, 1);
        TreeSet<byte[]> sorted = new TreeSet<>(Arrays::compareUnsigned);
        sorted.addAll(keys);
        if (!leaf) PageBuffer.insertCell(page, 0, NodePage.branchCell(new byte[0], 100, 1));
        int base = leaf ? 0 : 1;
        for (byte[] k : sorted) {
            if (!leaf && k.length == 0) continue;
            int at = PageBuffer.lowerBound(page, k);
            byte[] cell = leaf ? NodePage.leafCell(k, MemorySegment.ofArray(new byte[k.length * 3]))
                : NodePage.branchCell(k, 200 + at, 1);
            if (!PageBuffer.fits(page, cell.length)) break;
            PageBuffer.insertCell(page, at, cell);
        }
        for (int r : removals) {
            int n = PageBuffer.count(page) - base;
            if (n > 0) PageBuffer.removeCell(page, base + Math.floorMod(r, n));
        }
        byte[] rebuilt = page.clone();
        PageBuffer.rebuild(rebuilt, PageBuffer.cells(page));
        int[] packed = PageBuffer.packedOffsets(page);
        // The writer's step packs a leaf only where the guess works, and says what its parent records.
        byte[] stepped = page.clone();
        int record = CellGuess.packIfItHelps(stepped);
        assertEquals(CellGuess.toRecord(stepped), record, "the writer's record is what toRecord says of the page it left");
        assertTrue(record == 0 || PageBuffer.isPackedInSlotOrder(stepped), "a page with a record is packed");
        if (record == 0 && !PageBuffer.isPackedInSlotOrder(page)) assertArrayEquals(page, stepped, "a page without one is left as it was");
        PageBuffer.compact(page);
        assertArrayEquals(rebuilt, page, "compact and rebuild agree");
        assertTrue(PageBuffer.isPackedInSlotOrder(page), "a compacted page is packed in slot order");
        int n = PageBuffer.count(page);
        for (int i = 0; i < n; i++) assertEquals(packed[i], PageBuffer.slot(page, i), "slot " + i + " lies where packedOffsets said");
        PageBuffer.seal(page);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mapped = arena.allocate(4096);
            MemorySegment.copy(MemorySegment.ofArray(page), 0, mapped, 0, 4096);
            assertNull(PageCheck.node(mapped, 9, 1), "the compacted page passes the structural check");
        }
    }

    @Property(tries = 200)
    void aReusedBufferIsResetToAFreshPage(@ForAll long seed, @ForAll boolean leaf, @ForAll long pageId, @ForAll long txnId) {
        byte[] used = new byte[4096];
        new SplittableRandom(seed).nextBytes(used);
        byte kind = leaf ? PageLayout.KIND_LEAF : PageLayout.KIND_BRANCH;
        PageBuffer.reset(used, kind, pageId, txnId);
        assertArrayEquals(PageBuffer.create(4096, kind, pageId, txnId), used, "a reset buffer holds nothing of its last page");
    }

    @Property(tries = 300)
    void aSameLengthReplaceRewritesOnlyThatValue(@ForAll("keySets") List<byte[]> keys, @ForAll int pick,
                                                 @ForAll("smallLengths") int oldLength, @ForAll("smallLengths") int newLength) {
        TreeSet<byte[]> sorted = new TreeSet<>(Arrays::compareUnsigned);
        sorted.addAll(keys);
        if (sorted.isEmpty()) return;
        List<byte[]> cells = new ArrayList<>();
        for (byte[] k : sorted) cells.add(NodePage.leafCell(k, MemorySegment.ofArray(filled(oldLength, (byte) 1))));
        byte[] page = PageBuffer.create(4096, PageLayout.KIND_LEAF, 9, 1);
        PageBuffer.rebuild(page, cells);
        int at = Math.floorMod(pick, sorted.size());
        byte[] before = page.clone();
        byte[] value = filled(newLength, (byte) 2);
        boolean replaced = PageBuffer.replaceInlineValue(page, at, MemorySegment.ofArray(value));
        assertEquals(oldLength == newLength, replaced, "replaced in place exactly when the lengths agree");
        if (!replaced) {
            assertArrayEquals(before, page, "a refused replace leaves the page as it was");
            return;
        }
        List<byte[]> expected = new ArrayList<>(cells);
        expected.set(at, NodePage.leafCell(new ArrayList<>(sorted).get(at), MemorySegment.ofArray(value)));
        byte[] rebuilt = PageBuffer.create(4096, PageLayout.KIND_LEAF, 9, 1);
        PageBuffer.rebuild(rebuilt, expected);
        assertArrayEquals(rebuilt, page, "the page is the one built with the new value");
    }

    private static byte[] filled(int length, byte b) {
        byte[] v = new byte[length];
        Arrays.fill(v, b);
        return v;
    }

    /** Heads near the edges of the unsigned order, where a sign flip or an overflow would show. */
    @Provide
    Arbitrary<Long> heads() {
        return Arbitraries.oneOf(
            Arbitraries.of(0L, 1L, -1L, -2L, Long.MIN_VALUE, Long.MIN_VALUE + 1, Long.MAX_VALUE, Long.MAX_VALUE - 1),
            Arbitraries.longs(), Arbitraries.longs().between(0, 6));
    }

    @Property(tries = 1000)
    void firstHeadFindsWhatALinearScanFinds(@ForAll("headLists") List<Long> heads, @ForAll("heads") long probe,
                                            @ForAll boolean above, @ForAll int fromPick) {
        long[] sorted = sortedUnsigned(heads.stream().mapToLong(Long::longValue).toArray());
        int n = sorted.length;
        int from = n == 0 ? 0 : Math.floorMod(fromPick, n + 1);
        MemorySegment slots = slotsOf(sorted);
        int expected = linearScan(sorted, from, probe, above);
        assertEquals(expected, NodePage.firstHead(slots, 0, from, n, probe, above),
            "first head " + (above ? "above " : "at least ") + Long.toUnsignedString(probe) + " in "
                + Arrays.toString(sorted) + " from " + from);
        if (!above) assertFirstHeadNear(slots, sorted, from, probe, expected);
    }

    /**
     * Heads spread about evenly, as ids are, where firstHeadNear's guess lands on or near the
     * answer; a jitter and runs of equal heads make it miss by a few slots either way, and
     * clusters by many. Probes are heads of the list, their neighbours, or anything.
     */
    @Property(tries = 2000)
    void firstHeadNearFindsWhatALinearScanFinds(@ForAll("spreadHeads") long[] sorted, @ForAll int pick,
                                                @ForAll("probeShifts") long shift, @ForAll("heads") long any,
                                                @ForAll boolean fromOne) {
        int n = sorted.length;
        long probe = n == 0 || shift == Long.MIN_VALUE ? any : sorted[Math.floorMod(pick, n)] + shift;
        int from = fromOne && n > 0 ? 1 : 0;
        assertFirstHeadNear(slotsOf(sorted), sorted, from, probe, linearScan(sorted, from, probe, false));
    }

    /** The heads sorted unsigned, as slots are: an unsigned sort is a signed sort of the sign-flipped values. */
    private static long[] sortedUnsigned(long[] heads) {
        for (int i = 0; i < heads.length; i++) heads[i] += Long.MIN_VALUE;
        Arrays.sort(heads);
        for (int i = 0; i < heads.length; i++) heads[i] += Long.MIN_VALUE;
        return heads;
    }

    /** A slot array holding these heads (the cell offsets stay 0). */
    private static MemorySegment slotsOf(long[] sorted) {
        MemorySegment slots = MemorySegment.ofArray(new byte[PageLayout.SLOT_BYTES * Math.max(sorted.length, 1)]);
        for (int i = 0; i < sorted.length; i++) {
            slots.set(PageLayout.U64_BE, (long) PageLayout.SLOT_BYTES * i + PageLayout.SLOT_HEAD_OFFSET, sorted[i]);
        }
        return slots;
    }

    /** First index from {@code from} whose head is above (or at least) the probe, by a plain scan. */
    private static int linearScan(long[] sorted, int from, long probe, boolean above) {
        int i = from;
        while (i < sorted.length && (above ? Long.compareUnsigned(sorted[i], probe) <= 0
                                           : Long.compareUnsigned(sorted[i], probe) < 0)) i++;
        return i;
    }

    private static void assertFirstHeadNear(MemorySegment slots, long[] sorted, int from, long probe, int expected) {
        assertEquals(expected, NodePage.firstHeadNear(slots, 0, from, sorted.length, probe),
            "firstHeadNear: first head at least " + Long.toUnsignedString(probe) + " in "
                + Arrays.toString(sorted) + " from " + from);
    }

    /** Sorted (unsigned) heads: start + i * step, jittered, with runs of ties and a cluster now and then. */
    @Provide
    Arbitrary<long[]> spreadHeads() {
        return Combinators.combine(
            heads(), Arbitraries.longs().between(1, 1L << 40), Arbitraries.integers().between(0, 300),
            Arbitraries.integers().between(0, 100), Arbitraries.longs()
        ).as((start, step, n, jitterPercent, seed) -> {
            SplittableRandom r = new SplittableRandom(seed);
            long[] heads = new long[n];
            for (int i = 0; i < n; i++) {
                long jitter = jitterPercent == 0 ? 0 : (long) ((r.nextDouble() - 0.5) * step * jitterPercent / 50);
                heads[i] = start + i * step + jitter;
                if (i > 0 && r.nextInt(10) == 0) heads[i] = heads[i - 1]; // a run of ties
                if (r.nextInt(50) == 0) heads[i] = start + r.nextLong(step * (i + 1)); // a stray head
            }
            return sortedUnsigned(heads); // the arithmetic above may wrap past the top
        });
    }

    /** How far a probe lies from a head of the list; Long.MIN_VALUE: a probe from anywhere. */
    @Provide
    Arbitrary<Long> probeShifts() {
        return Arbitraries.of(0L, 1L, -1L, 2L, -2L, 1000L, -1000L, Long.MIN_VALUE);
    }

    @Provide
    Arbitrary<List<Long>> headLists() {
        return heads().list().ofMaxSize(70);
    }

    @Provide
    Arbitrary<Integer> smallLengths() {
        return Arbitraries.integers().between(0, 3);
    }

    @Provide
    Arbitrary<List<Integer>> removals() {
        return Arbitraries.integers().list().ofMaxSize(30);
    }

    @Provide
    Arbitrary<List<byte[]>> keySets() {
        return keys().list().ofMaxSize(60);
    }
}
