package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cairn.Cairn;
import dev.cairn.Tree;
import dev.cairn.testing.Fixtures.Part;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node whose database cannot write (a full disk; here a file size limit of 4 MiB set by the
 * shell of a child JVM) while records arrive from the server: its link stops, and the
 * application hears it. Before (probe 75), the Disconnected event was published through a
 * store transaction, which the store refused after its write failure: the subscriber got
 * Connected and never Disconnected, while isConnected() turned false.
 */
@Timeout(120)
class LinkWriteFailureTest {
    @TempDir Path dir;

    @Test
    void aLinkStoppedByAWriteFailurePublishesDisconnectedNamingIt() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/bin/bash")), "needs bash for ulimit");
        try (SyncFixture f = new SyncFixture(dir)) {
            String java = ProcessHandle.current().info().command().orElseThrow();
            String command = "ulimit -f 4096 && exec '" + java + "' -ea -Xmx256m -cp '"
                + dev.cairn.testing.ChildJvm.classPath() + "' " + FullDiskNode.class.getName() + " " + f.port()
                + " '" + dir.resolve("full") + "'";
            Process node = new ProcessBuilder("/bin/bash", "-c", command)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try {
                BufferedReader out = new BufferedReader(
                    new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8));
                List<String> lines = new ArrayList<>();
                for (String line; (line = out.readLine()) != null && !line.equals("linked"); ) lines.add(line);
                Cairn w = f.connected("writer");
                Tree<Part> parts = w.tree(Part.class);
                // 8 MiB of records, twice what the node's files may grow to.
                String big = "x".repeat(100 << 10);
                for (int i = 0; i < 80; i++) parts.insert(new Part(big + i, "m", i, i, List.of()));
                for (String line; (line = out.readLine()) != null; ) lines.add(line);
                assertTrue(node.waitFor(30, TimeUnit.SECONDS), "the node did not exit");
                String all = String.join("\n", lines);
                int connected = indexOf(lines, "event: Connected[");
                int stopped = indexOf(lines, "event: Disconnected[reason=sync stopped for good: ");
                assertTrue(connected >= 0, "no Connected: " + all);
                assertTrue(stopped > connected, "no Disconnected saying the link stopped after the Connected: " + all);
                assertTrue(lines.get(stopped).contains("File too large"),
                    "the reason names the write failure: " + lines.get(stopped));
                assertEquals("end connected=false", lines.getLast(), all);
            } finally {
                node.destroyForcibly();
            }
        }
    }

    private static int indexOf(List<String> lines, String prefix) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(prefix)) return i;
        }
        return -1;
    }
}
