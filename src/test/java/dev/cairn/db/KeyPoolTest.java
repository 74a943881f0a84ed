package dev.cairn.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.CorruptionException;
import dev.cairn.NoIdsLeftException;
import org.junit.jupiter.api.Test;

class KeyPoolTest {
    @Test
    void standalonePoolHandsOutAscendingIdsAndSurvivesBytes() {
        KeyPool pool = KeyPool.standalone();
        assertEquals(0, pool.take("T"));
        assertEquals(1, pool.take("T"));
        KeyPool back = KeyPool.fromBytes(pool.toBytes(), "T");
        assertEquals(2, back.take("T"));
    }

    @Test
    void serverRangesAreUsedInOrderAndAnEmptyPoolSaysWhichTree() {
        KeyPool pool = KeyPool.empty();
        pool.add(100, 102);
        pool.add(10, 11);
        assertEquals(3, pool.available());
        assertEquals(10, pool.take("T"));
        assertEquals(100, pool.take("T"));
        assertEquals(101, pool.take("T"));
        NoIdsLeftException e = assertThrows(NoIdsLeftException.class, () -> pool.take("Parts"));
        assertTrue(e.getMessage().contains("Parts"), e.getMessage());
    }

    @Test
    void overlappingRangeIsRefused() {
        KeyPool pool = KeyPool.empty();
        pool.add(10, 20);
        assertThrows(IllegalArgumentException.class, () -> pool.add(15, 25));
        assertThrows(IllegalArgumentException.class, () -> pool.add(5, 11));
        assertThrows(IllegalArgumentException.class, () -> pool.add(5, 5));
        pool.add(20, 25);
    }

    @Test
    void damagedBytesGiveCorruptionNamingTheTree() {
        byte[] bytes = KeyPool.standalone().toBytes();
        bytes[0] = 9;
        CorruptionException e = assertThrows(CorruptionException.class, () -> KeyPool.fromBytes(bytes, "Parts"));
        assertTrue(e.getMessage().contains("Parts"), e.getMessage());
        assertThrows(CorruptionException.class, () -> KeyPool.fromBytes(new byte[] {1, 0, 0, 0, 2}, "Parts"));
    }
}
