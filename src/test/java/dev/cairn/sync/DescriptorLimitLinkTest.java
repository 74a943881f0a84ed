package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Cairn;
import dev.cairn.CairnServer;
import dev.cairn.testing.ChildJvm;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node whose process has no file descriptor left (its ulimit -n) when its link opens its first
 * socket links once descriptors are free again (its first connect fails, naming the limit; the
 * next one links). The JDK initialises its socket classes at the
 * JVM's first socket, taking a descriptor of their own; that failed for the JVM's life, and every
 * link in the process stopped for good with NoClassDefFoundError (probe 112). Database opens a
 * socket at its first open now, while there are descriptors.
 */
@Timeout(120)
class DescriptorLimitLinkTest {
    @TempDir Path dir;

    /** Child: opens a database, uses up its descriptors, connects (which fails), frees them, connects again. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            loadCairnClasses(); // a class file read with no descriptor left fails as well
            try (Cairn db = Cairn.open(Path.of(args[0]))) {
                List<RandomAccessFile> held = new ArrayList<>();
                Path filler = Path.of(args[0]).resolveSibling("filler");
                try {
                    for (int i = 0; i < 100_000; i++) held.add(new RandomAccessFile(filler.toFile(), "rw"));
                    System.out.println("NO LIMIT");
                    return;
                } catch (IOException full) {
                    if (!String.valueOf(full.getMessage()).contains("Too many open files")) throw full;
                }
                int port = Integer.parseInt(args[1]);
                try {
                    db.connect("127.0.0.1", port).get(60, TimeUnit.SECONDS);
                    System.out.println("LINKED WITHOUT A DESCRIPTOR");
                    return;
                } catch (java.util.concurrent.ExecutionException e) {
                    // A never-linked node's connect fails at the limit ("cannot link ...: Too many open files").
                    if (!String.valueOf(e.getCause().getMessage()).contains("Too many open files")) throw e;
                }
                for (RandomAccessFile f : held) f.close();
                try {
                    db.connect("127.0.0.1", port).get(60, TimeUnit.SECONDS);
                    System.out.println("LINKED");
                } catch (java.util.concurrent.ExecutionException e) {
                    System.out.println("FAILED " + e.getCause());
                }
            }
        }
    }

    /** Loads (without initialising) every class of Cairn's class folder: the link's are read from there. */
    static void loadCairnClasses() throws Exception {
        Path root = Path.of(Cairn.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        if (!java.nio.file.Files.isDirectory(root)) return; // a jar, open already
        try (var files = java.nio.file.Files.walk(root)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String name = root.relativize(f).toString();
                if (!name.endsWith(".class")) continue;
                Class.forName(name.substring(0, name.length() - 6).replace('/', '.'), false, Child.class.getClassLoader());
            }
        }
    }

    @Test
    void aLinkThatMetTheDescriptorLimitLinksOnceDescriptorsAreFree() throws Exception {
        try (CairnServer server = CairnServer.start(dir.resolve("server"), 0)) {
            Process child = ChildJvm.startLimited("-n 200", List.of("-Xmx128m"), Child.class.getName(),
                dir.resolve("node").toString(), String.valueOf(server.port()));
            child.getErrorStream().transferTo(System.err); // ends with the child
            String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            assertTrue(child.waitFor(90, TimeUnit.SECONDS), "the child did not end");
            assertEquals(0, child.exitValue(), out);
            assertEquals("LINKED", out);
        }
    }
}
