package dev.cairn.tools;

import static dev.cairn.tools.MainTest.cairn;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cairn.Cairn;
import dev.cairn.Tree;
import dev.cairn.testing.ChildJvm;
import dev.cairn.testing.Fixtures.Part;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * verify, stats, salvage and backup only read a database folder, so a folder this user may only
 * read (another user's, files of mode 444) is checked and copied; a file they cannot read is named
 * as such, not blamed on the temporary folder (probe helper-44: "cannot copy DIR into
 * /tmp/cairn-verify-…: AccessDeniedException: DIR/lock (verify checks a copy of the folder in
 * /tmp; java -Djava.io.tmpdir=…)", from opening the lock file for writing). An open's refusal says
 * why, not just the file.
 *
 * <p>Permissions do not hold for root: run as root (Linux, setpriv), the commands run in a child
 * JVM as user nobody on folders root owns; run as another user, in this JVM on folders made
 * read-only with chmod. Elsewhere those checks are skipped.
 */
class ReadOnlyFolderTest {
    @TempDir Path dir;

    private static Path database(Path db) {
        try (Cairn c = Cairn.open(db)) {
            Tree<Part> parts = c.tree(Part.class);
            for (int i = 0; i < 20; i++) parts.insert(new Part("P-" + i, "ACME", i, 100L * i, List.of()));
        }
        return db;
    }

    /** A file of the folder that cannot be read (here the log is a folder, which fails every read, whoever reads). */
    @Test
    void aSourceFileThatCannotBeReadIsNamedAndTheTemporaryFolderIsNotBlamed() throws IOException {
        Path db = database(dir.resolve("db"));
        Files.delete(db.resolve("wal.cairn"));
        Files.createDirectory(db.resolve("wal.cairn"));
        for (String[] call : List.of(new String[] {"verify", db.toString()}, new String[] {"stats", db.toString()},
                new String[] {"salvage", db.toString()}, new String[] {"backup", db.toString(), dir.resolve("b").toString()})) {
            MainTest.Result r = cairn(call);
            assertEquals(2, r.code(), String.join(" ", call) + ": " + r.out() + r.err());
            assertTrue(r.err().startsWith("cairn " + call[0] + ": cannot copy " + db + ": cannot read " + db.resolve("wal.cairn")
                + ": "), r.err());
            assertFalse(r.err().contains("tmpdir"), r.err());
            assertEquals(1, r.err().lines().count(), r.err());
        }
        assertFalse(Files.exists(dir.resolve("b")), "the partial backup was left");
    }

    /** The commands as another user sees them: root-owned folders, run as nobody (root), or chmod (another user). */
    @Test
    void aFolderThisUserMayOnlyReadIsVerifiedCopiedAndAFileItMayNotReadIsNamed() throws Exception {
        assumeTrue(System.getProperty("os.name").startsWith("Linux"), "permissions are checked on Linux only");
        // a folder others can reach (a @TempDir is 700)
        Path base = Files.createTempDirectory("cairn-readonly-", PosixFilePermissions.asFileAttribute(
            PosixFilePermissions.fromString("rwxr-xr-x")));
        try {
            boolean root = root(base);
            assumeTrue(!root || Files.isExecutable(Path.of("/usr/bin/setpriv")), "as root, this needs setpriv to run as nobody");
            Users as = root ? new AsNobody() : new AsThisUser();
            assumeTrue(as.canRun(), "the test classes cannot be read by user nobody");
            Path writable = Files.createDirectory(base.resolve("out"));
            Files.setPosixFilePermissions(writable, PosixFilePermissions.fromString("rwxrwxrwx"));

            Path db = database(base.resolve("db"));
            Path noLock = database(base.resolve("no-lock"));
            Files.delete(noLock.resolve("lock"));
            as.readOnly(db);
            as.readOnly(noLock);
            for (Path folder : List.of(db, noLock)) {
                Ran verify = as.cairn("verify", folder.toString());
                assertEquals(0, verify.code(), folder + ": " + verify);
                assertTrue(verify.out().startsWith("OK " + folder + ": ") && verify.out().contains("20 records checked"),
                    verify.toString());
                Ran stats = as.cairn("stats", folder.toString());
                assertEquals(0, stats.code(), stats.toString());
                assertTrue(stats.out().contains("Part") && stats.out().contains("20 records"), stats.toString());
                Ran salvage = as.cairn("salvage", folder.toString());
                assertEquals(0, salvage.code(), salvage.toString());
                Path copy = writable.resolve("backup-of-" + folder.getFileName());
                Ran backup = as.cairn("backup", folder.toString(), copy.toString());
                assertEquals(0, backup.code(), backup.toString());
                assertTrue(backup.out().startsWith("backed up " + folder + " to " + copy + " (copy verified)"), backup.toString());
                // an open writes: refused, saying why in the message itself (it said "…: DIR/lock", why only in a cause)
                Ran export = as.cairn("export", folder.toString(), "Part");
                assertEquals(2, export.code(), export.toString());
                assertTrue(export.err().startsWith("cairn export: cannot open database folder " + folder + ": "
                    + folder.resolve("lock") + ": access denied (to user ") && export.err().contains("an open writes into"),
                    export.toString());
            }
            assertFalse(Files.exists(noLock.resolve("lock")), "a lock file was made in a folder of another user");

            // files this user may not read at all: named, and the temporary folder is not blamed
            for (String file : List.of("data.cairn", "lock")) {
                Path folder = database(base.resolve("unreadable-" + file));
                as.unreadable(folder.resolve(file));
                for (String command : List.of("verify", "backup")) {
                    Ran r = command.equals("verify") ? as.cairn("verify", folder.toString())
                        : as.cairn("backup", folder.toString(), writable.resolve("b-" + file).toString());
                    assertEquals(2, r.code(), r.toString());
                    assertTrue(r.err().contains("cannot read " + folder.resolve(file) + ": access denied (to user "), r.toString());
                    assertFalse(r.err().contains("tmpdir"), r.toString());
                }
            }
        } finally {
            deleteAll(base);
        }
    }

    record Ran(int code, String out, String err) { }

    /** How the commands run as a user that may only read the folders made by this one. */
    private interface Users {
        boolean canRun() throws Exception;

        void readOnly(Path folder) throws IOException;

        void unreadable(Path file) throws IOException;

        Ran cairn(String... args) throws Exception;
    }

    /** Root: files keep their owner (root), the commands run in a child JVM as nobody. */
    private static final class AsNobody implements Users {
        @Override
        public boolean canRun() throws Exception {
            return cairn("help").code() == 0;
        }

        @Override
        public void readOnly(Path folder) {
            // root owns it, mode 755 and 644: nobody may read it only
        }

        @Override
        public void unreadable(Path file) throws IOException {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        }

        @Override
        public Ran cairn(String... args) throws Exception {
            List<String> cmd = new ArrayList<>(List.of("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                OutputFailureTest.javaBinary(), "-Xmx128m", "-cp", ChildJvm.classPath(), "dev.cairn.tools.Main"));
            cmd.addAll(List.of(args));
            Path err = Files.createTempFile("cairn-readonly-err-", ".txt");
            try {
                Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
                byte[] out = p.getInputStream().readAllBytes();
                assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", args) + " did not end");
                return new Ran(p.exitValue(), new String(out, StandardCharsets.UTF_8), Files.readString(err));
            } finally {
                Files.delete(err);
            }
        }
    }

    /** Another user: the folders are made read-only with chmod, the commands run in this JVM. */
    private static final class AsThisUser implements Users {
        @Override
        public boolean canRun() {
            return true;
        }

        @Override
        public void readOnly(Path folder) throws IOException {
            try (var files = Files.list(folder)) {
                for (Path f : files.toList()) Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("r--r--r--"));
            }
            Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("r-xr-xr-x"));
        }

        @Override
        public void unreadable(Path file) throws IOException {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("-w-------"));
        }

        @Override
        public Ran cairn(String... args) {
            MainTest.Result r = MainTest.cairn(args);
            return new Ran(r.code(), r.out(), r.err());
        }
    }

    private static void deleteAll(Path base) throws IOException {
        try (var all = Files.walk(base)) {
            for (Path p : all.toList()) {
                if (Files.isDirectory(p)) Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
            }
        }
        try (var all = Files.walk(base)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    /** Whether this JVM runs as root (uid 0), for whom file permissions do not hold. */
    private static boolean root(Path base) throws IOException {
        Path probe = Files.createFile(base.resolve("whoami"));
        try {
            return ((Integer) Files.getAttribute(probe, "unix:uid")) == 0;
        } finally {
            Files.delete(probe);
        }
    }
}
