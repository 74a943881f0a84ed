package dev.cairn.tools;

import static dev.cairn.tools.MainTest.cairn;
import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.store.BackupBuild;
import dev.cairn.store.Store;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn backup} leaves either a whole, checked copy in its target or nothing a later
 * backup would take for one (probe 61: a backup killed part-way left a half-written data file,
 * and a failed one its lock file).
 */
class BackupCommandTest {
    @TempDir Path dir;

    private Path databaseWithParts(int count) {
        return dev.cairn.testing.Fixtures.databaseWithParts(dir, count);
    }

    /**
     * The source's log is a FIFO, so the copy stops inside the backup, after the data file, where
     * a kill -9 could stop it: no data file in the target yet, and a rerun names what to delete.
     */
    @Test
    void aBackupUnderWayHasNoDataFileInTheTargetAndARerunNamesWhatToDelete() throws Exception {
        Path db = databaseWithParts(50);
        Path wal = db.resolve("wal.cairn");
        Files.delete(wal);
        Process mkfifo;
        try {
            mkfifo = new ProcessBuilder("mkfifo", wal.toString()).start();
        } catch (java.io.IOException e) {
            Assumptions.abort("no mkfifo here: " + e.getMessage());
            return;
        }
        Assumptions.assumeTrue(mkfifo.waitFor() == 0, "mkfifo failed");
        Path target = dir.resolve("bk");
        CompletableFuture<MainTest.Result> first = CompletableFuture.supplyAsync(
            () -> cairn("backup", db.toString(), target.toString()));
        try {
            // The copy of the data file is whole (in the build folder, or, as before, in the target itself).
            long size = Files.size(db.resolve("data.cairn"));
            Path building = target.resolve(BackupBuild.DIR).resolve("data.cairn");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!(copied(building, size) || copied(target.resolve("data.cairn"), size))) {
                assertTrue(System.nanoTime() < deadline, "the copy of the data file did not appear");
                Thread.sleep(10);
            }
            assertFalse(Files.exists(target.resolve("data.cairn")), "a half-made backup is no database in the target");

            MainTest.Result rerun = cairn("backup", db.toString(), target.toString());
            assertEquals(2, rerun.code(), rerun.out() + rerun.err());
            assertTrue(rerun.err().contains("backup target " + target + " holds " + BackupBuild.DIR + ", left by a backup"
                + " that did not finish"), rerun.err());
            assertTrue(rerun.err().contains("Delete " + target.resolve(BackupBuild.DIR) + " and run the backup again"),
                rerun.err());
        } finally {
            try (FileChannel release = FileChannel.open(wal, StandardOpenOption.WRITE)) {
                assertTrue(release.isOpen()); // the copy reads an empty log and goes on
            }
            first.get(20, TimeUnit.SECONDS);
        }
        assertFalse(Files.exists(target.resolve(BackupBuild.DIR)), "the build folder is gone once the copy is in place");
        assertTrue(Files.exists(target.resolve("data.cairn")));
    }

    private static boolean copied(Path file, long size) throws java.io.IOException {
        return Files.exists(file) && Files.size(file) == size;
    }

    /**
     * A folder held open whose every copy fails the same way did not change under the copies: the
     * backup says it may be damaged, exits 2, and leaves nothing in the target (it left its lock).
     */
    @Test
    void aBackupWithNoGoodCopyLeavesNothingAndTellsDamageFromChange() throws Exception {
        Path db = databaseWithParts(300);
        Path target = dir.resolve("made").resolve("bk");
        try (Store held = Store.open(db)) {
            // Damage every data page on disk: the holder reads none of them meanwhile.
            long pages = Files.size(db.resolve("data.cairn")) / held.pageBytes();
            try (FileChannel f = FileChannel.open(db.resolve("data.cairn"), StandardOpenOption.WRITE)) {
                for (long p = 3; p < pages; p++) f.write(ByteBuffer.wrap(new byte[] {0x55, 0x55}), p * held.pageBytes() + 40);
            }
            MainTest.Result r = cairn("backup", db.toString(), target.toString());
            assertEquals(2, r.code(), r.out() + r.err());
            assertTrue(r.err().contains("8 copies, taken while the folder did not change, each fail the check the same way,"
                + " so the database in it may be damaged"), r.err());
            assertTrue(r.err().contains("run cairn verify " + db), r.err());
            assertTrue(r.err().endsWith("; nothing was left in " + target + "\n"), r.err());
        }
        assertFalse(Files.exists(dir.resolve("made")), "the folders the backup made are gone, no lock file left");
    }

    /** Every command's help says its exit codes; backup's names 2 (probe 61: it listed only 0 and 1). */
    @Test
    void everyCommandsHelpListsItsExitCodes() {
        for (String command : Main.COMMAND_HELP.keySet()) {
            String help = cairn(command, "--help").out();
            assertTrue(help.contains("Exit") || help.contains("exit"), command + " --help says no exit code:\n" + help);
            if (!command.equals("server") && !command.equals("inspect")) assertTrue(help.contains("2 "), command + ":\n" + help);
        }
        assertTrue(cairn("backup", "--help").out().contains("no consistent copy of a folder in use"));
    }
}
