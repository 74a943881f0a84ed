package dev.cairn.index;

import dev.cairn.CairnException;
import dev.cairn.Key;

/** A change was refused because its name is already used by another record of a unique-name index. */
public final class DuplicateNameException extends CairnException {
    private static final long serialVersionUID = 1L;

    private final String name;
    private final transient Key<?> existing;

    public DuplicateNameException(String indexName, String name, Key<?> refused, Key<?> existing) {
        super("name '" + name + "' of " + refused + " is already used by " + existing + " in unique index "
            + indexName + "; the change was not stored");
        this.name = name;
        this.existing = existing;
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
