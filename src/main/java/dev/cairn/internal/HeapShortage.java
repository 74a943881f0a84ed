package dev.cairn.internal;

import java.util.concurrent.locks.LockSupport;

/**
 * For handlers of OutOfMemoryError, which run when the heap may have no room for anything.
 */
public final class HeapShortage {
    private HeapShortage() { }

    /**
     * Waits {@code millis} without allocating (Thread.sleep may allocate). A class that uses it
     * calls {@code pause(0)} once while the heap has room, before any handler can: the first
     * call loads LockSupport and links the call, and loading a class takes heap. Made first in a
     * handler, it ran out of memory there: the sync link's thread died with connect pending, and
     * a failed backup's clean-up was never retried (probe 95; the JVM's log of exceptions showed
     * the failed allocation at that call).
     */
    public static void pause(long millis) {
        LockSupport.parkNanos(millis * 1_000_000L);
    }
}
