package dev.cairn.tools;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Cairn;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.testing.Fixtures.Part;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
    @TempDir Path dir;

    record Result(int code, String out, String err) { }

    static Result cairn(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private Path databaseWithParts(int count) {
        return dev.cairn.testing.Fixtures.databaseWithParts(dir, count);
    }

    @Test
    void noCommandPrintsUsageAndExitsTwo() {
        Result r = cairn();
        assertEquals(2, r.code());
        assertTrue(r.err().contains("usage: java -jar cairn.jar"), r.err());
    }

    /** "cairn COMMAND --help" prints that command's own usage and options (it printed the list of all commands). */
    @Test
    void helpAfterACommandPrintsThatCommandsUsageAndExitsZero() {
        String[][] calls = {{"server", "--help"}, {"verify", "-h"}, {"export", "db", "Part", "--help"}, {"import", "--help"},
            {"stats", "--help"}, {"salvage", "--apply", "-h"}, {"help", "backup"}};
        String[] usage = {"usage: java -jar cairn.jar server --data DIR", "usage: java -jar cairn.jar verify DIR\n",
            "usage: java -jar cairn.jar export DIR TREE [--format jsonl|sql]", "usage: java -jar cairn.jar import DIR TREE FILE",
            "usage: java -jar cairn.jar stats DIR\n", "usage: java -jar cairn.jar salvage DIR [--apply]",
            "usage: java -jar cairn.jar backup DIR TARGET_DIR"};
        for (int i = 0; i < calls.length; i++) {
            Result r = cairn(calls[i]);
            String call = String.join(" ", calls[i]);
            assertEquals(0, r.code(), call + ": " + r.err());
            assertTrue(r.out().startsWith(usage[i]) && r.err().isEmpty(), call + ": " + r);
            assertFalse(r.out().contains("COMMAND [ARGS]"), call + " printed every command: " + r.out());
        }
        assertTrue(cairn("server", "--help").out().contains("--app-id ID"), "server options");
        assertTrue(cairn("verify", "--help").out().contains("nothing in DIR is written"), "what verify does");
        for (String[] args : List.of(new String[] {"--help"}, new String[] {"help"}, new String[] {"-h"})) {
            Result r = cairn(args);
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().startsWith("usage: java -jar cairn.jar COMMAND [ARGS]"), r.out());
        }
        Result unknown = cairn("frobnicate", "--help");
        assertEquals(2, unknown.code(), unknown.out());
        assertTrue(unknown.err().contains("unknown command 'frobnicate'"), unknown.err());
        Result bad = cairn("verify");
        assertEquals(2, bad.code());
        assertTrue(bad.err().startsWith("cairn verify: missing DIR\nusage: java -jar cairn.jar verify DIR"), bad.err());
    }

    @Test
    void unknownCommandIsNamed() {
        Result r = cairn("frobnicate");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown command 'frobnicate'"), r.err());
    }

    /** Arguments a command does not take are refused with the usage (they were ignored, or a trailing option threw). */
    @Test
    void argumentsACommandDoesNotTakeAreRefused() {
        Path db = databaseWithParts(2);
        String[][] calls = {
            {"verify", db.toString(), "extra"}, {"compact", db.toString(), dir.resolve("c").toString(), "--apply"},
            {"export", db.toString(), "Part", "--fmt", "sql"}, {"server", "--data"}, {"stats", db.toString(), "--apply"},
            // an option the command does not have, last on the line, was said to need a value
            {"export", db.toString(), "Part", "--bogus"}, {"verify", db.toString(), "--bogus"},
            {"import", db.toString(), "Part", "f.jsonl", "--bogus"}, {"stats", db.toString(), "--port"},
            {"export", db.toString(), "Part", "--jdbc", "jdbc:fake:x", "--bogus"}, {"help", "--bogus"},
            {"export", db.toString(), "Part", "--format"}, {"export", db.toString(), "Part", "--jdbc"},
        };
        String[] said = {"unexpected argument 'extra'", "unknown option --apply", "unknown option --fmt",
            "option --data needs a value", "unknown option --apply",
            "unknown option --bogus", "unknown option --bogus", "unknown option --bogus", "unknown option --port",
            "unknown option --bogus", "unknown option --bogus", "option --format needs a value",
            "option --jdbc needs a value"};
        for (int i = 0; i < calls.length; i++) {
            Result r = cairn(calls[i]);
            assertEquals(2, r.code(), String.join(" ", calls[i]) + ": " + r.out() + r.err());
            assertTrue(r.err().startsWith("cairn " + calls[i][0] + ": " + said[i]) && r.err().contains("usage:"), r.err());
        }
        assertFalse(Files.exists(dir.resolve("c")), "the refused compact ran");
    }

    /** A server's folder verifies by its store walk, and verify writes nothing into it (it used to create a node's trees). */
    @Test
    void verifyOfAServerFolderChecksTheStoreAndWritesNothing() throws IOException {
        Path server = dir.resolve("server");
        dev.cairn.CairnServer.start(server, 0).close();
        byte[] before = Files.readAllBytes(server.resolve("data.cairn"));
        Result r = cairn("verify", server.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().startsWith("OK ") && r.out().contains("not a node's database"), r.out());
        assertArrayEquals(before, Files.readAllBytes(server.resolve("data.cairn")), "verify changed the server's data file");
    }

    @Test
    void verifyOfAMissingFolderSaysWhichAndExitsTwo() {
        Result r = cairn("verify", dir.resolve("nope").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("no database folder"), r.err());
    }

    /**
     * A folder whose data file is gone but whose log holds commits is a damaged database, not
     * "no database" (probe 124: every tool said that, with its usage, as for a mistyped path).
     * An empty log alone is no database.
     */
    @Test
    void toolsSayAFolderWithALogButNoDataFileIsDamaged() throws Exception {
        Path db = databaseWithParts(3);
        Files.delete(db.resolve("data.cairn"));
        long logBytes = Files.size(db.resolve("wal.cairn"));
        String said = db + " holds a log (wal.cairn, " + logBytes + " bytes) but no data file (data.cairn): the data file"
            + " was deleted or moved away";
        Result verify = cairn("verify", db.toString());
        assertEquals(1, verify.code(), verify.toString());
        assertTrue(verify.out().startsWith("DAMAGED " + db + ": " + said), verify.out());
        Result salvage = cairn("salvage", db.toString());
        assertEquals(1, salvage.code(), salvage.toString());
        assertTrue(salvage.out().contains(said), salvage.out());
        Result stats = cairn("stats", db.toString());
        assertEquals(2, stats.code(), stats.toString()); // stats: 2 for what stops it opening (its --help)
        assertTrue(stats.err().contains(said), stats.err());
        Path target = dir.resolve("backup");
        Result backup = cairn("backup", db.toString(), target.toString());
        assertEquals(1, backup.code(), backup.toString());
        assertTrue(backup.out().startsWith("DAMAGED: " + said) && backup.out().contains("nothing was copied"), backup.out());
        assertFalse(Files.exists(target), "no backup folder");
        try (var files = Files.list(db)) {
            assertEquals(java.util.Set.of(db.resolve("wal.cairn"), db.resolve("lock")), java.util.Set.copyOf(files.toList()));
        }
        assertEquals(logBytes, Files.size(db.resolve("wal.cairn")), "the log as it was");
        Files.write(db.resolve("wal.cairn"), new byte[0]);
        Result empty = cairn("verify", db.toString());
        assertEquals(2, empty.code(), empty.toString());
        assertTrue(empty.err().contains("no database in " + db.toAbsolutePath()), empty.err());
    }

    /** Every tool refuses a folder without a database and leaves it as it was (before, most made a database there). */
    @Test
    void toolsRefuseAFolderWithoutADatabaseAndCreateNothing() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("not-a-db"));
        Files.writeString(empty.resolve("readme.txt"), "hello");
        Path file = Files.createFile(dir.resolve("some.jsonl"));
        for (String[] command : List.of(new String[] {"verify", empty.toString()}, new String[] {"stats", empty.toString()},
                new String[] {"backup", empty.toString(), dir.resolve("b").toString()},
                new String[] {"compact", empty.toString(), dir.resolve("c").toString()},
                new String[] {"export", empty.toString(), "Part"}, new String[] {"import", empty.toString(), "Part", file.toString()},
                new String[] {"salvage", empty.toString()}, new String[] {"inspect", empty.toString()})) {
            Result r = cairn(command);
            assertEquals(2, r.code(), String.join(" ", command) + ": " + r.out() + r.err());
            assertTrue(r.err().contains("no database in " + empty.toAbsolutePath()), r.err());
            try (var files = Files.list(empty)) {
                assertEquals(List.of(empty.resolve("readme.txt")), files.toList(), String.join(" ", command) + " created files");
            }
        }
        Path db = databaseWithParts(1);
        Result r = cairn("verify", db.resolve("data.cairn").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains(db.resolve("data.cairn").toAbsolutePath() + " is a file, not a folder: give the folder"
            + " that holds it, " + db.toAbsolutePath()), r.err());
        // a file elsewhere given as DIR (an export file): said to be a file, not "no database folder"
        for (String[] command : List.of(new String[] {"verify", file.toString()}, new String[] {"export", file.toString(), "Part"},
                new String[] {"stats", file.toString()}, new String[] {"import", file.toString(), "Part", file.toString()})) {
            r = cairn(command);
            assertEquals(2, r.code(), String.join(" ", command) + ": " + r.out() + r.err());
            assertTrue(r.err().contains("cairn " + command[0] + ": " + file.toAbsolutePath() + " is a file, not a folder"
                + " (expected: DIR, the folder that holds a database)"), r.err());
        }
    }

    /** --schema-version 0 was taken for "not given" and exported the current version; like -1, it is no version. */
    @Test
    void exportRefusesSchemaVersionZeroAsItRefusesOtherNonVersions() throws Exception {
        Path db = databaseWithParts(1);
        for (String version : List.of("0", "-1", "2147483648")) {
            for (String format : List.of("jsonl", "sql")) {
                Result r = cairn("export", db.toString(), "Part", "--format", format, "--schema-version", version);
                assertEquals(2, r.code(), r.out() + r.err());
                assertEquals("", r.out());
                assertTrue(r.err().contains("option --schema-version " + version + " (expected: a schema version of the tree,"
                    + " 1 or more; without the option, the tree's current one)"), r.err());
            }
            Result r = cairn("export", db.toString(), "Part", "--jdbc", "jdbc:nodriver:x", "--schema-version=" + version);
            assertEquals(2, r.code(), r.out() + r.err());
            assertTrue(r.err().contains("option --schema-version " + version + " (expected: a schema version"), r.err());
        }
        Result r = cairn("export", db.toString(), "Part", "--schema-version", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("{\"key\":\"Part/0.0\""), r.out());
    }

    /** A backup target that is a file, and an import file that is missing, are named as such. */
    @Test
    void aFileInTheWayAndAMissingFileAreSaidPlainly() throws Exception {
        Path db = databaseWithParts(1);
        Path afile = Files.writeString(dir.resolve("afile"), "x");
        Result backup = cairn("backup", db.toString(), afile.toString());
        assertEquals(2, backup.code(), backup.out() + backup.err());
        assertTrue(backup.err().contains("backup target " + afile + " is a file, not a folder"), backup.err());
        Result imp = cairn("import", db.toString(), "Part", dir.resolve("nosuch.jsonl").toString());
        assertEquals(2, imp.code(), imp.out() + imp.err());
        assertTrue(imp.err().contains("cannot read " + dir.resolve("nosuch.jsonl") + ": no such file"), imp.err());
        // an empty file (what a failed export leaves behind a shell redirect) is no empty tree (helper-26)
        Path empty = Files.writeString(dir.resolve("empty.jsonl"), "");
        Result none = cairn("import", db.toString(), "Part", empty.toString(), "--append");
        assertEquals(1, none.code(), none.out() + none.err());
        assertTrue(none.err().contains(empty + " holds no records"), none.err());
    }

    /** A host that does not resolve, or a port out of range, is said plainly and creates no database. */
    @Test
    void serverRefusesABadHostOrPortBeforeMakingADatabase() {
        Path data = dir.resolve("srv");
        Result host = cairn("server", "--data", data.toString(), "--port", "0", "--host", "nosuch.invalid");
        assertEquals(2, host.code(), host.out() + host.err());
        assertTrue(host.err().contains("cannot resolve host 'nosuch.invalid'"), host.err());
        Result port = cairn("server", "--data=" + data, "--port=99999");
        assertEquals(2, port.code(), port.out() + port.err());
        assertTrue(port.err().contains("option --port 99999 (expected: 0..65535)"), port.err());
        // beyond int's range too: a number out of range, not "not a number" (probe 56)
        for (String huge : List.of("9999999999", "-9999999999")) {
            Result big = cairn("server", "--data=" + data, "--port=" + huge);
            assertEquals(2, big.code(), big.out() + big.err());
            assertTrue(big.err().contains("option --port " + huge + " (expected: 0..65535)"), big.err());
        }
        assertFalse(Files.exists(data), "a database was made");
    }

    /** A port another process listens on is said plainly and leaves no empty server database behind. */
    @Test
    void serverOnAPortInUseSaysSoAndCreatesNoDatabase() throws Exception {
        Path data = dir.resolve("srv");
        try (java.nio.channels.ServerSocketChannel taken = java.nio.channels.ServerSocketChannel.open()) {
            taken.bind(new java.net.InetSocketAddress("127.0.0.1", 0));
            int port = ((java.net.InetSocketAddress) taken.getLocalAddress()).getPort();
            Result r = cairn("server", "--data", data.toString(), "--port", Integer.toString(port), "--host", "127.0.0.1");
            assertNotEquals(0, r.code(), r.out() + r.err());
            assertTrue(r.err().contains("sync server cannot listen on 127.0.0.1:" + port + ": "), r.err());
        }
        assertFalse(Files.exists(data), "a database was made");
    }

    @Test
    void verifyOfAnIntactDatabaseExitsZeroAndCountsRecords() {
        Path db = databaseWithParts(50);
        Result r = cairn("verify", db.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("OK") && r.out().contains("50 records checked"), r.out());
    }

    @Test
    void verifyOfADamagedDatabaseExitsOneWithAReport() throws IOException {
        Path db = databaseWithParts(500);
        Path file;
        try (var files = Files.list(db)) {
            file = files.filter(f -> !f.getFileName().toString().equals("lock")).findFirst().orElseThrow();
        }
        // Garbage over every page after the header and meta pages: whichever page the newest
        // meta names, its checksum now fails.
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            long pages = Math.min(ch.size() / 4096, 64);
            for (long p = 3; p < pages; p++) ch.write(ByteBuffer.wrap(new byte[] {0x5a, 0x5a, 0x5a, 0x5a}), p * 4096 + 100);
        }
        Result r = cairn("verify", db.toString());
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("DAMAGED") || r.out().contains("problem"), r.out());
    }

    /**
     * A linked node whose outbox names a record that does not exist (written raw, as damage
     * would): the pages and records check out, the layout check does not.
     */
    @Test
    void verifyReportsAnOutboxEntryForAMissingRecord() {
        Path db = databaseWithParts(3);
        byte[] key = ByteBuffer.allocate(13).put("Part".getBytes(StandardCharsets.UTF_8)).put((byte) 0).putInt(77).putInt(0).array();
        try (dev.cairn.store.Store store = dev.cairn.store.Store.open(db);
             dev.cairn.store.WriteTxn w = store.beginWrite()) {
            w.put(dev.cairn.db.Layout.NODE, "serverId".getBytes(StandardCharsets.US_ASCII), new byte[16]);
            w.put(dev.cairn.db.Layout.NODE, "outboxNext".getBytes(StandardCharsets.US_ASCII), ByteBuffer.allocate(8).putLong(1).array());
            w.put(dev.cairn.db.Layout.OUTBOX, key, ByteBuffer.allocate(25).putLong(0).put((byte) 1).putLong(1).putLong(1).array());
            w.put(dev.cairn.db.Layout.OUTBOX_ORDER, new byte[8], key);
            w.commit();
        }
        Result r = cairn("verify", db.toString());
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("problem: cairn.outbox entry 0 (CHANGED Part/77.0): the record does not exist")
            && r.out().contains("DAMAGED") && r.out().contains("3 records checked"), r.out());
    }

    /**
     * Record headers that every read of their metadata, or every change, refuses (written raw,
     * as a server before its iteration check made them: a state change with metaIteration
     * Long.MAX_VALUE, and the overflow of the holder's next update): verify read only the record
     * bytes and said OK.
     */
    @Test
    void verifyReportsRecordHeadersWhoseIterationsAreInvalid() {
        Path db = databaseWithParts(3);
        try (dev.cairn.store.Store store = dev.cairn.store.Store.open(db);
             dev.cairn.store.WriteTxn w = store.beginWrite()) {
            setIterations(w, 0, Long.MIN_VALUE, 2);
            setIterations(w, 1, Long.MAX_VALUE, 1);
            w.commit();
        }
        Result r = cairn("verify", db.toString());
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("problem: record header of Part/0.0: iterations meta -9223372036854775808 data 2")
            && r.out().contains("problem: record Part/1.0: metaIteration 9223372036854775807 is at or above ITERATION_MAX "
                + dev.cairn.internal.Limits.ITERATION_MAX + ", so it cannot change any more")
            && !r.out().contains("Part/2.0") && r.out().contains("DAMAGED"), r.out());
    }

    /** Sets the iterations (database-layout.md §3, offsets 24 and 32) of record {@code id} of tree Part. */
    private static void setIterations(dev.cairn.store.WriteTxn w, int id, long meta, long data) {
        byte[] key = ByteBuffer.allocate(8).putInt(id).putInt(0).array();
        byte[] value = w.get("data:Part", key).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        ByteBuffer.wrap(value).putLong(24, meta).putLong(32, data);
        w.put("data:Part", key, value);
    }

    /** The compacted copy holds every record and verifies; a target holding a database is refused. */
    @Test
    void compactWritesACopyThatVerifiesWithEveryRecord() {
        Path db = databaseWithParts(300);
        try (Cairn c = Cairn.open(db)) {
            Tree<Part> parts = c.tree(Part.class);
            for (Key<Part> key : parts.keys().subList(0, 250)) {
                parts.checkOut(key).join();
                parts.remove(key);
            }
        }
        Path copy = dir.resolve("compacted");
        Result r = cairn("compact", db.toString(), copy.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().startsWith("OK compacted " + db), r.out());
        Result verified = cairn("verify", copy.toString());
        assertEquals(0, verified.code(), verified.out());
        assertTrue(verified.out().contains("50 records checked"), verified.out());
        Result again = cairn("compact", db.toString(), copy.toString());
        assertEquals(2, again.code());
        assertTrue(again.err().contains("already holds a database"), again.err());
    }

    /**
     * A log that refuses the open (here another database's): salvage says what it would do and
     * changes nothing; with --apply it keeps the log, opens at the data file's checkpoint and
     * verifies; after that there is nothing to salvage. Damage outside the log is not salvaged.
     */
    @Test
    void salvageShowsThenAppliesTheRemedyOfARefusedLog() throws IOException {
        Path db = databaseWithParts(50);
        Path other = dir.resolve("other");
        try (Cairn c = Cairn.open(other)) {
            c.tree(Part.class).insert(new Part("X-1", "other", 1, 1L, List.of("x")));
        }
        Path log = db.resolve("wal.cairn");
        Files.copy(other.resolve("wal.cairn"), log, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        byte[] foreignLog = Files.readAllBytes(log);
        byte[] data = Files.readAllBytes(db.resolve("data.cairn"));

        Result shown = cairn("salvage", db.toString());
        assertEquals(1, shown.code(), shown.out() + shown.err());
        assertTrue(shown.out().startsWith("REFUSED ") && shown.out().contains("belongs to another database")
            && shown.out().contains("salvage would copy the whole log") && shown.out().contains(" --apply"), shown.out());
        assertArrayEquals(foreignLog, Files.readAllBytes(log), "showing changed the log");
        assertArrayEquals(data, Files.readAllBytes(db.resolve("data.cairn")), "showing changed the data file");
        assertFalse(Files.exists(db.resolve("wal.cairn.refused-1")));

        Result applied = cairn("salvage", db.toString(), "--apply");
        assertEquals(0, applied.code(), applied.out() + applied.err());
        assertTrue(applied.out().contains("kept in " + db.resolve("wal.cairn.refused-1"))
            && applied.out().contains("OK " + db + ": opens at txn"), applied.out());
        assertArrayEquals(foreignLog, Files.readAllBytes(db.resolve("wal.cairn.refused-1")));
        Result verified = cairn("verify", db.toString());
        assertEquals(0, verified.code(), verified.out());
        assertTrue(verified.out().contains("50 records checked"), verified.out());

        Result again = cairn("salvage", db.toString(), "--apply");
        assertEquals(0, again.code(), again.out() + again.err());
        assertTrue(again.out().contains("nothing to salvage"), again.out());
        assertFalse(Files.exists(db.resolve("wal.cairn.refused-2")));

        Path data0 = other.resolve("data.cairn");
        byte[] file = Files.readAllBytes(data0);
        file[0] = 'X';
        Files.write(data0, file);
        Result damaged = cairn("salvage", other.toString(), "--apply");
        assertEquals(1, damaged.code(), damaged.out() + damaged.err());
        assertTrue(damaged.out().startsWith("DAMAGED ") && damaged.out().contains("the damage is not in the log"), damaged.out());
        assertFalse(Files.exists(other.resolve("wal.cairn.refused-1")));

        Path empty = Files.createDirectories(dir.resolve("empty"));
        Result none = cairn("salvage", empty.toString());
        assertEquals(2, none.code());
        assertTrue(none.err().contains("no database in"), none.err());
        assertFalse(Files.exists(empty.resolve("data.cairn")), "salvage made a database");
    }

    /**
     * Probe 35: a data page zeroed (damage outside the log) made verify say DAMAGED but salvage
     * "OK ... nothing to salvage" (exit 0), though the database failed on the page when used.
     * Salvage runs verify's store checks and says salvage cannot help, and what a node does.
     */
    @Test
    void salvageOfADatabaseThatOpensButFailsVerifySaysTheDamageIsNotInTheLog() throws IOException {
        Path db = databaseWithParts(2000);
        Path data = db.resolve("data.cairn");
        int pageBytes = 4096;
        // A page that holds record P-1000: a leaf of the tree, reachable from its root.
        byte[] file = Files.readAllBytes(data);
        int at = new String(file, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf("P-1000");
        assertTrue(at > 0);
        long page = at / pageBytes;
        try (java.nio.channels.FileChannel c = java.nio.channels.FileChannel.open(data, java.nio.file.StandardOpenOption.WRITE)) {
            c.write(java.nio.ByteBuffer.allocate(pageBytes), page * pageBytes);
        }
        Result verified = cairn("verify", db.toString());
        assertEquals(1, verified.code(), verified.out());
        assertTrue(verified.out().contains("page " + page + ": "), verified.out());
        for (String[] args : List.of(new String[] {"salvage", db.toString()}, new String[] {"salvage", db.toString(), "--apply"})) {
            Result r = cairn(args);
            assertEquals(1, r.code(), r.out() + r.err());
            assertTrue(r.out().contains("problem: ") && r.out().contains("page " + page + ": "), r.out());
            assertTrue(r.out().contains("DAMAGED " + db + ": opens as it is (txn "), r.out());
            assertTrue(r.out().contains("but verify finds damage"), r.out());
            assertTrue(r.out().contains("salvage cannot get past this: the damage is not in the log. Restore the folder from a"
                + " backup"), r.out());
            assertTrue(r.out().contains("refused by the server as an older copy of the node (NODE_COPY) if the node has"
                + " linked since the backup: give the node a new folder"), r.out());
            assertFalse(r.out().contains("nothing to salvage"), r.out());
        }
        assertFalse(Files.exists(db.resolve("wal.cairn.refused-1")), "salvage changed nothing");
    }

    /**
     * Probe 87: verify on a zeroed data page said DAMAGED with no next step, and stats printed its
     * figures, exit 0, with no hint: verify gives salvage's advice, stats says to run verify (exit 1).
     */
    @Test
    void verifyOfADamagedPageSaysWhatToDoAndStatsSaysToRunVerify() throws IOException {
        Path db = databaseWithParts(2000);
        Result intact = cairn("stats", db.toString());
        assertEquals(0, intact.code(), intact.out());
        assertTrue(intact.out().contains("check       pages intact (records not decoded: cairn verify " + db
            + " checks everything)"), intact.out());
        byte[] file = Files.readAllBytes(db.resolve("data.cairn"));
        long page = new String(file, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf("P-1000") / 4096;
        try (java.nio.channels.FileChannel c = java.nio.channels.FileChannel.open(db.resolve("data.cairn"),
                java.nio.file.StandardOpenOption.WRITE)) {
            c.write(java.nio.ByteBuffer.allocate(4096), page * 4096);
        }
        Result verified = cairn("verify", db.toString());
        assertEquals(1, verified.code(), verified.out());
        assertTrue(verified.out().contains("DAMAGED " + db + ": "), verified.out());
        assertTrue(verified.out().contains("Restore the folder from a backup (cairn backup makes one; README, \"Restoring a"
            + " node from a backup\")") && verified.out().contains("(NODE_COPY) if the node has linked since the backup: give"
            + " the node a new folder"), verified.out());
        Result stats = cairn("stats", db.toString());
        assertEquals(1, stats.code(), stats.out());
        assertTrue(stats.out().contains("data:Part"), stats.out());
        assertTrue(stats.out().matches("(?s).*check       DAMAGED: \\d+ problems? in the pages: cairn verify " + java.util.regex.Pattern.quote(db.toString())
            + " names them and what to do\n.*"), stats.out());
    }

    /** A database that does not open is said before any jshell starts (its script would print a stack trace and go on). */
    @Test
    void inspectOfADatabaseThatDoesNotOpenSaysWhyAndExitsTwo() throws IOException {
        Path db = databaseWithParts(3);
        Path data = db.resolve("data.cairn");
        byte[] file = Files.readAllBytes(data);
        file[0] = 'X';
        Files.write(data, file);
        Result r = cairn("inspect", db.toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().startsWith("cairn inspect: ") && r.err().contains("magic"), r.err());
        assertFalse(r.out().contains("jshell"), r.out());
    }

    @Test
    void exportThenImportCopiesEveryRecordAsNewRecords() throws IOException {
        Path db = databaseWithParts(20);
        Result export = cairn("export", db.toString(), "Part");
        assertEquals(0, export.code(), export.err());
        List<String> lines = export.out().lines().toList();
        assertEquals(21, lines.size());
        assertEquals("{\"cairn-export-end\":{\"tree\":\"Part\",\"records\":20}}", lines.get(20), "the end line comes last");
        assertTrue(lines.get(3).startsWith("{\"key\":\"Part/3.0\",\"value\":{\"name\":\"P-3\""), lines.get(3));
        Path file = dir.resolve("parts.jsonl");
        Files.writeString(file, export.out());

        Result imported = cairn("import", db.toString(), "Part", file.toString(), "--append");
        assertEquals(0, imported.code(), imported.err());
        try (Cairn c = Cairn.open(db)) {
            Tree<Part> parts = c.tree(Part.class);
            assertEquals(40, parts.size());
            assertEquals(parts.get(new Key<>("Part", 3, 0)), parts.get(new Key<>("Part", 23, 0)));
        }
    }

    @Test
    void importOfABadLineStoresNothingAndNamesTheRecord() throws IOException {
        Path db = databaseWithParts(5);
        Path file = dir.resolve("bad.jsonl");
        Files.writeString(file, """
            {"name":"A","manufacturer":"M","stock":1,"priceCents":2,"tags":[]}
            {"name":"B","manufacturer":"M","stock":"many","priceCents":2,"tags":[]}
            """);
        Result r = cairn("import", db.toString(), "Part", file.toString(), "--append");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("record 2"), r.err());
        try (Cairn c = Cairn.open(db)) {
            assertEquals(5, c.tree(Part.class).size(), "nothing imported");
        }
    }

    @Test
    void backupMakesACopyThatVerifies() {
        Path db = databaseWithParts(30);
        Path copy = dir.resolve("copy");
        assertEquals(0, cairn("backup", db.toString(), copy.toString()).code());
        Result r = cairn("verify", copy.toString());
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("30 records checked"), r.out());
    }

    @Test
    void statsListsStoreTrees() {
        Path db = databaseWithParts(3);
        Result r = cairn("stats", db.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("data:Part") && r.out().contains("3 entries"), r.out());
        assertTrue(r.out().matches("(?s).*database    id 0x[0-9a-f]{16}, pages of 4,096 bytes, format version 3\n.*"), r.out());
        assertTrue(r.out().contains("link        never linked to a server"), r.out());
        assertTrue(r.out().matches("(?s).*\n  Part +3 records, 1 schema version\n.*"), r.out());
        assertTrue(r.out().contains("check-outs  0 held here\n"), r.out());
    }

    /** A standalone node's stats left out its check-outs, which cairn.checkouts holds as a linked node's do. */
    @Test
    void statsOfAStandaloneNodeShowsItsCheckOuts() {
        Path db = databaseWithParts(3);
        try (Cairn c = Cairn.open(db)) {
            Tree<Part> parts = c.tree(Part.class);
            parts.checkOut(parts.keys().getFirst()).join();
        }
        Result r = cairn("stats", db.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("link        never linked to a server (standalone: it allocates its own ids)\n"
            + "check-outs  1 held here\n"), r.out());
    }

    /** stats says what a node and a server folder hold: who they are, the link, unsent changes, check-outs. */
    @Test
    void statsOfALinkedNodeAndOfItsServer() {
        Path serverDir = dir.resolve("server");
        Path node = dir.resolve("node");
        String serverId;
        try (dev.cairn.CairnServer server = dev.cairn.CairnServer.start(serverDir, 0, "stats-app")) {
            serverId = server.serverId().toString();
            try (Cairn c = Cairn.open(node, Cairn.Options.defaults().withAppId("stats-app"))) {
                c.connect("127.0.0.1", server.port()).orTimeout(20, java.util.concurrent.TimeUnit.SECONDS).join();
                Tree<Part> parts = c.tree(Part.class);
                Key<Part> held = parts.insert(new Part("P-1", "ACME", 1, 100, List.of()));
                Key<Part> gone = parts.insert(new Part("P-2", "ACME", 2, 200, List.of()));
                parts.checkOut(held).orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join();
                parts.checkOut(gone).orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join();
                parts.remove(gone);
                // A round trip after the removal: its Ack (and every earlier one) reaches the node first.
                parts.checkIn(held);
                parts.checkOut(held).orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join();
                assertEquals(3, server.sequence());
                c.disconnect();
                parts.update(held, new Part("P-1", "ACME", 5, 100, List.of())); // offline: stays in the outbox
            }
        }
        Result n = cairn("stats", node.toString());
        assertEquals(0, n.code(), n.err());
        assertTrue(n.out().contains("link        server " + serverId + "; has every change up to its sequence 3; replicates every tree"), n.out());
        assertTrue(n.out().contains("pending     1 change not yet acknowledged by the server; 1 check-out held here (1 known)"), n.out());
        assertTrue(n.out().matches("(?s).*\n  Part +1 records, 1 schema version\n.*"), n.out());
        Result s = cairn("stats", serverDir.toString());
        assertEquals(0, s.code(), s.err());
        assertTrue(s.out().contains("server      id " + serverId + ", app 'stats-app', 3 changes accepted"), s.out());
        assertTrue(s.out().contains("clients     1 known; 1 record checked out"), s.out());
        assertTrue(s.out().matches("(?s).*\n  Part +1 records, 1 removed\n.*"), s.out());
        assertFalse(s.out().contains("link "), s.out());
    }

    @dev.cairn.TreeSpec(name = "Ren")
    record RenV1(String number, String description, int ratio) { }

    /** RenV1 with description renamed to text, and ratio removed: compatible changes (SPEC §2). */
    @dev.cairn.TreeSpec(name = "Ren")
    record RenV2(String number, @dev.cairn.FormerNames("description") String text) { }

    /**
     * A tree whose records are of two versions, one renamed and one removed component apart,
     * exports in its latest version (both forms) and imports into a database that knows only
     * that one. Before, SQL export stopped after the CREATE TABLE ("unknown member description"),
     * and JSON lines mixed both versions' names, which such a database refused (probe helper-24).
     */
    @Test
    void aTreeOfTwoVersionsExportsInItsLatestAndImportsIntoADatabaseOfThatOne() throws IOException {
        Path db = dir.resolve("ren");
        try (Cairn c = Cairn.open(db)) {
            c.tree(RenV1.class).insert(new RenV1("R-1", "resistor", 3));
        }
        try (Cairn c = Cairn.open(db)) {
            c.tree(RenV2.class).insert(new RenV2("R-2", "renamed era"));
        }
        List<RenV2> expected = List.of(new RenV2("R-1", "resistor"), new RenV2("R-2", "renamed era"));
        for (String format : List.of("jsonl", "sql")) {
            Result export = cairn("export", db.toString(), "Ren", "--format", format);
            assertEquals(0, export.code(), export.err());
            assertFalse(export.out().contains("description") || export.out().contains("ratio"), export.out());
            Path file = Files.writeString(dir.resolve("ren." + format), export.out());
            Path fresh = dir.resolve("fresh-" + format);
            try (Cairn c = Cairn.open(fresh)) {
                c.tree(RenV2.class);
            }
            Result imported = cairn("import", fresh.toString(), "Ren", file.toString());
            assertEquals(0, imported.code(), imported.out() + imported.err());
            try (Cairn c = Cairn.open(fresh)) {
                Tree<RenV2> ren = c.tree(RenV2.class);
                assertEquals(expected, ren.keys().stream().map(ren::get).toList(), format);
            }
        }
    }

    @Test
    void sqlExportThenImportCopiesEveryRecord() throws IOException {
        Path db = databaseWithParts(12);
        Result export = cairn("export", db.toString(), "Part", "--format", "sql");
        assertEquals(0, export.code(), export.err());
        assertTrue(export.out().startsWith("CREATE TABLE \"Part\""), export.out());
        assertEquals(12, export.out().lines().filter(l -> l.startsWith("INSERT INTO \"Part\"")).count());
        Path file = dir.resolve("parts.sql");
        Files.writeString(file, export.out());
        Result imported = cairn("import", db.toString(), "Part", file.toString(), "--append");
        assertEquals(0, imported.code(), imported.err());
        assertTrue(imported.out().contains("imported 12 records"), imported.out());
        try (Cairn c = Cairn.open(db)) {
            Tree<Part> parts = c.tree(Part.class);
            assertEquals(24, parts.size());
            assertEquals(parts.get(new Key<>("Part", 7, 0)), parts.get(new Key<>("Part", 19, 0)));
        }
        Files.writeString(file, export.out().replace("'ACME'", "42"));
        Result bad = cairn("import", db.toString(), "Part", file.toString(), "--append");
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("nothing imported"), bad.err());
        // SQL in a file not named *.sql (as /dev/stdin is): read as JSON lines, and the refusal says why (probe 124)
        Path unnamed = Files.writeString(dir.resolve("parts.txt"), export.out());
        Result asJson = cairn("import", db.toString(), "Part", unnamed.toString(), "--append");
        assertEquals(1, asJson.code());
        assertTrue(asJson.err().contains("(this looks like SQL: a FILE is read as SQL only when its name ends in .sql"),
            asJson.err());
    }

    /**
     * Two backups into one target started at once: one makes the copy, the other is refused for
     * the build folder or the database it finds there, and the copy verifies (probe 124: both
     * could go on, each removing the other's files, and both failed naming files that were gone).
     */
    @Test
    void twoBackupsIntoOneTargetAtOnceLeaveOneVerifiedCopy() throws Exception {
        Path db = databaseWithParts(200);
        for (int round = 0; round < 12; round++) {
            Path target = dir.resolve("same-" + round);
            java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(2);
            java.util.concurrent.Callable<Result> backup = () -> {
                start.await();
                return cairn("backup", db.toString(), target.toString());
            };
            try (var pool = java.util.concurrent.Executors.newFixedThreadPool(2)) {
                var first = pool.submit(backup);
                var second = pool.submit(backup);
                List<Result> both = List.of(first.get(), second.get());
                assertEquals(1, both.stream().filter(r -> r.code() == 0).count(), "round " + round + ": " + both);
                Result refused = both.stream().filter(r -> r.code() != 0).findFirst().orElseThrow();
                assertEquals(2, refused.code(), refused.toString());
                assertTrue(refused.err().contains("holds backup.partial, left by a backup that did not finish (killed, or its"
                    + " machine stopped), or by one running now") || refused.err().contains("holds a database"),
                    "round " + round + ": " + refused);
            }
            assertEquals(0, cairn("verify", target.toString()).code(), "round " + round);
            assertFalse(Files.exists(target.resolve("backup.partial")), "round " + round);
        }
    }

    @Test
    void backupOfADatabaseInUseCopiesAndVerifies() {
        Path db = databaseWithParts(25);
        Path copy = dir.resolve("hot");
        try (Cairn holder = Cairn.open(db)) {
            Result r = cairn("backup", db.toString(), copy.toString());
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("in use by another process; copy verified"), r.out());
            assertEquals(2, cairn("verify", db.toString()).code(), "verify needs the database closed");
            assertEquals(25, holder.genericTree("Part").keys().size());
        }
        Result v = cairn("verify", copy.toString());
        assertEquals(0, v.code(), v.out());
        assertTrue(v.out().contains("25 records checked"), v.out());
    }

    /** The data file and log of an open database as they are on disk: what a crash (kill -9) leaves. */
    private static Path crashImage(Path db, Path image) throws IOException {
        Files.createDirectories(image);
        for (String name : List.of("data.cairn", "wal.cairn")) Files.copy(db.resolve(name), image.resolve(name));
        return image;
    }

    private static List<byte[]> files(Path db) throws IOException {
        return List.of(Files.readAllBytes(db.resolve("data.cairn")), Files.readAllBytes(db.resolve("wal.cairn")));
    }

    private static void assertUnchanged(List<byte[]> before, Path db, String what) throws IOException {
        List<byte[]> now = files(db);
        assertArrayEquals(before.get(0), now.get(0), what + " changed data.cairn");
        assertArrayEquals(before.get(1), now.get(1), what + " changed wal.cairn");
    }

    /**
     * After a crash whose last log frame does not check out (torn, or damaged as here), verify
     * and stats check what an open would recover, say in their own output that the last commit's
     * frame was dropped, and write nothing into the folder (they used to replay the log into it,
     * dropping the frame, and say only OK).
     */
    @Test
    void verifyAndStatsAfterACrashSayWhatRecoveryFoundAndChangeNothing() throws IOException {
        Path db = dir.resolve("live");
        Path before;
        Path crashed;
        try (Cairn c = Cairn.open(db)) {
            Tree<Part> parts = c.tree(Part.class);
            for (int i = 0; i < 30; i++) parts.insert(new Part("P-" + i, "ACME", i, 100L * i, List.of("t" + i)));
            before = crashImage(db, dir.resolve("before"));
            parts.insert(new Part("P-30", "ACME", 30, 3000L, List.of("t30")));
            crashed = crashImage(db, dir.resolve("crashed"));
        }
        byte[] log = Files.readAllBytes(crashed.resolve("wal.cairn"));
        byte[] older = Files.readAllBytes(before.resolve("wal.cairn"));
        int lastFrame = 64;
        while (log[lastFrame] == older[lastFrame]) lastFrame++;   // the last commit's frame starts where the logs differ
        log[lastFrame + 40] ^= (byte) 0xFF;                        // inside its operations
        Files.write(crashed.resolve("wal.cairn"), log);

        List<byte[]> intact = files(before);
        Result clean = cairn("verify", before.toString());
        assertEquals(0, clean.code(), clean.out() + clean.err());
        assertTrue(clean.out().contains("recovery: not closed cleanly: the log holds ")
            && clean.out().contains("(" + before + " is unchanged)") && clean.out().contains("30 records checked")
            && !clean.out().contains("does not check out"), clean.out());
        assertUnchanged(intact, before, "verify");

        List<byte[]> evidence = files(crashed);
        Result r = cairn("verify", crashed.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("recovery: the log ends at byte " + String.format("%,d", lastFrame)
            + " with a frame that does not check out (checksum ") && r.out().contains("is in the database")
            && r.out().contains("copy " + crashed.resolve("wal.cairn") + " before"), r.out());
        assertTrue(r.out().contains("OK " + crashed) && r.out().contains("30 records checked"), r.out());
        assertFalse(r.out().contains(System.getProperty("java.io.tmpdir") + "/cairn-"), "names the copy: " + r.out());
        assertUnchanged(evidence, crashed, "verify");

        Result stats = cairn("stats", crashed.toString());
        assertEquals(0, stats.code(), stats.out() + stats.err());
        assertTrue(stats.out().contains("data:Part") && stats.out().contains("30 entries")
            && stats.out().contains("with a frame that does not check out"), stats.out());
        assertUnchanged(evidence, crashed, "stats");

        // A backup does not write into the folder either (before, it opened it: recovery replayed the log there).
        Path copy = dir.resolve("crash-backup");
        Result backup = cairn("backup", crashed.toString(), copy.toString());
        assertEquals(0, backup.code(), backup.out() + backup.err());
        assertTrue(backup.out().contains("backed up " + crashed + " to " + copy + " (copy verified)"), backup.out());
        assertUnchanged(evidence, crashed, "backup");
        try (Cairn c = Cairn.open(copy)) {
            assertEquals(30, c.tree(Part.class).size());
        }
    }

    /**
     * salvage without --apply is a dry run: on a folder a crash left (a log to replay), it works
     * on a copy as verify does, says what the next open will replay, and leaves the data file and
     * log as they are (it used to open the folder itself, replaying and checkpointing the log).
     */
    @Test
    void salvageDryRunAfterACrashChangesNothingInTheFolder() throws IOException {
        Path db = dir.resolve("live");
        Path crashed;
        try (Cairn c = Cairn.open(db)) {
            Tree<Part> parts = c.tree(Part.class);
            for (int i = 0; i < 12; i++) parts.insert(new Part("P-" + i, "ACME", i, 100L * i, List.of("t" + i)));
            crashed = crashImage(db, dir.resolve("crashed"));
        }
        List<byte[]> evidence = files(crashed);
        Result r = cairn("salvage", crashed.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("recovery: not closed cleanly") && r.out().contains("(" + crashed + " is unchanged)")
            && r.out().contains("OK " + crashed + " opens as it is") && r.out().contains("nothing to salvage"), r.out());
        assertFalse(r.out().contains(System.getProperty("java.io.tmpdir") + "/cairn-"), "names the copy: " + r.out());
        assertUnchanged(evidence, crashed, "salvage without --apply");
        try (Cairn c = Cairn.open(crashed)) {
            assertEquals(12, c.tree(Part.class).size());
        }
    }

    /** A damaged frame with intact commits after it is refused by verify, naming the folder (not the copy it checks). */
    @Test
    void verifyOfALogDamagedInTheMiddleIsRefusedWithTheSalvageHintForTheFolder() throws IOException {
        Path db = dir.resolve("live");
        Path crashed;
        try (Cairn c = Cairn.open(db)) {
            Tree<Part> parts = c.tree(Part.class);
            for (int i = 0; i < 30; i++) parts.insert(new Part("P-" + i, "ACME", i, 100L * i, List.of("t" + i)));
            crashed = crashImage(db, dir.resolve("crashed"));
        }
        byte[] log = Files.readAllBytes(crashed.resolve("wal.cairn"));
        log[64 + 40] ^= (byte) 0xFF;   // in the first frame's operations
        Files.write(crashed.resolve("wal.cairn"), log);
        List<byte[]> evidence = files(crashed);
        Result r = cairn("verify", crashed.toString());
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.out().startsWith("DAMAGED " + crashed + ": " + crashed.resolve("wal.cairn") + ": the log is damaged at byte 64")
            && r.out().contains("salvage " + crashed + "`"), r.out());
        assertUnchanged(evidence, crashed, "verify");
    }

    /** verify and stats of a folder another process holds say how to check it anyway, as compact does. */
    @Test
    void verifyAndStatsOfADatabaseInUseSuggestABackup() {
        Path db = databaseWithParts(3);
        try (Cairn holder = Cairn.open(db)) {
            for (String command : List.of("verify", "stats")) {
                Result r = cairn(command, db.toString());
                assertEquals(2, r.code(), r.out() + r.err());
                assertTrue(r.err().startsWith("cairn " + command + ": database folder " + db + " is in use by another process or handle; "
                    + command + " a backup of it instead (cairn backup " + db + " COPY, then cairn " + command + " COPY)"), r.err());
            }
        }
    }

    /** export of a folder another process holds says how to export it anyway, as stats and compact do (probe-61). */
    @Test
    void anExportOfADatabaseInUseSuggestsABackup() {
        Path db = databaseWithParts(3);
        try (Cairn holder = Cairn.open(db)) {
            Result r = cairn("export", db.toString(), "Part");
            assertEquals(2, r.code(), r.out() + r.err());
            assertEquals("", r.out());
            assertEquals("cairn export: database folder " + db + " is in use by another process or handle; export a backup"
                + " of it instead (cairn backup " + db + " COPY, then cairn export COPY Part), or, if it is a sync server's"
                + " folder (cairn server --data " + db + "), which holds no node's trees to export, sync a fresh node from the"
                + " server and export that\n", r.err());
        }
    }

    /**
     * A server's folder in use: the backup the advice named was refused too, as the folder is (probe 67), so the
     * advice says what exports a server's records. The lock names no holder, so the advice covers both kinds.
     */
    @Test
    void anExportOfAServersFolderInUseSaysToExportASyncedNode() {
        Path serverDir = dir.resolve("srv");
        try (dev.cairn.CairnServer server = dev.cairn.CairnServer.start(serverDir, 0)) {
            Result r = cairn("export", serverDir.toString(), "Blob");
            assertEquals(2, r.code(), r.out() + r.err());
            assertTrue(r.err().contains("if it is a sync server's folder (cairn server --data " + serverDir + "), which holds"
                + " no node's trees to export, sync a fresh node from the server and export that"), r.err());
        }
        // what that advice spares: a server's folder, or its copy, is no node's to export
        Result closed = cairn("export", serverDir.toString(), "Blob");
        assertEquals(2, closed.code(), closed.err());
        assertTrue(closed.err().contains("holds a sync server's database"), closed.err());
    }

    @Test
    void serverNeedsADataFolderAndANumericPort() {
        Result r = cairn("server");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("missing --data"), r.err());
        r = cairn("server", "--data", dir.toString(), "--port", "seventy");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("option --port 'seventy' (expected: a number)"), r.err());
    }

    /**
     * SIGTERM on {@code cairn server} says that the server stops and that it closed its database
     * cleanly (it printed nothing); the folder then opens without recovery.
     */
    @Test
    void serverStoppedBySigtermSaysSoAndClosesItsDatabase() throws Exception {
        Path data = dir.resolve("srv");
        Process p = dev.cairn.testing.ChildJvm.start("dev.cairn.tools.Main", "server", "--data", data.toString(), "--port", "0");
        try {
            var lines = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String first = lines.readLine();
            assertNotNull(first, "the server printed nothing");
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)").matcher(first);
            assertTrue(m.find(), first);
            try (Cairn node = Cairn.open(dir.resolve("node"), Cairn.Options.defaults().withNodeName("desk-1"))) {
                node.tree(Part.class).insert(new Part("P-1", "ACME", 1, 1L, List.of()));
                node.connect("127.0.0.1", Integer.parseInt(m.group(1))).get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
            try (Cairn other = Cairn.open(dir.resolve("other"), Cairn.Options.defaults().withNodeName("lab-2").withAppId("lab"))) {
                var refused = other.connect("127.0.0.1", Integer.parseInt(m.group(1)));
                assertThrows(java.util.concurrent.ExecutionException.class, () -> refused.get(60, java.util.concurrent.TimeUnit.SECONDS));
            }
            assertTrue(p.toHandle().destroy(), "SIGTERM not sent");   // (Process.destroy would also close its output)
            assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "the server did not stop");
            String rest = String.join("\n", lines.lines().toList());
            assertEquals(143, p.exitValue(), rest);
            assertTrue(rest.contains("cairn server stopping (shutdown requested)")
                && rest.contains("cairn server stopped; database closed cleanly"), rest);
            // The operator's journal: who linked, who was refused and why, who went away.
            assertTrue(rest.matches("(?s).*Z node 'desk-1' \\([0-9a-f-]{36}\\) linked: protocol 9, catching up from sequence 0 of 0, trees all\n.*"), rest);
            assertTrue(rest.contains("node 'desk-1'") && rest.matches("(?s).*node 'desk-1' \\([0-9a-f-]{36}\\) disconnected.*"), rest);
            assertTrue(rest.matches("(?s).*node 'lab-2' \\([0-9a-f-]{36}\\) refused: APP_ID: application id 'lab'.*"), rest);
        } finally {
            p.destroyForcibly();
        }
        Result v = cairn("verify", data.toString());
        assertEquals(0, v.code(), v.out() + v.err());
        assertFalse(v.out().contains("recovery:"), "not closed cleanly: " + v.out());
    }

    /**
     * Import cannot check the application's unique indexes (they live in its code), so it refuses
     * what would break them: a tree that already holds records, without --append (importing a
     * tree into itself doubled every record), and, where ids cannot be kept, an export holding
     * several revisions of one id (each became a record of its own with the same name), in JSON
     * lines and in SQL.
     */
    @Test
    void importRefusesATreeHoldingRecordsAndRevisionsOfOneId() throws IOException {
        Path db = databaseWithParts(4);
        Path file = dir.resolve("parts.jsonl");
        Files.writeString(file, cairn("export", db.toString(), "Part").out());
        Result into = cairn("import", db.toString(), "Part", file.toString());
        assertEquals(1, into.code(), into.out() + into.err());
        assertTrue(into.err().contains("tree Part holds 4 records already") && into.err().contains("--append")
            && into.err().contains("nothing imported"), into.err());
        try (Cairn c = Cairn.open(db)) {
            assertEquals(4, c.tree(Part.class).size(), "imported into a tree that held records");
        }

        Path docs = dir.resolve("docs");
        try (Cairn c = Cairn.open(docs)) {
            Tree<dev.cairn.testing.Fixtures.Doc> t = c.tree(dev.cairn.testing.Fixtures.Doc.class);
            Key<dev.cairn.testing.Fixtures.Doc> k = t.insert(new dev.cairn.testing.Fixtures.Doc("manual", 10));
            t.release(k);
            t.newRevision(k);
            t.insert(new dev.cairn.testing.Fixtures.Doc("guide", 3));
        }
        Path empty = dir.resolve("empty");
        try (Cairn c = Cairn.open(empty)) {
            c.tree(dev.cairn.testing.Fixtures.Doc.class);
        }
        for (String format : List.of("jsonl", "sql")) {
            Path export = dir.resolve("docs." + format);
            Files.writeString(export, cairn("export", docs.toString(), "Doc", "--format", format).out());
            // into the tree it came from, the ids are taken, so each revision would become a new record
            Result r = cairn("import", docs.toString(), "Doc", export.toString(), "--append");
            assertEquals(1, r.code(), format + ": " + r.out() + r.err());
            assertTrue(r.err().contains("2 revisions [0, 1] of record id 0") && r.err().contains("nothing imported"), r.err());
            try (Cairn c = Cairn.open(docs)) {
                assertEquals(3, c.tree(dev.cairn.testing.Fixtures.Doc.class).size(), format + ": imported revisions");
            }
        }
        Path newest = dir.resolve("newest.jsonl");
        Files.writeString(newest, cairn("export", docs.toString(), "Doc").out().lines()
            .filter(l -> !l.startsWith("{\"key\":\"Doc/0.0\"")).map(l -> l + "\n").reduce("", String::concat));
        // a file cut by hand: its end line counts the record left out, so it takes --no-end-check
        assertEquals(1, cairn("import", empty.toString(), "Doc", newest.toString()).code());
        Result ok = cairn("import", empty.toString(), "Doc", newest.toString(), "--no-end-check");
        assertEquals(0, ok.code(), ok.out() + ok.err());
        assertTrue(ok.out().contains("imported 2 records into Doc"), ok.out());
    }

    @Test
    void exportAndImportGoThroughAJdbcDriverOnTheClassPath() throws java.sql.SQLException {
        Path db = databaseWithParts(3);
        Path other = dir.resolve("other");
        try (Cairn c = Cairn.open(other)) {
            c.tree(Part.class);
        }
        dev.cairn.testing.FakeJdbc database = dev.cairn.testing.FakeDriver.register("main-test");
        try {
            Result r = cairn("export", db.toString(), "Part", "--jdbc", "jdbc:fake:main-test", "--table", "parts");
            assertEquals(0, r.code(), r.err());
            assertEquals("exported 3 records of Part to table parts at jdbc:fake:main-test\n", r.out());
            assertEquals(3, database.tables().get("parts").rows().size());
            r = cairn("export", db.toString(), "Part", "--jdbc", "jdbc:fake:main-test", "--table", "parts");
            assertEquals(1, r.code(), r.err());
            assertTrue(r.err().contains("the table holds 3 rows already"), r.err());

            r = cairn("import", other.toString(), "Part", "--jdbc", "jdbc:fake:main-test", "--table", "parts");
            assertEquals(0, r.code(), r.err());
            assertEquals("imported 3 records into Part from table parts at jdbc:fake:main-test\n", r.out());
            r = cairn("import", other.toString(), "Part", "--jdbc", "jdbc:fake:main-test", "--table", "parts");
            assertEquals(1, r.code(), r.err());
            assertTrue(r.err().startsWith("cairn import: import of table parts into tree Part: the tree holds 3 records"), r.err());
            r = cairn("import", other.toString(), "Part", "--jdbc", "jdbc:fake:main-test", "--table", "parts", "--append");
            assertEquals(0, r.code(), r.err());
        } finally {
            dev.cairn.testing.FakeDriver.drop("main-test");
        }
        try (Cairn c = Cairn.open(other)) {
            assertEquals(6, c.tree(Part.class).size());
        }
    }

    @Test
    void aMissingJdbcDriverIsOneLineAndExitTwo() {
        Path db = databaseWithParts(1);
        for (String command : new String[] {"export", "import"}) {
            Result r = cairn(command, db.toString(), "Part", "--jdbc", "jdbc:nosuch:/tmp/x.db?password=secret");
            assertEquals(2, r.code(), r.err());
            assertEquals("cairn " + command + ": no JDBC driver for URL jdbc:nosuch:/tmp/x.db...: put the driver's jar on the"
                + " class path with -cp (java -cp cairn.jar:DRIVER.jar dev.cairn.tools.Main ..., not java -jar, which"
                + " ignores -cp)\n", r.err());
        }
    }

    @Test
    void aJdbcPasswordComesFromAnEnvironmentVariableNeverTheCommandLine() {
        Path db = databaseWithParts(1);
        Result r = cairn("export", db.toString(), "Part", "--jdbc", "jdbc:fake:x", "--user", "sa", "--password", "secret");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("cairn export: --password: a password is not taken on the command line"), r.err());
        r = cairn("import", db.toString(), "Part", "--jdbc", "jdbc:nosuch:x", "--user", "sa", "--password-env",
            "CAIRN_TEST_SURELY_UNSET_VARIABLE");
        assertEquals(2, r.code());
        r = cairn("import", db.toString(), "Part", "FILE.sql", "--jdbc", "jdbc:nosuch:x");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("cairn import: unexpected argument 'FILE.sql'"), r.err());
    }
}
