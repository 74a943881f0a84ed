package dev.cairn.db;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The reads running in one database ({@link Database#read}), counted so that its close can wait
 * for them to end: asleep, woken as each read ends, never spinning.
 *
 * <ul>
 *   <li>{@link #enter} and {@link #exit} pair up on every read; the count is never below 0.
 *   <li>Once {@link #awaitNone} began, every {@link #exit} wakes it; before, an exit costs one
 *       volatile read beyond the count (reads are the hot path).
 *   <li>A wake-up lost to a race (an exit that read the flag before the close set it) costs at
 *       most one poll interval, not the whole bound.
 * </ul>
 */
final class RunningReads {
    /** The longest a close sleeps between looks at the count, whatever woke it or not. */
    private static final long POLL_MILLIS = 100;

    private final LongAdder running = new LongAdder();
    private volatile boolean awaited;

    void enter() {
        running.increment();
    }

    void exit() {
        running.decrement();
        if (awaited) {
            synchronized (this) {
                notifyAll();
            }
        }
    }

    /**
     * Waits until no read runs, at most {@code millis}; an interrupt does not cut the wait short
     * (the reads would lose their pages), and is set again on return.
     *
     * @return true when none runs, false when reads still ran after {@code millis}
     */
    boolean awaitNone(long millis) {
        awaited = true;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        boolean interrupted = false;
        try {
            synchronized (this) {
                while (running.sum() > 0) {
                    long leftNanos = deadline - System.nanoTime();
                    if (leftNanos <= 0) return false;
                    try {
                        wait(Math.clamp(TimeUnit.NANOSECONDS.toMillis(leftNanos), 1, POLL_MILLIS));
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                return true;
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }
}
