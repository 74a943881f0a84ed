package dev.cairn.index;

import dev.cairn.CairnException;
import dev.cairn.Key;

/** A change was refused because its name is already used by another record of a unique-name index. */
public final class DuplicateNameException extends CairnException {
    private static final long serialVersionUID = 1L;

    private final String name;
    private final transient Key<?> existing;

    public DuplicateNameException(String indexName, String name, Key<?> refused, Key<?> existing) {
        this(indexName, name, String.valueOf(refused), existing);
    }

    /**
     * {@code refused} says what would have held the name: a key, or a new record (an insert
     * refused takes no id, so the key it would have had goes to the next: probe 109).
     */
    DuplicateNameException(String indexName, String name, String refused, Key<?> existing) {
        super("name " + quoted(name) + " of " + refused + " is already used by " + existing + " in unique index "
            + indexName + "; the change was not stored");
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

    /** The key that already holds the name. */
    public Key<?> existing() {
        return existing;
    }
}
