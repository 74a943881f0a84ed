package dev.cairn.tools;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Cairn;
import dev.cairn.TreeSpec;
import dev.cairn.testing.ChildJvm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A command that runs out of heap exits 2 ("could not run") with one line saying the heap was too
 * small and how to give it more (probe helper-44: verify of a database holding one record near
 * the 16 MiB limit, under -Xmx64m, printed an OutOfMemoryError's stack trace and exited 1, which
 * for verify means "damaged").
 */
class OutOfMemoryTest {
    @TreeSpec(name = "Blob")
    record Blob(byte[] data) { }

    @TempDir Path dir;

    @Test
    void aHeapTooSmallForTheCommandIsOneLineAndExitTwo() throws IOException, InterruptedException {
        Path db = dir.resolve("db");
        try (Cairn c = Cairn.open(db)) {
            c.tree(Blob.class).insert(new Blob(new byte[16_000_000]));
        }
        for (List<String> command : List.of(List.of("verify", db.toString()), List.of("export", db.toString(), "Blob"))) {
            List<String> cmd = new ArrayList<>(List.of(OutputFailureTest.javaBinary(), "-Xmx48m", "-cp", ChildJvm.classPath(),
                "dev.cairn.tools.Main"));
            cmd.addAll(command);
            Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), command + " did not end");
            assertEquals(2, p.exitValue(), command + ": " + err);
            String args = String.join(" ", command);
            assertTrue(err.startsWith("cairn " + command.get(0) + ": out of memory (Java heap space): the Java heap, at most ")
                && err.endsWith(" MiB here, was too small for cairn " + args + ". Give java a larger one with -Xmx, e.g."
                    + " java -Xmx512m -jar cairn.jar " + args + "\n"), command + ": " + err);
        }
    }
}
