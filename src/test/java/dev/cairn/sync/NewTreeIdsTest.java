package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.NoIdsLeftException;
import dev.cairn.Tree;
import java.nio.file.Path;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tree created on a connected node holds no id until the server sends it a range; a write
 * batch cannot wait for one (ranges are stored between transactions). Opening the tree waits
 * for its first range, as an insert outside a batch does, so that a batch right after inserts
 * (probe-55: every batch into a tree just created failed, "1 id(s) needed, 0 left").
 */
@Timeout(60)
class NewTreeIdsTest {
    record Fresh(String name, int n) { }

    record Other(String name) { }

    @TempDir Path dir;

    @Test
    void aBatchRightAfterATreeWasCreatedWhileConnectedInserts() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Tree<Fresh> fresh = a.tree(Fresh.class);
            a.write(() -> IntStream.range(0, 10).forEach(i -> fresh.insert(new Fresh("f" + i, i))));
            assertEquals(10, fresh.size());
        }
    }

    /** A batch larger than the ids in hand is refused, saying what it had and what would help. */
    @Test
    void aBatchLargerThanTheIdsInHandSaysWhatWouldHelp() {
        try (SyncFixture f = new SyncFixture(dir, 100)) {
            Cairn a = f.connected("a");
            Tree<Other> other = a.tree(Other.class);
            NoIdsLeftException e = assertThrows(NoIdsLeftException.class,
                () -> a.write(() -> IntStream.range(0, 5000).forEach(i -> other.insert(new Other("o" + i)))));
            assertTrue(e.getMessage().contains("insert into tree Other inside a write batch")
                && e.getMessage().matches("(?s).* 0 left of the [1-9][0-9]* this node held when the batch began;.*")
                && e.getMessage().contains("an insert outside a batch first"), e.getMessage());
            assertEquals(0, other.size(), "nothing of the batch was stored");
        }
    }
}
