package dev.cairn.index;

import dev.cairn.CairnException;
import dev.cairn.Key;

/** A change was refused because its name is already used by another record of a unique-name index. */
public final class DuplicateNameException extends CairnException {
    private static final long serialVersionUID = 1L;

    private final String name;
    private final transient Key<?> existing;

    public DuplicateNameException(String indexName, String name, Key<?> refused, Key<?> existing) {
        this(indexName, name, String.valueOf(refused), existing, false);
    }

    /**
     * {@code refused} says what would have held the name: a key, or a new record (an insert
     * refused takes no id, so the key it would have had goes to the next: probe 109).
     * {@code existingInBatch}: the name was given to {@code existing} earlier in the same batch,
     * so it holds it only if the batch commits (a refused insertAll or write commits none of it,
     * and its key goes to the next insert: probe 123).
     */
    DuplicateNameException(String indexName, String name, String refused, Key<?> existing, boolean existingInBatch) {
        super("name " + quoted(name) + " of " + refused + " is already used by " + existing
            + (existingInBatch ? ", written earlier in the same batch (it holds the name only if the batch commits)" : "")
            + " in unique index " + indexName + "; the change was not stored");
        this.name = name;
        this.existing = existing;
    }

    /** The name, quoted, for the message: a long one cut after 200 characters, saying how many it has. */
    private static String quoted(String name) {
        if (name == null) return "'null'";
        int characters = name.codePointCount(0, name.length());
        if (characters <= 200) return "'" + name + "'";
        return "'" + name.substring(0, name.offsetByCodePoints(0, 200)) + "…' (" + characters + " characters)";
    }

    /** The name as given by the refused record. */
    public String name() {
        return name;
    }

    /**
     * The key that already holds the name: a stored record, or one written earlier in the same
     * batch (then it holds the name only if the batch commits).
     */
    public Key<?> existing() {
        return existing;
    }
}
