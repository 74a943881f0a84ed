package dev.cairn.store;

import dev.cairn.DatabaseLockedException;
import dev.cairn.testing.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.cairn.store.StoreTest.b;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The folder lock holds against other processes whatever this JVM does meanwhile: closing any
 * channel of the lock file releases every POSIX lock the process holds on it, so a refused
 * second open (or a copy) in the holder's JVM must not touch the file.
 */
class FolderLockTest {
    @TempDir Path dir;

    /** What a child JVM's open of the folder says: "locked" or "opened". */
    private String childOpens(Path folder) throws Exception {
        return ChildJvm.run(Child.class.getName(), folder.toString()).strip();
    }

    private static void assertLocked(String said, String... what) {
        assertTrue(said.startsWith("locked: "), said + (what.length > 0 ? " " + what[0] : ""));
    }

    /** inUse says whether a store holds the folder, and its probe in the holder's JVM leaves the lock held. */
    @Test
    void inUseSaysWhetherAStoreHoldsTheFolderWithoutReleasingIt() throws Exception {
        Path db = dir.resolve("db");
        try (Store store = Store.open(db)) {
            assertTrue(Store.inUse(db));
            assertLocked(childOpens(db), "after the probe in this JVM");
        }
        assertFalse(Store.inUse(db));
        assertEquals("opened", childOpens(db), "the probe took and released the lock");
        assertFalse(Store.inUse(db));
    }

    @Test
    void refusedOpensAndCopiesInTheHoldersJvmKeepOtherProcessesOut() throws Exception {
        Path link = Files.createSymbolicLink(dir.resolve("link"), Files.createDirectories(dir.resolve("db")));
        try (Store store = Store.open(dir.resolve("db"))) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                w.put("t", b("k"), b("v"));
                w.commit();
            }
            assertLocked(childOpens(dir.resolve("db")));
            assertThrows(DatabaseLockedException.class, () -> Store.open(dir.resolve("db")));
            assertThrows(DatabaseLockedException.class, () -> Store.open(link));
            assertThrows(DatabaseLockedException.class, () -> Store.open(dir.resolve("db/../db")));
            assertThrows(DatabaseLockedException.class, () -> Store.copyAsIs(dir.resolve("db"), dir.resolve("copy")));
            assertLocked(childOpens(dir.resolve("db")), "after refused opens and a refused copy in this JVM");
            try (WriteTxn w = store.beginWrite()) {
                w.put("t", b("k2"), b("v2"));
                w.commit();
            }
        }
        assertEquals("opened", childOpens(dir.resolve("db")), "once the store closed");
        Store.copyAsIs(dir.resolve("db"), dir.resolve("copy")); // a copy takes and releases the lock
        try (Store store = Store.open(dir.resolve("db"))) {
            assertLocked(childOpens(dir.resolve("db")));
        }
    }

    @Test
    void threadsOpeningOneFolderAtOnceLeaveOneHolderAndTheLockIntact() throws Exception {
        Path db = dir.resolve("db");
        int threads = 8;
        CountDownLatch go = new CountDownLatch(1);
        AtomicInteger refused = new AtomicInteger();
        List<Store> opened = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> all = new ArrayList<>();
        Files.createDirectories(db);
        for (int i = 0; i < threads; i++) {
            all.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                    opened.add(Store.open(db));
                } catch (DatabaseLockedException e) {
                    refused.incrementAndGet();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        go.countDown();
        for (Thread t : all) t.join(60_000);
        assertEquals(1, opened.size());
        assertEquals(threads - 1, refused.get());
        try {
            assertLocked(childOpens(db));
        } finally {
            opened.getFirst().close();
        }
    }

    /**
     * A copy's lock is shared and taken through a read-only handle of the lock file (so that a
     * folder this user may only read is copied: probe helper-44); it must still keep every open,
     * in another process or this one, out while the copy is taken, and a store held open by
     * another process must keep the copy out.
     */
    @Test
    void aCopysSharedLockKeepsOpensOutAndAStoreOfAnotherProcessKeepsTheCopyOut() throws Exception {
        Path db = dir.resolve("db");
        Store.open(db).close();
        try (FolderLock copying = FolderLock.takeShared(db)) {
            assertTrue(copying != null);
            assertLocked(childOpens(db), "while a copy holds the folder");
            assertThrows(DatabaseLockedException.class, () -> Store.open(db));
            assertThrows(DatabaseLockedException.class, () -> FolderLock.takeShared(db), "a second copy in this JVM");
        }
        assertEquals("opened", childOpens(db), "once the copy let go");
        Process holder = ChildJvm.start(Holder.class.getName(), db.toString());
        try {
            assertEquals("holding", new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream())).readLine());
            assertThrows(DatabaseLockedException.class, () -> Store.copyAsIs(db, dir.resolve("copy")));
            assertFalse(Files.exists(dir.resolve("copy")), "a refused copy left a folder");
        } finally {
            holder.getOutputStream().close(); // the holder closes its store at the end of its input
            assertTrue(holder.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        }
        Store.copyAsIs(db, dir.resolve("copy"));
        try (Store copy = Store.open(dir.resolve("copy"))) {
            assertTrue(copy.verify().ok());
        }
    }

    /**
     * Probe 35: a technician deletes the lock file of a folder that a process has open; a second
     * process then made a new one, opened the folder and wrote into the same data file (the
     * first one's next commit failed on a page the second had written, its acknowledged commits
     * gone). The data file's own lock keeps the second process out, and the first one goes on.
     */
    @Test
    void aStoreOfAnotherProcessKeepsTheFolderWhenItsLockFileIsDeleted() throws Exception {
        Path db = dir.resolve("db");
        Process holder = ChildJvm.start(Writer.class.getName(), db.toString());
        try (java.io.BufferedReader said = new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream()))) {
            assertEquals("holding", said.readLine());
            Files.delete(db.resolve(Store.LOCK_FILE));
            String refused = childOpens(db);
            assertTrue(refused.startsWith("locked: database folder " + db + " is in use by another process or handle: its data"
                + " file data.cairn is locked, though its lock file was not"), refused);
            assertTrue(Store.inUse(db), "the probe looks at the data file when the lock file says nothing");
            assertThrows(DatabaseLockedException.class, () -> Store.copyAsIs(db, dir.resolve("copy")));
            assertFalse(Files.exists(dir.resolve("copy")), "a refused copy left a folder");
            holder.getOutputStream().close(); // the writer commits 100 more and closes
            assertEquals("closed", said.readLine());
            assertTrue(holder.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        }
        assertEquals(0, holder.exitValue());
        try (Store store = Store.open(db); ReadTxn r = store.beginRead()) {
            assertEquals(200, r.count("t"), "every commit of the first process is there");
            assertTrue(store.verify().ok(), () -> store.verify().problems().toString());
        }
    }

    /**
     * In the holder's JVM, with the lock file deleted: a second open, a copy and a backup of the
     * folder are refused or done without closing a channel that would release the store's lock
     * on its data file, so another process stays out.
     */
    @Test
    void refusalsInTheHoldersJvmKeepTheDataFileLockedWhenTheLockFileIsDeleted() throws Exception {
        Path db = dir.resolve("db");
        try (Store store = Store.open(db)) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                w.put("t", b("k"), b("v"));
                w.commit();
            }
            Files.delete(db.resolve(Store.LOCK_FILE));
            DatabaseLockedException e = assertThrows(DatabaseLockedException.class, () -> Store.open(db));
            assertTrue(e.getMessage().contains("database folder " + db + " is in use"), e.getMessage());
            assertThrows(DatabaseLockedException.class, () -> Store.copyAsIs(db, dir.resolve("copy")));
            assertTrue(Store.inUse(db));
            ForeignBackup.copy(db, dir.resolve("backup")); // reads the data file through a channel of its own
            assertTrue(childOpens(db).startsWith("locked: "), "after the refusals and the backup in this JVM");
            try (WriteTxn w = store.beginWrite()) {
                w.put("t", b("k2"), b("v2"));
                w.commit();
            }
        }
        assertFalse(Store.inUse(db));
        assertEquals("opened", childOpens(db), "once the store closed");
    }

    /** An interrupt closes the data file's channel, which releases its lock: the new channel takes it again. */
    @Test
    void theDataFileIsLockedAgainAfterAnInterruptClosedItsChannel() throws Exception {
        Path db = dir.resolve("db");
        Store.open(db).close();
        Files.delete(db.resolve(Store.LOCK_FILE));
        try (StoreFile data = StoreFile.openData(db.resolve(Store.DATA_FILE), db)) {
            data.channel().close(); // as an interrupt does
            data.force(); // opens the file again
            assertTrue(data.channel().isOpen());
            assertTrue(childOpens(db).startsWith("locked: "));
        }
    }

    /** Another process took the data file while an interrupt had released its lock: the file refuses every call after. */
    @Test
    void aDataFileWhoseLockAnotherProcessTookMeanwhileRefusesEveryCall() throws Exception {
        Path db = dir.resolve("db");
        Store.open(db).close();
        try (StoreFile data = StoreFile.openData(db.resolve(Store.DATA_FILE), db)) {
            data.channel().close(); // as an interrupt does: the lock is released
            Process holder = ChildJvm.start(Holder.class.getName(), db.toString());
            try {
                assertEquals("holding", new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream())).readLine());
                for (int call = 0; call < 2; call++) {
                    DatabaseLockedException e = assertThrows(DatabaseLockedException.class, data::force);
                    assertTrue(e.getMessage().contains("an interrupt closed the data file, which released this process's lock on"
                        + " it, and another process or handle has locked it since"), e.getMessage());
                }
            } finally {
                holder.getOutputStream().close();
                assertTrue(holder.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
            }
        }
    }

    /**
     * A store whose data file's channel an interrupt closed (releasing the lock) while its lock
     * file was deleted, and whose folder another process then took: its next read, which goes
     * through the mapping, not the channel, is refused naming the cause, instead of reading pages
     * the other process writes (probe 84: CorruptionException and a record not found on an
     * intact file).
     */
    @Test
    void aStoreWhoseDataLockAnotherProcessTookRefusesItsNextRead() throws Exception {
        Path db = dir.resolve("db");
        try (Store store = Store.open(db)) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                w.put("t", b("k"), b("v"));
                w.commit();
            }
            Files.delete(db.resolve(Store.LOCK_FILE));
            store.pageFile.file().channel().close(); // as an interrupt does: the lock is released
            Process holder = ChildJvm.start(Holder.class.getName(), db.toString());
            try {
                assertEquals("holding", new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream())).readLine());
                DatabaseLockedException e = assertThrows(DatabaseLockedException.class, store::beginRead);
                assertTrue(e.getMessage().contains("another process or handle has locked it since"), e.getMessage());
            } finally {
                holder.getOutputStream().close();
                assertTrue(holder.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
            }
        }
    }

    /** Commits 100 records, says "holding", commits 100 more when its standard input ends, closes, says "closed". */
    public static final class Writer {
        private Writer() { }

        public static void main(String[] args) throws java.io.IOException {
            try (Store store = Store.open(Path.of(args[0]))) {
                try (WriteTxn w = store.beginWrite()) {
                    w.createTree("t");
                    w.commit();
                }
                for (int round = 0; round < 2; round++) {
                    for (int i = 0; i < 100; i++) {
                        try (WriteTxn w = store.beginWrite()) {
                            w.put("t", b(round + "-" + i), new byte[300]);
                            w.commit();
                        }
                    }
                    if (round == 0) {
                        System.out.println("holding");
                        System.out.flush();
                        System.in.readAllBytes();
                    }
                }
            }
            System.out.println("closed");
        }
    }

    /** Holds the folder open until its standard input ends. */
    public static final class Holder {
        private Holder() { }

        public static void main(String[] args) throws java.io.IOException {
            try (Store store = Store.open(Path.of(args[0]))) {
                System.out.println("holding");
                System.out.flush();
                System.in.readAllBytes();
            }
        }
    }

    /** Opens the folder and prints whether it could. */
    public static final class Child {
        private Child() { }

        public static void main(String[] args) {
            try (Store store = Store.open(Path.of(args[0]))) {
                System.out.println(store.directory() != null ? "opened" : "?");
            } catch (DatabaseLockedException e) {
                System.out.println("locked: " + e.getMessage());
            }
        }
    }
}
