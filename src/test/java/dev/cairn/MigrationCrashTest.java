package dev.cairn;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.store.Store;
import dev.cairn.testing.ChildJvm;
import dev.cairn.testing.Fixtures.EvoV1;
import dev.cairn.testing.Fixtures.EvoV2;
import dev.cairn.testing.MigrationChild;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A migration killed in the middle (the process dies, not an exception) leaves the tree exactly
 * as it was, and the next open runs the migration again from the start.
 */
class MigrationCrashTest {
    private static final int RECORDS = 1_500;

    @TempDir Path dir;

    @Test
    void aMigrationKilledMidwayLeavesTheOldTreeAndRunsAgain() throws Exception {
        List<Key<EvoV1>> keys = new ArrayList<>();
        try (Cairn db = Cairn.open(dir)) {
            Tree<EvoV1> v1 = db.tree(EvoV1.class);
            List<EvoV1> values = new ArrayList<>();
            for (int i = 0; i < RECORDS; i++) values.add(new EvoV1(Integer.toString(i * 3)));
            keys.addAll(v1.insertAll(values));
        }
        for (int round = 0; round < 3; round++) {
            Process child = ChildJvm.start(MigrationChild.class.getName(), dir.toString());
            long seen = 0;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8))) {
                long killAt = 100 + 300L * round;
                for (String line; (line = out.readLine()) != null; ) {
                    assertNotEquals("done", line, "the migration finished before the kill; make it slower");
                    if (line.startsWith("progress ")) seen = Long.parseLong(line.substring(9));
                    if (seen >= killAt) break;
                }
                child.destroyForcibly();
                child.waitFor();
            }
            assertTrue(seen > 0, "the child made progress before it was killed");
            try (Store store = Store.open(dir)) {
                assertTrue(store.verify().ok(), store.verify().problems().toString());
            }
            try (Cairn db = Cairn.open(dir)) {
                Tree<EvoV1> v1 = db.tree(EvoV1.class);
                assertEquals(RECORDS, v1.size());
                for (int i = 0; i < RECORDS; i += 97) {
                    assertEquals(new EvoV1(Integer.toString(i * 3)), v1.get(keys.get(i)), "round " + round);
                    assertEquals(1, v1.meta(keys.get(i)).schemaVersion());
                    assertEquals(0, v1.meta(keys.get(i)).dataIteration());
                }
            }
        }
        try (Cairn db = Cairn.open(dir)) {
            Tree<EvoV2> v2 = db.tree(EvoV2.class, (key, json) -> new EvoV2(Integer.parseInt(json.replaceAll("[^0-9]", ""))));
            assertEquals(RECORDS, v2.size());
            for (int i = 0; i < RECORDS; i += 97) {
                assertEquals(new EvoV2(i * 3), v2.get(v2.key(keys.get(i).id(), 0)));
                assertEquals(2, v2.meta(v2.key(keys.get(i).id(), 0)).schemaVersion());
            }
        }
    }
}
