package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.BorrowState;
import dev.cairn.Cairn;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The application's stages on the futures of connect and checkOut may write and block: they
 * ran on the sync link thread inside the commit of the grant, where an update failed
 * ("transaction N is closed") and a wait for a grant waited for the link itself.
 */
@Timeout(90)
class FutureCallbackTest {
    @TempDir Path dir;

    @Test
    void aCheckOutGrantedLaterRunsItsCallbackWhereItMayUpdateAndCheckIn() {
        try (SyncFixture f = new SyncFixture(dir)) {
            SyncFixture.HeldByA held = f.heldByA();
            Cairn a = held.a(), b = held.b(), c = held.c();
            Tree<Part> pa = held.pa(), pb = held.pb(), pc = held.pc();
            Key<Part> k = held.key();
            AtomicReference<String> thread = new AtomicReference<>();
            CompletableFuture<Void> bDone = pb.checkOut(k).thenRun(() -> {
                thread.set(Thread.currentThread().getName());
                pb.update(k, part(2));
                pb.checkIn(k);
            });
            await("b waits first", () -> pb.borrowState(k) instanceof BorrowState.Waiting w && w.position() == 1);
            CompletableFuture<Void> cWaits = pc.checkOut(k);
            await("c waits second", () -> pc.borrowState(k) instanceof BorrowState.Waiting w && w.position() == 2);
            assertFalse(bDone.isDone(), "b's check-out waits for a");

            pa.checkIn(k);
            bDone.orTimeout(10, TimeUnit.SECONDS).join();
            assertEquals(part(2), pb.get(k), "the callback's update was made");
            assertTrue(thread.get().startsWith("cairn-callback-"), thread.get());
            cWaits.orTimeout(10, TimeUnit.SECONDS).join();
            assertInstanceOf(BorrowState.Mine.class, pc.borrowState(k), "b's check-in handed the record on to c");
            await("c has b's change", () -> pc.get(k).equals(part(2)));
        }
    }

    @Test
    void connectsCallbackMayCheckOutAndWaitForTheGrant() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.open("a");
            Tree<Part> pa = a.tree(Part.class);
            Key<Part> k = a.connect("127.0.0.1", f.port()).thenApply(v -> {
                Key<Part> inserted = pa.insert(part(1));
                pa.checkOut(inserted).join();
                pa.update(inserted, part(2));
                return inserted;
            }).orTimeout(20, TimeUnit.SECONDS).join();
            assertEquals(part(2), pa.get(k), "the callback checked out and updated the record");
            assertInstanceOf(BorrowState.Mine.class, pa.borrowState(k));
            Cairn b = f.connected("b");
            Tree<Part> pb = b.tree(Part.class);
            await("the change reached another node", () -> pb.contains(k) && pb.get(k).equals(part(2)));
            await("it sees a hold the record", () -> pb.borrowState(k) instanceof BorrowState.HeldBy h
                && h.node().equals(a.nodeId()));
        }
    }

    /**
     * A check-out already granted (a standalone database grants at once) runs a stage added
     * inside a write batch at once, in that batch: run on a thread of its own, its update waited
     * for the batch while the batch waited for it, for ever.
     */
    @Test
    void aStageOnAGrantedCheckOutRunsInTheCallersBatch() throws Exception {
        try (Cairn db = Cairn.open(dir.resolve("standalone"))) {
            Tree<Part> parts = db.tree(Part.class);
            Key<Part> k = parts.insert(part(1));
            db.write(() -> parts.checkOut(k).thenRun(() -> parts.update(k, part(2))).orTimeout(10, TimeUnit.SECONDS).join());
            assertEquals(part(2), parts.get(k));
        }
    }

    /**
     * A stage of a check-out the server has yet to grant, waited for inside a write batch, fails
     * at once as a wait for the check-out itself does (the grant cannot come before the batch
     * ends), and withdraws the request. Before, {@code join} of the stage waited for ever.
     */
    @Test
    void waitingForAStageOfAPendingCheckOutInsideAWriteBatchFailsSayingWhy() {
        try (SyncFixture f = new SyncFixture(dir)) {
            SyncFixture.HeldByA held = f.heldByA();
            Tree<Part> pa = held.pa(), pb = held.pb();
            Key<Part> k = held.key();
            AtomicReference<CompletableFuture<Void>> stage = new AtomicReference<>();
            long start = System.nanoTime();
            CompletableFuture<Void> attempt = CompletableFuture.runAsync(() -> held.b().write(() -> {
                stage.set(pb.checkOut(k).thenRun(() -> pb.update(k, part(2))).thenApply(v -> v));
                // the timed wait first: on a Cairn that waits, it ends the batch after 5 s instead of hanging
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> stage.get().get(5, TimeUnit.SECONDS));
                assertTrue(e.getMessage().startsWith("waiting for a stage of the check-out of " + k + " inside a write batch"),
                    e.getMessage());
                assertInstanceOf(IllegalStateException.class, assertThrows(java.util.concurrent.CompletionException.class,
                    () -> stage.get().join()).getCause(), "the stage failed with the check-out");
            }));
            attempt.orTimeout(20, TimeUnit.SECONDS).join();
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(4), "the waits failed at once");

            pa.checkIn(k);
            await("the record is free: b's request was withdrawn", () -> f.checkOutOf(k) == null);
            assertEquals(part(1), pb.get(k), "the stage never ran");
        }
    }
}
