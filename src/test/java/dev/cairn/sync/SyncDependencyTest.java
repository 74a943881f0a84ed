package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** STYLE.md §1 / CONTRACTS.md: sync uses only store, internal, schema and the leaf types of dev.cairn. */
class SyncDependencyTest {
    private static final Pattern IMPORT = Pattern.compile("^import\\s+(?:static\\s+)?([\\w.]+)", Pattern.MULTILINE);
    private static final Pattern LEAF = Pattern.compile(
        "dev\\.cairn\\.(Key|TreeSpec|FormerNames|\\w*Exception)");

    @Test
    void syncImportsOnlyLowerLayersAndLeafTypes() throws IOException {
        List<String> bad = new ArrayList<>();
        try (Stream<Path> files = Files.walk(Path.of("src/main/java/dev/cairn/sync"))) {
            for (Path p : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                Matcher m = IMPORT.matcher(Files.readString(p));
                while (m.find()) {
                    String name = m.group(1);
                    boolean ok = name.startsWith("java.") || name.startsWith("dev.cairn.sync")
                        || name.startsWith("dev.cairn.store.") || name.startsWith("dev.cairn.internal.")
                        || name.startsWith("dev.cairn.schema.") || LEAF.matcher(name).matches();
                    if (!ok) bad.add(p + ": " + name);
                }
            }
        }
        assertEquals(List.of(), bad);
    }
}
