package dev.cairn.tools;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Cairn;
import dev.cairn.TreeSpec;
import dev.cairn.testing.ChildJvm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An import that cannot write the database's files (a full disk; here a file size limit, ulimit
 * -f, which fails the write the same way) could not run: exit 2, the line naming the data file and
 * not the file imported, nothing imported. It exited 1, "the command found a problem", with the
 * imported file's name first, as for a bad record in it (probe 112).
 */
@Timeout(120)
class ImportFileSizeLimitTest {
    @TreeSpec(name = "Blob")
    record Blob(int seq, byte[] data) { }

    @TempDir Path dir;

    @Test
    void anImportThatCannotWriteTheDatabaseExitsTwoAndImportsNothing() throws Exception {
        Path db = dir.resolve("db");
        try (Cairn c = Cairn.open(db)) {
            c.tree(Blob.class);
        }
        Path file = dir.resolve("blobs.jsonl");
        StringBuilder lines = new StringBuilder();
        byte[] data = new byte[2000];
        new java.util.Random(5).nextBytes(data);
        for (int i = 0; i < 2000; i++) {
            lines.append("{\"key\":\"Blob/").append(i).append(".0\",\"value\":{\"seq\":").append(i).append(",\"data\":\"")
                .append(Base64.getEncoder().encodeToString(data)).append("\"}}\n");
        }
        lines.append("{\"cairn-export-end\":{\"tree\":\"Blob\",\"records\":2000}}\n");
        Files.writeString(file, lines);
        // 2 MiB per file: the records take about 5.
        Process child = ChildJvm.startLimited("-f 2048", List.of("-Xmx256m"), Main.class.getName(), "import", db.toString(),
            "Blob", file.toString(), "--append");
        String err = new String(child.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(child.waitFor(90, TimeUnit.SECONDS), "the import did not end");
        assertEquals(2, child.exitValue(), err);
        assertTrue(err.startsWith("cairn import: cannot write ") || err.startsWith("cairn import: cannot map "), err);
        assertTrue(err.contains(db.resolve("data.cairn").toString()) && err.endsWith("(nothing imported)"), err);
        try (Cairn c = Cairn.open(db)) {
            assertEquals(0, c.tree(Blob.class).size(), "nothing imported");
        }
        assertEquals(0, Main.run(new String[] {"verify", db.toString()}, new java.io.PrintStream(
            java.io.OutputStream.nullOutputStream()), System.err), "verify");
    }
}
