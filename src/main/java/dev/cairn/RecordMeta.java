package dev.cairn;

import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * The metadata of one stored record. Which operation bumps which iteration is fixed in
 * {@code spec/database-layout.md} §5: a data change (update, a migration) increments both
 * counters; a metadata-only change (release, setStateNumber) increments {@code metaIteration}
 * only; insert and newRevision start both at 0; check-out and check-in change neither.
 *
 * @param state         the life-cycle state
 * @param modifiedBy    the user ({@link Cairn.Options#user()}) of the last change
 * @param modifiedOn    the node ({@link Cairn#nodeId()}) of the last change
 * @param created       when the record (this revision) was inserted, millisecond precision
 * @param modified      when it last changed, millisecond precision
 * @param metaIteration counts every change to the record, data or metadata
 * @param dataIteration counts changes to the record's data
 * @param schemaVersion the schema version the stored data was written with
 */
public record RecordMeta(RecordState state, String modifiedBy, UUID modifiedOn,
                         Instant created, Instant modified,
                         long metaIteration, long dataIteration, int schemaVersion) {
    public RecordMeta {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(modifiedBy, "modifiedBy");
        Objects.requireNonNull(modifiedOn, "modifiedOn");
        Objects.requireNonNull(created, "created");
        Objects.requireNonNull(modified, "modified");
        if (dataIteration < 0 || metaIteration < dataIteration) {
            throw new IllegalArgumentException("iterations meta " + metaIteration + " data " + dataIteration
                + " (expected: 0 <= data <= meta)");
        }
    }
}
