package dev.cairn;

import java.util.Objects;
import java.util.UUID;

/**
 * Who may change a record (SPEC §4, check-out). A standalone database grants check-outs at
 * once, so it only ever reports {@link Free} and {@link Mine}; the other states come from the
 * sync server.
 */
public sealed interface BorrowState {
    /** Nobody holds the record. */
    record Free() implements BorrowState { }

    /** This node holds the record and may update or remove it. */
    record Mine() implements BorrowState { }

    /** Another node holds the record. */
    record HeldBy(UUID node, String nodeName) implements BorrowState {
        public HeldBy {
            Objects.requireNonNull(node, "node");
            Objects.requireNonNull(nodeName, "nodeName");
        }
    }

    /** This node waits in the queue behind {@code holder}; position 1 is next in line. */
    record Waiting(UUID holder, int position) implements BorrowState {
        public Waiting {
            Objects.requireNonNull(holder, "holder");
            if (position < 1) throw new IllegalArgumentException("position " + position + " (expected: >= 1)");
        }
    }
}
