package dev.cairn.db;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The highest id a server issued into a pool outlives the pool's ranges (probe 98): a node whose
 * ids were all used named none in its Hello, so a server restored from an older backup, which
 * had issued them again to another node, served it. The pool's byte form stays as it was, which
 * an older Cairn reads (probe 99: a second format made such a folder "damaged" to it); the
 * database keeps the value beside it (database-layout.md §4).
 */
class KeyPoolTest {
    @Test
    void theHighestIssuedIdIsKeptOnceThePoolIsUsedUp() {
        KeyPool pool = KeyPool.empty();
        assertEquals(0, pool.issuedHigh());
        pool.add(100, 102);
        pool.add(200, 201);
        assertEquals(201, pool.issuedHigh());
        assertEquals(201, KeyPool.fromBytes(pool.toBytes(), "T").issuedHigh());
        for (int i = 0; i < 3; i++) pool.take("T");
        assertEquals(0, pool.high());
        assertEquals(201, pool.issuedHigh());
        assertEquals(201, pool.copy().issuedHigh());
        byte[] bytes = pool.toBytes();
        assertArrayEquals(new byte[] {1, 0, 0, 0, 0}, bytes, "the byte form of an empty pool, as before");
        KeyPool read = KeyPool.fromBytes(bytes, "T");
        assertEquals(0, read.issuedHigh(), "not in the byte form");
        read.markIssued(201);
        assertEquals(201, read.issuedHigh());
        read.add(300, 310);
        assertEquals(310, read.issuedHigh());
    }

    @Test
    void aClaimMarksIdsIssuedAndAStandalonePoolNone() {
        KeyPool linked = KeyPool.empty();
        linked.markIssued(40);
        assertEquals(40, linked.issuedHigh());
        KeyPool standalone = KeyPool.standalone();
        standalone.takeBelow(1000);
        assertEquals(0, standalone.issuedHigh());
        assertEquals(0, KeyPool.fromBytes(standalone.toBytes(), "T").issuedHigh());
    }
}
