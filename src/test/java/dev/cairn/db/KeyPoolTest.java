package dev.cairn.db;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.CorruptionException;
import org.junit.jupiter.api.Test;

/**
 * The highest id a server issued into a pool outlives the pool's ranges (probe 98): a node whose
 * ids were all used named none in its Hello, so a server restored from an older backup, which
 * had issued them again to another node, served it. Its byte form (database-layout.md §4) stays
 * format 1, which an older Cairn reads, unless the highest range is used up.
 */
class KeyPoolTest {
    @Test
    void theHighestIssuedIdIsKeptOnceThePoolIsUsedUp() {
        KeyPool pool = KeyPool.empty();
        assertEquals(0, pool.issuedHigh());
        pool.add(100, 102);
        pool.add(200, 201);
        assertEquals(201, pool.issuedHigh());
        assertEquals(1, pool.toBytes()[0], "format 1 while ids of the highest range are left");
        assertEquals(201, KeyPool.fromBytes(pool.toBytes(), "T").issuedHigh());
        for (int i = 0; i < 3; i++) pool.take("T");
        assertEquals(0, pool.high());
        assertEquals(201, pool.issuedHigh());
        byte[] bytes = pool.toBytes();
        assertEquals(2, bytes[0], "format 2 once it is used up");
        KeyPool read = KeyPool.fromBytes(bytes, "T");
        assertEquals(201, read.issuedHigh());
        assertEquals(0, read.available());
        assertArrayEquals(bytes, read.toBytes());
        read.add(300, 310);
        assertEquals(310, read.issuedHigh());
        assertEquals(1, read.toBytes()[0]);
    }

    @Test
    void aClaimMarksIdsIssuedAndAStandalonePoolNone() {
        KeyPool linked = KeyPool.empty();
        linked.markIssued(40);
        assertEquals(40, KeyPool.fromBytes(linked.toBytes(), "T").issuedHigh());
        KeyPool standalone = KeyPool.standalone();
        standalone.takeBelow(1000);
        assertEquals(0, standalone.issuedHigh());
        assertEquals(0, KeyPool.fromBytes(standalone.toBytes(), "T").issuedHigh());
    }

    @Test
    void aFormat2PoolWhoseIssuedHighIsNotAboveItsRangesIsRefused() {
        byte[] bytes = {2, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 9};
        CorruptionException e = assertThrows(CorruptionException.class, () -> KeyPool.fromBytes(bytes, "T"));
        assertTrue(e.getMessage().contains("key pool of tree T: issued high 5 not above the ranges' end 9"), e.getMessage());
        assertThrows(CorruptionException.class, () -> KeyPool.fromBytes(new byte[] {2, 0, 0, 0}, "T"));
    }
}
