package dev.cairn;

import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventsTest {
    @TempDir Path dir;

    static void await(CountDownLatch latch) throws InterruptedException {
        assertTrue(latch.await(20, TimeUnit.SECONDS), "timed out waiting for events");
    }

    @Test
    void eventsArriveAfterCommitInCommitOrder() throws Exception {
        try (Cairn db = Cairn.open(dir)) {
            Tree<Part> parts = db.tree(Part.class);
            List<Event> got = new CopyOnWriteArrayList<>();
            List<Boolean> visible = new CopyOnWriteArrayList<>();
            CountDownLatch done = new CountDownLatch(7);
            CountDownLatch firstSeen = new CountDownLatch(1);
            AutoCloseable sub = db.subscribe(e -> {
                if (e instanceof Event.RecordChanged(Key<?> key, ChangeKind kind, boolean remote)
                    && kind == ChangeKind.CREATED) {
                    @SuppressWarnings("unchecked")
                    Key<Part> k = (Key<Part>) key;
                    visible.add(parts.contains(k));
                }
                got.add(e);
                done.countDown();
                firstSeen.countDown();
            });
            Key<Part> a = parts.insert(part(1));
            // The listener runs on its own thread: let it see a's creation before a is removed
            // below, or "visible" would race with the remove instead of testing delivery order.
            await(firstSeen);
            parts.checkOut(a).join();
            parts.update(a, part(2));
            List<Key<Part>> two = parts.insertAll(List.of(part(3), part(4)));
            parts.remove(a);
            await(done);
            List<Event> expected = List.of(
                new Event.RecordChanged(a, ChangeKind.CREATED, false),
                new Event.BorrowChanged(a, new BorrowState.Mine()),
                new Event.RecordChanged(a, ChangeKind.CHANGED, false),
                new Event.RecordChanged(two.get(0), ChangeKind.CREATED, false),
                new Event.RecordChanged(two.get(1), ChangeKind.CREATED, false),
                new Event.RecordChanged(a, ChangeKind.REMOVED, false),
                new Event.BorrowChanged(a, new BorrowState.Free()));
            assertEquals(expected, got);
            assertEquals(List.of(true, true, true), visible);
            sub.close();
        }
    }

    @Test
    void eventsOfARolledBackBatchAreNeverDelivered() throws Exception {
        try (Cairn db = Cairn.open(dir)) {
            Tree<Part> parts = db.tree(Part.class);
            List<Event> got = new CopyOnWriteArrayList<>();
            CountDownLatch one = new CountDownLatch(1);
            db.subscribe(e -> { got.add(e); one.countDown(); });
            try {
                db.write(() -> {
                    parts.insert(part(1));
                    throw new IllegalStateException("rollback");
                });
            } catch (IllegalStateException expected) {
                // The batch is rolled back.
            }
            Key<Part> k = parts.insert(part(2));
            await(one);
            Thread.sleep(50);
            assertEquals(List.of(new Event.RecordChanged(k, ChangeKind.CREATED, false)), got);
        }
    }

    @Test
    void aSlowSubscriberOverflowsWithASignalWhileTheWriterAndOthersGoOn() throws Exception {
        try (Cairn db = Cairn.open(dir, Cairn.Options.defaults().withEventBufferEvents(16))) {
            Tree<Part> parts = db.tree(Part.class);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<EventsLostException> lost = new CompletableFuture<>();
            db.subscribe(e -> {
                try {
                    release.await();
                } catch (InterruptedException x) {
                    Thread.currentThread().interrupt();
                }
            }, lost::complete);
            List<Event> fast = new CopyOnWriteArrayList<>();
            CountDownLatch fastDone = new CountDownLatch(100);
            List<Part> batch = new ArrayList<>();
            for (int i = 0; i < 10; i++) batch.add(part(i));
            db.subscribe(e -> { fast.add(e); fastDone.countDown(); }, x -> { });
            // Ten batches of ten: the fast subscriber's buffer takes a whole batch at once.
            for (int i = 0; i < 10; i++) {
                parts.insertAll(batch);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (fast.size() < (i + 1) * 10 && System.nanoTime() < deadline) Thread.sleep(1);
            }
            await(fastDone);
            release.countDown();
            EventsLostException e = lost.get(20, TimeUnit.SECONDS);
            assertTrue(e.getMessage().contains("are dropped, as is every later one"), e.getMessage());
            assertEquals(100, parts.size());
        }
    }

    @Test
    void unsubscribedListenerHearsNothingMoreAndFlowSubscribersCompleteOnClose() throws Exception {
        Cairn db = Cairn.open(dir);
        Tree<Part> parts = db.tree(Part.class);
        List<Event> got = new CopyOnWriteArrayList<>();
        CountDownLatch first = new CountDownLatch(1);
        AutoCloseable sub = db.subscribe(e -> { got.add(e); first.countDown(); });
        Key<Part> a = parts.insert(part(1));
        await(first);
        sub.close();
        parts.insert(part(2));
        CountDownLatch completed = new CountDownLatch(1);
        List<Event> flowGot = new CopyOnWriteArrayList<>();
        db.events().subscribe(new Flow.Subscriber<Event>() {
            @Override public void onSubscribe(Flow.Subscription s) { s.request(Long.MAX_VALUE); }
            @Override public void onNext(Event item) { flowGot.add(item); }
            @Override public void onError(Throwable t) { }
            @Override public void onComplete() { completed.countDown(); }
        });
        Thread.sleep(50);
        Key<Part> c = parts.insert(part(3));
        db.close();
        await(completed);
        assertEquals(List.of(new Event.RecordChanged(a, ChangeKind.CREATED, false)), got);
        assertEquals(List.of(new Event.RecordChanged(c, ChangeKind.CREATED, false)), flowGot);
    }
}
