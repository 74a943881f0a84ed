package dev.cairn.db;

import dev.cairn.Key;
import dev.cairn.internal.CallbackFuture;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The future one caller of {@code checkOut} waits on while the server has yet to grant the
 * record; callers of the node waiting for one record share a {@link CheckOutRequest}. The
 * grant is stored by the link in a
 * write batch, so a thread waiting for it inside its own batch ({@code Cairn.write}) would wait
 * for ever, or until its timeout, for a grant that cannot come before its batch ends: such a
 * wait fails at once, saying so.
 *
 * <p>An end of the wait by the application leaves the request, which is withdrawn, as a check-in
 * does, when no other caller of the node still waits in it: a cancel
 * (a GUI's cancel button, {@code cancel(true)} of the task waiting on it), {@code orTimeout}, a
 * {@code completeExceptionally} or an {@code obtrudeException} while it waits, and also a
 * {@code complete}, {@code completeOnTimeout} or {@code obtrudeValue} (the application goes on
 * without the record, which it then does not hold). Else the record would be handed to this
 * node later, which no longer waits for it, and others would queue behind it. Cairn's own
 * failures (at close, a record removed on the server, a tree the connection does not replicate)
 * come through {@link #fail}, its grant through {@link #grant}; neither withdraws anything.
 *
 * <p>Stages depending on it ({@code thenRun}...) refuse a wait inside a write batch as it does,
 * while the grant they depend on has not come. Such a refusal ends the check-out too, withdrawing
 * the request (the future fails with the refusal).
 */
final class CheckOutFuture extends CallbackFuture<Void> {
    private final Database db;
    private final Key<?> key;
    private final Consumer<CheckOutFuture> ended;
    /** Set when Cairn fails the wait or a check-in ends it: neither leaves anything to withdraw. */
    private volatile boolean endedByCairn;
    /** Why a check-in of the node ended the wait, or null: what get and join say (the JDK's message is "get"). */
    private volatile String checkedIn;

    /**
     * {@code ended} gets this future once, when the application ends its wait: it leaves the
     * node's request, which is withdrawn when no other caller waits in it ({@link CheckOutRequest}).
     */
    CheckOutFuture(Database db, Key<?> key, Consumer<CheckOutFuture> ended) {
        this.db = db;
        this.key = key;
        this.ended = ended;
    }

    /** Leaves the request when the application's call ended the wait ({@code byCall}); returns {@code byCall}. */
    private boolean withdrawIf(boolean byCall) {
        if (byCall && !endedByCairn) ended.accept(this);
        return byCall;
    }

    /** Also when the grant came meanwhile (its completion then fails): the check-in gives it back. */
    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        return withdrawIf(super.cancel(mayInterruptIfRunning));
    }

    /** Also what {@code orTimeout} calls when its time is up. */
    @Override
    public boolean completeExceptionally(Throwable failure) {
        return withdrawIf(super.completeExceptionally(failure));
    }

    /**
     * The application's own normal completion ({@code complete}, and {@code completeOnTimeout}
     * when its time is up): it goes on without the record.
     */
    @Override
    public boolean complete(Void value) {
        return withdrawIf(super.complete(value));
    }

    /** On a future still waiting, as {@link #completeExceptionally}; else it changes only what it reports. */
    @Override
    public void obtrudeException(Throwable failure) {
        boolean waiting = !isDone();
        super.obtrudeException(failure);
        withdrawIf(waiting);
    }

    /** On a future still waiting, as {@link #complete}; else it changes only what it reports. */
    @Override
    public void obtrudeValue(Void value) {
        boolean waiting = !isDone();
        super.obtrudeValue(value);
        withdrawIf(waiting);
    }

    /** The server's grant, stored: the record is this node's. */
    void grant() {
        endedByCairn = true;
        super.complete(null);
    }

    /** Cairn's own failure of the wait (at close, a removed record...): the request is gone already. */
    void fail(Throwable failure) {
        endedByCairn = true;
        super.completeExceptionally(failure);
    }

    /**
     * Ends the wait for a check-in of the record by this node, which withdraws the request
     * itself: a {@link CancellationException} saying so (the future reads as cancelled).
     */
    void endByCheckIn(String why) {
        endedByCairn = true;
        checkedIn = why;
        super.completeExceptionally(new CancellationException(why));
    }

    /** A CancellationException of get or join, saying why when a check-in ended the wait. */
    private CancellationException why(CancellationException e) {
        String why = checkedIn;
        if (why == null) return e;
        CancellationException said = new CancellationException(why);
        said.initCause(e);
        return said;
    }

    /** Dependent stages are {@link Stage}s of this check-out, and theirs too. */
    @Override
    public <U> CompletableFuture<U> newIncompleteFuture() {
        return new Stage<>(this);
    }

    /**
     * Refuses a wait for {@code waited} (this future or a stage of it) that could only end after
     * the caller's batch, and ends the check-out with that refusal, withdrawing the request: the
     * application's code fails here (its batch usually rolls back), and a record granted later
     * would be held by a node that no longer waits for it, blocking every node behind it.
     */
    private void refuseWaitInBatch(CompletableFuture<?> waited, String what) {
        if (!waited.isDone() && !isDone() && db.inWrite()) {
            IllegalStateException refused = new IllegalStateException("waiting for " + what + " of " + key
                + " inside a write batch (Cairn.write): the grant is stored through the database's writer, which this"
                + " batch holds, so it cannot come before the batch ends; the request is withdrawn: check the record out"
                + " first and start the batch once the check-out completes");
            completeExceptionally(refused);
            throw refused;
        }
    }

    private void refuseWaitInBatch() {
        refuseWaitInBatch(this, "the check-out");
    }

    @Override
    public Void get() throws InterruptedException, ExecutionException {
        refuseWaitInBatch();
        try {
            return super.get();
        } catch (CancellationException e) {
            throw why(e);
        }
    }

    @Override
    public Void get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
        refuseWaitInBatch();
        try {
            return super.get(timeout, unit);
        } catch (CancellationException e) {
            throw why(e);
        }
    }

    @Override
    public Void join() {
        refuseWaitInBatch();
        try {
            return super.join();
        } catch (CancellationException e) {
            throw why(e);
        }
    }

    /**
     * A stage depending on a check-out ({@code checkOut(k).thenRun(...)}): waiting for it inside a
     * write batch while the grant has not come would wait for ever too.
     */
    static final class Stage<T> extends CallbackFuture<T> {
        private final CheckOutFuture checkOut;

        Stage(CheckOutFuture checkOut) {
            this.checkOut = checkOut;
        }

        @Override
        public <U> CompletableFuture<U> newIncompleteFuture() {
            return new Stage<>(checkOut);
        }

        @Override
        public T get() throws InterruptedException, ExecutionException {
            checkOut.refuseWaitInBatch(this, "a stage of the check-out");
            return super.get();
        }

        @Override
        public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
            checkOut.refuseWaitInBatch(this, "a stage of the check-out");
            return super.get(timeout, unit);
        }

        @Override
        public T join() {
            checkOut.refuseWaitInBatch(this, "a stage of the check-out");
            return super.join();
        }
    }
}
