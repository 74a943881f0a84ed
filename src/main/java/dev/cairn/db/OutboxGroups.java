package dev.cairn.db;

import dev.cairn.CorruptionException;
import dev.cairn.store.Cursor;
import dev.cairn.store.ReadTxn;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Where sync may cut the outbox (spec/database-layout.md §6). Each entry carries the
 * transactions of its record since the receiver's version of it, which begin at its {@code
 * groupStart}; so the entries at or before a cut, sent and applied together, leave the receiver
 * in a state this node had after one of its transactions when no entry after the cut has a
 * {@code groupStart} at or before it. The cut after the entry with sequence p is valid iff
 * {@code reach(p) = p}, where {@code reach(p)} is the highest sequence of the entries with
 * {@code groupStart <= p}.
 *
 * <p>Why the group start a transaction T writes is {@code min(T's first sequence, the replaced
 * entry's groupStart)}, not the least over all of T's entries: an entry blocks the cuts in
 * {@code [groupStart, sequence)}. T's first entry has sequence T.start and its last T.end, and
 * every entry of T has {@code groupStart <= T.start}; so the last entry alone blocks every cut
 * inside T, {@code [T.start, T.end)}, and each entry blocks {@code [its groupStart, T.start)}:
 * together the cuts in {@code [least groupStart of T, T.end)}, as if every entry had the least.
 */
final class OutboxGroups {
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private OutboxGroups() { }

    /**
     * Per entry of {@code w}: true iff a valid cut lies after it and before the next entry of the
     * window's trees in the whole outbox (the window's next one, or {@code w.nextSequence()}); the
     * end of the outbox is a valid cut, so the last entry of those trees is always true. Entries of
     * other trees in between count: they belong to their transactions as well. Reads {@code
     * cairn.outboxgroup} from its start while groupStart is below that bound.
     */
    static boolean[] groupEnds(ReadTxn r, Outbox.Window w) {
        List<Layout.OutboxEntry> entries = w.entries();
        int count = entries.size();
        boolean[] ends = new boolean[count];
        if (count == 0) return ends;
        long last = entries.get(count - 1).sequence();
        long bound = w.nextSequence() < 0 ? last : w.nextSequence();
        List<Long> cuts = validCuts(r, bound);
        int next = 0;
        for (int i = 0; i < count; i++) {
            long from = entries.get(i).sequence();
            long to = i + 1 < count ? entries.get(i + 1).sequence() : w.nextSequence();
            if (to < 0) {
                ends[i] = true;
                continue;
            }
            while (next < cuts.size() && cuts.get(next) < from) next++;
            ends[i] = next < cuts.size() && cuts.get(next) < to;
        }
        return ends;
    }

    /**
     * The valid cuts below {@code bound} (and perhaps one above it), ascending: a two-pointer walk
     * of the entries by groupStart while it is below {@code bound}, tracking the highest sequence
     * seen ({@code reach}). When the next entry's groupStart is above {@code reach}, every entry
     * with {@code groupStart <= reach} has been seen, so {@code reach(reach) = reach}: a valid cut;
     * and each valid cut p is found so, at the first entry with a groupStart above p.
     */
    static List<Long> validCuts(ReadTxn r, long bound) {
        List<Long> cuts = new ArrayList<>();
        long reach = -1;
        try (Cursor c = r.cursor(Layout.OUTBOX_GROUP)) {
            boolean ok = c.first();
            for (; ok; ok = c.next()) {
                if (c.key().byteSize() != 16) {
                    throw new CorruptionException(Layout.OUTBOX_GROUP + ": a key of " + c.key().byteSize()
                        + " bytes (expected: groupStart:i64, sequence:i64)");
                }
                long groupStart = c.key().get(I64, 0);
                if (reach >= 0 && groupStart > reach) cuts.add(reach);
                if (groupStart >= bound) break;
                reach = Math.max(reach, c.key().get(I64, 8));
            }
            if (!ok && reach >= 0) cuts.add(reach); // the end of the outbox
        }
        return cuts;
    }
}
