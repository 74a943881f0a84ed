package dev.cairn.schema;

import dev.cairn.SchemaMismatchException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The open-time check of record-format.md §6: can a candidate schema read the data of every
 * stored version, and can every stored version's readers read its data? The rules are in
 * {@link Compat}; they are symmetric, so one check covers both directions.
 *
 * {@snippet :
 * Evolution.check("Part", versions, Schema.derive(Part.class));    // throws on a refused change
 * int version = versions.add(Schema.derive(Part.class));
 * }
 */
public final class Evolution {
    private Evolution() { }

    /** One refused change: the stored version it conflicts with, the component path, and why. */
    public record Mismatch(int storedVersion, String path, String reason) { }

    /**
     * Checks {@code candidate} against every stored version.
     *
     * @throws SchemaMismatchException naming the tree, the component path and both versions, for
     *     the first refused change
     */
    public static void check(String tree, SchemaVersions stored, Schema candidate) {
        check(tree, stored, candidate, Set.of());
    }

    /**
     * Like {@link #check(String, SchemaVersions, Schema)}, but accepts refused changes against
     * the stored versions in {@code migrated}: the caller has a migration that rewrites all data
     * of those versions with the candidate before any of it is read.
     */
    public static void check(String tree, SchemaVersions stored, Schema candidate,
        Set<Integer> migrated) {
        List<Mismatch> found = mismatches(stored, candidate);
        for (Mismatch m : found) {
            if (migrated.contains(m.storedVersion())) continue;
            int own = stored.versionOf(candidate);
            String candidateVersion = own > 0 ? "version " + own : "the new version "
                + (stored.latestVersion() + 1);
            throw new SchemaMismatchException("tree " + tree + ": " + candidate.name() + " of "
                + candidateVersion
                + " cannot evolve from stored version " + m.storedVersion() + " at " + m.path()
                + ": " + m.reason()
                + " (expected: a compatible change, or a migration from version "
                + m.storedVersion() + ")");
        }
    }

    /** The refused changes between {@code reader} and records of the one schema {@code stored}. */
    public static List<Mismatch> mismatches(Schema stored, Schema reader) {
        SchemaVersions only = new SchemaVersions();
        only.add(stored);
        return mismatches(only, reader);
    }

    /**
     * Every refused change between {@code candidate} and the stored versions, oldest version first.
     */
    public static List<Mismatch> mismatches(SchemaVersions stored, Schema candidate) {
        List<Mismatch> out = new ArrayList<>();
        for (int v = 1; v <= stored.latestVersion(); v++) {
            List<String> problems = new ArrayList<>();
            Compat.check(stored.get(v), Schema.ROOT, candidate, Schema.ROOT, candidate.name(),
                problems);
            for (String p : problems) {
                int colon = p.indexOf(": ");
                out.add(new Mismatch(v, p.substring(0, colon), p.substring(colon + 2)));
            }
        }
        return out;
    }
}
