package dev.cairn.tools;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.BorrowState;
import dev.cairn.Cairn;
import dev.cairn.CairnServer;
import dev.cairn.Key;
import dev.cairn.testing.Fixtures.Part;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The inspector on a node's folder: it links as that node, and never as a backup of it (probe 87). */
class InspectorLinkTest {
    @TempDir Path dir;
    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();

    private PrintStream out() {
        return new PrintStream(printed, true, StandardCharsets.UTF_8);
    }

    private String printed() {
        return printed.toString(StandardCharsets.UTF_8);
    }

    private static Cairn.Options alpha() {
        return Cairn.Options.defaults().withNodeName("alpha").withAppId("ops");
    }

    /** A node 'alpha' of application 'ops' that linked once and holds one part, closed. */
    private Path linkedNode(CairnServer server) throws Exception {
        Path node = dir.resolve("alpha");
        try (Cairn c = Cairn.open(node, alpha())) {
            c.tree(Part.class).insert(new Part("R-10K", "Vishay", 10, 5, List.of()));
            c.connect("127.0.0.1", server.port()).get(30, TimeUnit.SECONDS);
        }
        return node;
    }

    /**
     * A backup of a connected node, connected from the inspector, replaced the node ("stopped for
     * good: REPLACED") and locked its own folder out (NODE_COPY): the backup says what it is and
     * db.connect refuses it, and the node stays linked.
     */
    @Test
    void connectRefusesABackupOfANodeAndTheNodeKeepsItsLink() throws Exception {
        try (CairnServer server = CairnServer.start(dir.resolve("server"), 0, "ops");
             Cairn node = Cairn.open(dir.resolve("alpha"), alpha())) {
            node.tree(Part.class).insert(new Part("R-10K", "Vishay", 10, 5, List.of()));
            node.connect("127.0.0.1", server.port()).get(30, TimeUnit.SECONDS);
            Path copy = dir.resolve("copy");
            assertEquals(0, Commands.backup(dir.resolve("alpha"), copy, out()));
            try (Inspector db = Inspector.open(copy, out())) {
                db.info();
                assertTrue(printed().contains("backup a backup of " + dir.resolve("alpha").toAbsolutePath() + ", taken "),
                    printed());
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> db.connect("127.0.0.1", server.port()));
                assertTrue(e.getMessage().startsWith("db.connect refused: " + copy.toAbsolutePath() + " is a backup of "
                    + dir.resolve("alpha").toAbsolutePath()), e.getMessage());
                assertTrue(e.getMessage().contains("end the node's own link for good")
                    && e.getMessage().contains("Inspect it without connecting")
                    && e.getMessage().contains("Restoring a node from a backup"), e.getMessage());
                assertEquals("not connected", db.connection());
            }
            Thread.sleep(300);
            assertTrue(node.isConnected(), "the node lost its link");
            assertEquals(1, server.clientCount());
        }
    }

    /**
     * The inspector linked as node 'inspector' (the server then knew the node by that name only:
     * release alpha found no node) and with the application id 'default' (APP_ID without
     * --app-id): it links under the folder's own name and id.
     */
    @Test
    void connectLinksUnderTheNameAndApplicationIdTheFolderLastLinkedWith() throws Exception {
        try (CairnServer server = CairnServer.start(dir.resolve("server"), 0, "ops")) {
            Path node = linkedNode(server);
            try (Inspector db = Inspector.open(node, out())) {
                db.info();
                assertTrue(printed().contains("name 'alpha' (as it last linked)")
                    && printed().contains("app id 'ops' (as it last linked)"), printed());
                db.connect("127.0.0.1", server.port());
                assertEquals("connected", db.connection());
                db.checkOut("Part/0.0");
                assertTrue(printed().contains("checked out Part/0.0"), printed());
                assertEquals(1, server.nodesNamed("alpha").size());
                assertEquals(List.of(), server.nodesNamed("inspector"));
                try (Cairn other = Cairn.open(dir.resolve("other"), Cairn.Options.defaults().withNodeName("beta")
                        .withAppId("ops"))) {
                    other.connect("127.0.0.1", server.port()).get(30, TimeUnit.SECONDS);
                    BorrowState held = other.genericTree("Part").borrowState(0, 0);
                    assertEquals(new BorrowState.HeldBy(db.cairn().nodeId(), "alpha"), held);
                }
            }
        }
    }

    /** An --app-id other than the one the folder linked with is refused at db.connect, naming both. */
    @Test
    void connectRefusesAnApplicationIdOtherThanTheFoldersNamingBoth() throws Exception {
        try (CairnServer server = CairnServer.start(dir.resolve("server"), 0, "ops")) {
            Path node = linkedNode(server);
            try (Inspector db = Inspector.open(node, out(), "mfg")) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> db.connect("127.0.0.1", server.port()));
                assertTrue(e.getMessage().contains("--app-id 'mfg'") && e.getMessage().contains("'ops'")
                    && e.getMessage().contains("without --app-id"), e.getMessage());
            }
        }
    }

    /** A folder that never linked connects as 'inspector', with the application id given. */
    @Test
    void aFolderThatNeverLinkedConnectsAsInspectorWithTheGivenApplicationId() throws Exception {
        try (CairnServer server = CairnServer.start(dir.resolve("server"), 0, "mfg")) {
            Path fresh = Files.createDirectories(dir.resolve("fresh"));
            try (Cairn c = Cairn.open(fresh)) {
                c.tree(Part.class);
            }
            try (Inspector db = Inspector.open(fresh, out(), "mfg")) {
                db.connect("127.0.0.1", server.port());
                assertEquals(1, server.nodesNamed(Inspector.UNLINKED_NAME).size());
            }
        }
    }

    /**
     * An offline check-out said "asked for Part/0.0: Free[]" and nothing more; it says that the
     * request waits for the server and for how long, lists it, and says the check-out when it comes.
     */
    @Test
    void anOfflineCheckOutSaysItWaitsForTheServerAndIsSaidWhenGranted() throws Exception {
        try (CairnServer server = CairnServer.start(dir.resolve("server"), 0, "ops")) {
            Path node = linkedNode(server);
            try (Inspector db = Inspector.open(node, out())) {
                db.checkOut("Part/0.0");
                assertTrue(printed().contains("asked for Part/0.0, not connected: the request waits for the server, goes out"
                    + " when db.connect links, and lasts while this inspector runs"), printed());
                assertEquals(new BorrowState.Free(), db.borrow("Part/0.0"));
                assertTrue(printed().contains("Part/0.0: asked for by this inspector, waiting for the server"), printed());
                assertEquals(List.of("Part/0.0  Free[], asked for by this inspector, waiting for the server"), db.checkOuts());
                db.connect("127.0.0.1", server.port());
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (!printed().contains("checked out Part/0.0 (asked for earlier)") && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertTrue(printed().contains("checked out Part/0.0 (asked for earlier)"), printed());
                assertEquals(new BorrowState.Mine(), db.borrow("Part/0.0"));
            }
        }
    }

    /** db.verify dropped the link silently ("not connected" after): it says so, and how to link again. */
    @Test
    void verifySaysThatItEndedTheLink() throws Exception {
        try (CairnServer server = CairnServer.start(dir.resolve("server"), 0, "ops")) {
            Path node = linkedNode(server);
            try (Inspector db = Inspector.open(node, out())) {
                db.connect("127.0.0.1", server.port());
                assertTrue(db.verify(), printed());
                assertTrue(printed().contains("db.verify closed and reopened the database, which ended its link to the server:"
                    + " db.connect(\"127.0.0.1\", " + server.port() + ") links again"), printed());
                assertEquals("not connected", db.connection());
            }
        }
    }

    /** find printed every hit whole (a 200 KB text, 260 KB a hit): long strings are shortened, and it says how to see them. */
    @Test
    void findShortensLongStringsAndSaysHowToSeeTheWholeRecord() {
        Path node = dir.resolve("db");
        String big = "x".repeat(150_000) + "needle";
        try (Cairn c = Cairn.open(node)) {
            c.tree(Part.class).insert(new Part("long", big, 1, 2, List.of("tag")));
        }
        try (Inspector db = Inspector.open(node, out())) {
            assertEquals(List.of(new Key<>("Part", 0, 0)), db.find("Part", "needle"));
            assertTrue(printed().length() < 2_000, printed().length() + " characters printed");
            assertTrue(printed().contains("\"manufacturer\":\"" + "x".repeat(200) + "...(149806 more)\""), printed());
            assertTrue(printed().contains("\"name\":\"long\"") && printed().contains("db.show(\"KEY\")"), printed());
        }
    }

    @Test
    void abbreviationKeepsEscapesAndSurrogatePairsWhole() {
        assertEquals("{\"a\":\"ab...(2 more)\",\"b\":1}", JsonAbbreviation.strings("{\"a\":\"abcd\",\"b\":1}", 2));
        assertEquals("\"\\n\\u0001...(1 more)\"", JsonAbbreviation.strings("\"\\n\\u0001\\\"\"", 2));
        assertEquals("\"a\uD83D\uDE42...(1 more)\"", JsonAbbreviation.strings("\"a\uD83D\uDE42b\"", 2));
        assertEquals("\"abc\"", JsonAbbreviation.strings("\"abc\"", 3));
    }
}
