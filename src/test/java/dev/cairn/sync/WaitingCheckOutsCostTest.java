package dev.cairn.sync;

import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.BorrowState;
import dev.cairn.Key;
import dev.cairn.db.Database;
import dev.cairn.db.SyncReplica;
import dev.cairn.db.TreeImpl;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Check-outs and check-ins waiting for their record's change cost a lookup when something
 * happens to that record, not one per waiting record at every message (probe 86: a node that
 * asked offline for the check-outs of 2,000 records it inserted offline made every message of
 * its reconnect look up all 2,000 under the link's write, and its own writes waited seconds).
 */
@Timeout(120)
class WaitingCheckOutsCostTest {
    private static final int RECORDS = 600;
    /** The Replica methods that look in the store for one record or scan the check-outs. */
    private static final Set<String> LOOKUPS = Set.of("hasPending", "holdsHere", "heldHere");
    @TempDir Path dir;

    /**
     * Delivers both ways until nothing moves, as the link does: a pump after each read pass,
     * here of one message each. Returns the messages the node received.
     */
    private static int deliverOneByOne(ManualLink link) {
        int messages = 0;
        for (int round = 0; round < 1_000 && !(link.session.idle() && link.up.isEmpty() && link.down.isEmpty()); round++) {
            link.session.pump();
            link.deliverUp();
            while (!link.down.isEmpty()) {
                link.deliverDown(1);
                link.session.pump();
                messages++;
            }
        }
        return messages;
    }

    @Test
    void checkOutsAskedForOfflineCostALookupPerChangeAnsweredNotPerMessage() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100_000);
             Database a = Database.open(dir.resolve("a"), "a", "u", SyncFixture.APP, 1 << 16)) {
            SyncReplica replica = SyncReplica.install(a);
            TreeImpl<Part> parts = TreeImpl.open(a, Part.class, null);
            new ManualLink(core, replica).settle(); // linked, with ids for RECORDS offline inserts
            // Offline: inserts, and a check-out asked for each (the docs allow it), each waiting
            // until the server acknowledged the record's insert.
            List<Key<Part>> keys = new ArrayList<>();
            for (int i = 0; i < RECORDS; i++) keys.add(parts.insert(part(i)));
            for (Key<Part> k : keys) parts.checkOut(k);
            AtomicLong lookups = new AtomicLong();
            ManualLink link = new ManualLink(core, replica, CountingReplica.of(replica, lookups, LOOKUPS), Set.of(), FrameCodec.PROTOCOL_VERSION);
            int messages = deliverOneByOne(link);
            for (Key<Part> k : keys) {
                assertEquals(new BorrowState.Mine(), parts.borrowState(k), "granted: " + k);
            }
            assertEquals(RECORDS, core.checkOuts().size());
            // Each record: its insert answered, its check-out asked for (and a look at every
            // waiting record when nothing is in flight, once per round trip). Before: every
            // message looked at every waiting record, about RECORDS * messages / 2.
            assertTrue(messages >= 2 * RECORDS, "messages: " + messages);
            assertTrue(lookups.get() <= 6L * RECORDS, lookups + " lookups for " + RECORDS + " waiting check-outs and "
                + messages + " messages");
        }
    }

    @Test
    void checkInsWaitingForTheirChangesCostALookupPerChangeAnswered() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100_000);
             Database a = Database.open(dir.resolve("a"), "a", "u", SyncFixture.APP, 1 << 16)) {
            SyncReplica replica = SyncReplica.install(a);
            TreeImpl<Part> parts = TreeImpl.open(a, Part.class, null);
            ManualLink first = new ManualLink(core, replica);
            first.settle();
            List<Key<Part>> keys = new ArrayList<>();
            for (int i = 0; i < RECORDS; i++) keys.add(parts.insert(part(i)));
            for (Key<Part> k : keys) {
                parts.checkOut(k);
                first.session.checkOut(k); // as SyncClient passes a request on to its session
            }
            first.settle(); // inserted, acknowledged, checked out
            for (Key<Part> k : keys) assertEquals(new BorrowState.Mine(), parts.borrowState(k));
            // Offline: an edit of each, checked in at once; each check-in waits for its edit's Ack.
            for (int i = 0; i < RECORDS; i++) {
                parts.update(keys.get(i), part(i + 10_000));
                parts.checkIn(keys.get(i));
            }
            AtomicLong lookups = new AtomicLong();
            ManualLink link = new ManualLink(core, replica, CountingReplica.of(replica, lookups, LOOKUPS), Set.of(), FrameCodec.PROTOCOL_VERSION);
            int messages = deliverOneByOne(link);
            assertEquals(0, core.checkOuts().size(), "every record checked in");
            assertTrue(messages >= RECORDS, "messages: " + messages);
            assertTrue(lookups.get() <= 6L * RECORDS, lookups + " lookups for " + RECORDS + " waiting check-ins and "
                + messages + " messages");
        }
    }
}
