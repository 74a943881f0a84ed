package dev.cairn.db;

import dev.cairn.Event;
import dev.cairn.EventsLostException;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Delivers committed events to subscribers (spec/database-layout.md §7).
 *
 * <ul>
 *   <li>{@link #publish} is called by the single writer after each commit, so every subscriber
 *       receives events in commit order.
 *   <li>Each subscriber has a bounded buffer and its own (virtual) delivery thread: publishing
 *       only appends under that subscriber's short lock and never waits for a consumer, so a
 *       slow subscriber blocks neither the writer nor the other subscribers.
 *   <li>Overflow: when a commit's events find more than {@code bufferEvents} events of earlier
 *       commits still undelivered to a subscriber, that subscription ends. Its backlog is dropped
 *       and it receives {@code onError(EventsLostException)} saying how many events it lost; it
 *       never silently misses an event and then carries on. A commit's events are taken whole,
 *       so a subscriber that keeps up gets even a commit larger than the buffer.
 * </ul>
 */
public final class EventHub implements Flow.Publisher<Event> {
    private static final System.Logger LOG = System.getLogger(EventHub.class.getName());
    private static final AtomicLong THREAD_NUMBER = new AtomicLong();
    /** How often a listener that keeps throwing is logged again. */
    private static final long WARN_EVERY_NANOS = 60_000_000_000L;

    private final int bufferEvents;
    private final CopyOnWriteArrayList<Delivery> deliveries = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    public EventHub(int bufferEvents) {
        if (bufferEvents < 1) throw new IllegalArgumentException("bufferEvents " + bufferEvents + " (expected: >= 1)");
        this.bufferEvents = bufferEvents;
    }

    @Override
    public void subscribe(Flow.Subscriber<? super Event> subscriber) {
        Objects.requireNonNull(subscriber, "subscriber");
        Delivery d = new Delivery(subscriber);
        if (closed) {
            d.start();
            d.complete();
            return;
        }
        deliveries.add(d);
        d.start();
    }

    /**
     * A listener with unbounded demand. {@code onLost} receives the overflow signal; the
     * returned handle's {@code close()} unsubscribes.
     */
    public AutoCloseable subscribe(Consumer<Event> listener, Consumer<EventsLostException> onLost) {
        Objects.requireNonNull(listener, "listener");
        Objects.requireNonNull(onLost, "onLost");
        ListenerSubscriber s = new ListenerSubscriber(listener, onLost);
        subscribe(s);
        return s;
    }

    /** Hands committed events to every subscriber; never blocks on a subscriber. */
    public void publish(List<Event> events) {
        if (events.isEmpty()) return;
        for (Delivery d : deliveries) d.offer(events);
    }

    /** Number of live subscriptions. */
    public int subscriberCount() {
        return deliveries.size();
    }

    /** Completes every subscription after its buffered events; later subscribers complete at once. */
    public void close() {
        closed = true;
        for (Delivery d : deliveries) d.complete();
    }

    private final class Delivery implements Flow.Subscription {
        private final Flow.Subscriber<? super Event> subscriber;
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition changed = lock.newCondition();
        private final ArrayDeque<Event> buffer = new ArrayDeque<>();
        private long demand;
        private long lost;
        private boolean cancelled;
        private boolean completing;
        private Throwable badRequest;

        Delivery(Flow.Subscriber<? super Event> subscriber) {
            this.subscriber = subscriber;
        }

        void start() {
            Thread.ofVirtual().name("cairn-events-" + THREAD_NUMBER.incrementAndGet()).start(this::run);
        }

        void offer(List<Event> events) {
            lock.lock();
            try {
                if (cancelled) return;
                if (lost > 0) {
                    lost += events.size();
                    return;
                }
                // Behind = more than bufferEvents events of earlier commits still undelivered. A
                // commit's own events are taken whole, however many: one large commit (a bulk
                // insert, a catch-up batch) is no sign of a slow subscriber.
                if (buffer.size() > bufferEvents) {
                    lost = buffer.size() + events.size();
                    buffer.clear();
                    deliveries.remove(this);
                } else {
                    buffer.addAll(events);
                }
                changed.signal();
            } finally {
                lock.unlock();
            }
        }

        void complete() {
            lock.lock();
            try {
                completing = true;
                changed.signal();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void request(long n) {
            lock.lock();
            try {
                if (n <= 0) {
                    badRequest = new IllegalArgumentException("request(" + n + ") (expected: > 0, Flow §3.9)");
                } else {
                    demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
                }
                changed.signal();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void cancel() {
            lock.lock();
            try {
                cancelled = true;
                buffer.clear();
                changed.signal();
            } finally {
                lock.unlock();
            }
            deliveries.remove(this);
        }

        private void run() {
            try {
                subscriber.onSubscribe(this);
                while (true) {
                    Event next = null;
                    Throwable error = null;
                    boolean done = false;
                    lock.lock();
                    try {
                        while (!cancelled && badRequest == null && lost == 0 && (demand == 0 || buffer.isEmpty())
                            && !(completing && buffer.isEmpty())) {
                            changed.awaitUninterruptibly();
                        }
                        if (cancelled) return;
                        if (badRequest != null) {
                            error = badRequest;
                        } else if (lost > 0) {
                            // It gets no later event either (probe 123: a message that named only these
                            // read as if the later ones had come).
                            error = new EventsLostException("event subscriber fell more than " + bufferEvents
                                + " events behind: the subscription ended, and the " + lost + " events it had not received"
                                + " are dropped, as is every later one"
                                + " (re-read the trees and subscribe again)");
                        } else if (demand > 0 && !buffer.isEmpty()) {
                            next = buffer.poll();
                            if (demand != Long.MAX_VALUE) demand--;
                        } else {
                            done = true;
                        }
                        if (error != null || done) cancelled = true;
                    } finally {
                        lock.unlock();
                    }
                    if (error != null) {
                        deliveries.remove(this);
                        subscriber.onError(error);
                        return;
                    }
                    if (done) {
                        deliveries.remove(this);
                        subscriber.onComplete();
                        return;
                    }
                    subscriber.onNext(next);
                }
            } catch (RuntimeException | Error e) {
                // Flow §2.13: a subscriber that throws is cancelled; nothing else is affected.
                LOG.log(System.Logger.Level.WARNING, "event subscriber threw; its subscription is cancelled", e);
                cancel();
            }
        }
    }

    /** Adapts a plain listener: unbounded demand; overflow goes to {@code onLost}. */
    private static final class ListenerSubscriber implements Flow.Subscriber<Event>, AutoCloseable {
        private final Consumer<Event> listener;
        private final Consumer<EventsLostException> onLost;
        private volatile Flow.Subscription subscription;
        private volatile boolean closed;

        ListenerSubscriber(Consumer<Event> listener, Consumer<EventsLostException> onLost) {
            this.listener = listener;
            this.onLost = onLost;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (closed) s.cancel();
            else s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(Event item) {
            try {
                listener.accept(item);
            } catch (RuntimeException e) {
                threw(item, e);
            }
        }

        /** Times the listener threw since the last warning (delivery thread only). */
        private long thrownSince;
        /** When the last warning went out (delivery thread only). */
        private long warnedNanos;

        /**
         * Logs a listener's exception: the first with its stack trace, then at most one line a
         * minute with the count (probe 76: a listener that threw on every other event wrote
         * 264,576 lines in 20 s).
         */
        private void threw(Event item, RuntimeException e) {
            long now = System.nanoTime();
            if (warnedNanos == 0) {
                LOG.log(System.Logger.Level.WARNING, "event listener threw on " + item + "; delivery goes on"
                    + " (later exceptions of this listener: one line a minute)", e);
                warnedNanos = now;
                return;
            }
            thrownSince++;
            if (now - warnedNanos >= WARN_EVERY_NANOS) {
                LOG.log(System.Logger.Level.WARNING, "event listener threw " + thrownSince + " more time"
                    + (thrownSince == 1 ? "" : "s") + " in the last minute, last on " + item + ": " + e
                    + "; delivery goes on");
                thrownSince = 0;
                warnedNanos = now;
            }
        }

        @Override
        public void onError(Throwable throwable) {
            if (throwable instanceof EventsLostException lostEvents) onLost.accept(lostEvents);
            else LOG.log(System.Logger.Level.WARNING, "event subscription ended", throwable);
        }

        @Override
        public void onComplete() { }

        @Override
        public void close() {
            closed = true;
            Flow.Subscription s = subscription;
            if (s != null) s.cancel();
        }
    }
}
