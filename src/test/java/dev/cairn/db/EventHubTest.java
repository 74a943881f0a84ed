package dev.cairn.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.ChangeKind;
import dev.cairn.Event;
import dev.cairn.EventsLostException;
import dev.cairn.Key;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class EventHubTest {
    static Event changed(int id) {
        return new Event.RecordChanged(new Key<>("T", id, 0), ChangeKind.CHANGED, false);
    }

    static void await(CountDownLatch latch) throws InterruptedException {
        assertTrue(latch.await(10, TimeUnit.SECONDS), "timed out");
    }

    @Test
    void listenersReceiveEveryEventInPublishOrder() throws Exception {
        EventHub hub = new EventHub(1000);
        List<Event> got = new CopyOnWriteArrayList<>();
        CountDownLatch all = new CountDownLatch(500);
        hub.subscribe(e -> { got.add(e); all.countDown(); }, lost -> { throw new AssertionError(lost); });
        List<Event> sent = new ArrayList<>();
        for (int i = 0; i < 250; i++) {
            List<Event> batch = List.of(changed(2 * i), changed(2 * i + 1));
            sent.addAll(batch);
            hub.publish(batch);
        }
        await(all);
        assertEquals(sent, got);
        hub.close();
    }

    /**
     * A listener that throws on every event keeps its subscription and gets every event, and is
     * logged once (with the stack trace), not once per event (probe 76: 264,576 lines in 20 s).
     */
    @Test
    void aListenerThatKeepsThrowingIsLoggedOnceAMinuteAndKeepsGettingEvents() throws Exception {
        try (dev.cairn.testing.LogLines log = new dev.cairn.testing.LogLines(EventHub.class)) {
            EventHub hub = new EventHub(1000);
            CountDownLatch all = new CountDownLatch(300);
            hub.subscribe(e -> {
                all.countDown();
                throw new IllegalStateException("listener bug");
            }, lost -> { throw new AssertionError(lost); });
            for (int i = 0; i < 300; i++) hub.publish(List.of(changed(i)));
            await(all);
            hub.close();
            assertEquals(1, log.containing("event listener threw").size(), log.lines.toString());
            assertTrue(log.records.getFirst().getThrown() != null, "the first carries the stack trace");
        }
    }

    @Test
    void slowSubscriberOverflowsWithASignalWhileOthersAndTheWriterGoOn() throws Exception {
        EventHub hub = new EventHub(10);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch firstSeen = new CountDownLatch(1);
        CompletableFuture<EventsLostException> lostSignal = new CompletableFuture<>();
        List<Event> slowGot = new CopyOnWriteArrayList<>();
        hub.subscribe(e -> {
            slowGot.add(e);
            firstSeen.countDown();
            try {
                release.await();
            } catch (InterruptedException x) {
                Thread.currentThread().interrupt();
            }
        }, lostSignal::complete);
        java.util.concurrent.Semaphore fastSeen = new java.util.concurrent.Semaphore(0);
        hub.subscribe(e -> fastSeen.release(), lost -> { throw new AssertionError(lost); });
        hub.publish(List.of(changed(0)));
        await(firstSeen);
        assertTrue(fastSeen.tryAcquire(10, TimeUnit.SECONDS));
        for (int i = 1; i < 100; i++) {
            long start = System.nanoTime();
            hub.publish(List.of(changed(i)));
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(1), "writer was blocked");
            // The fast subscriber keeps receiving while the slow one is stuck.
            assertTrue(fastSeen.tryAcquire(10, TimeUnit.SECONDS), "fast subscriber stalled at " + i);
        }
        release.countDown();
        EventsLostException lost = lostSignal.get(10, TimeUnit.SECONDS);
        assertEquals(List.of(changed(0)), slowGot.subList(0, 1));
        assertTrue(slowGot.size() <= 11, "received " + slowGot.size());
        // It says that no later event comes either (probe 123), and counts those that had come.
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("the subscription ended, and the (\\d+) events it had not"
            + " received are dropped, as is every later one").matcher(lost.getMessage());
        assertTrue(m.find(), lost.getMessage());
        assertTrue(Integer.parseInt(m.group(1)) > 10, lost.getMessage());
        assertEquals(1, hub.subscriberCount());
        hub.close();
    }

    /** One commit of more events than the buffer is no sign of a slow subscriber (probe: a 70,000-record insertAll ended every subscription). */
    @Test
    void aCommitLargerThanTheBufferReachesASubscriberThatKeepsUp() throws Exception {
        EventHub hub = new EventHub(10);
        java.util.concurrent.Semaphore seen = new java.util.concurrent.Semaphore(0);
        List<Event> got = new CopyOnWriteArrayList<>();
        hub.subscribe(e -> {
            got.add(e);
            seen.release();
        }, lost -> { throw new AssertionError(lost); });
        for (int round = 0; round < 3; round++) {
            List<Event> commit = java.util.stream.IntStream.range(round * 50, round * 50 + 50).mapToObj(EventHubTest::changed).toList();
            hub.publish(commit);
            assertTrue(seen.tryAcquire(50, 10, TimeUnit.SECONDS), "round " + round + ": got " + got.size());
        }
        assertEquals(java.util.stream.IntStream.range(0, 150).mapToObj(EventHubTest::changed).toList(), got);
        assertEquals(1, hub.subscriberCount());
        hub.close();
    }

    @Test
    void unsubscribedListenerReceivesNothingMore() throws Exception {
        EventHub hub = new EventHub(100);
        List<Event> got = new CopyOnWriteArrayList<>();
        CountDownLatch one = new CountDownLatch(1);
        AutoCloseable sub = hub.subscribe(e -> { got.add(e); one.countDown(); }, lost -> { });
        hub.publish(List.of(changed(1)));
        await(one);
        sub.close();
        assertEquals(0, hub.subscriberCount());
        hub.publish(List.of(changed(2)));
        CountDownLatch other = new CountDownLatch(1);
        hub.subscribe(e -> other.countDown(), lost -> { });
        hub.publish(List.of(changed(3)));
        await(other);
        assertEquals(List.of(changed(1)), got);
        hub.close();
    }

    @Test
    void flowSubscriberGetsOnlyWhatItRequestsAndCompletesOnClose() throws Exception {
        EventHub hub = new EventHub(100);
        List<Object> signals = new CopyOnWriteArrayList<>();
        CompletableFuture<Flow.Subscription> subscription = new CompletableFuture<>();
        CountDownLatch two = new CountDownLatch(2);
        CountDownLatch done = new CountDownLatch(1);
        hub.subscribe(new Flow.Subscriber<Event>() {
            @Override public void onSubscribe(Flow.Subscription s) { subscription.complete(s); }
            @Override public void onNext(Event item) { signals.add(item); two.countDown(); }
            @Override public void onError(Throwable t) { signals.add(t); done.countDown(); }
            @Override public void onComplete() { signals.add("complete"); done.countDown(); }
        });
        Flow.Subscription s = subscription.get(10, TimeUnit.SECONDS);
        hub.publish(List.of(changed(1), changed(2), changed(3)));
        s.request(2);
        await(two);
        Thread.sleep(50);
        assertEquals(List.of(changed(1), changed(2)), signals);
        s.request(1);
        hub.close();
        await(done);
        assertEquals(List.of(changed(1), changed(2), changed(3), "complete"), signals);
    }

    @Test
    void badRequestEndsTheSubscriptionWithAnError() throws Exception {
        EventHub hub = new EventHub(100);
        CompletableFuture<Throwable> error = new CompletableFuture<>();
        hub.subscribe(new Flow.Subscriber<Event>() {
            @Override public void onSubscribe(Flow.Subscription s) { s.request(0); }
            @Override public void onNext(Event item) { }
            @Override public void onError(Throwable t) { error.complete(t); }
            @Override public void onComplete() { }
        });
        assertInstanceOf(IllegalArgumentException.class, error.get(10, TimeUnit.SECONDS));
        hub.close();
    }
}
