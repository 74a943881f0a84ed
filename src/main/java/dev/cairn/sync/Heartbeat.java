package dev.cairn.sync;

/**
 * A node's heartbeat rules for one version 3 (or later) connection (spec/sync-protocol.md §4.3), on the
 * caller's clock ({@code System.nanoTime()}); no I/O. The link reports the bytes it moves and
 * asks when to ping and whether the connection is dead.
 *
 * <ul>
 *   <li>A Ping is due when nothing was sent for {@code ping} (the server closes a connection
 *       that sends nothing), or when nothing was received for {@code ping} and no Ping is
 *       waiting for its answer (so that the server says something).
 *   <li>Any byte received answers every Ping: a frame in progress, a catch-up queued before the
 *       Pong, all show the server alive.
 *   <li>The connection is dead when a Ping has waited {@code dead - ping} for an answer. Judged
 *       from the Ping, not from the last byte received: a link thread that was busy (applying a
 *       large batch, waiting for the database) and pinged late gives the server its full time,
 *       as nothing was asked of it meanwhile. A silent connection is noticed within
 *       {@code dead} of its last byte when the link thread runs freely.
 * </ul>
 */
public final class Heartbeat {
    private final long pingNanos;
    private final long answerNanos;
    private long lastSent;
    private long lastReceived;
    private boolean waiting;
    /** When the oldest unanswered Ping went out (valid while {@link #waiting}). */
    private long pingSent;

    /**
     * Starts with the connection's last exchange at {@code now} (the Welcome).
     *
     * @param pingMillis after this long without sending, or without receiving, a Ping goes out
     * @param deadMillis a Ping unanswered for {@code deadMillis - pingMillis} ends the connection
     */
    public Heartbeat(long pingMillis, long deadMillis, long now) {
        if (pingMillis < 1 || deadMillis <= pingMillis) {
            throw new IllegalArgumentException("ping " + pingMillis + " ms, dead " + deadMillis
                + " ms (expected: 0 < ping < dead)");
        }
        this.pingNanos = pingMillis * 1_000_000;
        this.answerNanos = (deadMillis - pingMillis) * 1_000_000;
        lastSent = now;
        lastReceived = now;
    }

    /** Bytes went out at {@code now}. */
    public void sent(long now) {
        lastSent = now;
    }

    /** Bytes came in at {@code now}: every Ping is answered. */
    public void received(long now) {
        lastReceived = now;
        waiting = false;
    }

    /** True when a Ping should go out at {@code now}. */
    public boolean pingDue(long now) {
        return now - lastSent >= pingNanos || (!waiting && now - lastReceived >= pingNanos);
    }

    /** A Ping went out at {@code now}. */
    public void pinged(long now) {
        lastSent = now;
        if (!waiting) {
            waiting = true;
            pingSent = now;
        }
    }

    /** True when the connection is dead at {@code now}: a Ping has waited too long for any byte. */
    public boolean dead(long now) {
        return waiting && now - pingSent > answerNanos;
    }

    /** Why the connection is dead at {@code now}, for the Disconnected event. */
    public String deadReason(long now) {
        return String.format(java.util.Locale.ROOT, "no data from the server for %.1f s (a Ping unanswered for %.1f s)",
            (now - lastReceived) / 1e9, (now - pingSent) / 1e9);
    }
}
