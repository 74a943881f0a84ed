package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.Event;
import dev.cairn.Tree;
import dev.cairn.WritesStoppedException;
import dev.cairn.db.Database;
import dev.cairn.db.SyncReplica;
import dev.cairn.db.TreeImpl;
import dev.cairn.index.UniqueNameIndex;
import dev.cairn.sync.net.SyncClient;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A linked node whose database stopped writes (a committed batch's follow-up ran out of heap:
 * here an index's name function, run after the commit for records from the server) stops its
 * link and says why: it can store nothing the server sends until the application reopens the
 * database. Before, the refusal carried the OutOfMemoryError as its cause, so the link took it
 * for a shortage of heap on the connection and reconnected without end (probe runs 41-46 of
 * stop 37: connect stayed pending).
 */
@Timeout(60)
class StoppedDatabaseLinkTest {
    @TempDir Path dir;

    @Test
    void aDatabaseThatStoppedWritesStopsItsLinkSayingWhy() throws Exception {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn b = f.connected("b");
            Tree<Part> pb = b.tree(Part.class);
            try (Database a = Database.open(dir.resolve("a"), "a", "a", SyncFixture.APP, 1 << 16)) {
                TreeImpl<Part> parts = TreeImpl.open(a, Part.class, null);
                parts.register(new UniqueNameIndex<>("Part.name", p -> {
                    if (p.stock() == -1) throw new OutOfMemoryError("Java heap space (injected)");
                    return p.name();
                }));
                List<Event> events = new CopyOnWriteArrayList<>();
                a.events().subscribe(events::add, lost -> { });
                SyncReplica replica = SyncReplica.install(a);
                try (SyncClient link = new SyncClient(replica, "127.0.0.1", f.port(), Set.of())) {
                    replica.client(link);
                    link.start().orTimeout(20, TimeUnit.SECONDS).join();
                    var fails = pb.insert(part(1).withStock(-1)); // stored on a, whose follow-up then fails
                    await("a has the record", () -> parts.contains(fails));
                    var next = pb.insert(part(2));                 // a cannot store this one
                    Predicate<Event> stopsForGood = e -> e instanceof Event.Disconnected d
                        && d.reason().startsWith("sync stopped for good: ");
                    await("the link stops", () -> events.stream().anyMatch(stopsForGood));
                    Event.Disconnected stopped = (Event.Disconnected) events.stream().filter(stopsForGood).findFirst().orElseThrow();
                    assertTrue(stopped.reason().contains("a write batch was committed, but updating this database's state in"
                        + " memory after it failed (java.lang.OutOfMemoryError: Java heap space (injected))"), stopped.reason());
                    int seen = events.size();
                    Thread.sleep(1_000); // the backoff starts at 50 ms: a link that retried would have connected again
                    assertFalse(link.isConnected());
                    assertEquals(List.of(), events.subList(seen, events.size()).stream()
                        .filter(e -> e instanceof Event.Connected).toList(), "no connection after the stop");
                    assertFalse(parts.contains(next), "nothing stored after the stop");
                    assertThrows(WritesStoppedException.class, () -> parts.insert(part(3)));
                }
            }
            try (Database a = Database.open(dir.resolve("a"), "a", "a", SyncFixture.APP, 1 << 16)) {
                TreeImpl<Part> parts = TreeImpl.open(a, Part.class, null);
                assertEquals(1, parts.size(), "the reopen finds the record whose follow-up failed");
            }
        }
    }
}
