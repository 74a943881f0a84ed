package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.BorrowState;
import dev.cairn.Cairn;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Path;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cancelling a waiting check-out (a GUI's cancel button, cancel(true) of the task waiting on it)
 * withdraws the request, as a check-in does. Before (probe 35): the request stayed queued, the
 * record was later handed to the node that no longer waited for it, and the next holder's
 * request queued behind it. Ending the wait otherwise (orTimeout, completeExceptionally) withdraws
 * it too. Before (probe 56): the application saw a TimeoutException, but its node stayed in the
 * queue and was later handed the record.
 */
@Timeout(90)
class CancelCheckOutTest {
    @TempDir Path dir;

    /** a checks the record in: c, waiting behind the b whose wait ended, gets it ({@code who}), and b sees c hold it. */
    private static void aChecksInAndCHoldsIt(SyncFixture f, SyncFixture.HeldByA held, CompletableFuture<Void> cWaits, String who) {
        Key<Part> k = held.key();
        held.pa().checkIn(k);
        cWaits.orTimeout(10, TimeUnit.SECONDS).join();
        assertEquals(held.c().nodeId(), f.checkOutOf(k).holder().id(), who);
        await("b sees c hold it", () -> held.pb().borrowState(k) instanceof BorrowState.HeldBy h
            && h.node().equals(held.c().nodeId()));
    }

    @Test
    void aCancelledWaitLeavesTheQueueAndTheRecordGoesToTheNextInLine() {
        try (SyncFixture f = new SyncFixture(dir)) {
            SyncFixture.HeldByA held = f.heldByA();
            Cairn a = held.a();
            Tree<Part> pb = held.pb(), pc = held.pc();
            Key<Part> k = held.key();

            CompletableFuture<Void> bWaits = pb.checkOut(k);
            await("b waits first", () -> pb.borrowState(k).equals(new BorrowState.Waiting(a.nodeId(), 1)));
            CompletableFuture<Void> cWaits = pc.checkOut(k);
            await("c waits second", () -> pc.borrowState(k).equals(new BorrowState.Waiting(a.nodeId(), 2)));

            assertTrue(bWaits.cancel(true));
            assertThrows(CancellationException.class, bWaits::join);
            await("c moves up", () -> pc.borrowState(k).equals(new BorrowState.Waiting(a.nodeId(), 1)));

            aChecksInAndCHoldsIt(f, held, cWaits, "c, not the cancelled b, holds it");
        }
    }

    @Test
    void aTimedOutWaitLeavesTheQueueAndTheCheckInLeavesTheRecordFree() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            Tree<Part> pa = a.tree(Part.class);
            Tree<Part> pb = b.tree(Part.class);
            Key<Part> k = pb.insert(part(1));
            await("a has it", () -> pa.contains(k));
            pb.checkOut(k).orTimeout(10, TimeUnit.SECONDS).join();

            CompletableFuture<Void> aWaits = pa.checkOut(k).orTimeout(300, TimeUnit.MILLISECONDS);
            CompletionException e = assertThrows(CompletionException.class, aWaits::join);
            assertTrue(e.getCause() instanceof TimeoutException, "timed out: " + e.getCause());
            await("a left the queue", () -> pa.borrowState(k) instanceof BorrowState.HeldBy h && h.node().equals(b.nodeId()));

            pb.checkIn(k);
            await("b's check-in leaves it free", () -> f.checkOutOf(k) == null
                && pa.borrowState(k) instanceof BorrowState.Free && pb.borrowState(k) instanceof BorrowState.Free);
        }
    }

    @Test
    void aWaitTheApplicationFailedLeavesTheQueueAndTheRecordGoesToTheNextInLine() {
        try (SyncFixture f = new SyncFixture(dir)) {
            SyncFixture.HeldByA held = f.heldByA();
            Cairn a = held.a();
            Tree<Part> pb = held.pb(), pc = held.pc();
            Key<Part> k = held.key();

            CompletableFuture<Void> bWaits = pb.checkOut(k);
            await("b waits first", () -> pb.borrowState(k).equals(new BorrowState.Waiting(a.nodeId(), 1)));
            CompletableFuture<Void> cWaits = pc.checkOut(k);
            await("c waits second", () -> pc.borrowState(k).equals(new BorrowState.Waiting(a.nodeId(), 2)));

            assertTrue(bWaits.completeExceptionally(new IllegalStateException("gave up")));
            await("c moves up", () -> pc.borrowState(k).equals(new BorrowState.Waiting(a.nodeId(), 1)));

            aChecksInAndCHoldsIt(f, held, cWaits, "c, not the failed b, holds it");
        }
    }

    /**
     * {@code completeOnTimeout} ends the wait with a value: the application goes on without the
     * record, so the request leaves the queue too. Before, the node stayed queued and was later
     * handed the record, which then blocked the node behind it.
     */
    @Test
    void aWaitTheApplicationCompletedLeavesTheQueueAndTheRecordGoesToTheNextInLine() {
        try (SyncFixture f = new SyncFixture(dir)) {
            SyncFixture.HeldByA held = f.heldByA();
            Cairn a = held.a();
            Tree<Part> pb = held.pb(), pc = held.pc();
            Key<Part> k = held.key();

            CompletableFuture<Void> bWaits = pb.checkOut(k).completeOnTimeout(null, 300, TimeUnit.MILLISECONDS);
            await("b waits first", () -> bWaits.isDone() || pb.borrowState(k).equals(new BorrowState.Waiting(a.nodeId(), 1)));
            CompletableFuture<Void> cWaits = pc.checkOut(k);
            bWaits.orTimeout(10, TimeUnit.SECONDS).join();
            assertThrows(dev.cairn.NotCheckedOutException.class, () -> pb.update(k, part(3)), "b goes on without the record");
            await("c is first in line", () -> pc.borrowState(k).equals(new BorrowState.Waiting(a.nodeId(), 1)));

            aChecksInAndCHoldsIt(f, held, cWaits, "c, not b, holds it");
        }
    }

    /**
     * A request withdrawn while offline leaves the holder this node knows: the record stays held
     * by it. Before (probe 67), the withdrawal deleted the holder's row, and the node showed the
     * record Free until its next link.
     */
    @Test
    void aWaitEndedOfflineLeavesTheRecordHeldByItsHolder() {
        try (SyncFixture f = new SyncFixture(dir)) {
            SyncFixture.HeldByA held = f.heldByA();
            Cairn a = held.a(), b = held.b();
            Tree<Part> pb = held.pb();
            Key<Part> k = held.key();
            await("b sees a hold it", () -> pb.borrowState(k).equals(new BorrowState.HeldBy(a.nodeId(), "a")));
            b.disconnect();
            CompletableFuture<Void> offline = pb.checkOut(k);
            assertTrue(offline.cancel(true));
            assertEquals(new BorrowState.HeldBy(a.nodeId(), "a"), pb.borrowState(k));
            CompletableFuture<Void> again = pb.checkOut(k).completeOnTimeout(null, 50, TimeUnit.MILLISECONDS);
            again.orTimeout(10, TimeUnit.SECONDS).join();
            assertEquals(new BorrowState.HeldBy(a.nodeId(), "a"), pb.borrowState(k));
        }
    }
}
