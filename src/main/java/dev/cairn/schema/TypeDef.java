package dev.cairn.schema;

import java.util.List;
import java.util.Objects;

/**
 * A named type of a {@link Schema}: a record (ordered components), an enum (ordered constant
 * names) or a sealed interface (a tagged union of records and enums). Names are labels for
 * people and the JSON discriminator; evolution matches records and enums by structure and
 * union variants by name (record-format.md §6).
 */
public sealed interface TypeDef {
    String name();

    /** A record: its components in declaration order. */
    record RecordDef(String name, List<Component> components) implements TypeDef {
        public RecordDef {
            Objects.requireNonNull(name, "name");
            components = List.copyOf(components);
        }

        /** Index of the component named {@code name}, or -1. */
        public int indexOf(String componentName) {
            for (int i = 0; i < components.size(); i++) {
                if (components.get(i).name().equals(componentName)) return i;
            }
            return -1;
        }

        /**
         * Index of the component named {@code name}, or else of the one that had that name
         * ({@code @FormerNames}: an export made before a rename), or -1. One name stands for one
         * component at most: a class where it stands for two is refused at open.
         */
        public int indexOfCurrentOrFormer(String componentName) {
            int i = indexOf(componentName);
            for (int j = 0; i < 0 && j < components.size(); j++) {
                if (components.get(j).formerNames().contains(componentName)) i = j;
            }
            return i;
        }
    }

    /** An enum: constant names in declaration order; {@code fallback} is an index or -1. */
    record EnumDef(String name, List<String> constants, int fallback) implements TypeDef {
        public EnumDef {
            Objects.requireNonNull(name, "name");
            constants = List.copyOf(constants);
            if (fallback < -1 || fallback >= constants.size()) {
                throw new IllegalArgumentException("fallback " + fallback
                    + " (expected: -1 or a constant index)");
            }
        }
    }

    /**
     * A sealed interface: definition indices of its permitted records and enums, in the order of
     * {@code getPermittedSubclasses()}; {@code fallback} is a variant index or -1.
     */
    record UnionDef(String name, List<Integer> variants, int fallback) implements TypeDef {
        public UnionDef {
            Objects.requireNonNull(name, "name");
            variants = List.copyOf(variants);
            if (fallback < -1 || fallback >= variants.size()) {
                throw new IllegalArgumentException("fallback " + fallback
                    + " (expected: -1 or a variant index)");
            }
        }
    }
}
