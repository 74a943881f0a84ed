package dev.cairn.tools;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoTest {
    @TempDir Path dir;

    static String run(Path dir) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Demo.run(dir, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void demoRunsTwiceOnTheSameFolderAndTellsWhatHappened() {
        String first = run(dir);
        System.out.print(first);
        for (String expected : new String[] {"inserted DemoPart/0.0 and DemoPart/1.0", "lookup 'r 10k-0' -> DemoPart/0.0",
            "search 'r10' -> DemoPart/0.0", "refused: name 'r10k-0'", "checked out DemoPart/0.0: Mine",
            "took 20 from stock: 480 left", "released DemoPart/0.0: Released(0)", "refused: update of DemoPart/0.0",
            "new revision DemoPart/0.1: Draft(0)", "checked in DemoPart/0.0: free"}) {
            assertTrue(first.contains(expected), "missing '" + expected + "' in\n" + first);
        }
        String second = run(dir);
        assertTrue(second.contains("tree DemoPart holds 3 records"), second);
        assertTrue(second.contains("inserted DemoPart/2.0 and DemoPart/3.0"), second);
    }
}
