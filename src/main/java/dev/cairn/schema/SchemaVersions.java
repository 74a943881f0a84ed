package dev.cairn.schema;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * All schema versions of one tree, numbered from 1 in the order they were added
 * (record-format.md §2.5). The typed layer stores each version's {@link Schema#toBytes()} under
 * its number and rebuilds this with {@link #put(int, Schema)} or {@link #fromStored(Map)}.
 *
 * <ul>
 *   <li>Versions are dense: 1..{@link #latestVersion()}; a version never changes once added.
 *   <li>No two versions have the same fingerprint.
 *   <li>Thread-safe: readers see an immutable array, replaced on every addition.
 * </ul>
 */
public final class SchemaVersions {
    private volatile Schema[] versions = new Schema[0];

    public SchemaVersions() { }

    /** Rebuilds the versions from stored schema bytes, keyed by version number (1..n, dense). */
    public static SchemaVersions fromStored(Map<Integer, byte[]> stored) {
        SchemaVersions v = new SchemaVersions();
        for (Map.Entry<Integer, byte[]> e : new TreeMap<>(stored).entrySet()) v.put(e.getKey(),
            Schema.fromBytes(e.getValue()));
        return v;
    }

    /**
     * Adds a schema as the next version, or returns its existing version.
     *
     * @return the version number of {@code schema}
     * @throws IllegalStateException when all {@value Bin#VERSION_MAX} version numbers are used
     */
    public synchronized int add(Schema schema) {
        int existing = versionOf(schema);
        if (existing > 0) return existing;
        if (versions.length >= Bin.VERSION_MAX) {
            throw new IllegalStateException("tree has " + versions.length
                + " schema versions (expected: < " + Bin.VERSION_MAX + ")");
        }
        Schema[] next = Arrays.copyOf(versions, versions.length + 1);
        next[versions.length] = schema;
        versions = next;
        return next.length;
    }

    /**
     * Puts a stored version back: {@code version} must be the next number, or an existing one
     * holding an equal schema.
     *
     * @throws IllegalArgumentException when the version is out of order or differs
     */
    public synchronized void put(int version, Schema schema) {
        if (version >= 1 && version <= versions.length) {
            if (!versions[version - 1].equals(schema)) {
                throw new IllegalArgumentException("version " + version + " holds another schema ("
                    + Long.toHexString(versions[version - 1].fingerprint()) + ")");
            }
            return;
        }
        if (version != versions.length + 1) {
            throw new IllegalArgumentException("version " + version + " (expected: "
                + (versions.length + 1) + ", the next)");
        }
        int existing = versionOf(schema);
        if (existing > 0) throw new IllegalArgumentException("schema of version " + version
            + " is already version " + existing);
        add(schema);
    }

    /**
     * The schema of one version.
     *
     * @throws IllegalArgumentException when there is no such version
     */
    public Schema get(int version) {
        Schema[] v = versions;
        if (version < 1 || version > v.length) {
            throw new IllegalArgumentException("schema version " + version + " (expected: 1.."
                + v.length + ")");
        }
        return v[version - 1];
    }

    /** True when {@code version} is one of the stored versions. */
    public boolean contains(int version) {
        return version >= 1 && version <= versions.length;
    }

    /** The newest schema; IllegalStateException when there is none. */
    public Schema latest() {
        Schema[] v = versions;
        if (v.length == 0) throw new IllegalStateException("no schema versions");
        return v[v.length - 1];
    }

    /** The newest version number, 0 when there is none. */
    public int latestVersion() {
        return versions.length;
    }

    /** The version of an equal schema (same fingerprint and bytes), or -1. */
    public int versionOf(Schema schema) {
        Schema[] v = versions;
        for (int i = 0; i < v.length; i++) {
            if (v[i].equals(schema)) return i + 1;
        }
        return -1;
    }

    @Override
    public String toString() {
        return "SchemaVersions[" + versions.length + (versions.length == 0 ? "" : ", latest "
            + latest().name()) + "]";
    }
}
