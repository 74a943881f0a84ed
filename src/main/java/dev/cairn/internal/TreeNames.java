package dev.cairn.internal;

import java.nio.charset.StandardCharsets;

/**
 * The rule for the name of a user tree (database-layout.md §1), in one place for the node that
 * creates trees and the sync server that must not pass on a name its clients would refuse.
 */
public final class TreeNames {
    private TreeNames() { }

    /** Longest user tree name, bytes of UTF-8: a node keeps its records in store tree {@code "data:" + name}. */
    public static final int NAME_BYTES_MAX = Limits.TREE_NAME_BYTES_MAX - "data:".length();

    /** Why {@code name} is not a user tree name (not blank, no NUL, valid UTF-16, at most {@link #NAME_BYTES_MAX} bytes), or null. */
    public static String problem(String name) {
        if (name == null) return "tree name is null (expected: a name)";
        if (name.isBlank()) return "tree name is blank (expected: a name)";
        if (name.indexOf('\0') >= 0) return "tree name '" + name.replace('\0', '?') + "' contains NUL";
        int lone = Text.unpairedSurrogate(name);
        if (lone >= 0) return "tree name has an unpaired surrogate at index " + lone + " (UTF-8 cannot hold it)";
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > NAME_BYTES_MAX) {
            return "tree name '" + name + "' has " + bytes + " bytes (expected: <= " + NAME_BYTES_MAX + ")";
        }
        return null;
    }
}
