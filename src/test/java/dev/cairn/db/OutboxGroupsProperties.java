package dev.cairn.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Key;
import dev.cairn.store.Store;
import dev.cairn.store.WriteTxn;
import dev.cairn.sync.Replica.Pending;
import dev.cairn.testing.Fixtures;
import dev.cairn.testing.Fixtures.Doc;
import dev.cairn.testing.Fixtures.Part;
import dev.cairn.testing.TestFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The outbox's groups (spec/database-layout.md §6) against a model: a linked node runs random
 * transactions (each creates, updates or removes 1 to 4 of 8 records in two trees) interleaved
 * with random sends, as a link makes them: list the oldest entries (a random window, of all trees
 * or, for a whole run, of one tree), take them up to one whose {@code groupEnds} is true, give
 * the records' current values to a receiver R (the state another node has), and acknowledge
 * them; sometimes a transaction runs while they are on their way, an acknowledgement is lost, or
 * the database is reopened (sometimes with its group tree dropped, as a database of before it).
 * After every send R must equal a state the node had after one of its transactions (restricted
 * to the sent trees). At the end the whole outbox drains and R equals the node's last state.
 */
class OutboxGroupsProperties {
    private static final int SLOTS = 8; // 0..3 parts, 4..7 docs

    @Property(tries = 40)
    void everySendLeavesTheReceiverInAStateTheNodeHad(@ForAll long seed) throws IOException {
        assertNull(simulate(seed, 60, true));
    }

    @Tag("long")
    @Property(tries = 60)
    void everySendLeavesTheReceiverInAStateTheNodeHadInLongRuns(@ForAll long seed) throws IOException {
        assertNull(simulate(seed, 300, true));
    }

    /** The check can fail: a sender that cuts anywhere (every entry a cut) is caught. */
    @Test
    void aSenderThatCutsAnywhereIsCaught() throws IOException {
        List<String> caught = new ArrayList<>();
        for (long seed = 0; seed < 20; seed++) {
            String failure = simulate(seed, 60, false);
            if (failure != null) caught.add(failure);
        }
        assertFalse(caught.isEmpty(), "no run caught a sender that ignores the groups");
        assertTrue(caught.get(0).contains("a state the node never had"), caught.get(0));
    }

    /** One run; the first failure of the receiver's check, or null. Other checks assert. */
    private static String simulate(long seed, int steps, boolean honourGroups) throws IOException {
        Path dir = Files.createTempDirectory("cairn-groups");
        try {
            return new Run(new Random(seed), dir, honourGroups).go(steps);
        } finally {
            TestFiles.deleteTree(dir);
        }
    }

    private static final class Run {
        final Random rnd;
        final Path dir;
        final boolean honourGroups;
        /** The trees this run's sends list (empty = all), and the trees R is compared on. */
        final Set<String> sendTrees;
        Database db;
        TreeImpl<Part> parts;
        TreeImpl<Doc> docs;
        final Key<?>[] slots = new Key<?>[SLOTS];
        /** The node's records now, and after each of its transactions (the first: none). */
        final Map<Key<?>, Object> current = new HashMap<>();
        final List<Map<Key<?>, Object>> history = new ArrayList<>();
        /** What the receiver has. */
        final Map<Key<?>, Object> receiver = new HashMap<>();
        /** Transactions of 2+ records, by their entries' keys and sequences, while none was rewritten or sent. */
        final List<Map<Key<?>, Long>> untouched = new ArrayList<>();
        int counter;
        boolean draining;

        Run(Random rnd, Path dir, boolean honourGroups) {
            this.rnd = rnd;
            this.dir = dir;
            this.honourGroups = honourGroups;
            int pick = rnd.nextInt(4);
            sendTrees = pick == 0 ? Set.of("Part") : pick == 1 ? Set.of("Doc") : Set.of();
        }

        String go(int steps) {
            open();
            history.add(Map.copyOf(current));
            int before = rnd.nextInt(4); // records made before the link: the link's one group
            for (int i = 0; i < before; i++) transaction(false);
            link();
            try {
                for (int step = 0; step < steps; step++) {
                    int what = rnd.nextInt(10);
                    String failure = null;
                    if (what < 5) {
                        transaction(true);
                    } else if (what < 9) {
                        failure = send(sendTrees, 1 + rnd.nextInt(6), List.of(sendTrees));
                    } else {
                        reopen(rnd.nextInt(3) == 0);
                    }
                    if (failure != null) return failure;
                }
                // Drain the whole outbox: R ends as the node's last state. After sends of one tree
                // its trees hold states of different times: each must be one the node had.
                draining = true;
                List<Set<String>> checks = sendTrees.isEmpty() ? List.of(Set.of()) : List.of(Set.of("Part"), Set.of("Doc"));
                for (int round = 0; round < 1000 && outboxSize() > 0; round++) {
                    // A window without a cut (a group larger than it): the next one takes all.
                    String failure = send(Set.of(), round % 2 == 0 ? 1 + rnd.nextInt(8) : Integer.MAX_VALUE, checks);
                    if (failure != null) return failure;
                }
                assertEquals(0, outboxSize(), "the outbox drains");
                assertEquals(current, receiver, "after the drain R holds the node's last state");
                assertEquals(current, stored(), "the model is the node");
                return null;
            } finally {
                db.close();
            }
        }

        void open() {
            db = Database.open(dir, "n", "u", "app", 1 << 16);
            parts = TreeImpl.open(db, Part.class, null);
            docs = TreeImpl.open(db, Doc.class, null);
        }

        void reopen(boolean dropGroupTree) {
            db.close();
            if (dropGroupTree) {
                try (Store store = Store.open(dir); WriteTxn w = store.beginWrite()) {
                    w.dropTree(Layout.OUTBOX_GROUP);
                    w.commit();
                }
            }
            open();
        }

        /** Links the database as the first Welcome does (no server here: check-outs stay local). */
        void link() {
            db.write(() -> {
                db.txn().put(Layout.NODE, SyncReplica.SERVER_ID, Layout.uuidBytes(UUID.randomUUID()));
                db.materializeOutbox();
                return null;
            }, false);
            reopen(false);
        }

        /** Creates, updates or removes 1 to 4 distinct records in one batch. */
        void transaction(boolean linked) {
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < SLOTS; i++) order.add(i);
            java.util.Collections.shuffle(order, rnd);
            List<Integer> chosen = order.subList(0, 1 + rnd.nextInt(4));
            Map<Key<?>, Object> after = new HashMap<>(current);
            db.write(() -> {
                for (int slot : chosen) change(slot, after);
                return null;
            }, false);
            current.clear();
            current.putAll(after);
            history.add(Map.copyOf(current));
            if (linked && chosen.size() >= 2) untouched.add(sequences(chosen));
            // A rewrite moves a record's entry: transactions it belonged to are no longer untouched.
            untouched.removeIf(t -> !t.equals(sequencesOf(t.keySet())));
        }

        private void change(int slot, Map<Key<?>, Object> after) {
            Key<?> k = slots[slot];
            boolean part = slot < SLOTS / 2;
            int v = ++counter;
            if (k == null) {
                k = part ? parts.insert(Fixtures.part(slot).withStock(v)) : docs.insert(new Doc("d" + slot, v));
                if (part) parts.checkOut(cast(k)).join(); else docs.checkOut(cast(k)).join();
                slots[slot] = k;
                after.put(k, part ? Fixtures.part(slot).withStock(v) : new Doc("d" + slot, v));
            } else if (rnd.nextInt(4) == 0) {
                if (part) parts.remove(cast(k)); else docs.remove(cast(k));
                slots[slot] = null;
                after.remove(k);
            } else {
                Object value = part ? Fixtures.part(slot).withStock(v) : new Doc("d" + slot, v);
                if (part) parts.update(cast(k), (Part) value); else docs.update(cast(k), (Doc) value);
                after.put(k, value);
            }
        }

        @SuppressWarnings("unchecked")
        private static <V> Key<V> cast(Key<?> k) {
            return (Key<V>) k;
        }

        /**
         * Lists a window of {@code trees}, sends it up to a cut, checks R restricted to each of
         * {@code checks}, and acknowledges (or loses the Acks).
         */
        String send(Set<String> trees, int max, List<Set<String>> checks) {
            List<Pending> listed = db.readOrWrite(r -> SyncReplica.pending(r, trees, -1, max));
            if (listed.isEmpty()) return null;
            checkFlags(trees, max, listed);
            checkListingAfter(trees, max, listed);
            List<Integer> ends = new ArrayList<>();
            for (int i = 0; i < listed.size(); i++) if (!honourGroups || listed.get(i).groupEnds()) ends.add(i);
            if (ends.isEmpty()) return null; // no cut in this window: the link would take a larger one
            List<Pending> sent = listed.subList(0, ends.get(rnd.nextInt(ends.size())) + 1);
            for (Pending p : sent) {
                Object v = current.get(p.key());
                if (v == null) receiver.remove(p.key()); else receiver.put(p.key(), v);
            }
            String failure = null;
            for (Set<String> check : checks) if (failure == null) failure = checkReceiver(check);
            if (!draining && rnd.nextInt(5) == 0) transaction(true); // a change while the entries are on their way
            if (rnd.nextInt(8) != 0) {
                db.write(() -> {
                    for (Pending p : sent) {
                        Key<?> k = p.key();
                        Outbox.deleteIf(db.txn(), Layout.checkoutKey(k.tree(), k.id(), k.revision()), p.outboxSeq());
                    }
                    return null;
                }, false);
                for (Pending p : sent) untouched.removeIf(t -> t.containsKey(p.key()));
            }
            return failure;
        }

        /** R, restricted to {@code trees}, equals the node's state after one of its transactions. */
        String checkReceiver(Set<String> trees) {
            Map<Key<?>, Object> seen = restrict(receiver, trees);
            for (Map<Key<?>, Object> state : history) if (restrict(state, trees).equals(seen)) return null;
            return "R holds a state the node never had: " + new java.util.TreeMap<>(toText(seen));
        }

        /**
         * A listing after one of the entries listed (as a link lists after the changes it has in
         * flight) holds the entries that follow it in {@code listed}, with the same group ends.
         */
        void checkListingAfter(Set<String> trees, int max, List<Pending> listed) {
            int j = rnd.nextInt(listed.size());
            long after = listed.get(j).outboxSeq();
            List<Pending> again = db.readOrWrite(r -> SyncReplica.pending(r, trees, after, max));
            List<Pending> rest = listed.subList(j + 1, listed.size());
            assertTrue(again.size() >= rest.size(), "listed after " + after + ": " + again + " (expected: " + rest + " first)");
            assertEquals(rest, again.subList(0, rest.size()), "listed after " + after);
        }

        /** The flags a whole outbox must show: its last entry ends a group; no cut inside an untouched transaction. */
        void checkFlags(Set<String> trees, int max, List<Pending> listed) {
            if (!trees.isEmpty()) return;
            if (outboxSize() <= max) {
                assertTrue(listed.get(listed.size() - 1).groupEnds(), "the last entry of the outbox ends a group");
            }
            for (Map<Key<?>, Long> t : untouched) {
                long start = java.util.Collections.min(t.values());
                long end = java.util.Collections.max(t.values());
                for (Pending p : listed) {
                    if (p.outboxSeq() >= start && p.outboxSeq() < end) {
                        assertFalse(p.groupEnds(), "a cut inside a transaction at " + p.outboxSeq() + " of " + t);
                    }
                }
            }
        }

        /** The entries of the batch that just committed: the last {@code size} sequences (a batch's are consecutive). */
        private Map<Key<?>, Long> sequences(List<Integer> chosen) {
            Map<Key<?>, Long> all = sequencesOf(null);
            long last = all.values().stream().mapToLong(Long::longValue).max().orElse(-1);
            Map<Key<?>, Long> mine = new HashMap<>();
            all.forEach((k, s) -> {
                if (s > last - chosen.size()) mine.put(k, s);
            });
            assertEquals(chosen.size(), mine.size(), "one entry per record of the batch");
            return mine;
        }

        /** Sequence of each pending entry (of {@code keys}, or all when null). */
        private Map<Key<?>, Long> sequencesOf(Set<Key<?>> keys) {
            Map<Key<?>, Long> out = new HashMap<>();
            for (Layout.OutboxEntry e : db.readOrWrite(r -> Outbox.oldest(r, Set.of(), Integer.MAX_VALUE))) {
                Key<?> k = new Key<>(e.tree(), e.id(), e.revision());
                if (keys == null || keys.contains(k)) out.put(k, e.sequence());
            }
            return out;
        }

        private long outboxSize() {
            return db.readOrWrite(r -> r.count(Layout.OUTBOX));
        }

        private Map<Key<?>, Object> stored() {
            Map<Key<?>, Object> out = new HashMap<>();
            for (Key<Part> k : parts.keys()) out.put(k, parts.get(k));
            for (Key<Doc> k : docs.keys()) out.put(k, docs.get(k));
            return out;
        }

        private static Map<Key<?>, Object> restrict(Map<Key<?>, Object> state, Set<String> trees) {
            if (trees.isEmpty()) return state;
            Map<Key<?>, Object> out = new HashMap<>();
            state.forEach((k, v) -> {
                if (trees.contains(k.tree())) out.put(k, v);
            });
            return out;
        }

        private static Map<String, String> toText(Map<Key<?>, Object> state) {
            Map<String, String> out = new HashMap<>();
            state.forEach((k, v) -> out.put(k.toString(), v instanceof Part p ? "stock " + p.stock() : v.toString()));
            return out;
        }
    }
}
