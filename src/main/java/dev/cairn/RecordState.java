package dev.cairn;

/**
 * The life-cycle state of one record. Records of trees that are not versioned are always
 * {@link NonVersioned}; records of versioned trees start as {@code Draft(0)} and may become
 * {@link Released}, after which their data never changes. The number {@code n} is the
 * application's own sub-state and may change in both states.
 */
public sealed interface RecordState {
    /** The state of every record of a tree that is not versioned. */
    record NonVersioned() implements RecordState {
        @Override public String toString() {
            return "NonVersioned";
        }
    }

    /** A revision whose data may still change. */
    record Draft(int number) implements RecordState {
        /** As the docs, messages and exports write it: {@code Draft(0)}. */
        @Override public String toString() {
            return "Draft(" + number + ")";
        }
    }

    /** A revision whose data is frozen for ever; only its number may change. */
    record Released(int number) implements RecordState {
        /** As the docs, messages and exports write it: {@code Released(3)}. */
        @Override public String toString() {
            return "Released(" + number + ")";
        }
    }
}
