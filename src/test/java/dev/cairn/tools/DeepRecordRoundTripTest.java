package dev.cairn.tools;

import static dev.cairn.tools.MainTest.cairn;
import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Cairn;
import dev.cairn.GenericTree;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.TreeSpec;
import dev.cairn.internal.Limits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A record nested to the limit (record-format.md §1: {@value Limits#VALUE_DEPTH_MAX} levels)
 * exports and imports back, in JSON lines and SQL, through the command line and {@link
 * GenericTree}: the line's {"key":..,"value":..} wrapper, the scalars at the bottom and the
 * [key, value] pairs of a map whose keys are not strings are no levels of the value.
 */
class DeepRecordRoundTripTest {
    @TreeSpec(name = "Chain")
    record Chain(int v, Chain next) { }

    @TreeSpec(name = "Node")
    record Node(int v, List<Node> kids) { }

    @TreeSpec(name = "Nest")
    record Nest(int v, Map<Integer, Nest> inner) { }

    @TempDir
    Path dir;

    /** Root at level 0, each next one level deeper: the innermost at the limit. */
    private static Chain chain() {
        Chain c = new Chain(0, null);
        for (int i = 1; i <= Limits.VALUE_DEPTH_MAX; i++) c = new Chain(i, c);
        return c;
    }

    /** A list and a record each a level: the innermost node at the limit. */
    private static Node node() {
        Node n = new Node(0, List.of());
        for (int i = 1; i <= Limits.VALUE_DEPTH_MAX / 2; i++) n = new Node(i, List.of(n));
        return n;
    }

    /** A map and a record each a level, each entry printed as a [key, value] array: 150 JSON containers deep. */
    private static Nest nest() {
        Nest n = new Nest(0, Map.of());
        for (int i = 1; i <= Limits.VALUE_DEPTH_MAX / 2; i++) n = new Nest(i, Map.of(i, n));
        return n;
    }

    @Test
    void aRecordAtTheDepthLimitIsAcceptedAndOneLevelDeeperRefused() {
        try (Cairn c = Cairn.open(dir.resolve("limit"))) {
            Tree<Chain> t = c.tree(Chain.class);
            assertEquals(chain(), t.get(t.insert(chain())));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> t.insert(new Chain(-1, chain())));
            assertTrue(e.getMessage().contains("nested deeper than 100"), e.getMessage());
        }
    }

    @Test
    void aChainAtTheLimitRoundTripsThroughTheCommandLine() throws IOException {
        roundTripsThroughTheCommandLine(Chain.class, chain());
    }

    @Test
    void aTreeOfListsAtTheLimitRoundTripsThroughTheCommandLine() throws IOException {
        roundTripsThroughTheCommandLine(Node.class, node());
    }

    @Test
    void mapsWithNumberKeysAtTheLimitRoundTripThroughTheCommandLine() throws IOException {
        roundTripsThroughTheCommandLine(Nest.class, nest());
    }

    @Test
    void recordsAtTheLimitRoundTripThroughGenericTreeJsonLines() {
        assertEquals(chain(), throughGenericTree(Chain.class, chain()));
        assertEquals(node(), throughGenericTree(Node.class, node()));
        assertEquals(nest(), throughGenericTree(Nest.class, nest()));
    }

    private <R extends Record> void roundTripsThroughTheCommandLine(Class<R> type, R value) throws IOException {
        String tree = type.getAnnotation(TreeSpec.class).name();
        Path source = dir.resolve("source-" + tree);
        try (Cairn c = Cairn.open(source)) {
            c.tree(type).insert(value);
        }
        for (String format : List.of("jsonl", "sql")) {
            MainTest.Result export = cairn("export", source.toString(), tree, "--format", format);
            assertEquals(0, export.code(), export.err());
            Path file = Files.writeString(dir.resolve(tree + "." + format), export.out());
            Path target = dir.resolve("target-" + tree + "-" + format);
            try (Cairn c = Cairn.open(target)) {
                c.tree(type);
            }
            MainTest.Result r = cairn("import", target.toString(), tree, file.toString(), "--keep-ids");
            assertEquals(0, r.code(), format + ": " + r.err());
            assertEquals("imported 1 record into " + tree + "\n", r.out(), format);
            try (Cairn c = Cairn.open(target)) {
                Tree<R> t = c.tree(type);
                assertEquals(List.of(value), t.keys().stream().map(t::get).toList(), format);
            }
        }
    }

    private <R extends Record> R throughGenericTree(Class<R> type, R value) {
        String tree = type.getAnnotation(TreeSpec.class).name();
        try (Cairn c = Cairn.open(dir.resolve("generic-" + tree))) {
            Tree<R> t = c.tree(type);
            Key<R> key = t.insert(value);
            GenericTree g = c.genericTree(tree);
            StringBuilder lines = new StringBuilder();
            g.exportJsonLines(lines);
            t.checkOut(key).join();
            t.remove(key);
            GenericTree.Imported imported = g.importJsonLines(lines.toString(), false);
            Function<Key<?>, R> get = k -> t.get(t.key(k.id(), k.revision()));
            return get.apply(imported.keys().getFirst());
        }
    }
}
