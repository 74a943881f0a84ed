package dev.cairn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cairn.testing.Fixtures.Doc;
import dev.cairn.testing.SlotAction;
import dev.cairn.testing.TestFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.state.Action;
import net.jqwik.api.state.ActionChain;
import net.jqwik.api.state.ActionChainArbitrary;
import net.jqwik.api.state.Transformer;

/**
 * Random sequences of insert/update/remove/checkOut/checkIn/release/newRevision/setStateNumber/
 * reopen on a versioned tree against an in-memory model: after every step (and so after every
 * reopen) keys, values, states, iterations, borrow states and the expected errors match.
 */
class TreeModelProperties {
    private final List<Sim> sims = new ArrayList<>();

    /** What the model expects of one record. */
    static final class Rec {
        Doc value;
        boolean released;
        int number;
        long meta;
        long data;
        boolean mine;

        Rec(Doc value) {
            this.value = value;
        }
    }

    /** The database under test and its model. */
    final class Sim {
        final Path dir;
        Cairn db;
        Tree<Doc> docs;
        final TreeMap<Key<Doc>, Rec> model = new TreeMap<>(
            Comparator.<Key<Doc>>comparingInt(Key::id).thenComparingInt(Key::revision));
        int nextId;
        /** Per id, its highest revision removed: newRevision never makes one at or below it again. */
        final java.util.Map<Integer, Integer> removedMax = new java.util.HashMap<>();

        Sim() {
            try {
                dir = Files.createTempDirectory("cairn-model");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            open();
            sims.add(this);
        }

        void open() {
            db = Cairn.open(dir, Cairn.Options.defaults().withUser("model"));
            docs = db.tree(Doc.class);
        }

        Key<Doc> pick(int slot) {
            if (model.isEmpty()) return docs.key(nextId + slot % 3, slot % 2);
            List<Key<Doc>> keys = new ArrayList<>(model.keySet());
            return keys.get(slot % keys.size());
        }

        void check() {
            assertEquals(new ArrayList<>(model.keySet()), docs.keys());
            assertEquals(model.size(), docs.size());
            for (Map.Entry<Key<Doc>, Rec> e : model.entrySet()) {
                Rec r = e.getValue();
                assertEquals(r.value, docs.get(e.getKey()));
                RecordMeta m = docs.meta(e.getKey());
                RecordState state = r.released ? new RecordState.Released(r.number) : new RecordState.Draft(r.number);
                assertEquals(state, m.state(), e.getKey().toString());
                assertEquals(r.meta, m.metaIteration(), "metaIteration of " + e.getKey());
                assertEquals(r.data, m.dataIteration(), "dataIteration of " + e.getKey());
                assertEquals("model", m.modifiedBy());
                assertEquals(db.nodeId(), m.modifiedOn());
                assertEquals(r.mine ? new BorrowState.Mine() : new BorrowState.Free(), docs.borrowState(e.getKey()));
            }
        }

        void close() {
            db.close();
        }
    }

    @AfterProperty
    void cleanUp() {
        for (Sim s : sims) {
            s.close();
            TestFiles.deleteTree(s.dir);
        }
        sims.clear();
    }

    @Property(tries = 25)
    void treeMatchesModel(@ForAll("chains") ActionChain<Sim> chain) {
        chain.withInvariant("model", Sim::check).run();
    }

    @Provide
    ActionChainArbitrary<Sim> chains() {
        return ActionChain.<Sim>startWith(Sim::new)
            .withAction(6, insert())
            .withAction(5, slotAction("update", (s, k, n) -> {
                Rec r = s.model.get(k);
                Doc v = new Doc("t" + n, n);
                if (r == null) assertThrows(RecordNotFoundException.class, () -> s.docs.update(k, v));
                else if (r.released) assertThrows(ReleasedRecordException.class, () -> s.docs.update(k, v));
                else if (!r.mine) assertThrows(NotCheckedOutException.class, () -> s.docs.update(k, v));
                else {
                    s.docs.update(k, v);
                    r.value = v;
                    r.meta++;
                    r.data++;
                }
            }))
            .withAction(2, slotAction("remove", (s, k, n) -> {
                Rec r = s.model.get(k);
                if (r == null) assertThrows(RecordNotFoundException.class, () -> s.docs.remove(k));
                else if (r.released) assertThrows(ReleasedRecordException.class, () -> s.docs.remove(k));
                else if (!r.mine) assertThrows(NotCheckedOutException.class, () -> s.docs.remove(k));
                else {
                    s.docs.remove(k);
                    s.model.remove(k);
                    s.removedMax.merge(k.id(), k.revision(), Math::max);
                }
            }))
            .withAction(5, slotAction("checkOut", (s, k, n) -> {
                Rec r = s.model.get(k);
                if (r == null) assertThrows(RecordNotFoundException.class, () -> s.docs.checkOut(k));
                else {
                    s.docs.checkOut(k).join();
                    r.mine = true;
                }
            }))
            .withAction(2, slotAction("checkIn", (s, k, n) -> {
                s.docs.checkIn(k);
                Rec r = s.model.get(k);
                if (r != null) r.mine = false;
            }))
            .withAction(3, slotAction("release", (s, k, n) -> {
                Rec r = s.model.get(k);
                if (r == null) assertThrows(RecordNotFoundException.class, () -> s.docs.release(k));
                else if (r.released) assertThrows(IllegalStateException.class, () -> s.docs.release(k));
                else {
                    s.docs.release(k);
                    r.released = true;
                    r.meta++;
                }
            }))
            .withAction(3, slotAction("newRevision", (s, k, n) -> {
                Rec r = s.model.get(k);
                // After the highest revision of the id ever used (database-layout.md: removed ones stay removed).
                Key<Doc> next = s.docs.key(k.id(), Math.max(k.revision(), s.removedMax.getOrDefault(k.id(), -1)) + 1);
                boolean newer = s.model.keySet().stream().anyMatch(x -> x.id() == k.id() && x.revision() > k.revision());
                if (r == null) assertThrows(RecordNotFoundException.class, () -> s.docs.newRevision(k));
                else if (!r.released || newer) assertThrows(IllegalStateException.class, () -> s.docs.newRevision(k));
                else {
                    assertEquals(next, s.docs.newRevision(k));
                    s.model.put(next, new Rec(r.value));
                }
            }))
            .withAction(2, slotAction("setStateNumber", (s, k, n) -> {
                Rec r = s.model.get(k);
                if (r == null) assertThrows(RecordNotFoundException.class, () -> s.docs.setStateNumber(k, n));
                else {
                    s.docs.setStateNumber(k, n);
                    r.number = n;
                    r.meta++;
                }
            }))
            .withAction(1, Action.just(Transformer.mutate("failing batch", s -> {
                // Inserts and a check-out inside a batch that throws: nothing of it is stored.
                IllegalStateException boom = new IllegalStateException("rollback");
                IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> s.db.write(() -> {
                    Key<Doc> k = s.docs.insert(new Doc("lost", 1));
                    s.docs.checkOut(k).join();
                    s.docs.insert(new Doc("lost", 2));
                    throw boom;
                }));
                assertEquals(boom, thrown);
            })))
            .withAction(2, Action.just(Transformer.mutate("batch of two inserts", s -> {
                List<Key<Doc>> keys = s.docs.insertAll(List.of(new Doc("b1", 1), new Doc("b2", 2)));
                assertEquals(List.of(s.docs.key(s.nextId, 0), s.docs.key(s.nextId + 1, 0)), keys);
                s.nextId += 2;
                s.model.put(keys.get(0), new Rec(new Doc("b1", 1)));
                s.model.put(keys.get(1), new Rec(new Doc("b2", 2)));
            })))
            .withAction(1, Action.just(Transformer.mutate("reopen", s -> {
                s.close();
                s.open();
            })))
            .withMaxTransformations(40);
    }

    private static Action.Independent<Sim> insert() {
        return new Action.Independent<>() {
            @Override
            public Arbitrary<Transformer<Sim>> transformer() {
                return Arbitraries.integers().between(0, 99).map(n -> Transformer.mutate("insert " + n, s -> {
                    Doc v = new Doc("t" + n, n);
                    Key<Doc> k = s.docs.insert(v);
                    assertEquals(s.docs.key(s.nextId, 0), k);
                    s.nextId++;
                    s.model.put(k, new Rec(v));
                }));
            }
        };
    }

    /** A step on the key the slot picks ({@code Sim.pick}) and a number from it. */
    @FunctionalInterface
    interface SlotStep {
        void apply(Sim s, Key<Doc> key, int n);
    }

    private static Action.Independent<Sim> slotAction(String name, SlotStep step) {
        return SlotAction.of(name, (s, slot) -> step.apply(s, s.pick(slot), slot % 100));
    }
}
