package dev.cairn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cairn.index.DuplicateNameException;
import dev.cairn.index.Hit;
import dev.cairn.index.MultiNameIndex;
import dev.cairn.index.UniqueNameIndex;
import dev.cairn.testing.Fixtures.Doc;
import dev.cairn.testing.SlotAction;
import dev.cairn.testing.TestFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.state.Action;
import net.jqwik.api.state.ActionChain;
import net.jqwik.api.state.ActionChainArbitrary;
import net.jqwik.api.state.Transformer;

/**
 * The built-in indexes on a versioned tree, through the typed API, against a model: random
 * inserts, renames, removals, releases, new revisions, state numbers, batches with a refusal
 * caught inside, batches that throw, and reopens (which rebuild the indexes). A local change
 * must be refused exactly when the model says its name is held by another id; after every step
 * the unique index's names, lookups and duplicates, and the multi-name index's names and ranked
 * search, equal what a scan of the model gives.
 */
class IndexModelProperties {
    /** Titles that collide once normalised (case, {@code - _ . /}, spaces) and one that is never indexed. */
    private static final List<String> TITLES = List.of("Bolt", "bolt-", "B.olt ", "Nut", " nut", "Gear", "GEAR_", "Cam", " - ");
    private static final List<String> QUERIES = List.of("bolt", "b", "ol", "nut", "g", "pg3", "p", "cam", "x");
    private static final Comparator<Key<Doc>> KEY_ORDER = Comparator.<Key<Doc>>comparingInt(Key::id).thenComparingInt(Key::revision);

    private final List<Sim> sims = new ArrayList<>();

    /** The model's own normal form (NameNormalizer.standard()): trimmed, {@code " -_./"} removed, lower case. */
    static String normal(String name) {
        return name.strip().replaceAll("[ \\-_./]", "").toLowerCase(Locale.ROOT);
    }

    /** The multi-name index's names of a record: its title and a page group that several records share. */
    static List<String> names(Doc d) {
        return List.of(d.title(), "pg" + d.pages() % 10);
    }

    /** The names of a record the multi-name index keeps: those that do not normalise to nothing. */
    static List<String> indexedNames(Doc d) {
        return names(d).stream().filter(n -> !normal(n).isEmpty()).toList();
    }

    static final class Rec {
        Doc value;
        boolean released;
        boolean mine;

        Rec(Doc value) {
            this.value = value;
        }
    }

    final class Sim {
        final Path dir;
        Cairn db;
        Tree<Doc> docs;
        UniqueNameIndex<Doc> titles;
        MultiNameIndex<Doc> search;
        final TreeMap<Key<Doc>, Rec> model = new TreeMap<>(KEY_ORDER);
        final Map<Integer, Integer> removedMax = new HashMap<>();

        Sim() {
            try {
                dir = Files.createTempDirectory("cairn-index-model");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            open();
            sims.add(this);
        }

        void open() {
            db = Cairn.open(dir, Cairn.Options.defaults().withUser("model"));
            docs = db.tree(Doc.class);
            // The unique index first: its refusal, caught inside a batch, leaves the batch going on.
            titles = docs.register(new UniqueNameIndex<>("Doc.title", Doc::title));
            search = docs.register(new MultiNameIndex<>("Doc.search", IndexModelProperties::names));
        }

        Key<Doc> pick(int slot) {
            if (model.isEmpty()) return docs.key(slot % 3, slot % 2);
            List<Key<Doc>> keys = new ArrayList<>(model.keySet());
            return keys.get(slot % keys.size());
        }

        /** The keys whose title normalises to {@code name}, ascending. */
        List<Key<Doc>> owners(String name) {
            return model.entrySet().stream().filter(e -> normal(e.getValue().value.title()).equals(name))
                .map(Map.Entry::getKey).toList();
        }

        /** Whether the unique index must refuse giving {@code title} to {@code key}: another id holds it. */
        boolean taken(Key<Doc> key, String title) {
            String n = normal(title);
            if (n.isEmpty()) return false;
            List<Key<Doc>> owners = owners(n);
            return !owners.isEmpty() && owners.stream().noneMatch(o -> o.id() == key.id());
        }

        /** Inserts {@code d} as the model predicts: refused when its title is held, else stored. */
        void insert(Doc d) {
            // A new record's id is one no stored record has, so any holder of the name refuses it.
            if (!normal(d.title()).isEmpty() && !owners(normal(d.title())).isEmpty()) {
                DuplicateNameException e = assertThrows(DuplicateNameException.class, () -> docs.insert(d));
                assertEquals(owners(normal(d.title())).getFirst(), e.existing());
            } else {
                Key<Doc> k = docs.insert(d);
                assertFalse(model.containsKey(k), "insert gave the stored key " + k);
                model.put(k, new Rec(d));
            }
        }

        /** Renames {@code k} to {@code v}'s title as the model predicts. */
        void rename(Key<Doc> k, Doc v) {
            Rec r = model.get(k);
            if (r == null) assertThrows(RecordNotFoundException.class, () -> docs.update(k, v));
            else if (r.released) assertThrows(ReleasedRecordException.class, () -> docs.update(k, v));
            else if (!r.mine) assertThrows(NotCheckedOutException.class, () -> docs.update(k, v));
            else if (taken(k, v.title())) {
                DuplicateNameException e = assertThrows(DuplicateNameException.class, () -> docs.update(k, v));
                assertEquals(owners(normal(v.title())).getFirst(), e.existing());
            } else {
                docs.update(k, v);
                r.value = v;
            }
        }

        void check() {
            assertEquals(new ArrayList<>(model.keySet()), docs.keys());
            TreeMap<String, List<Key<Doc>>> byTitle = new TreeMap<>();
            TreeMap<String, List<Key<Doc>>> byName = new TreeMap<>();
            model.forEach((k, r) -> {
                String t = normal(r.value.title());
                if (!t.isEmpty()) byTitle.computeIfAbsent(t, x -> new ArrayList<>()).add(k);
                for (String n : indexedNames(r.value)) {
                    List<Key<Doc>> holders = byName.computeIfAbsent(normal(n), x -> new ArrayList<>());
                    if (!holders.contains(k)) holders.add(k);
                }
            });
            assertEquals(byTitle, titles.entries());
            assertEquals(byTitle.size(), titles.size());
            assertEquals(Map.of(), titles.duplicates(), "local changes never share a name between ids");
            for (String title : TITLES) {
                List<Key<Doc>> owners = byTitle.getOrDefault(normal(title), List.of());
                assertEquals(owners.isEmpty() ? Optional.empty() : Optional.of(owners.getLast()), titles.lookup(title), title);
            }
            assertEquals(byName, search.entries());
            for (String q : QUERIES) assertEquals(expectedHits(q), hits(search.search(q)), "search " + q);
            model.forEach((k, r) -> assertEquals(indexedNames(r.value), search.namesOf(k), "names of " + k));
        }

        /** The search ranking (MultiNameIndex's javadoc) by a scan of the model: key, match, score. */
        List<String> expectedHits(String query) {
            String q = normal(query);
            record Scored(Key<Doc> key, Hit.Match match, double score) { }
            List<Scored> best = new ArrayList<>();
            model.forEach((k, r) -> {
                Scored top = null;
                for (String name : indexedNames(r.value)) {
                    String n = normal(name);
                    Hit.Match m = n.equals(q) ? Hit.Match.EXACT : n.startsWith(q) ? Hit.Match.PREFIX
                        : n.contains(q) ? Hit.Match.SUBSTRING : null;
                    if (m == null) continue;
                    double closeness = (double) q.length() / n.length();
                    double score = m == Hit.Match.EXACT ? 1.0 : m == Hit.Match.PREFIX ? 0.5 + 0.4 * closeness : 0.1 + 0.4 * closeness;
                    if (top == null || top.score() < score) top = new Scored(k, m, score);
                }
                if (top != null) best.add(top);
            });
            best.sort(Comparator.comparingDouble(Scored::score).reversed().thenComparing(Scored::key, KEY_ORDER));
            return best.stream().map(s -> s.key() + " " + s.match() + " " + s.score()).toList();
        }

        static List<String> hits(List<Hit<Doc>> hits) {
            return hits.stream().map(h -> h.key() + " " + h.match() + " " + h.score()).toList();
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

    @Property(tries = 40)
    void indexesMatchTheModel(@ForAll("chains") ActionChain<Sim> chain) {
        chain.withInvariant("indexes", Sim::check).run();
    }

    @Provide
    ActionChainArbitrary<Sim> chains() {
        return ActionChain.<Sim>startWith(Sim::new)
            .withAction(6, step("insert", (s, k, n) -> s.insert(doc(n))))
            .withAction(4, step("rename", (s, k, n) -> s.rename(k, doc(n))))
            .withAction(4, step("check out and rename", (s, k, n) -> {
                if (s.model.containsKey(k)) {
                    s.docs.checkOut(k).join();
                    s.model.get(k).mine = true;
                }
                s.rename(k, doc(n));
            }))
            .withAction(2, step("remove", (s, k, n) -> {
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
            .withAction(3, step("checkOut", (s, k, n) -> {
                Rec r = s.model.get(k);
                if (r == null) assertThrows(RecordNotFoundException.class, () -> s.docs.checkOut(k));
                else {
                    s.docs.checkOut(k).join();
                    r.mine = true;
                }
            }))
            .withAction(3, step("release", (s, k, n) -> {
                Rec r = s.model.get(k);
                if (r != null && !r.released) {
                    s.docs.release(k);
                    r.released = true;
                }
            }))
            .withAction(3, step("release and revise", (s, k, n) -> {
                // A new revision shares its name with the released one; renaming it away and back is allowed.
                Rec r = s.model.get(k);
                if (r == null || s.model.keySet().stream().anyMatch(x -> x.id() == k.id() && x.revision() > k.revision())) return;
                if (!r.released) {
                    s.docs.release(k);
                    r.released = true;
                }
                Key<Doc> next = s.docs.newRevision(k);
                s.model.put(next, new Rec(r.value));
                s.docs.checkOut(next).join();
                s.model.get(next).mine = true;
            }))
            .withAction(3, step("newRevision", (s, k, n) -> {
                // Not checked by the indexes: it copies a released record, which keeps its name.
                Rec r = s.model.get(k);
                boolean newer = s.model.keySet().stream().anyMatch(x -> x.id() == k.id() && x.revision() > k.revision());
                if (r != null && r.released && !newer) {
                    Key<Doc> next = s.docs.newRevision(k);
                    assertEquals(s.docs.key(k.id(), Math.max(k.revision(), s.removedMax.getOrDefault(k.id(), -1)) + 1), next);
                    s.model.put(next, new Rec(r.value));
                }
            }))
            .withAction(1, step("setStateNumber", (s, k, n) -> {
                if (s.model.containsKey(k)) s.docs.setStateNumber(k, n);
            }))
            .withAction(2, step("batch with a refusal caught", (s, k, n) -> s.db.write(() -> {
                // Later changes of the batch see the earlier ones; a refused one stores nothing.
                s.insert(doc(n));
                s.insert(doc(n + 1)); // often the same name as the first: refused, and the batch goes on
                s.insert(doc(n + 3));
            })))
            .withAction(1, step("failing batch", (s, k, n) -> {
                // A batch that throws: nothing of it reaches the indexes.
                IllegalStateException boom = new IllegalStateException("rollback");
                Map<Key<Doc>, Rec> before = new TreeMap<>(s.model);
                IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> s.db.write(() -> {
                    s.insert(doc(n));
                    s.insert(doc(n + 2));
                    throw boom;
                }));
                assertEquals(boom, thrown);
                s.model.clear();
                s.model.putAll(before);
            }))
            .withAction(1, Action.just(Transformer.mutate("reopen", s -> {
                s.close();
                s.open();
            })))
            .withMaxTransformations(60);
    }

    static Doc doc(int n) {
        return new Doc(TITLES.get(Math.floorMod(n, TITLES.size())), n);
    }

    /** A step on the key the slot picks ({@code Sim.pick}) and a number from it. */
    @FunctionalInterface
    interface SlotStep {
        void apply(Sim s, Key<Doc> key, int n);
    }

    private static Action.Independent<Sim> step(String name, SlotStep step) {
        return SlotAction.of(name, (s, slot) -> step.apply(s, s.pick(slot), slot % 100));
    }
}
