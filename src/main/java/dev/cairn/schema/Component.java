package dev.cairn.schema;

import java.util.List;
import java.util.Objects;

/**
 * One component of a {@link TypeDef.RecordDef}.
 *
 * @param name        the component's name
 * @param type        its type
 * @param formerNames names it had in earlier versions ({@code @FormerNames}), possibly empty
 * @param defaultJson the JSON text of its declared default ({@code @DefaultValue}), or null
 */
public record Component(String name, FieldType type, List<String> formerNames, String defaultJson) {
    public Component {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        formerNames = List.copyOf(formerNames);
    }

    /** True when this component and {@code other} denote the same value across a rename. */
    boolean sameAs(Component other) {
        return name.equals(other.name) || formerNames.contains(other.name)
            || other.formerNames.contains(name);
    }
}
