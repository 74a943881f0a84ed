package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.BorrowState;
import dev.cairn.Cairn;
import dev.cairn.Event;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that was away while another node checked a record in learns that the record is free
 * when it reconnects: the reconnect's Borrow snapshot lists only records held or waited for
 * (sync-protocol.md §4.2 step 1), so one the node knew held by another and the snapshot does
 * not list is free (§4.1 step 5). Before (probe 60), the node showed it held by the old holder
 * for good, across restarts, until someone used the record again.
 */
@Timeout(90)
class CheckInWhileAwayTest {
    @TempDir Path dir;

    @Test
    void aNodeClosedWhileTheHolderCheckedInSeesTheRecordFreeOnItsNextLink() {
        try (SyncFixture f = new SyncFixture(dir)) {
            SyncFixture.HeldByA held = f.heldByA();
            Tree<Part> pa = held.pa();
            Key<Part> k = held.key();
            await("b sees a hold it", () -> held.pb().borrowState(k) instanceof BorrowState.HeldBy h
                && h.node().equals(held.a().nodeId()));

            f.clients.remove(held.b());
            held.b().close();
            pa.update(k, part(2));
            pa.checkIn(k);
            await("the server lists it free", () -> f.checkOutOf(k) == null);

            Cairn b = f.open("b");
            Tree<Part> pb = b.tree(Part.class);
            assertTrue(pb.borrowState(k) instanceof BorrowState.HeldBy, "as b last knew it: " + pb.borrowState(k));
            b.connect("127.0.0.1", f.port()).orTimeout(20, TimeUnit.SECONDS).join();
            assertEquals(new BorrowState.Free(), pb.borrowState(k));
            assertEquals(part(2), pb.get(k));
            await("b heard it is free", () -> f.events.get(b).contains(new Event.BorrowChanged(k, new BorrowState.Free())));
        }
    }

    @Test
    void aDisconnectedNodeSeesTheRecordFreeOrHeldByItsNewHolderOnReconnect() {
        try (SyncFixture f = new SyncFixture(dir)) {
            SyncFixture.HeldByA held = f.heldByA();
            Cairn a = held.a(), b = held.b(), c = held.c();
            Tree<Part> pa = held.pa(), pb = held.pb(), pc = held.pc();
            Key<Part> free = held.key();
            Key<Part> handedOn = pa.insert(part(3));
            await("b and c have it", () -> pb.contains(handedOn) && pc.contains(handedOn));
            pa.checkOut(handedOn).orTimeout(10, TimeUnit.SECONDS).join();
            await("b sees a hold both", () -> pb.borrowState(free) instanceof BorrowState.HeldBy
                && pb.borrowState(handedOn) instanceof BorrowState.HeldBy);

            b.disconnect();
            pa.checkIn(free);
            pa.checkIn(handedOn);
            pc.checkOut(handedOn).orTimeout(10, TimeUnit.SECONDS).join();
            await("the server lists one free, the other held by c", () -> f.checkOutOf(free) == null
                && f.checkOutOf(handedOn) != null && f.checkOutOf(handedOn).holder().id().equals(c.nodeId()));

            b.connect("127.0.0.1", f.port()).orTimeout(20, TimeUnit.SECONDS).join();
            assertEquals(new BorrowState.Free(), pb.borrowState(free));
            assertEquals(new BorrowState.HeldBy(c.nodeId(), "c"), pb.borrowState(handedOn));
        }
    }
}
