package dev.cairn.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Stages of a CallbackFuture added before it completes run on a thread of their own, never the
 * completing one; added after, they run at once on the caller's thread, as CompletableFuture's do.
 */
class CallbackFutureTest {
    private static final String COMPLETER = "completer";

    /** Every way to add a stage, each recording the thread it ran on. */
    private static List<CompletionStage<String>> stages(CallbackFuture<String> f) {
        Function<Object, String> where = x -> Thread.currentThread().getName();
        CompletableFuture<String> other = CompletableFuture.completedFuture("o");
        List<CompletionStage<String>> out = new ArrayList<>();
        out.add(f.thenApply(where));
        out.add(f.thenApply(x -> x).thenApply(where));
        out.add(f.handle((v, t) -> where.apply(v)));
        out.add(f.whenComplete((v, t) -> { }).thenApply(where));
        out.add(f.thenCompose(v -> CompletableFuture.completedFuture(where.apply(v))));
        out.add(f.thenCombine(other, (x, y) -> where.apply(x)));
        out.add(f.thenApplyAsync(where));
        out.add(f.minimalCompletionStage().thenApply(where));
        CompletableFuture<String> run = new CompletableFuture<>();
        f.thenRun(() -> run.complete(where.apply(null)));
        out.add(run);
        return out;
    }

    private static void assertElsewhere(List<CompletionStage<String>> stages, String notOn) {
        for (CompletionStage<String> s : stages) {
            String thread = s.toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join();
            assertNotEquals(notOn, thread);
            assertTrue(thread.startsWith("cairn-callback-"), thread);
        }
    }

    @Test
    void stagesAddedBeforeTheCompletionRunOffTheCompletingThread() throws Exception {
        CallbackFuture<String> f = new CallbackFuture<>();
        List<CompletionStage<String>> stages = stages(f);
        Thread completer = Thread.ofPlatform().name(COMPLETER).start(() -> f.complete("v"));
        completer.join();
        assertElsewhere(stages, COMPLETER);
    }

    /** Run at once on the caller's thread, which may be inside its own write batch; the Async forms on fresh threads. */
    @Test
    void stagesAddedAfterTheCompletionRunOnTheCallingThread() {
        CallbackFuture<String> f = CallbackFuture.completed("v");
        String caller = Thread.currentThread().getName();
        Function<Object, String> where = x -> Thread.currentThread().getName();
        CompletableFuture<String> other = CompletableFuture.completedFuture("o");
        List<CompletableFuture<String>> inline = List.of(f.thenApply(where), f.thenApply(x -> x).thenApply(where),
            f.handle((v, t) -> where.apply(v)), f.whenComplete((v, t) -> { }).thenApply(where),
            f.thenCompose(v -> CompletableFuture.completedFuture(where.apply(v))), f.thenCombine(other, (x, y) -> where.apply(x)),
            f.applyToEither(new CompletableFuture<String>(), where));
        for (CompletableFuture<String> s : inline) {
            assertTrue(s.isDone(), "ran at once");
            assertEquals(caller, s.join());
        }
        assertElsewhere(List.of(f.thenApplyAsync(where), f.thenCombine(new CompletableFuture<String>().completeOnTimeout("late", 50,
            TimeUnit.MILLISECONDS), (x, y) -> where.apply(x))), caller);
    }

    @Test
    void aFailureReachesItsStagesOffTheCompletingThread() throws Exception {
        CallbackFuture<String> f = new CallbackFuture<>();
        CompletableFuture<String> handled = f.exceptionally(t -> t.getMessage() + " on " + Thread.currentThread().getName());
        Thread.ofPlatform().name(COMPLETER).start(() -> f.completeExceptionally(new IllegalStateException("x"))).join();
        String got = handled.orTimeout(10, TimeUnit.SECONDS).join();
        assertTrue(got.startsWith("x on cairn-callback-"), got);
        assertEquals("x", CallbackFuture.failed(new IllegalStateException("x")).handle((v, t) -> t.getMessage()).join());
    }
}
