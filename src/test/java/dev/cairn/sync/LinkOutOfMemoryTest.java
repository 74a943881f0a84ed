package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.Event;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.db.Database;
import dev.cairn.db.SyncReplica;
import dev.cairn.db.TreeImpl;
import dev.cairn.sync.net.SyncClient;
import dev.cairn.testing.Fixtures.Part;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The link thread running out of heap while it reads a change to send (a record of many MiB
 * while the application holds most of the heap) ends that connection, says so, and the link
 * tries again. Before (probe 67, at -Xmx80m with 16 MiB records), the OutOfMemoryError ended the
 * link thread: "disconnected from HOST:PORT" and no sync again while the process ran.
 */
@Timeout(60)
class LinkOutOfMemoryTest {
    @TempDir Path dir;

    @Test
    void anOutOfMemoryErrorOnTheLinkEndsTheConnectionAndTheLinkRetries() throws Exception {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn b = f.connected("b");
            Tree<Part> pb = b.tree(Part.class);
            Database a = Database.open(dir.resolve("a"), "a", "a", SyncFixture.APP, 1 << 16);
            try {
                TreeImpl<Part> parts = TreeImpl.open(a, Part.class, null);
                List<Event> events = new CopyOnWriteArrayList<>();
                a.events().subscribe(events::add, lost -> { });
                SyncReplica real = SyncReplica.install(a);
                AtomicInteger faults = new AtomicInteger(1);
                // The replica as the link sees it, but its first read of a change to send runs out of heap.
                dev.cairn.sync.Replica failing = (dev.cairn.sync.Replica) Proxy.newProxyInstance(
                    dev.cairn.sync.Replica.class.getClassLoader(), new Class<?>[] {dev.cairn.sync.Replica.class},
                    (proxy, method, args) -> {
                        if (method.getName().equals("outgoing") && faults.compareAndSet(1, 0)) {
                            throw new OutOfMemoryError("Java heap space (injected)");
                        }
                        try {
                            return method.invoke(real, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
                try (SyncClient link = new SyncClient(failing, "127.0.0.1", f.port(), Set.of())) {
                    real.client(link);
                    link.start().orTimeout(20, TimeUnit.SECONDS).join();
                    Key<Part> k = parts.insert(part(7));
                    await("b gets the record once the link retried", () -> pb.contains(k));
                    assertEquals(part(7), pb.get(k));
                    assertEquals(0, faults.get(), "the fault was met");
                    assertTrue(events.stream().anyMatch(e -> e instanceof Event.Disconnected d
                        && d.reason().contains("out of memory (Java heap space (injected), -Xmx ")), events.toString());
                    await("the link is connected again", link::isConnected);
                }
            } finally {
                a.close();
            }
        }
    }
}
