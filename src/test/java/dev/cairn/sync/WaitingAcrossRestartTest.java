package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.BorrowState;
import dev.cairn.Cairn;
import dev.cairn.CairnServer;
import dev.cairn.ChangeKind;
import dev.cairn.Event;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A check-out request belongs to the process that made it (sync-protocol.md §5.4): a node
 * closed offline (or killed) while it waited leaves the queue at its next link, gives back a record handed to it
 * meanwhile, and a reconnect repeats the holder it knew without an event. Before: the node gave
 * such a record back but showed its holder without a name, took one handed to it after the
 * restart (BorrowChanged Mine for a record nobody asked for), stayed in the queue for good, and
 * every restart re-published BorrowChanged for records held by others.
 */
@Timeout(90)
class WaitingAcrossRestartTest {
    @TempDir Path dir;

    /** The events of {@code c} published before the event of an insert made now: what its link did so far. */
    private static List<Event> eventsSoFar(SyncFixture f, Cairn c) {
        Key<Part> marker = c.tree(Part.class).insert(part(99));
        Event made = new Event.RecordChanged(marker, ChangeKind.CREATED, false);
        List<Event> events = f.events.get(c);
        await("the marker's event", () -> events.contains(made));
        // A copy first: a subList of the live list fails (ConcurrentModificationException) when
        // the link's thread adds an event meanwhile.
        List<Event> copy = List.copyOf(events);
        return copy.subList(0, copy.indexOf(made));
    }

    private static List<Event> borrowEvents(List<Event> events) {
        return events.stream().filter(e -> e instanceof Event.BorrowChanged).toList();
    }

    /** A holds {@code k}; b waits for it, then is closed offline. */
    private static Key<Part> bWaitsAndCloses(SyncFixture f, Cairn a, Cairn b) {
        Tree<Part> pa = a.tree(Part.class);
        Tree<Part> pb = b.tree(Part.class);
        Key<Part> k = pa.insert(part(1));
        await("b has it", () -> pb.contains(k));
        pa.checkOut(k).orTimeout(10, TimeUnit.SECONDS).join();
        CompletableFuture<Void> waits = pb.checkOut(k);
        await("b waits", () -> pb.borrowState(k).equals(new BorrowState.Waiting(a.nodeId(), 1)));
        // Offline at the close (as after a crash): a close while connected leaves the queue at once.
        b.disconnect();
        b.close();
        assertTrue(waits.isCompletedExceptionally());
        return k;
    }

    @Test
    void aNodeClosedWhileWaitingGivesBackTheRecordHandedToItMeanwhile() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            java.util.UUID bId = b.nodeId();
            Key<Part> k = bWaitsAndCloses(f, a, b);
            a.tree(Part.class).checkIn(k);
            await("the server hands it to b, which is down", () -> f.checkOutOf(k) != null
                && f.checkOutOf(k).holder().id().equals(bId));

            Cairn b2 = f.open("b");
            Tree<Part> pb = b2.tree(Part.class);
            assertEquals(new BorrowState.HeldBy(a.nodeId(), "a"), pb.borrowState(k), "the holder b was told of, named");
            b2.connect("127.0.0.1", f.port()).orTimeout(20, TimeUnit.SECONDS).join();
            await("b gave it back", () -> f.checkOutOf(k) == null);
            await("b sees it free", () -> pb.borrowState(k).equals(new BorrowState.Free()));
            assertEquals(List.of(new Event.BorrowChanged(k, new BorrowState.Free())), borrowEvents(eventsSoFar(f, b2)));
        }
    }

    @Test
    void aNodeClosedWhileWaitingLeavesTheQueueAtItsNextLink() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            java.util.UUID bId = b.nodeId();
            Key<Part> k = bWaitsAndCloses(f, a, b);
            assertEquals(List.of(new CairnServer.Node(bId, "b")), f.checkOutOf(k).queue(), "still queued");

            Cairn b2 = f.open("b");
            Tree<Part> pb = b2.tree(Part.class);
            b2.connect("127.0.0.1", f.port()).orTimeout(20, TimeUnit.SECONDS).join();
            await("b left the queue", () -> f.checkOutOf(k).queue().isEmpty());
            assertEquals(new BorrowState.HeldBy(a.nodeId(), "a"), pb.borrowState(k));
            Tree<Part> pa = a.tree(Part.class);
            pa.checkIn(k);
            await("free: nobody waits", () -> f.checkOutOf(k) == null);
            await("b sees it free", () -> pb.borrowState(k).equals(new BorrowState.Free()));
            assertEquals(List.of(new Event.BorrowChanged(k, new BorrowState.Free())), borrowEvents(eventsSoFar(f, b2)),
                "no Waiting and no Mine for a record this process never asked for");
        }
    }

    @Test
    void aRestartRepeatsTheHolderItKnewWithoutAnEvent() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            Tree<Part> pa = a.tree(Part.class);
            Key<Part> k = pa.insert(part(1));
            pa.checkOut(k).orTimeout(10, TimeUnit.SECONDS).join();
            await("b sees a hold it", () -> b.tree(Part.class).borrowState(k).equals(new BorrowState.HeldBy(a.nodeId(), "a")));
            b.close();
            Cairn b2 = f.open("b");
            b2.connect("127.0.0.1", f.port()).orTimeout(20, TimeUnit.SECONDS).join();
            assertEquals(List.of(), borrowEvents(eventsSoFar(f, b2)));
            assertEquals(new BorrowState.HeldBy(a.nodeId(), "a"), b2.tree(Part.class).borrowState(k));
        }
    }
}
