package dev.cairn.tools;

import static dev.cairn.tools.MainTest.cairn;
import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Cairn;
import dev.cairn.CairnServer;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.TreeSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Export and import keep a system's Key references: into a never-linked database records keep
 * their ids and revisions (holes of removed records included); a linked one renumbers with a
 * warning, or with --keep-ids refuses and imports nothing.
 */
class ImportKeepsIdsTest {
    @TreeSpec(name = "Part", versioned = true)
    record Part(String number, int stock) { }

    @TreeSpec(name = "Bom")
    record Bom(String board, Key<Part> part, int qty) { }

    @TempDir
    Path dir;

    /** Parts 0..4 with 1 removed and 2 in a second revision; Bom lines refer to 0, 2.1, 3 and 4. */
    private Path source() {
        Path src = dir.resolve("src");
        try (Cairn db = Cairn.open(src)) {
            Tree<Part> parts = db.tree(Part.class);
            Tree<Bom> boms = db.tree(Bom.class);
            List<Key<Part>> k = new java.util.ArrayList<>();
            for (String n : List.of("R-10K", "C-100N", "U-MCU", "D-LED", "Q-NPN")) k.add(parts.insert(new Part(n, 10)));
            parts.checkOut(k.get(1)).join();
            parts.remove(k.get(1));
            parts.setStateNumber(k.get(2), 3);
            parts.release(k.get(2));
            parts.setStateNumber(k.get(3), 4);
            Key<Part> mcu2 = parts.newRevision(k.get(2));
            parts.checkOut(mcu2).join();
            parts.update(mcu2, new Part("U-MCU", 7));
            for (Key<Part> p : List.of(k.get(0), mcu2, k.get(3), k.get(4))) boms.insert(new Bom("BOARD-A", p, p.id() + 1));
        }
        return src;
    }

    private Path exported(Path db, String tree, String format) throws IOException {
        MainTest.Result r = cairn("export", db.toString(), tree, "--format", format);
        assertEquals(0, r.code(), r.err());
        return Files.writeString(dir.resolve(tree + "." + format), r.out());
    }

    private static Path emptyTrees(Path folder) {
        try (Cairn db = Cairn.open(folder)) {
            db.tree(Part.class);
            db.tree(Bom.class);
        }
        return folder;
    }

    /** Every Bom line with the part it names, by value: what references mean to a user. */
    private static Map<Key<Bom>, String> resolved(Path folder) {
        try (Cairn db = Cairn.open(folder)) {
            Tree<Part> parts = db.tree(Part.class);
            Map<Key<Bom>, String> out = new java.util.HashMap<>();
            db.tree(Bom.class).forEach((k, b) -> out.put(k, b + " -> " + parts.find(b.part()).map(Part::toString).orElse("none")));
            return out;
        }
    }

    @Test
    void standaloneImportKeepsIdsRevisionsAndReferences() throws IOException {
        Path src = source();
        Path parts = exported(src, "Part", "jsonl");
        Path boms = exported(src, "Bom", "sql");
        Path dst = emptyTrees(dir.resolve("dst"));
        for (Path f : List.of(parts, boms)) {
            MainTest.Result r = cairn("import", dst.toString(), f.getFileName().toString().split("\\.")[0], f.toString(),
                "--keep-ids");
            assertEquals(0, r.code(), r.out() + r.err());
            assertEquals("", r.err(), "no warning when ids are kept");
        }
        Map<Key<Bom>, String> before = resolved(src);
        assertFalse(before.values().stream().anyMatch(s -> s.endsWith("none")), before.toString());
        assertEquals(before, resolved(dst));
        try (Cairn a = Cairn.open(src); Cairn b = Cairn.open(dst)) {
            Tree<Part> pa = a.tree(Part.class);
            Tree<Part> pb = b.tree(Part.class);
            assertEquals(pa.keys(), pb.keys());
            // JSON lines carry each record's state: Released(3) stays released (its data frozen), Draft(4) keeps its number
            Map<Key<Part>, dev.cairn.RecordState> states = new java.util.TreeMap<>(java.util.Comparator.comparing(Key::toString));
            pa.keys().forEach(k -> states.put(k, pa.meta(k).state()));
            assertTrue(states.containsValue(new dev.cairn.RecordState.Released(3)) && states.containsValue(new dev.cairn.RecordState.Draft(4)),
                states.toString());
            pb.keys().forEach(k -> assertEquals(states.get(k), pb.meta(k).state(), k.toString()));
        }
        // the imported ids (and the hole of removed part 1) are never handed out again, also after a reopen
        try (Cairn db = Cairn.open(dst)) {
            assertEquals(5, db.tree(Part.class).insert(new Part("NEW", 1)).id());
        }
        try (Cairn db = Cairn.open(dst)) {
            assertEquals(6, db.tree(Part.class).insert(new Part("NEWER", 1)).id());
        }
        assertEquals(0, cairn("verify", dst.toString()).code());
    }

    @Test
    void aSecondImportOfTheSameIdsGetsNewOnesOrIsRefused() throws IOException {
        Path parts = exported(source(), "Part", "jsonl");
        Path dst = emptyTrees(dir.resolve("dst"));
        assertEquals(0, cairn("import", dst.toString(), "Part", parts.toString()).code());
        MainTest.Result keep = cairn("import", dst.toString(), "Part", parts.toString(), "--append", "--keep-ids");
        assertEquals(1, keep.code(), keep.out() + keep.err());
        assertTrue(keep.err().contains("id 0 was handed out in tree Part already") && keep.err().contains("nothing imported"),
            keep.err());
        try (Cairn db = Cairn.open(dst)) {
            assertEquals(5, db.tree(Part.class).size());
        }
    }

    @Test
    void linkedImportRenumbersWithAWarningAndKeepIdsRefuses() throws IOException {
        Path src = source();
        Path node = dir.resolve("node");
        try (CairnServer server = CairnServer.start(dir.resolve("server"), 0, "app");
             Cairn db = Cairn.open(node, Cairn.Options.defaults().withAppId("app"))) {
            db.tree(Part.class);
            db.tree(Bom.class);
            db.connect("127.0.0.1", server.port()).join();
        }
        for (String format : List.of("jsonl", "sql")) {
            Path parts = exported(src, "Part", format);
            MainTest.Result refused = cairn("import", node.toString(), "Part", parts.toString(), "--keep-ids");
            assertEquals(1, refused.code(), refused.out() + refused.err());
            assertTrue(refused.err().contains("the database is linked to a server") && refused.err().contains("nothing imported"),
                refused.err());
            try (Cairn db = Cairn.open(node, Cairn.Options.defaults().withAppId("app"))) {
                assertEquals(0, db.tree(Part.class).size(), format + ": imported although refused");
            }
        }
        // two revisions of id 2 cannot become two new records: keep the newest of each id
        Path newest = Files.writeString(dir.resolve("newest.jsonl"), Files.readString(exported(src, "Part", "jsonl")).lines()
            .filter(l -> !l.startsWith("{\"key\":\"Part/2.0\"")).map(l -> l + "\n").reduce("", String::concat));
        MainTest.Result renumbered = cairn("import", node.toString(), "Part", newest.toString(), "--no-end-check");
        assertEquals(0, renumbered.code(), renumbered.out() + renumbered.err());
        // rows 0, 2.1, 3, 4 became 0.0, 1.0, 2.0, 3.0: three records changed id
        assertTrue(renumbered.err().contains("warning: 3 records of " + newest + " got new ids in tree Part")
            && renumbered.err().contains("NOT renumbered") && renumbered.err().contains("--keep-ids"), renumbered.err());
        assertTrue(renumbered.out().contains("imported 4 records into Part"), renumbered.out());
    }

    private MainTest.Result importText(Path folder, String tree, String name, String text, String... options)
            throws IOException {
        Path file = Files.writeString(dir.resolve(name), text);
        List<String> args = new java.util.ArrayList<>(List.of("import", folder.toString(), tree, file.toString()));
        args.addAll(List.of(options));
        return cairn(args.toArray(String[]::new));
    }

    /**
     * Keeping id n takes every id up to n: an import keeps none above IMPORT_KEPT_ID_MAX, so it
     * never leaves the tree without ids, and the message says why (2147483647 was said to have
     * been handed out already, and 2147483646 left the tree unable to insert).
     */
    @Test
    void keptIdsAboveTheCeilingAreRefusedSayingWhyAndTheTreeKeepsIdsToInsertWith() throws IOException {
        Path dst = emptyTrees(dir.resolve("dst"));
        for (int id : new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE - 1, 2_000_000_001}) {
            MainTest.Result r = importText(dst, "Part", "high.jsonl",
                "{\"key\":\"Part/" + id + ".0\",\"value\":{\"number\":\"HIGH\",\"stock\":1}}\n", "--keep-ids", "--no-end-check");
            assertEquals(1, r.code(), r.out() + r.err());
            assertTrue(r.err().contains("id " + id + " is above 2000000000, the highest id an import keeps")
                && r.err().contains("import without --keep-ids") && r.err().contains("nothing imported")
                && !r.err().contains("handed out"), r.err());
        }
        MainTest.Result ceiling = importText(dst, "Part", "ceiling.jsonl",
            "{\"key\":\"Part/2000000000.0\",\"value\":{\"number\":\"TOP\",\"stock\":1}}\n{\"cairn-export-end\":{\"tree\":\"Part\",\"records\":1}}\n",
            "--keep-ids");
        assertEquals(0, ceiling.code(), ceiling.out() + ceiling.err());
        MainTest.Result renumbered = importText(dst, "Part", "high.jsonl",
            "{\"key\":\"Part/2147483646.0\",\"value\":{\"number\":\"HIGH\",\"stock\":1}}\n", "--append", "--no-end-check");
        assertEquals(0, renumbered.code(), renumbered.out() + renumbered.err());
        assertTrue(renumbered.err().contains("warning: 1 record of"), renumbered.err());
        try (Cairn db = Cairn.open(dst)) {
            Tree<Part> parts = db.tree(Part.class);
            assertEquals(new Part("TOP", 1), parts.get(new Key<>("Part", 2_000_000_000, 0)));
            assertEquals(new Part("HIGH", 1), parts.get(new Key<>("Part", 2_000_000_001, 0)));
            assertEquals(2_000_000_002, parts.insert(new Part("NEXT", 1)).id());
        }
    }

    /** A revision of a tree without versions is no key of it: refused, naming the line or row, whatever the ids. */
    @Test
    void aRevisionOtherThanZeroIntoATreeWithoutVersionsIsRefused() throws IOException {
        Path dst = emptyTrees(dir.resolve("dst"));
        String line = "{\"key\":\"Bom/0.0\",\"value\":{\"board\":\"B\",\"part\":\"Part/0.0\",\"qty\":1}}\n";
        for (String option : List.of("--keep-ids", "--append")) {
            MainTest.Result r = importText(dst, "Bom", "bom.jsonl", line + line.replace("Bom/0.0", "Bom/0.3"), option);
            assertEquals(1, r.code(), r.out() + r.err());
            assertTrue(r.err().contains("record 2 has the key Bom/0.3, but tree Bom is not versioned")
                && r.err().contains("nothing imported"), r.err());
        }
        MainTest.Result sql = importText(dst, "Bom", "bom.sql", "INSERT INTO \"Bom\" (\"id\", \"revision\", \"board\", \"part\","
            + " \"qty\") VALUES (5, 3, 'B', 'Part/0.0', 1);\n", "--keep-ids");
        assertEquals(1, sql.code(), sql.out() + sql.err());
        assertTrue(sql.err().contains("row 5.3 of table Bom has the key Bom/5.3, but tree Bom is not versioned"), sql.err());
        try (Cairn db = Cairn.open(dst)) {
            assertEquals(0, db.tree(Bom.class).size());
        }
    }

    /**
     * newRevision needs a released record, so only the latest revision of an id can be a draft:
     * a file holding two drafts of one id is refused; rows without a state (SQL) below a later
     * revision of their id are imported released.
     */
    @Test
    void aDraftBelowALaterRevisionIsRefusedAndStatelessEarlierRevisionsImportReleased() throws IOException {
        Path dst = emptyTrees(dir.resolve("dst"));
        MainTest.Result drafts = importText(dst, "Part", "drafts.jsonl",
            "{\"key\":\"Part/0.0\",\"state\":\"Draft(0)\",\"value\":{\"number\":\"A\",\"stock\":1}}\n"
            + "{\"key\":\"Part/0.1\",\"state\":\"Draft(0)\",\"value\":{\"number\":\"A\",\"stock\":2}}\n"
            + "{\"cairn-export-end\":{\"tree\":\"Part\",\"records\":2}}\n", "--keep-ids");
        assertEquals(1, drafts.code(), drafts.out() + drafts.err());
        assertTrue(drafts.err().contains("record 1 holds Part/0.0 as Draft(0), but record 2 holds a later revision of it,"
            + " Part/0.1: only the latest revision of a record can be a draft") && drafts.err().contains("nothing imported"),
            drafts.err());
        try (Cairn db = Cairn.open(dst)) {
            assertEquals(0, db.tree(Part.class).size());
        }
        String insert = "INSERT INTO \"Part\" (\"id\", \"revision\", \"number\", \"stock\") VALUES ";
        MainTest.Result sql = importText(dst, "Part", "revisions.sql", insert + "(0, 0, 'A', 1);\n" + insert
            + "(0, 1, 'A', 2);\n" + insert + "(1, 0, 'B', 3);\n-- end of export: 3 rows\n", "--keep-ids");
        assertEquals(0, sql.code(), sql.out() + sql.err());
        try (Cairn db = Cairn.open(dst)) {
            Tree<Part> parts = db.tree(Part.class);
            assertEquals(new dev.cairn.RecordState.Released(0), parts.meta(new Key<>("Part", 0, 0)).state());
            assertEquals(new dev.cairn.RecordState.Draft(0), parts.meta(new Key<>("Part", 0, 1)).state());
            assertEquals(new dev.cairn.RecordState.Draft(0), parts.meta(new Key<>("Part", 1, 0)).state());
        }
    }

    /** The line of an empty tree's export names the tree: imported into another one, it is refused as a key of it is. */
    @Test
    void anEmptyTreesExportLineOfAnotherTreeIsRefused() throws IOException {
        Path dst = emptyTrees(dir.resolve("dst"));
        MainTest.Result other = importText(dst, "Part", "empty.jsonl", "{\"tree\":\"Bom\",\"records\":0}\n");
        assertEquals(1, other.code(), other.out() + other.err());
        assertTrue(other.err().contains("the line of an empty tree's export at line 1 names the tree \"Bom\", not \"Part\"")
            && other.err().contains("nothing imported"), other.err());
        MainTest.Result same = importText(dst, "Part", "empty.jsonl", "{\"tree\":\"Part\",\"records\":0}\n");
        assertEquals(0, same.code(), same.out() + same.err());
        assertTrue(same.out().contains("imported 0 records into Part"), same.out());
    }
}
