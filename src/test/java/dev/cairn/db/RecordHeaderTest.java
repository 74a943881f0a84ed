package dev.cairn.db;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.CorruptionException;
import dev.cairn.RecordState;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class RecordHeaderTest {
    @Test
    void headerRoundTripsAndBodyIsTheRecordBytes() {
        RecordHeader h = new RecordHeader(RecordHeader.DRAFT, 7, 1000, 2000, 5, 3, UUID.randomUUID(), "jörg");
        byte[] stored = h.encode(new byte[] {1, 2, 3});
        MemorySegment s = MemorySegment.ofArray(stored);
        assertEquals(h, RecordHeader.decode(s, "T/1.0"));
        assertEquals(new RecordState.Draft(7), h.state());
        assertArrayEquals(new byte[] {1, 2, 3}, RecordHeader.body(s).toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void touchedBumpsMetaAlwaysAndDataOnlyForDataChanges() {
        UUID node = UUID.randomUUID();
        RecordHeader h = new RecordHeader(RecordHeader.NON_VERSIONED, 0, 1, 1, 0, 0, node, "u");
        RecordHeader meta = h.touched(5, node, "v", false, "T/1.0");
        assertEquals(1, meta.metaIteration());
        assertEquals(0, meta.dataIteration());
        RecordHeader data = meta.touched(6, node, "v", true, "T/1.0");
        assertEquals(2, data.metaIteration());
        assertEquals(1, data.dataIteration());
        assertEquals(1, data.createdMillis());
        assertEquals(6, data.modifiedMillis());
    }

    @Test
    void damagedHeaderGivesCorruptionNamingTheKey() {
        byte[] stored = new RecordHeader(RecordHeader.DRAFT, 0, 0, 0, 0, 0, new UUID(1, 2), "u").encode(new byte[0]);
        stored[1] = 9;
        CorruptionException e = assertThrows(CorruptionException.class,
            () -> RecordHeader.decode(MemorySegment.ofArray(stored), "Parts/3.0"));
        assertTrue(e.getMessage().contains("Parts/3.0"), e.getMessage());
        assertThrows(CorruptionException.class, () -> RecordHeader.decode(MemorySegment.ofArray(new byte[10]), "x"));
    }
}
