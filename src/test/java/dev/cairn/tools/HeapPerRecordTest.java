package dev.cairn.tools;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Cairn;
import dev.cairn.Tree;
import dev.cairn.TreeSpec;
import dev.cairn.testing.ChildJvm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The heap of {@code verify}, {@code import --append} and {@code stats} does not grow with the
 * records a tree holds (probe-61: verify of 10 M records of 4 bytes, and an import of one line
 * with --append into them, ran out of a 128 MiB heap: both listed every key of the tree first,
 * 24 bytes and more a record). A million records, whose keys alone take more than 16 MiB, pass
 * under -Xmx16m.
 */
class HeapPerRecordTest {
    @TreeSpec(name = "Tiny")
    record Tiny(int n) { }

    private static final int RECORDS = 1_000_000;

    @TempDir
    static Path dir;

    private static Path db;

    @BeforeAll
    static void aMillionTinyRecords() {
        db = dir.resolve("db");
        try (Cairn c = Cairn.open(db)) {
            Tree<Tiny> t = c.tree(Tiny.class);
            for (int n = 0; n < RECORDS; ) {
                List<Tiny> batch = new ArrayList<>();
                for (int j = 0; j < 100_000; j++, n++) batch.add(new Tiny(n));
                t.insertAll(batch);
            }
        }
    }

    /** Runs the command line in a JVM of a 16 MiB heap: its exit code, standard output and error. */
    private static MainTest.Result smallHeap(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(OutputFailureTest.javaBinary(), "-Xmx16m",
            "-Djava.io.tmpdir=" + dir, "-cp", ChildJvm.classPath(), "dev.cairn.tools.Main"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(dir.resolve("err.txt").toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), cmd + " did not end");
        return new MainTest.Result(p.exitValue(), out, Files.readString(dir.resolve("err.txt")));
    }

    /** A verify or stats ended by SIGTERM (or Ctrl-C) deletes its copy (probe 124: 1.9 GB stayed in java.io.tmpdir each time). */
    @Test
    void aCopyCheckEndedBySigtermLeavesNothingInTheTemporaryFolder() throws IOException, InterruptedException {
        for (String command : List.of("verify", "stats")) {
            Path tmp = Files.createDirectories(dir.resolve("tmp-" + command));
            Process p = new ProcessBuilder(OutputFailureTest.javaBinary(), "-Xmx16m", "-Djava.io.tmpdir=" + tmp, "-cp",
                ChildJvm.classPath(), "dev.cairn.tools.Main", command, db.toString())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            boolean seen = false;
            while (!seen && p.isAlive() && System.nanoTime() < deadline) {
                try (var files = Files.list(tmp)) {
                    seen = files.anyMatch(f -> f.getFileName().toString().startsWith("cairn-" + command + "-"));
                }
                if (!seen) Thread.sleep(2);
            }
            assertTrue(seen, command + ": no copy seen in " + tmp + " while it ran");
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), command + " did not end");
            try (var files = Files.list(tmp)) {
                assertEquals(List.of(), files.toList(), command + " ended by SIGTERM (exit " + p.exitValue() + ") left its copy");
            }
        }
    }

    @Test
    void verifyOfAMillionRecordsRunsInASmallHeap() throws IOException, InterruptedException {
        MainTest.Result r = smallHeap("verify", db.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().endsWith(", " + RECORDS + " records checked\n"), r.out());
    }

    @Test
    void statsOfAMillionRecordsRunsInASmallHeap() throws IOException, InterruptedException {
        MainTest.Result r = smallHeap("stats", db.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains(String.format("%,12d records", RECORDS)), r.out());
    }

    @Test
    void anAppendOfOneLineToAMillionRecordsRunsInASmallHeap() throws IOException, InterruptedException {
        Path copy = dir.resolve("append");
        Files.createDirectories(copy);
        try (var files = Files.list(db)) {
            for (Path f : files.toList()) Files.copy(f, copy.resolve(f.getFileName()));
        }
        // An export's line and its end line (record-format.md §10), as a part of an export would be.
        Path line = Files.writeString(dir.resolve("one.jsonl"), "{\"key\":\"Tiny/" + RECORDS + ".0\",\"value\":{\"n\":-1}}\n"
            + "{\"cairn-export-end\":{\"tree\":\"Tiny\",\"records\":1}}\n");
        MainTest.Result r = smallHeap("import", copy.toString(), "Tiny", line.toString(), "--append", "--keep-ids");
        assertEquals(0, r.code(), r.err());
        assertEquals("imported 1 record into Tiny\n", r.out());
        try (Cairn c = Cairn.open(copy)) {
            Tree<Tiny> t = c.tree(Tiny.class);
            assertEquals(RECORDS + 1, t.size());
            assertEquals(new Tiny(-1), t.get(t.key(RECORDS, 0)));
        }
    }
}
