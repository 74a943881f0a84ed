package dev.cairn;

import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.index.DuplicateNameException;
import dev.cairn.index.Hit;
import dev.cairn.index.MultiNameIndex;
import dev.cairn.index.UniqueNameIndex;
import dev.cairn.testing.Fixtures.Doc;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Indexes registered on trees: refusal before storing, search ranking, rebuild after reopen. */
class IndexTest {
    @TempDir Path dir;

    static UniqueNameIndex<Part> byName() {
        return new UniqueNameIndex<>("Part.name", Part::name);
    }

    static MultiNameIndex<Part> byTag() {
        return new MultiNameIndex<>(p -> List.of(p.name(), p.manufacturer()));
    }

    @Test
    void duplicateNameIsRefusedWithNothingStored() {
        try (Cairn db = Cairn.open(dir)) {
            Tree<Part> parts = db.tree(Part.class);
            UniqueNameIndex<Part> names = parts.register(byName());
            Key<Part> a = parts.insert(part(1));
            long outboxBefore = parts.size();
            DuplicateNameException e = assertThrows(DuplicateNameException.class,
                () -> parts.insert(part(1).withStock(5)));
            assertTrue(e.getMessage().contains(part(1).name()), e.getMessage());
            assertTrue(e.getMessage().contains(a.toString()), e.getMessage());
            assertEquals(outboxBefore, parts.size());
            assertEquals(a, e.existing());
            assertFalse(e.getMessage().contains("same batch"), e.getMessage());
            // A batch with a duplicate stores none of its records; the refusal says that the
            // record holding the name came earlier in it (its key goes to the next insert).
            DuplicateNameException inBatch = assertThrows(DuplicateNameException.class, () -> parts.insertAll(List.of(part(2), part(3),
                new Part(" part-000002-r10k ", "x", 1, 1, List.of()))));
            assertTrue(inBatch.getMessage().contains("is already used by " + inBatch.existing() + ", written earlier in the same"
                + " batch (it holds the name only if the batch commits)"), inBatch.getMessage());
            assertEquals(1, parts.size());
            assertFalse(parts.keys().contains(inBatch.existing()));
            assertEquals(Optional.empty(), names.lookup(part(2).name()));
            // An update onto an existing name is refused, and the record keeps its data.
            Key<Part> b = parts.insert(part(2));
            parts.checkOut(b).join();
            assertThrows(DuplicateNameException.class, () -> parts.update(b, part(1)));
            assertEquals(part(2), parts.get(b));
            parts.update(b, part(4));
            assertEquals(Optional.of(b), names.lookup("PART 000004 R10K"));
            assertEquals(Optional.empty(), names.lookup(part(2).name()));
            parts.remove(b);
            assertEquals(Optional.empty(), names.lookup(part(4).name()));
        }
    }

    @Test
    void revisionsShareTheirUniqueName() {
        try (Cairn db = Cairn.open(dir)) {
            Tree<Doc> docs = db.tree(Doc.class);
            UniqueNameIndex<Doc> titles = docs.register(new UniqueNameIndex<>("Doc.title", Doc::title));
            Key<Doc> k = docs.insert(new Doc("Manual", 1));
            docs.checkOut(k).join();
            docs.release(k);
            Key<Doc> r1 = docs.newRevision(k);
            assertEquals(Optional.of(r1), titles.lookup("manual"));
            assertThrows(DuplicateNameException.class, () -> docs.insert(new Doc("MANUAL", 2)));
        }
    }

    @Test
    void searchRanksHitsOverTheTree() {
        try (Cairn db = Cairn.open(dir)) {
            Tree<Part> parts = db.tree(Part.class);
            MultiNameIndex<Part> search = parts.register(byTag());
            Key<Part> exact = parts.insert(new Part("R10K", "Vishay", 1, 1, List.of()));
            Key<Part> prefix = parts.insert(new Part("R10K-0603", "Yageo", 1, 1, List.of()));
            Key<Part> inner = parts.insert(new Part("SMD-R10K", "Bourns", 1, 1, List.of()));
            parts.insert(new Part("C100N", "Murata", 1, 1, List.of()));
            List<Hit<Part>> hits = search.search("r10k");
            assertEquals(List.of(exact, prefix, inner), hits.stream().map(Hit::key).toList());
            assertEquals(List.of(Hit.Match.EXACT, Hit.Match.PREFIX, Hit.Match.SUBSTRING),
                hits.stream().map(Hit::match).toList());
            assertEquals(List.of(prefix), search.search("yag").stream().map(Hit::key).toList());
        }
    }

    @Test
    void rebuildAfterReopenEqualsTheIncrementalState() {
        UniqueNameIndex<Part> names;
        MultiNameIndex<Part> tags;
        try (Cairn db = Cairn.open(dir)) {
            Tree<Part> parts = db.tree(Part.class);
            names = parts.register(byName());
            tags = parts.register(byTag());
            for (int i = 0; i < 50; i++) {
                Key<Part> k = parts.insert(part(i));
                if (i % 3 == 0) {
                    parts.checkOut(k).join();
                    parts.update(k, part(i + 1000));
                }
                if (i % 7 == 0) {
                    parts.checkOut(k).join();
                    parts.remove(k);
                }
            }
            db.genericTree("Part").insertJson(db.genericTree("Part").getJson(1, 0)
                .replace(part(1).name(), "FROM-JSON"));
        }
        try (Cairn db = Cairn.open(dir)) {
            Tree<Part> parts = db.tree(Part.class);
            UniqueNameIndex<Part> rebuiltNames = parts.register(byName());
            MultiNameIndex<Part> rebuiltTags = parts.register(byTag());
            assertEquals(names.entries(), rebuiltNames.entries());
            assertEquals(tags.entries(), rebuiltTags.entries());
            assertTrue(rebuiltNames.lookup("from json").isPresent());
        }
    }

    @Test
    void anIndexerFailingAfterTheCommitIsReportedAndTheChangeStays() {
        try (Cairn db = Cairn.open(dir)) {
            Tree<Part> parts = db.tree(Part.class);
            UniqueNameIndex<Part> names = parts.register(byName());
            parts.register(new dev.cairn.index.Indexer<Part>() {
                @Override
                public void commit(List<Change<Part>> changes) {
                    throw new IllegalStateException("indexer broke");
                }

                @Override
                public void rebuild(java.util.SequencedMap<Key<Part>, Part> records) { }
            });
            CairnException e = assertThrows(CairnException.class, () -> parts.insert(part(1)));
            assertTrue(e.getMessage().contains("committed"), e.getMessage());
            assertTrue(e.getMessage().contains("indexer broke"), e.getMessage());
            assertEquals(1, parts.size());
            assertTrue(names.lookup(part(1).name()).isPresent());
        }
    }

    @Test
    void indexesAreRegisteredOutsideBatchesOnly() {
        try (Cairn db = Cairn.open(dir)) {
            Tree<Part> parts = db.tree(Part.class);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> db.write(() -> parts.register(byName())));
            assertTrue(e.getMessage().contains("Part"), e.getMessage());
        }
    }

    /**
     * Records stored before the index was registered may share a name (as sync can make them):
     * registering lists them instead of refusing, which would leave the application without
     * its index at every open.
     */
    @Test
    void registeringAUniqueIndexOverDuplicatesListsThem() {
        try (Cairn db = Cairn.open(dir)) {
            Tree<Part> parts = db.tree(Part.class);
            Key<Part> a = parts.insert(part(1));
            Key<Part> b = parts.insert(part(1));
            UniqueNameIndex<Part> names = parts.register(byName());
            assertEquals(List.of(List.of(a, b)), List.copyOf(names.duplicates().values()));
            assertThrows(DuplicateNameException.class, () -> parts.insert(part(1)));
            parts.checkOut(b).join();
            parts.update(b, part(1).withStock(99));     // keeps its name: not refused
            parts.update(b, part(2));                    // renamed: resolved
            assertEquals(Map.of(), names.duplicates());
            assertEquals(Optional.of(a), names.lookup(part(1).name()));
        }
    }

    /** A refusal caught inside a batch, before the operation changed anything: the rest of the batch commits. */
    @Test
    void aRefusalCaughtInABatchBeforeAnythingChangedLetsTheBatchGoOn() {
        try (Cairn db = Cairn.open(dir)) {
            Tree<Part> parts = db.tree(Part.class);
            UniqueNameIndex<Part> names = parts.register(byName());
            Key<Part> a = parts.insert(part(1));
            List<Key<Part>> c = new java.util.ArrayList<>();
            db.write(() -> {
                assertThrows(DuplicateNameException.class, () -> parts.insert(part(1).withStock(2)));
                c.add(parts.insert(part(3)));
            });
            assertEquals(List.of(a, c.getFirst()), parts.keys());
            assertEquals(Map.of("part000001r10k", List.of(a), "part000003r10k", List.of(c.getFirst())), names.entries());
            // An update too large for a record is refused before any index sees its new name.
            parts.checkOut(a).join();
            Part huge = new Part("HUGE", "x".repeat(17 << 20), 1, 1, List.of());
            db.write(() -> {
                assertThrows(IllegalArgumentException.class, () -> parts.update(a, huge));
                c.add(parts.insert(part(6)));
            });
            assertEquals(part(1), parts.get(a));
            assertEquals(Optional.of(c.getLast()), names.lookup(part(6).name()));
            assertEquals(Optional.empty(), names.lookup("HUGE"));
            assertEquals(Optional.of(a), names.lookup(part(1).name()));
        }
    }

    /**
     * An operation that fails inside a batch after changing part of it (a second index refuses a
     * change the first one noted; insertAll refused at its second record) breaks the batch, even
     * when the application catches the failure: nothing of the batch is stored, no index shows it.
     */
    @Test
    void aFailureAfterPartOfTheOperationBreaksTheBatchEvenWhenCaught() {
        try (Cairn db = Cairn.open(dir)) {
            Tree<Part> parts = db.tree(Part.class);
            UniqueNameIndex<Part> names = parts.register(byName());
            UniqueNameIndex<Part> makers = parts.register(new UniqueNameIndex<>("Part.manufacturer", Part::manufacturer));
            Key<Part> a = parts.insert(part(1));
            Part sameMaker = new Part("OTHER", part(1).manufacturer(), 1, 1, List.of());
            CairnException broken = assertThrows(CairnException.class, () -> db.write(() -> {
                parts.insert(part(2));
                assertThrows(DuplicateNameException.class, () -> parts.insert(sameMaker));
                CairnException later = assertThrows(CairnException.class, () -> parts.insert(part(3)));
                assertTrue(later.getMessage().startsWith("the write batch is rolled back, nothing of it is stored"),
                    later.getMessage());
            }));
            assertInstanceOf(DuplicateNameException.class, broken.getCause());
            assertEquals(List.of(a), parts.keys());
            assertEquals(Optional.empty(), names.lookup("OTHER"), "the first index noted it; the batch took it back");
            assertEquals(Optional.empty(), names.lookup(part(2).name()));
            assertEquals(Map.of("maker1", List.of(a)), makers.entries());

            assertThrows(CairnException.class, () -> db.write(() -> assertThrows(DuplicateNameException.class,
                () -> parts.insertAll(List.of(part(4), part(1).withStock(5))))));
            assertEquals(List.of(a), parts.keys(), "insertAll is all or nothing, also inside a batch");
            assertEquals(Optional.empty(), names.lookup(part(4).name()));

            Key<Part> b = parts.insert(part(5)); // the database goes on
            assertEquals(Optional.of(b), names.lookup(part(5).name()));
        }
    }

    /**
     * Registered again (to rebuild it), an indexer replaces its earlier registration instead of
     * being offered every change twice; one instance on a tree of another database is refused.
     */
    @Test
    void anIndexerRegisteredAgainIsFedOnceAndOneInstanceServesOneTree() {
        List<Integer> commits = new java.util.ArrayList<>();
        dev.cairn.index.Indexer<Part> counting = new dev.cairn.index.Indexer<>() {
            @Override
            public void commit(List<Change<Part>> changes) {
                commits.add(changes.size());
            }

            @Override
            public void rebuild(java.util.SequencedMap<Key<Part>, Part> records) { }

            @Override
            public String toString() {
                return "counting";
            }
        };
        try (Cairn db = Cairn.open(dir.resolve("one")); Cairn other = Cairn.open(dir.resolve("two"))) {
            Tree<Part> parts = db.tree(Part.class);
            parts.register(counting);
            parts.register(counting);
            Key<Part> first = parts.insert(part(1));
            assertEquals(List.of(1), commits);
            // a change of the state alone reaches indexers too, with the value unchanged (as from the server)
            Tree<Doc> docs = db.tree(Doc.class);
            List<dev.cairn.index.Indexer.Change<Doc>> seen = new java.util.ArrayList<>();
            docs.register(new dev.cairn.index.Indexer<Doc>() {
                @Override
                public void commit(List<Change<Doc>> changes) {
                    seen.addAll(changes);
                }

                @Override
                public void rebuild(java.util.SequencedMap<Key<Doc>, Doc> records) { }
            });
            Key<Doc> manual = docs.insert(new Doc("manual", 1));
            docs.setStateNumber(manual, 2);
            docs.release(manual);
            assertEquals(3, seen.size(), seen::toString);
            assertEquals(new Doc("manual", 1), seen.get(2).oldValue());
            assertEquals(new Doc("manual", 1), seen.get(2).newValue());
            assertEquals(first, parts.keys().getFirst());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> other.tree(Part.class).register(counting));
            assertEquals("index counting is registered on " + dir.resolve("one") + " tree Part already (expected: one "
                + "indexer instance per tree; make another for tree Part)", e.getMessage());
            parts.register(byName());
            String longName = "N".repeat(3_000_000);
            parts.insert(new Part(longName, "x", 1, 1, List.of()));
            DuplicateNameException d = assertThrows(DuplicateNameException.class,
                () -> parts.insert(new Part(longName, "y", 1, 1, List.of())));
            assertTrue(d.getMessage().startsWith("name '" + "N".repeat(200) + "…' (3000000 characters) of a new record of Part is already used by Part/"),
                d.getMessage().substring(0, 300));
            assertTrue(d.getMessage().length() < 400, "a long name is cut in the message");
            assertEquals(longName, d.name(), "the exception keeps the whole name");
        }
        try (Cairn db = Cairn.open(dir.resolve("two"))) {
            db.tree(Part.class).register(counting); // the first database closed: free again
        }
    }

    /**
     * A record an index cannot name stays releasable and revisable (a new revision and a change
     * of state copy what is stored, and are not checked); a refusal caught inside a batch uses up
     * no id; an index whose rebuild fails when registered again is not registered any more
     * (helper-33).
     */
    @Test
    void unnameableRecordsStayRevisableRefusalsBurnNoIdAndAFailedReRegistrationUnregisters() {
        try (Cairn db = Cairn.open(dir)) {
            Tree<Doc> docs = db.tree(Doc.class);
            Key<Doc> blank = docs.insert(new Doc("", 1));
            Key<Doc> manual = docs.insert(new Doc("manual", 1));
            docs.release(blank);
            docs.release(manual);
            UniqueNameIndex<Doc> titles = docs.register(new UniqueNameIndex<>("Doc.title", d -> {
                if (d.title().isEmpty()) throw new IllegalArgumentException("no title");
                return d.title();
            }));
            docs.setStateNumber(blank, 3);
            Key<Doc> blank2 = docs.newRevision(blank);
            assertEquals(new Doc("", 1), docs.get(blank2));
            List<Key<Doc>> made = new java.util.ArrayList<>();
            db.write(() -> {
                made.add(docs.newRevision(manual));     // noted, not checked
                assertThrows(IllegalArgumentException.class, () -> docs.insert(new Doc("", 2)));
                assertThrows(DuplicateNameException.class, () -> docs.insert(new Doc("MANUAL", 2)));
                made.add(docs.insert(new Doc("guide", 1))); // checked, in the same batch
            });
            assertEquals(new Key<>("Doc", manual.id(), 1), made.get(0));
            assertEquals(new Key<>("Doc", manual.id() + 1, 0), made.get(1), "the refused inserts used up no id");
            assertEquals(Map.of("manual", List.of(manual, made.get(0)), "guide", List.of(made.get(1))), titles.entries());

            List<String> calls = new java.util.ArrayList<>();
            boolean[] refuse = {false};
            dev.cairn.index.Indexer<Doc> flaky = new dev.cairn.index.Indexer<>() {
                @Override
                public void commit(List<Change<Doc>> changes) {
                    calls.add("commit " + changes.size());
                }

                @Override
                public void rebuild(java.util.SequencedMap<Key<Doc>, Doc> records) {
                    if (refuse[0]) throw new IllegalStateException("rebuild refuses");
                    calls.add("rebuild");
                }
            };
            docs.register(flaky);
            refuse[0] = true;
            assertThrows(IllegalStateException.class, () -> docs.register(flaky));
            docs.insert(new Doc("after", 1));
            assertEquals(List.of("rebuild"), calls, "refused when registered again: not registered any more");
            refuse[0] = false;
            docs.register(flaky);
            docs.insert(new Doc("again", 1));
            assertEquals(List.of("rebuild", "rebuild", "commit 1"), calls);
        }
    }
}
