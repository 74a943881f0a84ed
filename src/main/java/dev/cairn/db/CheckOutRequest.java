package dev.cairn.db;

import java.util.ArrayList;
import java.util.List;

/**
 * This node's request for one record's check-out, shared by the callers of {@code checkOut} on
 * this node that wait for the record, each with a future of its own (spec/sync-protocol.md §5.4).
 *
 * <ul>
 *   <li>A caller whose future the application ends (cancel, time-out, complete...) {@link #leave}s;
 *       the request is withdrawn only when no caller is left in it, so one thread's time-out
 *       never ends another thread's wait.
 *   <li>The grant, Cairn's own failures and a check-in of the node end every caller's future:
 *       a check-out belongs to the node, not to a thread.
 *   <li>A caller whose future the grant completed stays in it: the record is held for it, and
 *       nothing that others' leaving does gives the record back.
 * </ul>
 * Callers join only while the request is in {@link SyncReplica}'s map (under its entry's lock).
 */
final class CheckOutRequest {
    private final List<CheckOutFuture> callers = new ArrayList<>();

    synchronized void join(CheckOutFuture caller) {
        callers.add(caller);
    }

    /** Takes out a caller the application ended; true when it was the last one (the request is then over). */
    synchronized boolean leave(CheckOutFuture caller) {
        return callers.remove(caller) && callers.isEmpty();
    }

    /** The server's grant, stored: every caller still waiting gets the record. */
    void grant() {
        for (CheckOutFuture f : callers()) f.grant();
    }

    /** Cairn's own failure of the wait (at close, a removed record...), for every caller. */
    void fail(Throwable failure) {
        for (CheckOutFuture f : callers()) f.fail(failure);
    }

    /** A check-in of the record by this node (any thread of it) ends every caller's wait. */
    void endByCheckIn(String key) {
        for (CheckOutFuture f : callers()) {
            f.endByCheckIn("check-out of " + key + ": this node checked the record in while this call waited for it "
                + "(a check-out belongs to the node, not to a thread: a checkIn by any of its threads gives up its "
                + "place in the queue for all of them; call checkOut again to wait again)");
        }
    }

    private synchronized List<CheckOutFuture> callers() {
        return List.copyOf(callers);
    }
}
