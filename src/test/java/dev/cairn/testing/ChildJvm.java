package dev.cairn.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starts a main class in a child JVM with this JVM's java binary and class path. */
public final class ChildJvm {
    private ChildJvm() { }

    public static Process start(String mainClass, String... args) throws IOException {
        return startWithHeap("-Xmx256m", mainClass, args);
    }

    /** As {@link #start} with the heap option {@code xmx} (e.g. "-Xmx64m"). */
    public static Process startWithHeap(String xmx, String mainClass, String... args) throws IOException {
        return startWithOptions(List.of(xmx), mainClass, args);
    }

    /** As {@link #start} with the JVM options {@code options} (e.g. "-Xmx64m") instead of the default heap. */
    public static Process startWithOptions(List<String> options, String mainClass, String... args) throws IOException {
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        List<String> cmd = new ArrayList<>(List.of(java, "-ea"));
        cmd.addAll(options);
        cmd.addAll(List.of("-cp", classPath(), mainClass));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    /**
     * As {@link #startWithOptions}, run by bash after {@code ulimit} with {@code limit} (e.g. "-n
     * 200": file descriptors, "-f 2048": file size in KiB), so only the child has that limit.
     * Arguments are single-quoted: none may hold a quote.
     */
    public static Process startLimited(String limit, List<String> options, String mainClass, String... args) throws IOException {
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        List<String> words = new ArrayList<>(List.of(java, "-ea"));
        words.addAll(options);
        words.addAll(List.of("-cp", classPath(), mainClass));
        words.addAll(List.of(args));
        StringBuilder command = new StringBuilder("ulimit " + limit + " && exec");
        for (String w : words) {
            if (w.contains("'")) throw new IllegalArgumentException("a quote in " + w);
            command.append(" '").append(w).append('\'');
        }
        return new ProcessBuilder("bash", "-c", command.toString()).start();
    }

    /**
     * This JVM's class path plus the folders of the test and main classes: the JUnit console
     * launcher loads them from its {@code --class-path}, which {@code java.class.path} lacks.
     */
    public static String classPath() {
        List<String> parts = new ArrayList<>();
        for (Class<?> c : List.of(ChildJvm.class, dev.cairn.Cairn.class)) {
            try {
                parts.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
            } catch (java.net.URISyntaxException e) {
                throw new IllegalStateException(e);
            }
        }
        parts.add(System.getProperty("java.class.path"));
        return String.join(java.io.File.pathSeparator, parts);
    }

    /** Runs to completion (at most 60 s) and returns standard output; fails on a non-zero exit. */
    public static String run(String mainClass, String... args) throws IOException, InterruptedException {
        Process p = start(mainClass, args);
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(mainClass + " did not finish in 60 s");
        }
        if (p.exitValue() != 0) throw new AssertionError(mainClass + " exited with " + p.exitValue() + ": " + new String(out));
        return new String(out, java.nio.charset.StandardCharsets.UTF_8);
    }
}
