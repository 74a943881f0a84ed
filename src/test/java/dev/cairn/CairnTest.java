package dev.cairn;

import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.testing.Fixtures.Bom;
import dev.cairn.testing.Fixtures.Doc;
import dev.cairn.testing.Fixtures.EvoV1;
import dev.cairn.testing.Fixtures.EvoV2;
import dev.cairn.testing.Fixtures.Part;
import dev.cairn.testing.Fixtures.PresV1;
import dev.cairn.testing.Fixtures.PresV2;
import dev.cairn.testing.Fixtures.VersionedPart;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** One behaviour test per API method, with its error paths. */
class CairnTest {
    @TempDir Path dir;
    Cairn db;
    Tree<Part> parts;

    static final Cairn.Options OPTIONS = Cairn.Options.defaults().withNodeName("bench-1").withUser("alice");

    @BeforeEach
    void open() {
        db = Cairn.open(dir.resolve("db"), OPTIONS);
        parts = db.tree(Part.class);
    }

    /** Every test's database is closed, then verified page by page through the raw store. */
    @AfterEach
    void close() {
        db.close();
        try (dev.cairn.store.Store store = dev.cairn.store.Store.open(dir.resolve("db"))) {
            dev.cairn.store.VerifyReport report = store.verify();
            assertTrue(report.ok(), report.toString());
        }
    }

    void reopen() {
        db.close();
        db = Cairn.open(dir.resolve("db"), OPTIONS);
        parts = db.tree(Part.class);
    }

    static <T extends Throwable> T assertThrowsNaming(Class<T> type, String named, Executable call) {
        T e = assertThrows(type, call);
        assertNotNull(e.getMessage());
        assertTrue(e.getMessage().contains(named), "message '" + e.getMessage() + "' should name " + named);
        return e;
    }

    Key<Part> insertCheckedOut(Part p) {
        Key<Part> k = parts.insert(p);
        parts.checkOut(k).join();
        return k;
    }

    @Test
    void optionsDefaultsAndWithers() {
        Cairn.Options o = Cairn.Options.defaults();
        assertEquals("default", o.appId());
        assertEquals(System.getProperty("user.name"), o.user());
        assertFalse(o.nodeName().isBlank());
        assertEquals(1000, o.idReserve());
        Cairn.Options w = o.withNodeName("n").withUser("u").withAppId("a").withEventBufferEvents(5).withIdReserve(7);
        assertEquals(List.of("n", "u", "a", 5, 7),
            List.of(w.nodeName(), w.user(), w.appId(), w.eventBufferEvents(), w.idReserve()));
        assertThrows(NullPointerException.class, () -> o.withUser(null));
        assertThrows(IllegalArgumentException.class, () -> o.withEventBufferEvents(0));
        IllegalArgumentException reserve = assertThrows(IllegalArgumentException.class, () -> o.withIdReserve(0));
        assertTrue(reserve.getMessage().contains("idReserve 0"), reserve.getMessage());
        assertThrows(IllegalArgumentException.class, () -> o.withIdReserve(10_000_001));
        // Blank, other nodes saw a holder named "" that no console command could name (probe-66).
        assertTrue(assertThrows(IllegalArgumentException.class, () -> o.withNodeName(" ")).getMessage().startsWith("nodeName is blank"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> o.withAppId("")).getMessage().startsWith("appId is blank"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> dev.cairn.CairnServer.start(dir.resolve("srv"), 0, ""))
            .getMessage().startsWith("appId is blank"));
    }

    @Test
    void nodeIdIsStableAcrossReopen() {
        UUID id = db.nodeId();
        reopen();
        assertEquals(id, db.nodeId());
        assertNotNull(db.directory());
    }

    @Test
    void secondOpenOfTheSameFolderIsRefusedNamingIt() {
        assertThrowsNaming(DatabaseLockedException.class, "db", () -> Cairn.open(dir.resolve("db")));
    }

    @Test
    void treeIsTheSameForTheSameClassAndNamedByClassOrTreeSpec() {
        assertSame(parts, db.tree(Part.class));
        assertEquals("Part", parts.name());
        assertFalse(parts.versioned());
        Tree<Doc> docs = db.tree(Doc.class);
        assertEquals("Doc", docs.name());
        assertTrue(docs.versioned());
        assertEquals(Set.of("Doc", "Part"), db.treeNames());
        reopen();
        assertEquals(Set.of("Doc", "Part"), db.treeNames());
    }

    record Unsupported(String name, Thread worker) { }

    @TreeSpec(name = "bad\u0000name")
    record BadName(String name) { }

    @Test
    void unsupportedComponentTypeAndBadTreeNameAreRefused() {
        // A CairnException, as API.md's errors are (probe-66: it was an IllegalArgumentException).
        assertThrowsNaming(dev.cairn.SchemaMismatchException.class, "worker", () -> db.tree(Unsupported.class));
        assertThrowsNaming(IllegalArgumentException.class, "NUL", () -> db.tree(BadName.class));
        assertEquals(Set.of("Part"), db.treeNames());
    }

    /**
     * A string with an unpaired surrogate has no UTF-8 form: insert, update and JSON insert refuse
     * it naming the field, store nothing and take no id. Before, it was stored as '?'.
     */
    @Test
    void aStringWithAnUnpairedSurrogateIsRefusedAndNothingIsStored() {
        Key<Part> first = parts.insert(part(1));
        assertThrowsNaming(IllegalArgumentException.class, "name: string with an unpaired surrogate \\uD800 at index 4",
            () -> parts.insert(new Part("PART\uD800", "m", 1, 2, java.util.List.of())));
        parts.checkOut(first).join();
        assertThrowsNaming(IllegalArgumentException.class, "tags[0]",
            () -> parts.update(first, new Part("p", "m", 1, 2, java.util.List.of("\uDFFF"))));
        assertThrowsNaming(IllegalArgumentException.class, "Part.name: string with an unpaired surrogate at index 0",
            () -> db.genericTree("Part").insertJson(
                "{\"name\":\"\\ud800\",\"manufacturer\":\"m\",\"stock\":1,\"priceCents\":2,\"tags\":[]}"));
        assertEquals(part(1), parts.get(first), "the refused update changed nothing");
        assertEquals(1, parts.size(), "nothing was stored");
        Key<Part> next = parts.insert(part(2));
        assertEquals(first.id() + 1, next.id(), "the refused inserts took no id");
        assertThrowsNaming(IllegalArgumentException.class, "unpaired surrogate", () -> db.tree(LoneSurrogateName.class));
    }

    @TreeSpec(name = "bad\uD800name")
    record LoneSurrogateName(String name) { }

    @Test
    void genericWritesFollowTheTreeRules() {
        Tree<Doc> docs = db.tree(Doc.class);
        Key<Doc> k = docs.insert(new Doc("spec", 1));
        GenericTree g = db.genericTree("Doc");
        String json = g.getJson(k.id(), 0);
        docs.checkOut(k).join();
        docs.release(k);
        assertThrowsNaming(ReleasedRecordException.class, k.toString(), () -> g.updateJson(k.id(), 0, json));
        assertThrowsNaming(RecordNotFoundException.class, "Doc/9.0", () -> g.updateJson(9, 0, json));
        Key<?> added = g.insertJson(json.replace("spec", "copy"));
        assertEquals(new Doc("copy", 1), docs.get(docs.key(added.id(), 0)));
        assertEquals(new RecordState.Draft(0), docs.meta(docs.key(added.id(), 0)).state());
    }

    /** Before, the members left out were reset to their defaults: {"stock": 7} blanked the name, manufacturer, price and tags. */
    @Test
    void aGenericUpdateChangesOnlyTheMembersItGives() {
        Tree<Part> parts = db.tree(Part.class);
        Key<Part> k = parts.insert(part(3));
        GenericTree g = db.genericTree("Part");
        g.checkOut(k.id(), 0).join();
        g.updateJson(k.id(), 0, "{\"stock\": 7}");
        assertEquals(part(3).withStock(7), parts.get(k));
        g.updateJson(k.id(), 0, g.getJson(k.id(), 0).replace("Maker3", "Maker4"));
        assertEquals(new Part(part(3).name(), "Maker4", 7, part(3).priceCents(), part(3).tags()), parts.get(k));
        assertThrowsNaming(IllegalArgumentException.class, "unknown member \"stok\"", () -> g.updateJson(k.id(), 0, "{\"stok\": 1}"));
        assertEquals(7, parts.get(k).stock(), "a refused update changes nothing");
    }

    /** Before, a bad port failed the future later (with a logged stack trace), and field named the component twice. */
    @Test
    void misuseIsRefusedAtTheCallSayingWhatOnce() {
        assertThrowsNaming(IllegalArgumentException.class, "port 70000 (expected: 1..65535)", () -> db.connect("127.0.0.1", 70000));
        assertThrowsNaming(IllegalArgumentException.class, "port 0 (expected: 1..65535)", () -> db.connect("127.0.0.1", 0));
        // Before, a linked node retried such a Hello for ever, and its connect never completed.
        assertThrowsNaming(IllegalArgumentException.class, "tree name is blank (expected: a name)",
            () -> db.connect("127.0.0.1", 7070, Set.of("Part", " ")));
        assertThrowsNaming(IllegalArgumentException.class, "contains NUL", () -> db.connect("127.0.0.1", 7070, Set.of("a\0b")));
        java.util.Set<String> withNull = new java.util.HashSet<>(java.util.Arrays.asList("Part", null));
        assertThrowsNaming(IllegalArgumentException.class, "tree name is null", () -> db.connect("127.0.0.1", 7070, withNull));
        assertFalse(db.isConnected());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parts.field("nosuch"));
        assertEquals("tree Part: no component 'nosuch' in Part for path 'nosuch' (expected: one of "
            + "[name, manufacturer, stock, priceCents, tags])", e.getMessage());
    }

    @Test
    void versioningFlagThatDiffersFromTheStoredTreeIsRefused() {
        assertThrowsNaming(SchemaMismatchException.class, "Part", () -> db.tree(VersionedPart.class));
    }

    /** The newer class of a drawing: Shape has the permitted record Rect, which {@link OldDraw} lacks. */
    interface NewDraw {
        sealed interface Shape permits Unknown, Rect { }

        @Fallback
        record Unknown(String name, int w) implements Shape { }

        record Rect(String name, int w, double h) implements Shape { }

        @TreeSpec(name = "Drawing")
        record Drawing(String title, Shape shape) { }
    }

    interface OldDraw {
        sealed interface Shape permits Unknown { }

        @Fallback
        record Unknown(String name, int w) implements Shape { }

        @TreeSpec(name = "Drawing")
        record Drawing(String title, Shape shape) { }
    }

    /**
     * Older code changing a variant it reads through its @Fallback record is refused, and the
     * refused update stores nothing; before, it replaced the Rect by Unknown(r, 6).
     */
    @Test
    void anUpdateThatWouldLoseTheNewerVariantIsRefusedAndStoresNothing() {
        Key<NewDraw.Drawing> k = db.tree(NewDraw.Drawing.class).insert(new NewDraw.Drawing("d", new NewDraw.Rect("r", 5, 9.5)));
        String json = db.genericTree("Drawing").getJson(k.id(), 0);
        reopen();
        Tree<OldDraw.Drawing> old = db.tree(OldDraw.Drawing.class);
        Key<OldDraw.Drawing> ok = old.key(k.id(), 0);
        old.checkOut(ok).join();
        OldDraw.Drawing seen = old.get(ok);
        assertEquals(new OldDraw.Unknown("r", 5), seen.shape());
        assertThrowsNaming(SchemaMismatchException.class, "Drawing.shape: the stored Rect reads as this class's @Fallback Unknown",
            () -> old.update(ok, new OldDraw.Drawing("d", new OldDraw.Unknown("r", 6))));
        assertEquals(json, db.genericTree("Drawing").getJson(k.id(), 0), "the refused update stored nothing");
        old.update(ok, new OldDraw.Drawing("d2", seen.shape()));
        assertEquals(json.replace("\"d\"", "\"d2\""), db.genericTree("Drawing").getJson(k.id(), 0), "the Rect kept");
    }

    @Test
    void incompatibleSchemaChangeIsRefusedNamingTheTree() {
        db.tree(EvoV1.class).insert(new EvoV1("12"));
        assertThrowsNaming(SchemaMismatchException.class, "Evo", () -> db.tree(EvoV2.class));
        reopen();
        assertThrowsNaming(SchemaMismatchException.class, "Evo", () -> db.tree(EvoV2.class));
        assertEquals(1, db.tree(EvoV1.class).size());
    }

    @Test
    void migrationRewritesEveryRecordWithProgressAndBumpsIterations() {
        Tree<EvoV1> v1 = db.tree(EvoV1.class);
        List<Key<EvoV1>> old = new ArrayList<>();
        for (int i = 0; i < 5; i++) old.add(v1.insert(new EvoV1(Integer.toString(i * 10))));
        reopen();
        List<long[]> progress = new ArrayList<>();
        Pattern size = Pattern.compile("\"size\"\\s*:\\s*\"(\\d+)\"");
        Tree<EvoV2> v2 = db.tree(EvoV2.class, new Migration<>() {
            @Override
            public EvoV2 migrate(Key<EvoV2> key, String oldJson) {
                Matcher m = size.matcher(oldJson);
                assertTrue(m.find(), oldJson);
                return new EvoV2(Integer.parseInt(m.group(1)));
            }

            @Override
            public void progress(long done, long total) {
                progress.add(new long[] {done, total});
            }
        });
        assertEquals(6, progress.size());
        assertEquals(5, progress.getLast()[0]);
        for (int i = 0; i < 5; i++) {
            Key<EvoV2> k = v2.key(old.get(i).id(), 0);
            assertEquals(new EvoV2(i * 10), v2.get(k));
            assertEquals(1, v2.meta(k).dataIteration());
            assertEquals(2, v2.meta(k).schemaVersion());
        }
        reopen();
        assertEquals(new EvoV2(40), db.tree(EvoV2.class).get(v2.key(old.get(4).id(), 0)));
        // Version 1 holds no data any more: a change compatible with version 2 needs no migration.
        Tree<dev.cairn.testing.Fixtures.EvoV3> v3 = db.tree(dev.cairn.testing.Fixtures.EvoV3.class);
        assertEquals(new dev.cairn.testing.Fixtures.EvoV3(40, ""), v3.get(v3.key(old.get(4).id(), 0)));
        assertEquals(2, v3.meta(v3.key(old.get(4).id(), 0)).schemaVersion());
    }

    /**
     * A version that a migration emptied may lie above dataFromVersion (versions are numbered as
     * they come: on a linked node in the order records arrive). The plain class opens once no
     * record of a version it cannot read is left; it was refused before.
     */
    @Test
    void aClassOpensPlainOnceNoRecordOfAVersionItCannotReadIsLeft() {
        Tree<EvoV2> first = db.tree(EvoV2.class);                     // version 1
        Key<EvoV2> k = first.insert(new EvoV2(7));
        reopen();
        Tree<EvoV1> back = db.tree(EvoV1.class, (key, json) -> new EvoV1("x" + key.id())); // version 2, all records
        assertEquals(2, back.meta(new Key<>("Evo", k.id(), 0)).schemaVersion());
        reopen();
        int[] calls = {0};
        Tree<EvoV2> again = db.tree(EvoV2.class, (key, json) -> {
            calls[0]++;
            return new EvoV2(json.length());
        });
        assertEquals(1, calls[0]);
        assertEquals(1, again.meta(k).schemaVersion());
        reopen();
        Tree<EvoV2> plain = db.tree(EvoV2.class);                     // version 2 holds no record now
        assertEquals(1, plain.meta(k).schemaVersion());
        assertTrue(plain.get(k).size() > 0);
    }

    /**
     * A class of a version below dataFromVersion may open (its version holds no record), but what
     * it writes lowers dataFromVersion, so that a class that cannot read it is refused at open.
     */
    @Test
    void anOlderClassThatOpensAgainLowersDataFromSoItsRecordsAreChecked() {
        db.tree(EvoV1.class);                                          // version 1, no records
        db.tree(EvoV2.class, (key, json) -> new EvoV2(0));            // version 2, dataFromVersion 2
        reopen();
        Key<EvoV1> k = db.tree(EvoV1.class).insert(new EvoV1("3"));   // a version 1 record again
        reopen();
        assertThrowsNaming(SchemaMismatchException.class, "version 1", () -> db.tree(EvoV2.class));
        assertThrowsNaming(SchemaMismatchException.class, "version 1", () -> db.tree(dev.cairn.testing.Fixtures.EvoV3.class));
        Tree<EvoV2> v2 = db.tree(EvoV2.class, (key, json) -> new EvoV2(json.contains("\"3\"") ? 3 : -1));
        assertEquals(new EvoV2(3), v2.get(v2.key(k.id(), 0)));
    }

    /**
     * An older class meeting records a newer class migrated and wrote, in a database that never
     * linked: the refusal says where they came from. Before, it said "records of an older version
     * arrive from the server", on a database without one.
     */
    @Test
    void anOlderClassMeetingNewerRecordsOfANeverLinkedDatabaseIsToldWhy() {
        db.tree(EvoV1.class).insert(new EvoV1("3"));                   // version 1
        reopen();
        Tree<EvoV2> v2 = db.tree(EvoV2.class, (key, json) -> new EvoV2(3)); // version 2, migrated
        v2.insert(new EvoV2(4));
        reopen();
        SchemaMismatchException e = assertThrowsNaming(SchemaMismatchException.class, "version 2",
            () -> db.tree(EvoV1.class));
        assertFalse(e.getMessage().contains("server while"), e.getMessage());
        assertTrue(e.getMessage().contains("written in this database by a class of the tree opened after this one")
            && e.getMessage().contains("never linked"), e.getMessage());
    }

    @Test
    void aFailingMigrationLeavesTheTreeAsItWasAndCanRunAgain() {
        Tree<EvoV1> v1 = db.tree(EvoV1.class);
        for (int i = 0; i < 5; i++) v1.insert(new EvoV1(Integer.toString(i)));
        reopen();
        int[] calls = {0};
        // Named as a failed migration (tree, record, version), its own exception the cause.
        SchemaMismatchException crash = assertThrows(SchemaMismatchException.class, () -> db.tree(EvoV2.class,
            (key, json) -> {
                if (++calls[0] == 3) throw new IllegalStateException("simulated crash at " + key);
                return new EvoV2(1);
            }));
        assertTrue(crash.getMessage().contains(": the migration failed on record ") && crash.getMessage().contains("simulated crash"),
            crash.getMessage());
        assertInstanceOf(IllegalStateException.class, crash.getCause());
        reopen();
        Tree<EvoV1> again = db.tree(EvoV1.class);
        assertEquals(5, again.size());
        assertEquals(new EvoV1("2"), again.get(again.key(2, 0)));
        assertEquals(1, again.meta(again.key(2, 0)).schemaVersion());
        assertEquals(0, again.meta(again.key(2, 0)).dataIteration());
        Tree<EvoV2> v2 = db.tree(EvoV2.class, (key, json) -> new EvoV2(key.id() * 2));
        assertEquals(new EvoV2(4), v2.get(v2.key(2, 0)));
    }

    @Test
    void insertGetFindContainsSizeAndKeys() {
        Key<Part> a = parts.insert(part(1));
        Key<Part> b = parts.insert(part(2));
        assertEquals(new Key<Part>("Part", a.id() + 1, 0), b);
        assertEquals(0, a.revision());
        assertEquals(part(1), parts.get(a));
        assertEquals(Optional.of(part(2)), parts.find(b));
        assertTrue(parts.contains(a));
        assertEquals(2, parts.size());
        assertEquals(List.of(a, b), parts.keys());
        Key<Part> missing = parts.key(999, 0);
        assertEquals(Optional.empty(), parts.find(missing));
        assertFalse(parts.contains(missing));
        assertThrowsNaming(RecordNotFoundException.class, "Part/999.0", () -> parts.get(missing));
        assertThrows(NullPointerException.class, () -> parts.insert(null));
    }

    @Test
    void insertAllIsOneTransactionInOrder() {
        List<Key<Part>> keys = parts.insertAll(List.of(part(1), part(2), part(3)));
        assertEquals(3, keys.size());
        assertEquals(part(3), parts.get(keys.get(2)));
    }

    @Test
    void aFailingWriteBatchStoresNothing() {
        RuntimeException boom = new RuntimeException("boom");
        assertSame(boom, assertThrows(RuntimeException.class, () -> db.write(() -> {
            parts.insert(part(1));
            parts.insert(part(2));
            throw boom;
        })));
        assertEquals(0, parts.size());
        Key<Part> k = parts.insert(part(3));
        assertEquals(part(3), parts.get(k));
    }

    @Test
    void idsAreNeverReusedAfterRemoveAndReopen() {
        Key<Part> a = insertCheckedOut(part(1));
        parts.remove(a);
        reopen();
        Key<Part> b = parts.insert(part(2));
        assertTrue(b.id() > a.id(), b + " after " + a);
    }

    @Test
    void keyOfAnotherTreeIsRefusedAtRunTime() {
        Tree<Doc> docs = db.tree(Doc.class);
        Key<Doc> d = docs.insert(new Doc("manual", 3));
        @SuppressWarnings({"unchecked", "rawtypes"})
        Key<Part> wrong = (Key) d;
        for (Executable call : List.<Executable>of(() -> parts.get(wrong), () -> parts.find(wrong),
            () -> parts.contains(wrong), () -> parts.update(wrong, part(1)), () -> parts.remove(wrong),
            () -> parts.meta(wrong), () -> parts.read(wrong, v -> 1), () -> parts.checkOut(wrong),
            () -> parts.checkIn(wrong), () -> parts.borrowState(wrong), () -> parts.release(wrong),
            () -> parts.newRevision(wrong), () -> parts.setStateNumber(wrong, 1))) {
            WrongTreeException e = assertThrowsNaming(WrongTreeException.class, "Doc/", call);
            assertTrue(e.getMessage().contains("Part"), e.getMessage());
        }
    }

    @Test
    void updateNeedsACheckOutAndKeepsIterations() {
        Key<Part> k = parts.insert(part(1));
        assertThrowsNaming(NotCheckedOutException.class, k.toString(), () -> parts.update(k, part(2)));
        assertThrowsNaming(NotCheckedOutException.class, k.toString(), () -> parts.remove(k));
        parts.checkOut(k).join();
        parts.update(k, part(2));
        assertEquals(part(2), parts.get(k));
        RecordMeta m = parts.meta(k);
        assertEquals(1, m.dataIteration());
        assertEquals(1, m.metaIteration());
        Key<Part> missing = parts.key(4242, 0);
        assertThrowsNaming(RecordNotFoundException.class, "Part/4242.0", () -> parts.update(missing, part(1)));
        assertThrowsNaming(RecordNotFoundException.class, "Part/4242.0", () -> parts.remove(missing));
    }

    @Test
    void removeDeletesTheRecordAndItsCheckOut() {
        Key<Part> k = insertCheckedOut(part(1));
        parts.remove(k);
        assertFalse(parts.contains(k));
        assertEquals(new BorrowState.Free(), parts.borrowState(k));
        assertThrowsNaming(RecordNotFoundException.class, k.toString(), () -> parts.meta(k));
    }

    @Test
    void metaRecordsWhoWhereWhenAndWhichSchema() {
        long before = System.currentTimeMillis();
        Key<Part> k = parts.insert(part(1));
        RecordMeta m = parts.meta(k);
        assertEquals(new RecordState.NonVersioned(), m.state());
        assertEquals("alice", m.modifiedBy());
        assertEquals(db.nodeId(), m.modifiedOn());
        assertTrue(m.created().toEpochMilli() >= before);
        assertEquals(m.created(), m.modified());
        assertEquals(0, m.metaIteration());
        assertEquals(0, m.dataIteration());
        assertEquals(1, m.schemaVersion());
    }

    @Test
    void unknownComponentsSurviveAnUpdateByOlderCode() {
        Tree<PresV1> v1 = db.tree(PresV1.class);
        Tree<PresV2> v2 = db.tree(PresV2.class);
        Key<PresV2> k = v2.insert(new PresV2("a", 7));
        Key<PresV1> k1 = v1.key(k.id(), k.revision());
        v1.checkOut(k1).join();
        v1.update(k1, new PresV1("changed"));
        assertEquals(new PresV2("changed", 7), v2.get(k));
        assertEquals(new PresV1("changed"), v1.get(k1));
    }

    @Test
    void fieldAndReadGoStraightToTheStoredBytes() {
        Key<Part> k = parts.insert(part(5));
        FieldHandle stock = parts.field("stock");
        FieldHandle name = parts.field("name");
        FieldHandle price = parts.field("priceCents");
        assertEquals("Part", stock.tree());
        assertEquals("stock", stock.path());
        assertEquals(35, (int) parts.read(k, v -> v.getInt(stock)));
        assertEquals(500L, (long) parts.read(k, v -> v.getLong(price)));
        assertEquals(part(5).name(), parts.read(k, v -> v.getString(name)));
        assertTrue((boolean) parts.read(k, v -> v.stringEquals(name, part(5).name())));
        assertFalse((boolean) parts.read(k, v -> v.stringEquals(name, "other")));
        assertThrowsNaming(IllegalArgumentException.class, "nosuch", () -> parts.field("nosuch"));
        assertThrowsNaming(IllegalArgumentException.class, "Part", () -> parts.field("nosuch"));
        RecordView kept = parts.read(k, v -> v);
        assertThrowsNaming(IllegalStateException.class, "Part", () -> kept.getInt(stock));
        FieldHandle pages = db.tree(Doc.class).field("pages");
        assertThrowsNaming(IllegalArgumentException.class, "Part", () -> parts.read(k, v -> v.getInt(pages)));
        assertThrowsNaming(RecordNotFoundException.class, "Part/77.0", () -> parts.read(parts.key(77, 0), v -> 1));
    }

    @Test
    void scanAndForEachVisitEveryRecordInKeyOrder() {
        List<Key<Part>> keys = parts.insertAll(List.of(part(1), part(2), part(3)));
        FieldHandle stock = parts.field("stock");
        List<Integer> stocks = new ArrayList<>();
        List<Key<Part>> seen = new ArrayList<>();
        parts.scan((k, v) -> { seen.add(k); stocks.add(v.getInt(stock)); });
        assertEquals(keys, seen);
        assertEquals(List.of(7, 14, 21), stocks);
        List<Part> values = new ArrayList<>();
        parts.forEach((k, v) -> values.add(v));
        assertEquals(List.of(part(1), part(2), part(3)), values);
    }

    @Test
    void versioningOperationsOnAnUnversionedTreeAreRefused() {
        Key<Part> k = insertCheckedOut(part(1));
        assertThrowsNaming(IllegalStateException.class, "Part", () -> parts.release(k));
        assertThrowsNaming(IllegalStateException.class, "Part", () -> parts.newRevision(k));
        assertThrowsNaming(IllegalStateException.class, "Part", () -> parts.setStateNumber(k, 1));
    }

    @Test
    void releaseFreezesDataAndNewRevisionCopiesIt() {
        Tree<Doc> docs = db.tree(Doc.class);
        Key<Doc> k = docs.insert(new Doc("spec", 10));
        assertEquals(new RecordState.Draft(0), docs.meta(k).state());
        docs.checkOut(k).join();
        docs.setStateNumber(k, 4);
        assertEquals(new RecordState.Draft(4), docs.meta(k).state());
        assertThrowsNaming(IllegalStateException.class, k.toString(), () -> docs.newRevision(k));
        docs.release(k);
        RecordMeta m = docs.meta(k);
        assertEquals(new RecordState.Released(4), m.state());
        assertEquals(2, m.metaIteration());
        assertEquals(0, m.dataIteration());
        assertThrowsNaming(IllegalStateException.class, k.toString(), () -> docs.release(k));
        assertThrowsNaming(ReleasedRecordException.class, k.toString(), () -> docs.update(k, new Doc("x", 1)));
        assertThrowsNaming(ReleasedRecordException.class, k.toString(), () -> docs.remove(k));
        docs.setStateNumber(k, 9);
        assertEquals(new RecordState.Released(9), docs.meta(k).state());
        Key<Doc> r1 = docs.newRevision(k);
        assertEquals(new Key<Doc>("Doc", k.id(), 1), r1);
        assertEquals(new Doc("spec", 10), docs.get(r1));
        assertEquals(new RecordState.Draft(0), docs.meta(r1).state());
        assertEquals(0, docs.meta(r1).metaIteration());
        assertThrowsNaming(IllegalStateException.class, "Doc/" + k.id() + ".1", () -> docs.newRevision(k));
        assertEquals(List.of(k, r1), docs.keys());
    }

    @Test
    void stateChangesNeedNoCheckOutButDataChangesDo() {
        Tree<Doc> docs = db.tree(Doc.class);
        Key<Doc> k = docs.insert(new Doc("spec", 10));
        docs.setStateNumber(k, 1);
        docs.release(k);
        Key<Doc> r1 = docs.newRevision(k);
        assertEquals(new BorrowState.Free(), docs.borrowState(r1));
        assertThrowsNaming(NotCheckedOutException.class, r1.toString(), () -> docs.update(r1, new Doc("x", 1)));
        assertThrowsNaming(NotCheckedOutException.class, r1.toString(), () -> docs.remove(r1));
        Key<Doc> missing = docs.key(50, 0);
        assertThrowsNaming(RecordNotFoundException.class, "Doc/50.0", () -> docs.release(missing));
        assertThrowsNaming(RecordNotFoundException.class, "Doc/50.0", () -> docs.setStateNumber(missing, 2));
        assertThrowsNaming(RecordNotFoundException.class, "Doc/50.0", () -> docs.newRevision(missing));
    }

    @Test
    void checkOutIsGrantedAtOnceAndSurvivesReopen() throws Exception {
        Key<Part> k = parts.insert(part(1));
        assertEquals(new BorrowState.Free(), parts.borrowState(k));
        assertTrue(parts.checkOut(k).isDone());
        parts.checkOut(k).get();
        assertEquals(new BorrowState.Mine(), parts.borrowState(k));
        reopen();
        assertEquals(new BorrowState.Mine(), parts.borrowState(k));
        parts.update(k, part(9));
        parts.checkIn(k);
        parts.checkIn(k);
        assertEquals(new BorrowState.Free(), parts.borrowState(k));
        assertThrowsNaming(RecordNotFoundException.class, "Part/88.0", () -> parts.checkOut(parts.key(88, 0)));
    }

    @Test
    void genericTreeOfAnUnknownNameIsRefused() {
        assertThrowsNaming(IllegalArgumentException.class, "Nope", () -> db.genericTree("Nope"));
    }

    @Test
    void connectToNoServerFailsClearlyAndStaysStandalone() throws java.io.IOException {
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        int p = port;
        ExecutionException e = assertThrows(ExecutionException.class, () -> db.connect("127.0.0.1", p).get());
        assertInstanceOf(CairnException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("127.0.0.1:" + port), e.getCause().getMessage());
        Key<Part> k = parts.insert(part(1));
        assertEquals(0, k.id(), "still allocating its own ids");
        assertFalse(db.isConnected());
        db.disconnect();
    }

    @Test
    void closeIsIdempotentAndEveryLaterCallButTheLinkStatusFailsClearly() {
        Key<Part> k = parts.insert(part(1));
        GenericTree g = db.genericTree("Part");
        db.close();
        db.close();
        for (Executable call : List.<Executable>of(() -> parts.get(k), () -> parts.insert(part(2)),
            () -> parts.keys(), () -> parts.size(), () -> parts.checkOut(k), () -> parts.field("stock"),
            () -> db.tree(Part.class), () -> db.treeNames(), () -> db.nodeId(), () -> db.genericTree("Part"),
            () -> db.events(), () -> db.subscribe(e -> { }), () -> g.keys(),
            () -> g.getJson(k.id(), 0), () -> db.write(() -> { }))) {
            assertThrowsNaming(IllegalStateException.class, "closed", call);
        }
        // A status poll, or a listener that closed the database: answers, as a second close does nothing.
        assertFalse(db.isConnected());
        db.disconnect();
        db = Cairn.open(dir.resolve("db"), OPTIONS);
        assertEquals(part(1), db.tree(Part.class).get(k));
    }

    @Test
    void existingTreesOpenInsideABatchNewOnesOnlyOutside() throws Exception {
        assertThrowsNaming(IllegalStateException.class, "Doc", () -> db.write(() -> db.tree(Doc.class)));
        db.tree(Doc.class);
        reopen();
        db.write(() -> {
            Tree<Doc> docs = db.tree(Doc.class);
            docs.insert(new Doc("in batch", 1));
        });
        Cairn shared = db;
        Thread other = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < 50; i++) shared.tree(PresV1.class).size();
        });
        shared.write(() -> {
            for (int i = 0; i < 50; i++) shared.tree(Doc.class).insert(new Doc("racing", i));
        });
        other.join(30_000);
        assertFalse(other.isAlive());
        assertEquals(51, db.tree(Doc.class).size());
        assertSame(db.tree(PresV1.class), db.tree(PresV1.class));
    }

    @Test
    void closeInsideAWriteBatchIsRefused() {
        assertThrowsNaming(IllegalStateException.class, "inside a write batch", () -> db.write(db::close));
        assertEquals(Set.of("Part"), db.treeNames());
    }

    @Test
    void folderIsCreatedIfAbsent() {
        Path nested = dir.resolve("a/b/c");
        try (Cairn other = Cairn.open(nested)) {
            assertTrue(Files.isDirectory(nested));
            assertEquals(Set.of(), other.treeNames());
        }
    }

    /**
     * Inside a write batch a visitor sees the batch's own pages; changing the tree it walks would
     * make it meet its own inserts without end (probe 35) and move bytes under a RecordView. The
     * change is refused before it changes anything, the batch goes on, and other trees may change.
     */
    @Test
    void aVisitorInsideABatchMayNotChangeTheTreeItWalks() {
        for (int i = 0; i < 3; i++) insertCheckedOut(new Part("P" + i, "M", i, i, List.of()));
        Tree<Bom> boms = db.tree(Bom.class);
        int[] visits = {0};
        db.write(() -> {
            parts.forEach((k, p) -> {
                visits[0]++;
                assertThrowsNaming(java.util.ConcurrentModificationException.class, "tree Part",
                    () -> parts.insert(new Part(p.name() + "-copy", "M", 0, 0, List.of())));
                assertThrows(java.util.ConcurrentModificationException.class, () -> parts.update(k, p));
                assertThrows(java.util.ConcurrentModificationException.class, () -> parts.remove(k));
                boms.insert(new Bom("A-" + p.name(), k, 1)); // another tree: fine
            });
            parts.scan((k, v) -> assertThrows(java.util.ConcurrentModificationException.class, () -> parts.remove(k)));
            Key<Part> first = parts.keys().getFirst();
            parts.read(first, v -> assertThrows(java.util.ConcurrentModificationException.class,
                () -> parts.update(first, new Part("x", "M", 0, 0, List.of()))));
            parts.insert(new Part("after", "M", 9, 9, List.of())); // once the visit returned
        });
        assertEquals(3, visits[0]);
        assertEquals(4, parts.size());
        assertEquals(3, boms.size());
        // Outside a batch each change is its own transaction and the walk keeps its snapshot.
        visits[0] = 0;
        parts.forEach((k, p) -> {
            visits[0]++;
            parts.insert(new Part(p.name() + "-copy", "M", 0, 0, List.of()));
        });
        assertEquals(4, visits[0]);
        assertEquals(8, parts.size());
    }

    /** close from a visitor would wait for its own read, then pull the pages from under it (probe 35). */
    @Test
    void closeInsideAReadCallbackIsRefusedAndTheDatabaseStaysUsable() {
        Key<Part> k = parts.insert(new Part("P", "M", 1, 1, List.of()));
        int[] visits = {0};
        parts.forEach((key, p) -> {
            visits[0]++;
            assertThrowsNaming(IllegalStateException.class, "inside a forEach, scan or read callback", db::close);
        });
        parts.scan((key, v) -> assertThrows(IllegalStateException.class, db::close));
        assertEquals(1, (int) parts.read(k, v -> {
            assertThrows(IllegalStateException.class, db::close);
            return v.getInt(parts.field("stock"));
        }));
        assertEquals(1, visits[0]);
        assertEquals(new Part("P", "M", 1, 1, List.of()), parts.get(k)); // still open
    }
}
