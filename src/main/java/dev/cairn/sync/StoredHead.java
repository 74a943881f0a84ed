package dev.cairn.sync;

import java.util.Objects;

/**
 * The server's state of a record as a change is checked against it: its sequence (0 when never
 * stored), schema fingerprint, and the head of its value (its record header, whose fields the
 * checks read, database-layout.md §3), not its modifiedBy or record data. A change is checked against this alone; a
 * record near 16 MiB copied whole for the checks took the heap of a -Xmx64m server that held
 * another in a queue (probe 122).
 *
 * @param valueBytes the stored value's length; 0 for a tombstone or a record never stored
 * @param holdsSentData the stored record is not removed and has the schema and value of the
 *     change it is read for (a change sent again)
 */
record StoredHead(long serverSeq, long fingerprint, byte[] head, int valueBytes, boolean holdsSentData) {
    static final StoredHead NEVER = new StoredHead(0, 0, new byte[0], 0, false);

    StoredHead {
        Objects.requireNonNull(head, "head");
        if (head.length > valueBytes) throw new IllegalArgumentException("head of " + head.length + " bytes of a value of " + valueBytes);
    }

    boolean removed() {
        return valueBytes == 0;
    }
}
