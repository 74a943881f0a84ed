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
        MainTest.Result renumbered = cairn("import", node.toString(), "Part", newest.toString());
        assertEquals(0, renumbered.code(), renumbered.out() + renumbered.err());
        // rows 0, 2.1, 3, 4 became 0.0, 1.0, 2.0, 3.0: three records changed id
        assertTrue(renumbered.err().contains("warning: 3 records of " + newest + " got new ids in tree Part")
            && renumbered.err().contains("NOT renumbered") && renumbered.err().contains("--keep-ids"), renumbered.err());
        assertTrue(renumbered.out().contains("imported 4 records into Part"), renumbered.out());
    }

    /** A never-linked database whose last id an import kept: an insert says so, not "connect to a server". */
    @Test
    void anInsertAfterAnImportOfTheLastIdSaysNoIdsAreLeft() {
        try (Cairn db = Cairn.open(dir.resolve("full"))) {
            Tree<Part> parts = db.tree(Part.class);
            db.genericTree("Part").importJsonLines("{\"key\":\"Part/2147483646.0\",\"value\":{\"number\":\"LAST\",\"stock\":1}}\n", true);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> parts.insert(new Part("NEXT", 1)));
            assertEquals("insert into tree Part: no ids left; this database never linked to a server and gave out every id "
                + "up to 2147483646 (or an import that kept its ids took them, up to the highest id it imported)", e.getMessage());
        }
    }
}
