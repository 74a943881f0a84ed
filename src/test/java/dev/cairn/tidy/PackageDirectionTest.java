package dev.cairn.tidy;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * Keeps the package direction of STYLE.md §1 true by scanning the imports of src/main/java:
 * {@code dev.cairn} (implemented in {@code db}) {@code -> index, schema, sync -> store -> internal};
 * store, schema and sync use only the leaf types of {@code dev.cairn}; {@code tools} may use
 * anything and nothing uses it. The leaf types of {@code dev.cairn} (exceptions, {@code Key}, annotations)
 * depend on nothing, so every layer may import them.
 */
class PackageDirectionTest {
    private static final Path MAIN = Path.of("src/main/java");
    private static final Pattern IMPORT = Pattern.compile("^import (?:static )?(dev\\.cairn(?:\\.[a-z]+)*)\\.([A-Z]\\w*)",
        Pattern.MULTILINE);

    /** For each package: the dev.cairn packages it must not import. */
    private static final Map<String, Set<String>> FORBIDDEN = Map.of(
        "dev.cairn.internal", Set.of("dev.cairn", "dev.cairn.store", "dev.cairn.schema", "dev.cairn.index",
            "dev.cairn.sync", "dev.cairn.tools", "dev.cairn.db"),
        "dev.cairn.store", Set.of("dev.cairn", "dev.cairn.schema", "dev.cairn.index", "dev.cairn.sync",
            "dev.cairn.tools", "dev.cairn.db"),
        "dev.cairn.schema", Set.of("dev.cairn", "dev.cairn.store", "dev.cairn.index", "dev.cairn.sync",
            "dev.cairn.tools", "dev.cairn.db"),
        "dev.cairn.index", Set.of("dev.cairn.sync", "dev.cairn.tools"),
        "dev.cairn.sync", Set.of("dev.cairn", "dev.cairn.db", "dev.cairn.index", "dev.cairn.tools"),
        "dev.cairn.sync.net", Set.of("dev.cairn", "dev.cairn.db", "dev.cairn.index", "dev.cairn.tools"),
        "dev.cairn", Set.of("dev.cairn.tools"));

    private static boolean isLeafType(String pkg, String type) {
        return pkg.equals("dev.cairn") && (type.endsWith("Exception") || type.equals("Key")
            || LEAF_ANNOTATIONS.contains(type));
    }

    private static final Set<String> LEAF_ANNOTATIONS = Set.of("TreeSpec", "FormerNames", "Fallback", "DefaultValue");

    @Test
    void lowerLayersImportNothingAboveThem() throws IOException {
        List<String> violations = new ArrayList<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                String pkg = MAIN.relativize(file.getParent()).toString().replace('/', '.');
                String source = Files.readString(file);
                Set<String> forbidden = FORBIDDEN.getOrDefault(pkg, Set.of());
                Matcher m = IMPORT.matcher(source);
                while (m.find()) {
                    String imported = m.group(1);
                    String type = m.group(2);
                    boolean upward = forbidden.stream().anyMatch(f -> imported.equals(f));
                    if (upward && !isLeafType(imported, type)) {
                        violations.add(file + " imports " + imported + "." + type);
                    }
                    if (imported.equals("dev.cairn.tools") && !pkg.equals("dev.cairn.tools")) {
                        violations.add(file + " imports the tools package");
                    }
                }
            }
        }
        assertEquals(List.of(), violations, "imports against the package direction of STYLE.md §1");
    }

    @Test
    void scannerSeesAnUpwardImport() {
        Matcher m = IMPORT.matcher("import dev.cairn.schema.Schema;\nimport dev.cairn.Key;\n");
        assertTrue(m.find());
        assertEquals("dev.cairn.schema", m.group(1));
        assertEquals("Schema", m.group(2));
        assertTrue(m.find());
        assertEquals("dev.cairn", m.group(1));
        assertTrue(isLeafType(m.group(1), m.group(2)));
        assertFalse(isLeafType("dev.cairn", "Cairn"));
    }
}
