package dev.cairn.tools;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Cairn;
import dev.cairn.Key;
import dev.cairn.BorrowState;
import dev.cairn.NotCheckedOutException;
import dev.cairn.RecordMeta;
import dev.cairn.RecordNotFoundException;
import dev.cairn.RecordState;
import dev.cairn.ReleasedRecordException;
import dev.cairn.testing.Fixtures.Doc;
import dev.cairn.testing.Fixtures.Part;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InspectorTest {
    @TempDir Path dir;
    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();

    private Path database() {
        Path db = dir.resolve("db");
        try (Cairn c = Cairn.open(db)) {
            var parts = c.tree(Part.class);
            parts.insert(new Part("R-10K", "Vishay", 10, 5, List.of("smd")));
            parts.insert(new Part("C-100N", "Murata", 20, 7, List.of("0402", "ceramic")));
        }
        return db;
    }

    private String printed() {
        return printed.toString(StandardCharsets.UTF_8);
    }

    @Test
    void browsesTreesKeysAndRecordsWithoutTheApplicationClasses() {
        try (Inspector db = Inspector.open(database(), new PrintStream(printed, true, StandardCharsets.UTF_8))) {
            db.trees();
            assertTrue(printed().contains("Part") && printed().contains("2 records"), printed());
            assertEquals(List.of(new Key<>("Part", 0, 0), new Key<>("Part", 1, 0)), db.keys("Part"));
            db.show("Part/1.0");
            assertTrue(printed().contains("\"name\": \"C-100N\""), printed());
            assertEquals(List.of(new Key<>("Part", 1, 0)), db.find("Part", "MURATA"));
        }
    }

    /**
     * find matches a value's own text: a line break, a quote, a control character, a backslash
     * (it searched the escaped JSON only, so "second\nline" found nothing and "second\\nline" did).
     */
    @Test
    void findMatchesTheTextOfAValueWithEscapedCharacters() {
        Path db = dir.resolve("db");
        try (Cairn c = Cairn.open(db)) {
            var parts = c.tree(Part.class);
            parts.insert(new Part("first", "plain", 1, 1, List.of()));
            parts.insert(new Part("second\nline \"quoted\" bell\u0007 back\\slash", "Odd", 2, 2, List.of("tab\there")));
        }
        try (Inspector i = Inspector.open(db, new PrintStream(printed, true, StandardCharsets.UTF_8))) {
            Key<?> odd = new Key<>("Part", 1, 0);
            for (String text : List.of("second\nline", "\"QUOTED\"", "bell\u0007", "back\\slash", "tab\there", "Odd",
                    "\\nline")) {
                assertEquals(List.of(odd), i.find("Part", text), text);
            }
            assertEquals(List.of(), i.find("Part", "second line"));
            assertEquals(List.of(new Key<>("Part", 0, 0), odd), i.find("Part", "\"stock\":"));
        }
        assertEquals("a\nb\"c\\d\u0001e/", Inspector.unescaped("a\\nb\\\"c\\\\d\\u0001e\\/"));
    }

    /** A file given as the folder is said to be a file (it was "no database folder FILE"). */
    @Test
    void aFileGivenAsTheFolderIsSaidToBeAFile() throws Exception {
        Path file = java.nio.file.Files.writeString(dir.resolve("Part.jsonl"), "{}\n");
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
            () -> Inspector.open(file, new PrintStream(printed, true, StandardCharsets.UTF_8)));
        assertEquals(file.toAbsolutePath() + " is a file, not a folder (expected: DIR, the folder that holds a database)",
            e.getMessage());
    }

    /** The inspector links to a server of another application id when started with it (probe helper-24: it could not). */
    @Test
    void connectsToAServerOfTheApplicationIdItWasStartedWith() {
        try (dev.cairn.CairnServer server = dev.cairn.CairnServer.start(dir.resolve("server"), 0, "mfg");
             Inspector db = Inspector.open(database(), new PrintStream(printed, true, StandardCharsets.UTF_8), "mfg")) {
            db.connect("127.0.0.1", server.port());
            assertTrue(printed().contains("connected to 127.0.0.1:" + server.port()), printed());
            assertEquals(1, server.clientCount());
        }
    }

    @Test
    void editsARecordOnlyAfterCheckOut() {
        Path path = database();
        try (Inspector db = Inspector.open(path, new PrintStream(printed, true, StandardCharsets.UTF_8))) {
            String edited = db.json("Part/0.0").replace("\"stock\":10", "\"stock\":99");
            assertThrows(NotCheckedOutException.class, () -> db.save("Part/0.0", edited));
            db.checkOut("Part/0.0");
            db.save("Part/0.0", edited);
            db.checkIn("Part/0.0");
            Key<?> added = db.insert("Part", edited);
            assertEquals(new Key<>("Part", 2, 0), added);
            assertTrue(db.verify(), printed());
        }
        try (Cairn c = Cairn.open(path)) {
            assertEquals(99, c.tree(Part.class).get(new Key<>("Part", 0, 0)).stock());
            assertEquals(3, c.tree(Part.class).size());
        }
    }

    /** checkIn of a record that does not exist printed "checked in"; one not checked out says so. */
    @Test
    void checkInSaysWhenTheRecordDoesNotExistOrWasNotCheckedOut() {
        Path path = database();
        try (Inspector db = Inspector.open(path, new PrintStream(printed, true, StandardCharsets.UTF_8))) {
            dev.cairn.RecordNotFoundException e = assertThrows(dev.cairn.RecordNotFoundException.class,
                () -> db.checkIn("Part/3.0"));
            assertTrue(e.getMessage().contains("Part/3.0"), e.getMessage());
            db.checkIn("Part/0.0");
            db.checkOut("Part/1.0");
            db.checkIn("Part/1.0");
            assertFalse(printed().contains("checked in Part/3.0") || printed().contains("checked in Part/0.0"), printed());
            assertTrue(printed().contains("Part/0.0 was not checked out: nothing to check in")
                && printed().contains("checked in Part/1.0"), printed());
        }
    }

    /**
     * The script on a folder that does not open printed a stack trace, then a NullPointerException
     * from db.info(), and left a prompt where db was null: now one line, and exit 2 where jshell
     * runs snippets itself (--execution local); remote, the snippet runtime ends instead.
     */
    @Test
    void jshellOnAFolderThatDoesNotOpenSaysSoInOneLine() throws IOException, InterruptedException {
        Path jshell = Path.of(System.getProperty("java.home"), "bin", "jshell");
        Path missing = dir.resolve("missing");
        Path empty = Files.createDirectories(dir.resolve("empty"));
        for (Path folder : List.of(missing, empty)) {
            Process p = new ProcessBuilder(jshell.toString(), "--execution", "local", "--class-path", "build/classes",
                "-J-Dcairn.dir=" + folder.toAbsolutePath(), "tools/inspect.jsh").redirectErrorStream(true).start();
            p.getOutputStream().write("System.out.println(\"still \" + \"here\")\n/exit\n".getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "jshell did not finish");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(2, p.exitValue(), out);
            String said = folder == missing ? "cairn inspect: no database folder " : "cairn inspect: no database in ";
            assertTrue(out.contains(said + folder.toAbsolutePath()), out);
            assertFalse(out.contains("Exception") || out.contains("still here"), out);
        }
        assertFalse(Files.exists(missing), "made the folder");
        try (var files = Files.list(empty)) {
            assertEquals(0, files.count(), "made a database in the empty folder");
        }
        Process p = new ProcessBuilder(jshell.toString(), "--class-path", "build/classes",
            "-R-Dcairn.dir=" + missing.toAbsolutePath(), "tools/inspect.jsh").redirectErrorStream(true).start();
        p.getOutputStream().write("/exit\n".getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "jshell did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(out.contains("cairn inspect: no database folder " + missing.toAbsolutePath()), out);
        assertFalse(out.contains("Exception") || out.contains("|        at "), out);
    }

    @Test
    void jshellRunsTheInspectorScript() throws IOException, InterruptedException {
        Path db = database();
        Path jshell = Path.of(System.getProperty("java.home"), "bin", "jshell");
        Path script = Path.of("tools/inspect.jsh");
        Process p = new ProcessBuilder(jshell.toString(), "--class-path", "build/classes",
            "-R-Dcairn.dir=" + db.toAbsolutePath(), script.toString()).redirectErrorStream(true).start();
        p.getOutputStream().write("db.show(\"Part/1.0\")\n/exit\n".getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "jshell did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(out.contains("Cairn inspector on"), out);
        assertTrue(out.contains("\"manufacturer\": \"Murata\""), out);
    }

    @Test
    void showsCheckOutsHeldByAnotherNodeThroughTheServer() throws Exception {
        try (dev.cairn.CairnServer server = dev.cairn.CairnServer.start(dir.resolve("server"), 0);
             Cairn other = Cairn.open(dir.resolve("other"), Cairn.Options.defaults().withNodeName("bench-7"))) {
            other.connect("127.0.0.1", server.port()).get(30, TimeUnit.SECONDS);
            var parts = other.tree(Part.class);
            Key<Part> k = parts.insert(new Part("L-1U", "TDK", 3, 9, List.of()));
            parts.checkOut(k).get(30, TimeUnit.SECONDS);
            Path mine = dir.resolve("mine");
            Files.createDirectories(mine);
            try (Inspector db = Inspector.open(mine, new PrintStream(printed, true, StandardCharsets.UTF_8))) {
                db.connect("127.0.0.1", server.port());
                assertEquals("connected", db.connection());
                assertEquals(List.of(k), db.keys("Part"));
                assertEquals(new dev.cairn.BorrowState.HeldBy(other.nodeId(), "bench-7"), db.borrow(k.toString()));
                assertEquals(1, db.checkOuts().size());
                assertTrue(printed().contains("HeldBy"), printed());
            }
        }
    }

    /**
     * At the jshell prompt, a person's mistake (JSON of the wrong type, a key that does not
     * exist) is one line, the exception's type and message (it was a stack trace of 15 frames);
     * an unexpected error keeps its trace.
     */
    @Test
    void jshellShowsMistakesAsOneLineAndBugsWithTheirTrace() throws IOException, InterruptedException {
        Path db = database();
        Path jshell = Path.of(System.getProperty("java.home"), "bin", "jshell");
        Process p = new ProcessBuilder(jshell.toString(), "--class-path", "build/classes",
            "-R-Dcairn.dir=" + db.toAbsolutePath(), "tools/inspect.jsh").redirectErrorStream(true).start();
        p.getOutputStream().write(("""
            db.insert("Part", "{\\"name\\":\\"X\\",\\"manufacturer\\":\\"M\\",\\"stock\\":\\"many\\",\\"priceCents\\":2,\\"tags\\":[]}")
            System.out.println("--- " + "next")
            db.show("Part/99.0")
            System.out.println("--- " + "next")
            db.save("Part/0.0", db.json("Part/0.0"))
            System.out.println("--- " + "next")
            db.find("Part", null)
            /exit
            """).getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "jshell did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        // The marker is printed from two strings: jshell may echo an input line (it does under
        // load), and the echo must not count as a marker.
        String[] parts = out.split("--- next");
        assertEquals(4, parts.length, out);
        String[] expected = {"Exception java.lang.IllegalArgumentException: ", "Exception dev.cairn.RecordNotFoundException: ",
            "Exception dev.cairn.NotCheckedOutException: "};
        for (int i = 0; i < 3; i++) {
            assertTrue(parts[i].contains(expected[i]), parts[i]);
            assertFalse(parts[i].contains("|        at "), "a stack trace: " + parts[i]);
        }
        assertTrue(parts[3].contains("Exception java.lang.NullPointerException") && parts[3].contains("|        at "), parts[3]);
    }

    /**
     * Leaving the inspector (/exit, or the end of its input) left the database not closed
     * cleanly: its next open replayed the session's commits from the log. The snippet runtime
     * now closes it on its way out, and cairn inspect returns once it has.
     */
    @Test
    void leavingTheInspectorClosesTheDatabaseCleanly() throws IOException {
        Path db = database();
        Path input = Files.writeString(dir.resolve("input.jsh"), """
            db.insert("Part", "{\\"name\\":\\"L-1U\\"}")
            /exit
            """);
        Path output = dir.resolve("output.txt");
        ProcessBuilder io = new ProcessBuilder().redirectInput(input.toFile()).redirectOutput(output.toFile())
            .redirectErrorStream(true);
        assertEquals(0, InspectLauncher.launch(db, "default", io, new PrintStream(printed, true, StandardCharsets.UTF_8)),
            printed());
        assertTrue(Files.readString(output).contains("inserted Part/2.0"), Files.readString(output));
        assertClosedCleanly(db, 3);
    }

    /** The same through jshell itself, ended by the end of its input (Ctrl-D), without /exit. */
    @Test
    void jshellClosesTheDatabaseCleanlyAtTheEndOfItsInput() throws IOException, InterruptedException {
        Path db = database();
        Path jshell = Path.of(System.getProperty("java.home"), "bin", "jshell");
        Process p = new ProcessBuilder(jshell.toString(), "--class-path", "build/classes",
            "-R-Dcairn.dir=" + db.toAbsolutePath(), "tools/inspect.jsh").redirectErrorStream(true).start();
        p.getOutputStream().write("db.insert(\"Part\", \"{\\\"name\\\":\\\"L-1U\\\"}\")\n".getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "jshell did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(out.contains("inserted Part/2.0"), out);
        // jshell does not wait for its snippet runtime to end (cairn inspect does): wait for it here.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (dev.cairn.store.Store.inUse(db) && System.nanoTime() < deadline) Thread.sleep(50);
        assertClosedCleanly(db, 3);
    }

    /** db.close() closes the database cleanly, says so, and the verbs then refuse; help lists it. */
    @Test
    void closeClosesTheDatabaseAndTheVerbsThenRefuse() {
        Path db = database();
        Inspector inspector = Inspector.open(db, new PrintStream(printed, true, StandardCharsets.UTF_8));
        inspector.insert("Part", "{\"name\":\"L-1U\"}");
        inspector.help();
        assertTrue(printed().contains("db.close()"), printed());
        inspector.close();
        inspector.close();
        assertEquals(1, printed().split("closed ", -1).length - 1, printed());
        assertTrue(printed().contains("closed " + db.toAbsolutePath()), printed());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> inspector.keys("Part"));
        assertTrue(e.getMessage().contains("is closed"), e.getMessage());
        e = assertThrows(IllegalStateException.class, inspector::verify);
        assertTrue(e.getMessage().contains("is closed"), e.getMessage());
        assertClosedCleanly(db, 3);
    }

    /** The folder is free, its log holds no commit to replay, and it holds {@code records} parts. */
    private static void assertClosedCleanly(Path db, int records) {
        assertFalse(dev.cairn.store.Store.inUse(db), "the database is still open");
        try (dev.cairn.store.Store store = dev.cairn.store.Store.open(db)) {
            assertEquals(0, store.recovered().replayed(), "commits replayed: " + store.recovered());
        }
        try (Cairn c = Cairn.open(db)) {
            assertEquals(records, c.tree(Part.class).size());
        }
    }

    /**
     * The inspector could not remove a record, release it, make a new revision or set its state
     * number: now it can, under the typed API's rules and with its exceptions and messages.
     */
    @Test
    void removesReleasesAndRevisesRecordsUnderTheTypedRules() {
        Path path = database();
        try (Cairn c = Cairn.open(path)) {
            c.tree(Doc.class).insert(new Doc("manual", 10));
        }
        try (Inspector db = Inspector.open(path, new PrintStream(printed, true, StandardCharsets.UTF_8))) {
            NotCheckedOutException notOut = assertThrows(NotCheckedOutException.class, () -> db.remove("Part/0.0"));
            assertEquals("remove of Part/0.0 needs a check-out by this node (call checkOut(Part/0.0) first)", notOut.getMessage());
            db.checkOut("Part/0.0");
            db.remove("Part/0.0");
            assertTrue(printed().contains("removed Part/0.0"), printed());
            assertEquals(List.of(new Key<>("Part", 1, 0)), db.keys("Part"));
            assertEquals(new BorrowState.Free(), db.borrow("Part/0.0"));
            RecordNotFoundException missing = assertThrows(RecordNotFoundException.class, () -> db.remove("Part/0.0"));
            assertEquals("record Part/0.0 not found in tree Part", missing.getMessage());
            IllegalStateException unversioned = assertThrows(IllegalStateException.class, () -> db.release("Part/1.0"));
            assertEquals("release of Part/1.0: tree Part is not versioned (expected: @TreeSpec(versioned = true))",
                unversioned.getMessage());
            assertThrows(IllegalStateException.class, () -> db.setStateNumber("Part/1.0", 2));
            assertThrows(IllegalStateException.class, () -> db.newRevision("Part/1.0"));

            assertEquals(new RecordState.Draft(0), db.meta("Doc/0.0").state());
            IllegalStateException draft = assertThrows(IllegalStateException.class, () -> db.newRevision("Doc/0.0"));
            assertEquals("newRevision of Doc/0.0: it is " + new RecordState.Draft(0) + " (expected: Released)", draft.getMessage());
            db.setStateNumber("Doc/0.0", 3);
            db.release("Doc/0.0");
            RecordState released = new RecordState.Released(3);
            assertTrue(printed().contains("Doc/0.0 is " + new RecordState.Draft(3))
                && printed().contains("released Doc/0.0: " + released), printed());
            RecordMeta meta = db.meta("Doc/0.0");
            assertEquals(released, meta.state());
            assertEquals(2, meta.metaIteration());
            assertEquals(0, meta.dataIteration());
            IllegalStateException again = assertThrows(IllegalStateException.class, () -> db.release("Doc/0.0"));
            assertEquals("release of Doc/0.0: it is already " + released, again.getMessage());
            db.checkOut("Doc/0.0");
            ReleasedRecordException frozen = assertThrows(ReleasedRecordException.class, () -> db.remove("Doc/0.0"));
            assertEquals("remove of Doc/0.0: the record is " + released + " and can never change", frozen.getMessage());
            db.checkIn("Doc/0.0");
            assertEquals(new Key<>("Doc", 0, 1), db.newRevision("Doc/0.0"));
            assertTrue(printed().contains("made Doc/0.1 from Doc/0.0"), printed());
            IllegalStateException newer = assertThrows(IllegalStateException.class, () -> db.newRevision("Doc/0.0"));
            assertEquals("newRevision of Doc/0.0: revision Doc/0.1 already exists", newer.getMessage());
            // A removed revision stays removed: the next one is made after it.
            db.checkOut("Doc/0.1");
            db.remove("Doc/0.1");
            assertEquals(new Key<>("Doc", 0, 2), db.newRevision("Doc/0.0"));
            assertTrue(db.verify(), printed());
        }
        try (Cairn c = Cairn.open(path)) {
            var docs = c.tree(Doc.class);
            assertEquals(List.of(new Key<Doc>("Doc", 0, 0), new Key<Doc>("Doc", 0, 2)), docs.keys());
            assertEquals(new RecordState.Released(3), docs.meta(new Key<>("Doc", 0, 0)).state());
            assertEquals(new Doc("manual", 10), docs.get(new Key<>("Doc", 0, 2)));
            assertEquals(1, c.tree(Part.class).size());
        }
    }

    /** A record the inspector removes on a linked node is removed on every other node. */
    @Test
    void aRecordRemovedInTheInspectorIsRemovedOnAnotherNode() throws Exception {
        try (dev.cairn.CairnServer server = dev.cairn.CairnServer.start(dir.resolve("server"), 0);
             Cairn other = Cairn.open(dir.resolve("other"), Cairn.Options.defaults().withNodeName("bench-7"))) {
            other.connect("127.0.0.1", server.port()).get(30, TimeUnit.SECONDS);
            var parts = other.tree(Part.class);
            Key<Part> bad = parts.insert(new Part("L-1U", "TDK", 3, 9, List.of()));
            Key<Part> good = parts.insert(new Part("L-2U", "TDK", 4, 9, List.of()));
            Path mine = Files.createDirectories(dir.resolve("mine"));
            try (Inspector db = Inspector.open(mine, new PrintStream(printed, true, StandardCharsets.UTF_8))) {
                db.connect("127.0.0.1", server.port());
                db.checkOut(bad.toString());
                db.remove(bad.toString());
            }
            dev.cairn.testing.Await.until("the removal reaches the other node", () -> !parts.contains(bad));
            assertEquals(List.of(good), parts.keys());
        }
    }

    /** db.help(), README and the Inspector's verbs name the same verbs: none is missing, none is made up. */
    @Test
    void helpAndReadmeListEveryVerbAndNoOther() throws IOException {
        java.util.Set<String> verbs = new java.util.TreeSet<>();
        for (java.lang.reflect.Method m : Inspector.class.getDeclaredMethods()) {
            boolean instance = !java.lang.reflect.Modifier.isStatic(m.getModifiers());
            if (instance && java.lang.reflect.Modifier.isPublic(m.getModifiers()) && !m.getName().equals("toString")) {
                verbs.add(m.getName());
            }
        }
        try (Inspector db = Inspector.open(database(), new PrintStream(printed, true, StandardCharsets.UTF_8))) {
            db.help();
        }
        java.util.Set<String> helped = new java.util.TreeSet<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^db\\.(\\w+)\\(").matcher(printed());
        while (m.find()) helped.add(m.group(1));
        assertEquals(verbs, helped, printed());
        String readme = Files.readString(Path.of("README.md"));
        int start = readme.indexOf("`db.help()` lists its verbs: ");
        assertTrue(start >= 0, "README lists the verbs");
        String list = readme.substring(start, readme.indexOf(". ", start));
        java.util.Set<String> listed = new java.util.TreeSet<>();
        m = java.util.regex.Pattern.compile("`(\\w+)`").matcher(list.substring(list.indexOf(':')));
        while (m.find()) listed.add(m.group(1));
        assertEquals(verbs, listed, list);
        // cairn inspect --help listed some, ending "...": it lists every verb too (probe-56).
        String help = Main.COMMAND_HELP.get("inspect");
        start = help.indexOf("what each of its verbs does: ");
        assertTrue(start >= 0, help);
        String helpList = help.substring(help.indexOf(':', start) + 1, help.indexOf(". ", start));
        java.util.Set<String> inHelp = new java.util.TreeSet<>();
        for (String verb : helpList.split(",")) inHelp.add(verb.strip());
        assertEquals(verbs, inHelp, helpList);
    }
}
