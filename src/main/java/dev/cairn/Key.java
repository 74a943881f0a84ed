package dev.cairn;

import java.util.Objects;

/**
 * Identifies one record of one tree: {@code (id, revision)}. The type parameter ties the key to
 * the tree's record type at compile time; {@link #tree()} ties it at run time, so a key passed to
 * another tree through a raw cast is refused with {@link WrongTreeException}.
 *
 * <p>Text form: {@code tree/id.revision}, e.g. {@code Part/42.0}.
 *
 * @param tree     the name of the tree the key belongs to (not blank)
 * @param id       the record id, {@code >= 0}
 * @param revision the revision, {@code >= 0}; always 0 in trees that are not versioned
 */
public record Key<V>(String tree, int id, int revision) {
    public Key {
        Objects.requireNonNull(tree, "tree");
        if (tree.isBlank()) throw new IllegalArgumentException("tree name is blank (expected: a name)");
        if (id < 0) throw new IllegalArgumentException("id " + id + " (expected: >= 0) in tree " + tree);
        if (revision < 0) {
            throw new IllegalArgumentException("revision " + revision + " (expected: >= 0) in tree " + tree);
        }
    }

    /**
     * Parses the text form {@code tree/id.revision}.
     *
     * @throws IllegalArgumentException if {@code text} is not of that form
     */
    public static <V> Key<V> parse(String text) {
        int slash = text.lastIndexOf('/');
        int dot = text.lastIndexOf('.');
        if (slash <= 0 || dot < slash + 2 || dot == text.length() - 1) {
            throw new IllegalArgumentException("key '" + text + "' (expected: tree/id.revision)");
        }
        try {
            return new Key<>(text.substring(0, slash), Integer.parseInt(text.substring(slash + 1, dot)),
                Integer.parseInt(text.substring(dot + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("key '" + text + "' (expected: tree/id.revision)", e);
        }
    }

    @Override
    public String toString() {
        return tree + "/" + id + "." + revision;
    }
}
