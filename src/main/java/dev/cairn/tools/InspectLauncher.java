package dev.cairn.tools;

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

    private InspectLauncher() { }

    /**
     * @throws dev.cairn.CairnException the database does not open (damaged, locked, newer format):
     *         said here, before a jshell starts whose script would only print a stack trace
     */
    static int launch(Path dir, String appId) {
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
            Process p = new ProcessBuilder(jshell.toString(), "--class-path", jarPath().toString(),
                "-R-Dcairn.dir=" + dir.toAbsolutePath(), "-R-Dcairn.appId=" + appId, script.toString()).inheritIO().start();
            return p.waitFor();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + jshell, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 2;
        }
    }

    private static Path jarPath() {
        try {
            return Path.of(InspectLauncher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate cairn.jar", e);
        }
    }
}
