package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.BorrowState;
import dev.cairn.Cairn;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** What a node's close does to what waits for the server (Cairn.close, Tree.checkOut). */
@Timeout(90)
class CloseWhileWaitingTest {
    @TempDir Path dir;

    /**
     * Closing a node fails what waits for the server: a check-out not yet granted (a thread
     * joined on it returns) and a connect not yet completed. Before, both waited for ever.
     */
    @Test
    void closeFailsACheckOutAndAConnectStillWaiting() throws InterruptedException {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            Tree<Part> pa = a.tree(Part.class);
            Tree<Part> pb = b.tree(Part.class);
            Key<Part> k = pa.insert(part(1));
            await("b has it", () -> pb.contains(k));
            pa.checkOut(k).orTimeout(10, TimeUnit.SECONDS).join();
            CompletableFuture<Void> waits = pb.checkOut(k);
            await("b waits", () -> pb.borrowState(k) instanceof BorrowState.Waiting);
            java.util.concurrent.atomic.AtomicReference<Throwable> joined = new java.util.concurrent.atomic.AtomicReference<>();
            Thread waiter = Thread.ofPlatform().start(() -> {
                try {
                    waits.join();
                } catch (Throwable e) {
                    joined.set(e);
                }
            });
            b.close();
            waiter.join(20_000);
            assertFalse(waiter.isAlive(), "the thread joined on the check-out returned");
            assertInstanceOf(CompletionException.class, joined.get());
            IllegalStateException closed = assertInstanceOf(IllegalStateException.class, joined.get().getCause());
            assertEquals("check-out of " + k + ": the database " + dir.resolve("b") + " was closed before the server granted it",
                closed.getMessage());

            // A linked node whose server is down keeps trying: its connect waits until the close.
            f.server.close();
            a.disconnect();
            CompletableFuture<Void> linking = a.connect("127.0.0.1", f.port());
            assertFalse(linking.isDone());
            a.close();
            assertTrue(linking.isCompletedExceptionally(), "failed at the close");
            CompletionException e = assertThrows(CompletionException.class, linking::join);
            assertInstanceOf(IllegalStateException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("was closed"), e.getCause().getMessage());
        }
    }
}
