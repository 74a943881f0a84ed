package dev.cairn.sync;

import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Event;
import dev.cairn.Key;
import dev.cairn.db.Database;
import dev.cairn.db.SyncReplica;
import dev.cairn.db.TreeImpl;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node restored from a backup that inserts before it connects uses again the ids the node
 * used after the backup (its key pool is the copy's): the server refuses such an insert
 * (ID_REUSED) and keeps the record it acknowledged, instead of replacing it on every node
 * (probe 87: records the node made after the backup were gone everywhere, with no word).
 */
@Timeout(60)
class RestoredCopyInsertTest {
    @TempDir Path dir;

    private static Database node(Path folder) {
        return Database.open(folder, "a", "u", SyncFixture.APP, 1 << 16);
    }

    @Test
    void anInsertOfARestoredCopyUnderAnIdTheNodeUsedSinceIsRefusedAndTheServersRecordKept() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            Key<Part> made;
            try (Database a = node(dir.resolve("a"))) {
                SyncReplica replica = SyncReplica.install(a);
                TreeImpl<Part> parts = TreeImpl.open(a, Part.class, null);
                ManualLink link = new ManualLink(core, replica);
                link.settle();
                parts.insert(part(1));
                link.settle();
                a.backup(dir.resolve("backup")); // while linked, on this same connection
                made = parts.insert(part(2)); // after the backup: acknowledged, then the machine dies
                link.settle();
                assertEquals(2, core.recordCount());
            }
            try (Database restored = node(dir.resolve("backup"))) {
                List<Event> events = new CopyOnWriteArrayList<>();
                restored.events().subscribe(events::add, lost -> { });
                SyncReplica replica = SyncReplica.install(restored);
                TreeImpl<Part> parts = TreeImpl.open(restored, Part.class, null);
                Key<Part> reused = parts.insert(part(3)); // offline, before its first connection
                assertEquals(made, reused, "the copy's key pool hands out the id the node used after the backup");
                new ManualLink(core, replica).settle();
                assertEquals(2, core.recordCount());
                assertEquals(part(2), parts.get(made), "the server kept the record it acknowledged, and the copy has it");
                // Events reach listeners on a thread of their own, after the commit.
                SyncFixture.await("the refusal's event", () -> events.stream().anyMatch(e -> e instanceof Event.ChangeRefused));
                List<Event.ChangeRefused> refused = events.stream()
                    .filter(e -> e instanceof Event.ChangeRefused).map(e -> (Event.ChangeRefused) e).toList();
                assertEquals(1, refused.size(), events.toString());
                assertEquals(made, refused.getFirst().key());
                assertTrue(refused.getFirst().reason().startsWith("ID_REUSED: insert of " + made), refused.getFirst().reason());
                Key<Part> next = parts.insert(part(4));
                assertTrue(next.id() > made.id(), "no id the node used is handed out again: " + next);
            }
        }
    }
}
