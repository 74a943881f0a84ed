package dev.cairn.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A future the application gets from Cairn ({@code Cairn.connect}, {@code Tree.checkOut}): a
 * dependent stage registered before it completes runs on a fresh virtual thread of its own
 * ("cairn-callback-N"), never on the thread that completes the future.
 *
 * <ul>
 *   <li>Cairn completes these futures on its sync link thread, inside the commit of the batch
 *       that stored a grant: a stage run there could not write (it would join that committed
 *       batch: "transaction N is closed") nor wait for anything the link delivers (the link
 *       would wait for itself). A virtual thread of its own may do both.
 *   <li>A stage added to a future already complete runs at once on the caller's thread, as
 *       {@link CompletableFuture}'s do: that is the application's own thread, where it may write
 *       and block, and inside the caller's write batch it joins that batch (run elsewhere, it
 *       would wait for the batch the caller holds while the caller waits for it).
 *   <li>Completion itself stays where it was: {@code isDone}, {@code get} and {@code join}
 *       see it at once. The {@code ...Async} forms without an executor use the fresh threads;
 *       dependent futures are of this class too, so a chain keeps the rule.
 * </ul>
 */
public class CallbackFuture<T> extends CompletableFuture<T> {
    private static final ThreadFactory THREADS = Thread.ofVirtual().name("cairn-callback-", 1).factory();
    private static final Executor FRESH_THREAD = r -> THREADS.newThread(r).start();

    public CallbackFuture() {
    }

    /** A future already completed with {@code value}. */
    public static <T> CallbackFuture<T> completed(T value) {
        CallbackFuture<T> f = new CallbackFuture<>();
        f.complete(value);
        return f;
    }

    /** A future already failed with {@code failure}. */
    public static <T> CallbackFuture<T> failed(Throwable failure) {
        CallbackFuture<T> f = new CallbackFuture<>();
        f.completeExceptionally(failure);
        return f;
    }

    /** True when {@code other} is known to be complete (a stage of another kind may not say). */
    private static boolean done(CompletionStage<?> other) {
        return other instanceof CompletableFuture<?> f && f.isDone();
    }

    @Override
    public Executor defaultExecutor() {
        return FRESH_THREAD;
    }

    @Override
    public <U> CompletableFuture<U> newIncompleteFuture() {
        return new CallbackFuture<>();
    }

    @Override
    public CompletionStage<T> minimalCompletionStage() {
        // A minimal stage runs its stages on the thread completing it: relayed from a fresh thread.
        CompletableFuture<T> relay = new CompletableFuture<>();
        whenCompleteAsync((value, failure) -> {
            if (failure != null) relay.completeExceptionally(failure);
            else relay.complete(value);
        });
        return relay.minimalCompletionStage();
    }

    @Override
    public <U> CompletableFuture<U> thenApply(Function<? super T, ? extends U> fn) {
        return isDone() ? super.thenApply(fn) : thenApplyAsync(fn);
    }

    @Override
    public CompletableFuture<Void> thenAccept(Consumer<? super T> action) {
        return isDone() ? super.thenAccept(action) : thenAcceptAsync(action);
    }

    @Override
    public CompletableFuture<Void> thenRun(Runnable action) {
        return isDone() ? super.thenRun(action) : thenRunAsync(action);
    }

    @Override
    public <U, V> CompletableFuture<V> thenCombine(CompletionStage<? extends U> other,
        BiFunction<? super T, ? super U, ? extends V> fn) {
        return isDone() && done(other) ? super.thenCombine(other, fn) : thenCombineAsync(other, fn);
    }

    @Override
    public <U> CompletableFuture<Void> thenAcceptBoth(CompletionStage<? extends U> other,
        BiConsumer<? super T, ? super U> action) {
        return isDone() && done(other) ? super.thenAcceptBoth(other, action) : thenAcceptBothAsync(other, action);
    }

    @Override
    public CompletableFuture<Void> runAfterBoth(CompletionStage<?> other, Runnable action) {
        return isDone() && done(other) ? super.runAfterBoth(other, action) : runAfterBothAsync(other, action);
    }

    @Override
    public <U> CompletableFuture<U> applyToEither(CompletionStage<? extends T> other, Function<? super T, U> fn) {
        return isDone() || done(other) ? super.applyToEither(other, fn) : applyToEitherAsync(other, fn);
    }

    @Override
    public CompletableFuture<Void> acceptEither(CompletionStage<? extends T> other, Consumer<? super T> action) {
        return isDone() || done(other) ? super.acceptEither(other, action) : acceptEitherAsync(other, action);
    }

    @Override
    public CompletableFuture<Void> runAfterEither(CompletionStage<?> other, Runnable action) {
        return isDone() || done(other) ? super.runAfterEither(other, action) : runAfterEitherAsync(other, action);
    }

    @Override
    public <U> CompletableFuture<U> thenCompose(Function<? super T, ? extends CompletionStage<U>> fn) {
        return isDone() ? super.thenCompose(fn) : thenComposeAsync(fn);
    }

    @Override
    public <U> CompletableFuture<U> handle(BiFunction<? super T, Throwable, ? extends U> fn) {
        return isDone() ? super.handle(fn) : handleAsync(fn);
    }

    @Override
    public CompletableFuture<T> whenComplete(BiConsumer<? super T, ? super Throwable> action) {
        return isDone() ? super.whenComplete(action) : whenCompleteAsync(action);
    }

    @Override
    public CompletableFuture<T> exceptionally(Function<Throwable, ? extends T> fn) {
        return isDone() ? super.exceptionally(fn) : exceptionallyAsync(fn);
    }

    @Override
    public CompletableFuture<T> exceptionallyCompose(Function<Throwable, ? extends CompletionStage<T>> fn) {
        return isDone() ? super.exceptionallyCompose(fn) : exceptionallyComposeAsync(fn);
    }
}
