package dev.cairn.tools;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Cairn;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.testing.ChildJvm;
import dev.cairn.testing.Fixtures.Part;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn server}'s console as an operator meets it: a child JVM whose standard input the
 * test writes (or closes) and whose output it reads, with a node connected over 127.0.0.1.
 */
@Timeout(180)
class ServerConsoleProcessTest {
    private static final String APP = "console-test";
    /** The UTC time a server line starts with (Instant.toString to the millisecond). */
    private static final String UTC = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{1,3})?Z ";
    @TempDir Path dir;

    /** {@code cairn server} in a child JVM; its output is read on a thread, so every wait is bounded. */
    private static final class ServerProcess implements AutoCloseable {
        final Process process;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        final StringBuilder seen = new StringBuilder();
        final Thread reader;
        final int port;
        /** The first line the server printed: where it listens. */
        final String listening;

        ServerProcess(Path data) throws IOException, InterruptedException {
            process = ChildJvm.start("dev.cairn.tools.Main", "server", "--data", data.toString(), "--port", "0",
                "--app-id", APP);
            var out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            reader = Thread.ofPlatform().daemon().start(() -> out.lines().forEach(lines::add));
            listening = next(l -> true);
            Matcher m = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)").matcher(listening);
            assertTrue(m.find(), seen.toString());
            port = Integer.parseInt(m.group(1));
        }

        /** The next output line that {@code wanted} accepts (journal lines are passed over). */
        String next(Predicate<String> wanted) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            for (long left; (left = deadline - System.nanoTime()) > 0; ) {
                String line = lines.poll(left, TimeUnit.NANOSECONDS);
                if (line == null) break;
                seen.append(line).append('\n');
                if (wanted.test(line)) return line;
            }
            return fail("no such line within 60 s; the server printed:\n" + seen);
        }

        void type(String line) throws IOException {
            process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
            process.getOutputStream().flush();
        }

        /** Waits for the process to end (at most 60 s) and for its output to be read; returns its exit code. */
        int exitCode() throws InterruptedException {
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the server did not stop; it printed:\n" + seen);
            reader.join(10_000);
            return process.exitValue();
        }

        /** All the server printed so far. */
        String everything() {
            List<String> rest = new java.util.ArrayList<>();
            lines.drainTo(rest);
            rest.forEach(l -> seen.append(l).append('\n'));
            return seen.toString();
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    private Cairn connectedNode(String name, int port) {
        Cairn node = Cairn.open(dir.resolve(name), Cairn.Options.defaults().withNodeName(name).withAppId(APP));
        node.connect("127.0.0.1", port).orTimeout(60, TimeUnit.SECONDS).join();
        return node;
    }

    @Test
    void stopClosesTheDatabaseCleanlyAndExitsZeroAfterTheConsoleAnsweredAmongTheJournal() throws Exception {
        Path data = dir.resolve("srv");
        try (ServerProcess server = new ServerProcess(data); Cairn desk = connectedNode("desk-1", server.port)) {
            server.type("clients");
            assertEquals("clients: 1 connected", server.next(l -> l.startsWith("clients:")));
            assertTrue(server.next(l -> true).startsWith("  node 'desk-1' (" + desk.nodeId() + ") from 127.0.0.1:"));
            server.type("bogus");
            assertEquals("unknown command 'bogus'; type help for the commands", server.next(l -> l.contains("bogus")));
            server.type("stop");
            int code = server.exitCode();
            String out = server.everything();
            assertEquals(0, code, out);
            // Each with its UTC time, as every other line of the server (README: Command line).
            assertTrue(server.listening.matches(UTC + "cairn server [0-9a-f-]{36} for app 'console-test' listening on "
                + "127\\.0\\.0\\.1:\\d+, data in .*"), server.listening);
            assertTrue(out.matches("(?s).*\n" + UTC + "cairn server stopping \\(stop command\\): closing connections and the "
                + "database\n.*"), out);
            assertTrue(out.matches("(?s).*\n" + UTC + "cairn server stopped; database closed cleanly\n.*"), out);
            // Its standard input is a pipe, no terminal: nobody to tell to type help.
            assertFalse(server.listening.contains("type help"), server.listening);
        }
        MainTest.Result v = MainTest.cairn("verify", data.toString());
        assertEquals(0, v.code(), v.out() + v.err());
        assertFalse(v.out().contains("recovery:"), "not closed cleanly: " + v.out());
    }

    /** Under nohup or systemd standard input is /dev/null: its end must not stop the server. */
    @Test
    void theEndOfStandardInputLeavesTheServerServing() throws Exception {
        try (ServerProcess server = new ServerProcess(dir.resolve("srv"))) {
            server.process.getOutputStream().close();
            assertFalse(server.process.waitFor(2, TimeUnit.SECONDS), "the server stopped at the end of its input:\n"
                + server.everything());
            try (Cairn desk = connectedNode("desk-1", server.port)) {
                Tree<Part> parts = desk.tree(Part.class);
                Key<Part> k = parts.insert(new Part("P-1", "ACME", 1, 1L, List.of()));
                parts.checkOut(k).orTimeout(60, TimeUnit.SECONDS).join();
            }
            assertTrue(server.process.toHandle().destroy(), "SIGTERM not sent");
            int code = server.exitCode();
            String out = server.everything();
            assertEquals(143, code, out);
            assertTrue(out.contains("cairn server stopping (shutdown requested)"), out);
            assertFalse(out.contains("console:"), "the console said something at the end of its input:\n" + out);
        }
    }
}
