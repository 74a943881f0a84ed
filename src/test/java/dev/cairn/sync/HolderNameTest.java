package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cairn.Key;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Borrows name the holder (sync-protocol.md §3) also after a server restart, before the holder
 * connects again: the server stores client names (srv.names). Before, names lived in memory only,
 * and every node saw such a record held by "".
 */
@Timeout(60)
class HolderNameTest {
    @TempDir Path dir;

    @Test
    void aHoldersNameSurvivesAServerRestart() {
        UUID ann = UUID.randomUUID();
        Key<?> k = new Key<>("Part", 7, 0);
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            CoreConn c = new CoreConn(core);
            c.hello(ann, "ann");
            // Ids 0..99 issued first: a CheckOut of an id no range holds is answered free, stored nowhere.
            Message.Borrow b = CoreConn.last(Message.Borrow.class, c.send(new Message.NeedKeys("Part"), new Message.CheckOut(k)));
            assertEquals(List.of(ann, "ann"), List.of(b.holder(), b.holderName()));
            core.disconnected(c.peer);
        }
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            Message.Borrow snapshot = CoreConn.last(Message.Borrow.class, new CoreConn(core).hello(UUID.randomUUID(), "bob"));
            assertEquals(List.of(ann, "ann"), List.of(snapshot.holder(), snapshot.holderName()));
        }
    }
}
