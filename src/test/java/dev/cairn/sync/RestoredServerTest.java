package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.Event;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.store.ForeignBackup;
import dev.cairn.testing.Fixtures.Part;
import dev.cairn.testing.TestFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server restored from a backup (README, Sync; sync-protocol.md §4.2 step 1, §5.7) refuses,
 * with SERVER_BEHIND, every node that synced or linked after that backup, and changes nothing;
 * a node that reconnects to the same server run, or to a restarted one, is served as always.
 * Real servers on sockets: one run on a folder, a live backup of it ({@link ForeignBackup}, as
 * {@code cairn backup} takes one), and a run on that backup in the folder's place.
 */
@Timeout(120)
class RestoredServerTest {
    @TempDir Path dir;

    /** Takes a backup of the running server's folder, as {@code cairn backup} does. */
    private void backup() {
        ForeignBackup.copy(dir.resolve("server"), dir.resolve("server-backup"));
    }

    /** Stops the server, puts the backup in its folder's place and starts a server on it (same port). */
    private void restore(SyncFixture f) throws Exception {
        f.server.close();
        Files.move(dir.resolve("server"), dir.resolve("server-newest"));
        Files.move(dir.resolve("server-backup"), dir.resolve("server"));
        f.startServer();
    }

    private static void connect(Cairn c, SyncFixture f) {
        c.connect("127.0.0.1", f.port()).orTimeout(20, TimeUnit.SECONDS).join();
    }

    /** The connect of a linked node fails with SERVER_BEHIND; returns the message. */
    private static String refusedBehind(Cairn c, SyncFixture f) {
        CompletionException e = assertThrows(CompletionException.class, () -> connect(c, f));
        String text = e.getCause().getMessage();
        assertTrue(text.startsWith("SERVER_BEHIND: "), text);
        return text;
    }

    private static boolean hasKeys(SyncFixture f, Cairn c) {
        return f.events.get(c).stream().anyMatch(e -> e instanceof Event.KeysReceived);
    }

    /**
     * 1a: a node whose first link came after the backup presents a link token the restored
     * server has no entry for. Before, such a client was accepted as one that linked before
     * tokens existed, and the restored server issued its id ranges again to another node: both
     * created records with the same ids, and one replaced the other without ChangeRefused.
     */
    @Test
    void aNodeWhoseFirstLinkCameAfterTheBackupIsRefusedAsBehind() throws Exception {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            a.tree(Part.class).insert(part(1));
            await("the server has a's part", () -> f.server.sequence() == 1);
            backup();
            Cairn n = f.connected("n");
            Tree<Part> np = n.tree(Part.class);
            await("n has ids", () -> hasKeys(f, n));
            n.disconnect();
            Key<Part> offline = np.insert(part(2)); // made from ids the restored server never issued to n
            restore(f);

            String text = refusedBehind(n, f);
            assertTrue(text.contains("node 'n' (") && text.contains("presents link 1, but this server's database has no "
                + "link with it"), text);
            assertTrue(text.contains("restored from a backup?") && text.contains("start the server on its newest database "
                + "folder"), text);
            assertFalse(text.contains(dir.toString()), "the server's folder is not the node's business: " + text);
            assertTrue(np.contains(offline), "the node keeps its data");
            assertEquals(1, f.server.sequence(), "the server changed nothing");

            // The node the backup knows is served as before.
            a.disconnect();
            connect(a, f);
            assertTrue(a.isConnected());
        }
    }
}
