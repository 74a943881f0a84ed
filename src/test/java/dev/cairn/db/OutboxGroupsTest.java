package dev.cairn.db;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cairn.ChangeKind;
import dev.cairn.store.ReadTxn;
import dev.cairn.store.Store;
import dev.cairn.store.WriteTxn;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the outbox may be cut (database-layout.md §6), on outboxes written entry by entry. */
class OutboxGroupsTest {
    @TempDir Path dir;

    /** Stores entries {@code {tree, id, sequence, groupStart}...} as Outbox.put does for new records. */
    private void outbox(Object[]... entries) {
        try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
            Outbox.clear(w);
            for (Object[] e : entries) {
                Outbox.put(w, new Layout.OutboxEntry((Long) e[2], ChangeKind.CHANGED, (String) e[0], (Integer) e[1], 0,
                    1, 1, (Long) e[3]), null);
            }
            w.commit();
        }
    }

    /** "tree/id" of each entry listed, with "|" after those that end a group. */
    private List<String> listed(Set<String> trees, int max) {
        try (Store store = Store.open(dir); ReadTxn r = store.beginRead()) {
            Outbox.Window w = Outbox.window(r, trees, -1, max, false);
            boolean[] ends = OutboxGroups.groupEnds(r, w);
            List<String> out = new ArrayList<>();
            for (int i = 0; i < ends.length; i++) {
                Layout.OutboxEntry e = w.entries().get(i);
                out.add(e.tree() + "/" + e.id() + (ends[i] ? "|" : ""));
            }
            return out;
        }
    }

    private static Object[] e(String tree, int id, long sequence, long groupStart) {
        return new Object[] {tree, id, sequence, groupStart};
    }

    @Test
    void aRewrittenEntryCarriesItsEarlierTransactionIntoTheLaterOne() {
        // T1 wrote A and B (0, 1); T2 (from 2) wrote C and B again: B moved to 3, its group from 0.
        outbox(e("X", 1, 0, 0), e("X", 3, 2, 2), e("X", 2, 3, 0));
        assertEquals(List.of("X/1", "X/3", "X/2|"), listed(Set.of(), 10));
        assertEquals(List.of("X/1", "X/3"), listed(Set.of(), 2), "no cut in the window: B is beyond it");
    }

    @Test
    void transactionsOfTheirOwnEndGroupsAndOneOfTwoRecordsEndsAtItsLast() {
        outbox(e("X", 1, 0, 0), e("X", 2, 1, 1), e("X", 3, 2, 2), e("X", 4, 3, 2));
        assertEquals(List.of("X/1|", "X/2|", "X/3", "X/4|"), listed(Set.of(), 10));
        assertEquals(List.of("X/1|", "X/2|", "X/3"), listed(Set.of(), 3), "the next entry is in X/3's transaction");
    }

    @Test
    void aSubsetCutsAfterEntriesOfOtherTreesAndItsLastEntryEndsAGroup() {
        // X/1 and Y/1 one transaction, X/2 the next one: the cut after Y/1 lies between X/1 and X/2.
        outbox(e("X", 1, 0, 0), e("Y", 1, 1, 0), e("X", 2, 2, 2));
        assertEquals(List.of("X/1|", "X/2|"), listed(Set.of("X"), 10));
        assertEquals(List.of("X/1|"), listed(Set.of("X"), 1));
        // Y/1 rewritten by X/2's transaction: no cut before its end, and X's last entry still ends one.
        outbox(e("X", 1, 0, 0), e("X", 2, 2, 2), e("Y", 1, 3, 0));
        assertEquals(List.of("X/1", "X/2|"), listed(Set.of("X"), 10));
        assertEquals(List.of("X/1"), listed(Set.of("X"), 1), "Y/1, beyond the window, reaches back");
        assertEquals(List.of("Y/1|"), listed(Set.of("Y"), 10));
    }
}
