package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.PriorityQueue;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * The node's heartbeat rules ({@link Heartbeat}, sync-protocol.md §4.3) on a simulated clock,
 * run the way the link thread runs them: a pass pings if due, waits for the socket (at most
 * 100 ms), reads (any byte answers every Ping) and judges, then works on what it read for a
 * while, sometimes long (a large batch, the application's write batch).
 */
class HeartbeatProperties {
    static final long MS = 1_000_000;
    static final long PING = 5_000;
    static final long DEAD = 15_000;

    /**
     * A server that answers every Ping within the answer window, however long the link thread is
     * busy between passes (up to a minute): the connection is never judged dead.
     */
    @Property(tries = 300)
    void aServerThatAnswersIsNeverJudgedDeadHoweverBusyTheLinkIs(@ForAll long seed) {
        Random rnd = new Random(seed);
        long latency = rnd.nextLong(1, DEAD - PING - 200) * MS;
        long t = 0;
        Heartbeat beat = new Heartbeat(PING, DEAD, t);
        PriorityQueue<Long> arrivals = new PriorityQueue<>();
        for (int pass = 0; pass < 2_000; pass++) {
            if (beat.pingDue(t)) {
                beat.pinged(t);
                arrivals.add(t + latency);
            }
            t += rnd.nextLong(0, 101) * MS; // select
            boolean any = false;
            while (!arrivals.isEmpty() && arrivals.peek() <= t) {
                arrivals.poll();
                any = true;
            }
            if (any) {
                beat.received(t);
            } else {
                assertFalse(beat.dead(t), "judged dead at pass " + pass + ", latency " + latency / MS + " ms");
            }
            t += rnd.nextInt(20) == 0 ? rnd.nextLong(0, 60_000) * MS : rnd.nextLong(0, 50) * MS; // work
        }
    }

    /**
     * A server that goes silent at a random time (bytes in flight are lost too): a link thread
     * that runs freely (passes of at most 150 ms) judges the connection dead within DEAD of the
     * last byte it read, plus two passes.
     */
    @Property(tries = 300)
    void aSilentServerIsJudgedDeadWithinDeadMillisOfTheLastByte(@ForAll long seed) {
        Random rnd = new Random(seed);
        long latency = rnd.nextLong(1, 2_000) * MS;
        long silentFrom = rnd.nextLong(0, 120_000) * MS;
        long t = 0;
        long lastRead = 0;
        Heartbeat beat = new Heartbeat(PING, DEAD, t);
        PriorityQueue<Long> arrivals = new PriorityQueue<>();
        while (true) {
            if (beat.pingDue(t)) {
                beat.pinged(t);
                if (t + latency < silentFrom) arrivals.add(t + latency);
            }
            // Other traffic from the server, now and then, until it goes silent.
            if (rnd.nextInt(30) == 0 && t < silentFrom) arrivals.add(t + rnd.nextLong(0, 100) * MS);
            t += rnd.nextLong(0, 101) * MS;
            boolean any = false;
            while (!arrivals.isEmpty() && arrivals.peek() <= t) {
                arrivals.poll();
                any = true;
            }
            if (any) {
                beat.received(t);
                lastRead = t;
            } else if (beat.dead(t)) {
                assertTrue(t >= silentFrom, "judged dead at " + t / MS + " ms, before the server went silent");
                assertTrue(t - lastRead <= (DEAD + 300) * MS, "judged dead " + (t - lastRead) / MS
                    + " ms after the last byte (expected: <= DEAD + 300 ms)");
                assertTrue(beat.deadReason(t).startsWith("no data from the server for "), beat.deadReason(t));
                return;
            }
            assertTrue(t < silentFrom + (DEAD + 5_000) * MS, "still not judged dead at " + t / MS + " ms");
            t += rnd.nextLong(0, 50) * MS;
        }
    }

    @Test
    void aPingGoesOutAfterPingMillisWithoutSendingOrReceivingAndOneWaitsAtATime() {
        Heartbeat beat = new Heartbeat(PING, DEAD, 0);
        assertFalse(beat.pingDue((PING - 1) * MS));
        assertTrue(beat.pingDue(PING * MS));
        beat.pinged(PING * MS);
        // Waiting for the answer: not due for silence from the server, due again for our own.
        assertFalse(beat.pingDue((2 * PING - 1) * MS));
        assertTrue(beat.pingDue(2 * PING * MS));
        beat.pinged(2 * PING * MS);
        // Judged from the first unanswered Ping.
        assertFalse(beat.dead(DEAD * MS));
        assertTrue(beat.dead((DEAD + 1) * MS));
        assertEquals("no data from the server for 15.0 s (a Ping unanswered for 10.0 s)", beat.deadReason(DEAD * MS));
        beat.received((DEAD + 1) * MS);
        assertFalse(beat.dead(100 * DEAD * MS), "answered");
        // Sending keeps it from pinging for itself, not for the server's silence.
        Heartbeat busy = new Heartbeat(PING, DEAD, 0);
        busy.sent((PING - 1) * MS);
        assertTrue(busy.pingDue(PING * MS), "nothing received for PING");
        assertThrows(IllegalArgumentException.class, () -> new Heartbeat(PING, PING, 0));
    }
}
