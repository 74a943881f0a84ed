package dev.cairn.testing;

import dev.cairn.Key;
import dev.cairn.TreeSpec;
import java.util.List;

/** Record types shared by the typed-layer tests. */
public final class Fixtures {
    private Fixtures() { }

    /** The benchmark's record (WORKLOAD.md). */
    public record Part(String name, String manufacturer, int stock, long priceCents, List<String> tags) {
        public Part withStock(int s) {
            return new Part(name, manufacturer, s, priceCents, tags);
        }
    }

    @TreeSpec(name = "Doc", versioned = true)
    public record Doc(String title, int pages) { }

    /** Claims the tree "Part" with another versioning flag than {@link Part}. */
    @TreeSpec(name = "Part", versioned = true)
    public record VersionedPart(String name) { }

    @TreeSpec(name = "Evo")
    public record EvoV1(String size) { }

    /** An incompatible change of {@link EvoV1}: String -> int. */
    @TreeSpec(name = "Evo")
    public record EvoV2(int size) { }

    /** {@link EvoV2} plus a component: compatible with it, not with {@link EvoV1}. */
    @TreeSpec(name = "Evo")
    public record EvoV3(int size, String unit) { }

    @TreeSpec(name = "Pres")
    public record PresV1(String a) { }

    /** {@link PresV1} plus a component, for unknown-component preservation. */
    @TreeSpec(name = "Pres")
    public record PresV2(String a, int extra) { }

    /** A bill of materials line, referencing a part of another tree. */
    public record Bom(String assembly, Key<Part> part, int quantity) { }

    public static Part part(int i) {
        return new Part("PART-" + String.format("%06d", i) + "-R10K", "Maker" + (i % 50), i * 7, i * 100L,
            List.of("t" + (i % 20), "t" + ((i + 1) % 20), "t" + ((i + 2) % 20)));
    }

    /**
     * A database in {@code dir}/db holding {@code count} parts "P-0".. made by ACME (what the
     * command-line tests work on), closed.
     */
    public static java.nio.file.Path databaseWithParts(java.nio.file.Path dir, int count) {
        java.nio.file.Path db = dir.resolve("db");
        try (dev.cairn.Cairn c = dev.cairn.Cairn.open(db)) {
            dev.cairn.Tree<Part> parts = c.tree(Part.class);
            for (int i = 0; i < count; i++) parts.insert(new Part("P-" + i, "ACME", i, 100L * i, List.of("t" + i)));
        }
        return db;
    }
}
