package dev.cairn.tools;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cairn.testing.ChildJvm;
import dev.cairn.testing.Fixtures.Part;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A command whose output cannot all be written (a full disk, a file size limit) exits 2 and says
 * its output is incomplete (probe helper-44: {@code cairn export > /dev/full} exited 0, and an
 * export cut at a line boundary imports cleanly, losing records).
 */
class OutputFailureTest {
    @TempDir Path dir;

    /** Takes {@code room} bytes, then fails every write as a full disk does; counts the writes tried after. */
    static final class Full extends OutputStream {
        private int room;
        int writesAfterFull;
        final ByteArrayOutputStream taken = new ByteArrayOutputStream();

        Full(int room) {
            this.room = room;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            int n = Math.min(room, len);
            taken.write(b, off, n);
            room -= n;
            if (n < len) {
                writesAfterFull++;
                throw new IOException("No space left on device");
            }
        }
    }

    private Path databaseWithParts(int count) {
        return dev.cairn.testing.Fixtures.databaseWithParts(dir, count);
    }

    private record Run(int code, String err, Full out) { }

    private static Run run(PrintStream out, Full full, String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, out, new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, err.toString(StandardCharsets.UTF_8), full);
    }

    /** Every command that writes its result to standard output, through a stream that fills up after 1,000 bytes. */
    @Test
    void everyCommandWhoseOutputFailsExitsTwoSayingItIsIncomplete() {
        Path db = databaseWithParts(200);
        String d = db.toString();
        String[][] calls = {{"export", d, "Part"}, {"export", d, "Part", "--format", "sql"}, {"stats", d}, {"verify", d},
            {"help"}, {"import", "--help"}};
        for (String[] call : calls) {
            String what = String.join(" ", call);
            // an Output over the full stream, as main() makes one over standard output: the cause is said
            Full full = new Full(call[0].equals("export") ? 1000 : 20);
            Run r = run(new Output(full, StandardCharsets.UTF_8), full, call);
            assertEquals(2, r.code(), what + ": " + r.err());
            String incomplete = call[0].equals("export") ? "the export is incomplete, do not import it" : "its output is incomplete";
            assertEquals("cairn " + call[0] + ": cannot write to standard output (No space left on device): " + incomplete + "\n",
                r.err(), what);
            // a plain PrintStream (Main.run's callers): the failure is noticed without its cause
            Full plain = new Full(call[0].equals("export") ? 1000 : 20);
            Run p = run(new PrintStream(plain, true, StandardCharsets.UTF_8), plain, call);
            assertEquals(2, p.code(), what + ": " + p.err());
            assertTrue(p.err().startsWith("cairn " + call[0] + ": cannot write to standard output (a write failed): ")
                && p.err().lines().count() == 1, what + ": " + p.err());
            if (call[0].equals("export")) {
                // it stopped at the first write that failed (and flushes), instead of failing once per record to the end
                assertTrue(plain.writesAfterFull < 10 && full.writesAfterFull < 10,
                    what + ": writes tried after the disk was full: " + plain.writesAfterFull + ", " + full.writesAfterFull);
            }
        }
        // the same commands with room for their output exit 0
        for (String[] call : calls) {
            Full room = new Full(Integer.MAX_VALUE);
            Run r = run(new Output(room, StandardCharsets.UTF_8), room, call);
            assertEquals(0, r.code(), String.join(" ", call) + ": " + r.err());
            assertEquals("", r.err(), String.join(" ", call));
        }
    }

    /** The real standard output of {@code java ... Main}: /dev/full fails every write with ENOSPC (Linux). */
    @Test
    void exportToAFullDeviceExitsTwo() throws IOException, InterruptedException {
        File devFull = new File("/dev/full");
        assumeTrue(devFull.exists(), "no /dev/full here");
        Path db = databaseWithParts(200);
        for (List<String> format : List.of(List.<String>of(), List.of("--format", "sql"))) {
            List<String> cmd = new ArrayList<>(List.of(javaBinary(), "-Xmx128m", "-cp", ChildJvm.classPath(),
                "dev.cairn.tools.Main", "export", db.toString(), "Part"));
            cmd.addAll(format);
            Process p = new ProcessBuilder(cmd).redirectOutput(devFull).start();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "export did not end");
            assertEquals(2, p.exitValue(), format + ": " + err);
            assertEquals("cairn export: cannot write to standard output (No space left on device): the export is incomplete,"
                + " do not import it\n", err, format.toString());
        }
    }

    static String javaBinary() {
        return ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
    }
}
