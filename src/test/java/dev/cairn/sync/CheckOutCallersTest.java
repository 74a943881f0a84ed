package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.BorrowState;
import dev.cairn.Cairn;
import dev.cairn.CairnServer;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several threads of one node wait for the same record (Tree.checkOut, sync-protocol.md §5.4):
 * each gets a future of its own; one ending its wait leaves the node's request to the others,
 * and only the last one's end withdraws it. Before (probe 69), every caller of a node got the
 * same future, so one thread's orTimeout or cancel failed every other thread's wait and withdrew
 * the request, and the node never got the record.
 */
@Timeout(90)
class CheckOutCallersTest {
    @TempDir Path dir;

    @Test
    void oneCallerTimingOutLeavesTheOtherWaitingAndTheGrantCompletesIt() {
        try (SyncFixture f = new SyncFixture(dir)) {
            SyncFixture.HeldByA held = f.heldByA();
            Tree<Part> pb = held.pb();
            Key<Part> k = held.key();

            CompletableFuture<Void> first = pb.checkOut(k);
            CompletableFuture<Void> second = pb.checkOut(k);
            await("b waits", () -> pb.borrowState(k).equals(new BorrowState.Waiting(held.a().nodeId(), 1)));
            CompletionException timedOut = assertThrows(CompletionException.class,
                () -> second.orTimeout(200, TimeUnit.MILLISECONDS).join());
            assertInstanceOf(TimeoutException.class, timedOut.getCause());

            assertFalse(first.isDone(), "the other caller still waits");
            assertEquals(List.of(held.b().nodeId()), queue(f, k), "b is still in the queue");
            assertNotSame(first, second, "each caller has a future of its own");
            held.pa().checkIn(k);
            first.orTimeout(10, TimeUnit.SECONDS).join();
            assertEquals(held.b().nodeId(), f.checkOutOf(k).holder().id(), "b got it for the caller still waiting");
            assertInstanceOf(BorrowState.Mine.class, pb.borrowState(k));
        }
    }

    @Test
    void theLastCallerEndingWithdrawsTheRequestAndTheNextInLineGetsTheRecord() {
        try (SyncFixture f = new SyncFixture(dir)) {
            SyncFixture.HeldByA held = f.heldByA();
            Cairn a = held.a();
            Tree<Part> pb = held.pb(), pc = held.pc();
            Key<Part> k = held.key();
            CompletableFuture<Void> first = pb.checkOut(k);
            CompletableFuture<Void> second = pb.checkOut(k);
            await("b waits first", () -> pb.borrowState(k).equals(new BorrowState.Waiting(a.nodeId(), 1)));
            CompletableFuture<Void> cWaits = pc.checkOut(k);
            await("c waits second", () -> pc.borrowState(k).equals(new BorrowState.Waiting(a.nodeId(), 2)));

            assertTrue(first.cancel(true));
            assertFalse(second.isDone());
            CompletableFuture<Void> third = pb.checkOut(k);
            assertTrue(third.complete(null), "a caller going on without the record");
            assertEquals(List.of(held.b().nodeId(), held.c().nodeId()), queue(f, k), "b stays queued for the second");

            assertTrue(second.completeExceptionally(new IllegalStateException("gave up")));
            await("c moves up", () -> pc.borrowState(k).equals(new BorrowState.Waiting(a.nodeId(), 1)));
            held.pa().checkIn(k);
            cWaits.orTimeout(10, TimeUnit.SECONDS).join();
            assertEquals(held.c().nodeId(), f.checkOutOf(k).holder().id(), "c, not b whose callers all ended, holds it");
        }
    }

    /**
     * A check-out belongs to the node: another thread's checkIn while the node waits gives up its
     * place for every caller, each of which is told so. Before, they got a bare "CancellationException: get".
     */
    @Test
    void aCheckInByAnotherThreadEndsEveryCallersWaitSayingSo() throws InterruptedException {
        try (SyncFixture f = new SyncFixture(dir)) {
            SyncFixture.HeldByA held = f.heldByA();
            Tree<Part> pb = held.pb();
            Key<Part> k = held.key();
            CompletableFuture<Void> first = pb.checkOut(k);
            CompletableFuture<Void> second = pb.checkOut(k);
            await("b waits", () -> pb.borrowState(k).equals(new BorrowState.Waiting(held.a().nodeId(), 1)));

            Thread other = Thread.ofPlatform().start(() -> pb.checkIn(k));
            other.join(10_000);

            String why = "check-out of " + k + ": this node checked the record in while this call waited for it (a "
                + "check-out belongs to the node, not to a thread: a checkIn by any of its threads gives up its place "
                + "in the queue for all of them; call checkOut again to wait again)";
            assertEquals(why, assertThrows(CancellationException.class, first::join).getMessage());
            assertEquals(why, assertThrows(CancellationException.class, () -> second.get(1, TimeUnit.SECONDS)).getMessage());
            assertEquals(why, assertThrows(CancellationException.class, second::get).getMessage());
            assertTrue(first.isCancelled());
            await("b left the queue", () -> queue(f, k).isEmpty());
        }
    }

    /** The nodes queued on the server for {@code k}, in order. */
    private static List<UUID> queue(SyncFixture f, Key<?> k) {
        CairnServer.CheckOut c = f.checkOutOf(k);
        return c == null ? List.of() : c.queue().stream().map(CairnServer.Node::id).toList();
    }
}
