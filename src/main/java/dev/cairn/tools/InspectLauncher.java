package dev.cairn.tools;

import dev.cairn.store.Store;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Starts jshell (of the JDK running this jar) with cairn.jar on its class path and the inspector
 * script loaded: the same as {@code jshell --class-path cairn.jar -R-Dcairn.dir=DIR tools/inspect.jsh}.
 */
final class InspectLauncher {
    static final String SCRIPT_RESOURCE = "/dev/cairn/tools/inspect.jsh";
    /** How long {@link #awaitClosed} waits for jshell's snippet runtime to close the database. */
    private static final long CLOSE_WAIT_MILLIS = 30_000;

    private InspectLauncher() { }

    /**
     * Starts the inspector on {@code dir}; {@code appId} null: the one the folder last linked
     * with, else the default.
     *
     * @throws dev.cairn.CairnException the database does not open (damaged, locked, newer format):
     *         said here, before a jshell starts whose script would only print a stack trace
     */
    static int launch(Path dir, String appId) {
        ProcessBuilder.Redirect inherit = ProcessBuilder.Redirect.INHERIT;
        return launch(dir, appId, new ProcessBuilder().redirectInput(inherit).redirectOutput(inherit).redirectError(inherit),
            System.err);
    }

    /**
     * {@link #launch(Path, String)} with jshell's input and output redirected as {@code io} says;
     * {@code err} gets the launcher's own lines.
     */
    static int launch(Path dir, String appId, ProcessBuilder io, PrintStream err) {
        Path jshell = Path.of(System.getProperty("java.home"), "bin", "jshell");
        if (!Files.isExecutable(jshell)) {
            throw new IllegalStateException("no jshell at " + jshell + " (inspect needs a full JDK 25, not a JRE)");
        }
        // Opened and closed again here: jshell's process opens it for the session.
        Inspector.open(dir, new PrintStream(OutputStream.nullOutputStream()), appId).close();
        try {
            Path script = Files.createTempFile("cairn-inspect", ".jsh");
            script.toFile().deleteOnExit();
            try (InputStream in = InspectLauncher.class.getResourceAsStream(SCRIPT_RESOURCE)) {
                if (in == null) throw new IllegalStateException("cairn.jar lacks " + SCRIPT_RESOURCE);
                Files.write(script, in.readAllBytes());
            }
            java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of(jshell.toString(), "--class-path",
                jarPath().toString(), "-R-Dcairn.dir=" + dir.toAbsolutePath()));
            if (appId != null) command.add("-R-Dcairn.appId=" + appId); // else the folder's (Inspector#open)
            command.add(script.toString());
            Process p = io.command(command).start();
            int exit = p.waitFor();
            return awaitClosed(dir, err) ? exit : 2;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + jshell, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 2;
        }
    }

    /**
     * Waits until the database is closed. jshell runs the snippets in a JVM of its own, which it
     * ends after its own exit without waiting for it; that JVM closes the database on its way out
     * (the shutdown hook of {@link Inspector#openForShell}). Waiting for the folder's lock to be
     * released makes {@code cairn inspect} return only once the database is closed, so that the
     * next command (a verify, the application) finds it closed cleanly, not in use.
     *
     * @return false, said on {@code err}, when it is still in use after {@link #CLOSE_WAIT_MILLIS}
     */
    private static boolean awaitClosed(Path dir, PrintStream err) throws InterruptedException {
        long deadline = System.nanoTime() + CLOSE_WAIT_MILLIS * 1_000_000L;
        while (Store.inUse(dir)) {
            if (System.nanoTime() > deadline) {
                err.println("cairn inspect: jshell ended, but " + dir.toAbsolutePath() + " is still in use "
                    + CLOSE_WAIT_MILLIS / 1000 + " s later (by jshell's snippet runtime, if nothing else opened it)");
                return false;
            }
            Thread.sleep(50);
        }
        return true;
    }

    private static Path jarPath() {
        try {
            return Path.of(InspectLauncher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate cairn.jar", e);
        }
    }
}
