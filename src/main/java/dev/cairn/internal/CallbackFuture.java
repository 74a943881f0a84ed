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
 * A future the application gets from Cairn ({@code Cairn.connect}, {@code Tree.checkOut}): every
 * dependent stage it registers runs on a fresh virtual thread of its own ("cairn-callback-N"),
 * never on the thread that completes the future.
 *
 * <ul>
 *   <li>Cairn completes these futures on its sync link thread, inside the commit of the batch
 *       that stored a grant: a stage run there could not write (it would join that committed
 *       batch: "transaction N is closed") nor wait for anything the link delivers (the link
 *       would wait for itself). A virtual thread of its own may do both.
 *   <li>Also for a future already complete when the stage is added, so a stage never runs on
 *       the caller's thread either (inside its write batch, say): one rule, whatever the timing.
 *   <li>Completion itself stays where it was: {@code isDone}, {@code get} and {@code join}
 *       see it at once. The {@code ...Async} forms without an executor use the same threads;
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
        return thenApplyAsync(fn);
    }

    @Override
    public CompletableFuture<Void> thenAccept(Consumer<? super T> action) {
        return thenAcceptAsync(action);
    }

    @Override
    public CompletableFuture<Void> thenRun(Runnable action) {
        return thenRunAsync(action);
    }

    @Override
    public <U, V> CompletableFuture<V> thenCombine(CompletionStage<? extends U> other,
        BiFunction<? super T, ? super U, ? extends V> fn) {
        return thenCombineAsync(other, fn);
    }

    @Override
    public <U> CompletableFuture<Void> thenAcceptBoth(CompletionStage<? extends U> other,
        BiConsumer<? super T, ? super U> action) {
        return thenAcceptBothAsync(other, action);
    }

    @Override
    public CompletableFuture<Void> runAfterBoth(CompletionStage<?> other, Runnable action) {
        return runAfterBothAsync(other, action);
    }

    @Override
    public <U> CompletableFuture<U> applyToEither(CompletionStage<? extends T> other, Function<? super T, U> fn) {
        return applyToEitherAsync(other, fn);
    }

    @Override
    public CompletableFuture<Void> acceptEither(CompletionStage<? extends T> other, Consumer<? super T> action) {
        return acceptEitherAsync(other, action);
    }

    @Override
    public CompletableFuture<Void> runAfterEither(CompletionStage<?> other, Runnable action) {
        return runAfterEitherAsync(other, action);
    }

    @Override
    public <U> CompletableFuture<U> thenCompose(Function<? super T, ? extends CompletionStage<U>> fn) {
        return thenComposeAsync(fn);
    }

    @Override
    public <U> CompletableFuture<U> handle(BiFunction<? super T, Throwable, ? extends U> fn) {
        return handleAsync(fn);
    }

    @Override
    public CompletableFuture<T> whenComplete(BiConsumer<? super T, ? super Throwable> action) {
        return whenCompleteAsync(action);
    }

    @Override
    public CompletableFuture<T> exceptionally(Function<Throwable, ? extends T> fn) {
        return exceptionallyAsync(fn);
    }

    @Override
    public CompletableFuture<T> exceptionallyCompose(Function<Throwable, ? extends CompletionStage<T>> fn) {
        return exceptionallyComposeAsync(fn);
    }
}
