package dev.cairn.tools;

import static dev.cairn.testing.Await.until;
import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.BorrowState;
import dev.cairn.Cairn;
import dev.cairn.CairnServer;
import dev.cairn.Event;
import dev.cairn.Key;
import dev.cairn.NotCheckedOutException;
import dev.cairn.Tree;
import dev.cairn.testing.Fixtures.Part;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator console of {@code cairn server} in process: a server on 127.0.0.1, nodes
 * connected to it, and the console's commands with their answers. (The command's wiring to
 * standard input, {@code stop} and the end of input: {@link ServerConsoleProcessTest}.)
 */
@Timeout(120)
class ServerConsoleTest {
    private static final String APP = "console-test";
    @TempDir Path dir;
    private CairnServer server;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final AtomicInteger stops = new AtomicInteger();
    private ServerConsole console;
    private final List<Cairn> nodes = new java.util.ArrayList<>();

    @BeforeEach
    void start() {
        server = CairnServer.start(dir.resolve("server"), 0, APP);
        console = new ServerConsole(server, new PrintStream(bytes, true, StandardCharsets.UTF_8), stops::incrementAndGet);
    }

    @AfterEach
    void close() {
        nodes.forEach(Cairn::close);
        server.close();
    }

    /** Runs one console line; returns what it printed. */
    private String type(String line) {
        bytes.reset();
        assertTrue(console.execute(line), "the console ended after: " + line);
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private Cairn node(String name, List<Event> events) {
        Cairn c = Cairn.open(dir.resolve(name), Cairn.Options.defaults().withNodeName(name).withAppId(APP));
        nodes.add(c);
        c.subscribe(events::add);
        c.connect("127.0.0.1", server.port()).orTimeout(30, TimeUnit.SECONDS).join();
        return c;
    }

    private static String node(Cairn c, String name) {
        return "node '" + name + "' (" + c.nodeId() + ")";
    }

    @Test
    void checkoutsListsTheHolderAndItsQueueAndBreakHandsTheRecordOnThenFreesIt() {
        List<Event> deskEvents = new CopyOnWriteArrayList<>();
        List<Event> labEvents = new CopyOnWriteArrayList<>();
        Cairn desk = node("desk-1", deskEvents);
        Cairn lab = node("lab-2", labEvents);
        Tree<Part> deskParts = desk.tree(Part.class);
        Tree<Part> labParts = lab.tree(Part.class);
        Key<Part> k = deskParts.insert(new Part("P-1", "ACME", 1, 1L, List.of()));
        until("lab has the record", () -> labParts.contains(k));
        assertEquals("check-outs: none\n", type("checkouts"));

        Instant before = Instant.now().minusSeconds(1);
        deskParts.checkOut(k).orTimeout(30, TimeUnit.SECONDS).join();
        CompletableFuture<Void> labWaits = labParts.checkOut(k);
        until("lab waits for it", () -> labParts.borrowState(k) instanceof BorrowState.Waiting);
        String listed = type("checkouts");
        String prefix = "check-outs: 1\n  " + k + " held by " + node(desk, "desk-1") + " since ";
        assertTrue(listed.startsWith(prefix), listed);
        Instant since = Instant.parse(listed.substring(prefix.length(), listed.indexOf(", waiting")));
        assertFalse(since.isBefore(before) || since.isAfter(Instant.now()), "since " + since);
        assertTrue(listed.endsWith(", waiting: " + node(lab, "lab-2") + "\n"), listed);
        assertEquals(listed.replace("check-outs:", "check-outs in tree Part:"), type("checkouts Part"));
        // a tree the server does not hold is a mistake, not a tree with nothing checked out (helper-26)
        assertEquals("no tree 'Doc' on this server (trees: [Part]); type help for the commands\n", type("checkouts Doc"));
        assertEquals("no tree 'Doc' on this server (trees: [Part]); type help for the commands\n", type("break Doc 1"));

        assertEquals(k + ": broke the check-out of " + node(desk, "desk-1") + "; now held by " + node(lab, "lab-2") + "\n",
            type("break Part " + k.id()));
        labWaits.orTimeout(30, TimeUnit.SECONDS).join();
        until("desk is told lab holds it", () -> deskEvents.stream().anyMatch(e -> e instanceof Event.BorrowChanged b
            && b.key().equals(k) && b.state() instanceof BorrowState.HeldBy h && h.node().equals(lab.nodeId())));
        assertThrows(NotCheckedOutException.class, () -> deskParts.update(k, new Part("P-1", "ACME", 2, 1L, List.of())));
        assertTrue(type("checkouts").contains(k + " held by " + node(lab, "lab-2") + " since "));

        // The key as checkouts prints it works too; with nobody waiting the record is free.
        assertEquals(k + ": broke the check-out of " + node(lab, "lab-2") + "; now free\n", type("break " + k));
        until("lab is told it is free", () -> labParts.borrowState(k) instanceof BorrowState.Free);
        assertThrows(NotCheckedOutException.class, () -> labParts.update(k, new Part("P-1", "ACME", 3, 1L, List.of())));
        assertEquals(k + " is not checked out: nothing to break\n", type("break Part " + k.id() + " 0"));
        assertEquals("check-outs: none\n", type("checkouts"));
        assertEquals(new Part("P-1", "ACME", 1, 1L, List.of()), labParts.get(k), "a broken check-out changed the record");
    }

    /**
     * release NODE, for a machine that will not come back: the node, offline, leaves every queue
     * it waits in, and each record it holds goes to the first node waiting, else is free. Before,
     * each record needed its own break, and its queue places stayed until it came back.
     */
    @Test
    void releaseTakesAGoneNodeOutOfEveryQueueAndHandsOnWhatItHolds() {
        List<Event> deskEvents = new CopyOnWriteArrayList<>();
        List<Event> labEvents = new CopyOnWriteArrayList<>();
        List<Event> gateEvents = new CopyOnWriteArrayList<>();
        Cairn desk = node("desk-1", deskEvents);
        Cairn lab = node("lab-2", labEvents);
        Cairn gate = node("gate-3", gateEvents);
        Tree<Part> deskParts = desk.tree(Part.class);
        Tree<Part> labParts = lab.tree(Part.class);
        Tree<Part> gateParts = gate.tree(Part.class);
        Key<Part> heldWithQueue = deskParts.insert(new Part("P-1", "ACME", 1, 1L, List.of()));
        Key<Part> heldAlone = deskParts.insert(new Part("P-2", "ACME", 1, 1L, List.of()));
        Key<Part> waitedFor = deskParts.insert(new Part("P-3", "ACME", 1, 1L, List.of()));
        until("lab and gate have them", () -> labParts.contains(waitedFor) && gateParts.contains(waitedFor));
        deskParts.checkOut(heldWithQueue).orTimeout(30, TimeUnit.SECONDS).join();
        deskParts.checkOut(heldAlone).orTimeout(30, TimeUnit.SECONDS).join();
        gateParts.checkOut(waitedFor).orTimeout(30, TimeUnit.SECONDS).join();
        CompletableFuture<Void> labWaits = labParts.checkOut(heldWithQueue);
        until("lab waits", () -> labParts.borrowState(heldWithQueue) instanceof BorrowState.Waiting);
        deskParts.checkOut(waitedFor);
        until("desk waits", () -> deskParts.borrowState(waitedFor) instanceof BorrowState.Waiting);
        String deskName = node(desk, "desk-1");
        java.util.UUID deskId = desk.nodeId();
        desk.disconnect();   // the machine is gone (a close while connected would leave the queue itself)
        until("the server sees desk gone", () -> server.clients().size() == 2);

        assertEquals("released " + deskName + ": broke 2 check-out(s) (" + heldWithQueue + ", " + heldAlone + "), left 1 queue(s) ("
            + waitedFor + ")\n", type("release desk-1"));
        labWaits.orTimeout(30, TimeUnit.SECONDS).join();
        until("gate sees nobody waiting", () -> server.checkOuts().stream().anyMatch(c -> c.key().equals(waitedFor)
            && c.queue().isEmpty()));
        assertTrue(server.checkOuts().stream().noneMatch(c -> c.key().equals(heldAlone)), "free: nobody waited");
        assertEquals("node 'desk-1' (" + deskId + ") holds and waits for no record: nothing to release\n",
            type("release " + deskId));
        assertEquals("node 'desk-1' (" + deskId + ") holds and waits for no record: nothing to release\n",
            type("release desk-1"));
        assertEquals("no node named 'nobody' ever connected to this server; type help for the commands\n",
            type("release nobody"));
        // A mistyped id said "holds and waits for no record", while the node meant held on (probe 105).
        assertEquals("no node with id 00000000-0000-0009-0000-000000000009 ever linked to this server: nothing released"
            + " (clients lists the connected ones; release takes a node's id or name); type help for the commands\n",
            type("release " + new java.util.UUID(9, 9)));
        assertEquals("release needs a node (expected: release NODE, its id or name); type help for the commands\n",
            type("release"));
    }

    /**
     * release NODE of a node that is connected after all: its check-outs are broken and it leaves
     * every queue as for a gone node, and its connection is closed (NODE_RELEASED). Before, the
     * connection stayed: the node still believed it waited, no Borrow told it otherwise, and its
     * checkOut never completed until the next connection or a new call.
     */
    @Test
    void releaseOfAConnectedNodeClosesItsConnectionAndItsWaitingCheckOutAsksAgain() {
        List<Event> deskEvents = new CopyOnWriteArrayList<>();
        Cairn desk = node("desk-1", deskEvents);
        Cairn gate = node("gate-3", new CopyOnWriteArrayList<>());
        Tree<Part> deskParts = desk.tree(Part.class);
        Tree<Part> gateParts = gate.tree(Part.class);
        Key<Part> held = deskParts.insert(new Part("P-1", "ACME", 1, 1L, List.of()));
        Key<Part> waitedFor = deskParts.insert(new Part("P-2", "ACME", 1, 1L, List.of()));
        until("gate has them", () -> gateParts.contains(waitedFor));
        deskParts.checkOut(held).orTimeout(30, TimeUnit.SECONDS).join();
        gateParts.checkOut(waitedFor).orTimeout(30, TimeUnit.SECONDS).join();
        CompletableFuture<Void> deskWaits = deskParts.checkOut(waitedFor);
        until("desk waits", () -> deskParts.borrowState(waitedFor) instanceof BorrowState.Waiting);

        assertEquals("released " + node(desk, "desk-1") + ": broke 1 check-out(s) (" + held + "), left 1 queue(s) ("
            + waitedFor + "); it was connected: its connection was closed, and it connects again and asks again for the"
            + " check-outs its application still waits for\n", type("release desk-1"));
        until("desk is told why", () -> deskEvents.stream().anyMatch(e -> e instanceof Event.Disconnected d
            && d.reason().contains("NODE_RELEASED") && d.reason().contains("operator released this node")));
        until("desk waits again, at the end of the queue", () -> server.checkOuts().stream().anyMatch(c ->
            c.key().equals(waitedFor) && c.queue().equals(List.of(new CairnServer.Node(desk.nodeId(), "desk-1")))));
        assertFalse(deskWaits.isDone(), "desk does not hold it yet");
        assertInstanceOf(BorrowState.Free.class, deskParts.borrowState(held), "its check-out was broken");
        gateParts.checkIn(waitedFor);
        deskWaits.orTimeout(30, TimeUnit.SECONDS).join();
        assertInstanceOf(BorrowState.Mine.class, deskParts.borrowState(waitedFor));
        deskParts.checkIn(waitedFor);
        until("the server has it free", () -> server.checkOuts().isEmpty());
        until("desk is linked again", () -> server.clients().size() == 2);
        assertEquals(node(desk, "desk-1") + " holds and waits for no record: nothing to release; it was connected: its"
            + " connection was closed, and it connects again and asks again for the check-outs its application still"
            + " waits for\n", type("release desk-1"));
    }

    /** The server keeps when a check-out was taken with the check-out itself: a restart keeps it. */
    @Test
    void aCheckOutKeepsItsSinceAcrossAServerRestart() {
        Cairn desk = node("desk-1", new CopyOnWriteArrayList<>());
        Tree<Part> parts = desk.tree(Part.class);
        Key<Part> k = parts.insert(new Part("P-1", "ACME", 1, 1L, List.of()));
        parts.checkOut(k).orTimeout(30, TimeUnit.SECONDS).join();
        CairnServer.CheckOut held = server.checkOuts().getFirst();
        assertEquals(new CairnServer.Node(desk.nodeId(), "desk-1"), held.holder());
        assertNotNull(held.since());
        desk.disconnect();
        server.close();
        server = CairnServer.start(dir.resolve("server"), 0, APP);
        assertEquals(List.of(held), server.checkOuts());
    }

    @Test
    void clientsListsTheConnectedNodes() {
        assertEquals("clients: none connected\n", type("clients"));
        Cairn desk = node("desk-1", new CopyOnWriteArrayList<>());
        String listed = type("clients");
        assertTrue(listed.matches("clients: 1 connected\n  " + java.util.regex.Pattern.quote(node(desk, "desk-1"))
            + " from 127\\.0\\.0\\.1:\\d+, live since \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\n"), listed);
        desk.disconnect();
        until("the server saw desk go", () -> type("clients").equals("clients: none connected\n"));
    }

    /** A mistake is one line that says what is wrong and points to help; the server serves on. */
    @Test
    void aMistakeIsOneLineAndTheServerServesOn() {
        assertEquals("unknown command 'frobnicate'; type help for the commands\n", type("frobnicate now"));
        assertEquals("break 'Part x': not a record (expected: break TREE ID [REV] or break TREE/ID.REV);"
            + " type help for the commands\n", type("break Part x"));
        assertEquals("break needs a record (expected: break TREE ID [REV] or break TREE/ID.REV); type help for the commands\n",
            type("break"));
        assertEquals("id -1 (expected: >= 0) in tree Part; type help for the commands\n", type("break Part -1"));
        assertEquals("clients takes no arguments (got 'all'); type help for the commands\n", type("clients all"));
        assertEquals("stop takes no arguments (got 'now'); type help for the commands\n", type("stop now"));
        assertEquals(0, stops.get(), "stop with an argument stopped the server");
        assertEquals("", type("   "));
        assertEquals(ServerConsole.HELP, type("help"));
        Cairn desk = node("desk-1", new CopyOnWriteArrayList<>());
        assertTrue(type("clients").contains(node(desk, "desk-1")));
    }

    /**
     * Every list of the console's commands holds the same ones: its help (which server --help
     * shows), the usage of cairn help (which lacked release and stop), README's, and the commands
     * it runs.
     */
    @Test
    void everyListOfTheConsolesCommandsHoldsTheSameOnes() throws Exception {
        List<String> helped = new java.util.ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^  (\\w+)").matcher(ServerConsole.HELP);
        while (m.find()) helped.add(m.group(1));
        assertEquals(ServerConsole.COMMANDS, helped, ServerConsole.HELP);
        assertTrue(Main.COMMAND_HELP.get("server").contains(ServerConsole.HELP.indent(2)), Main.COMMAND_HELP.get("server"));
        assertTrue(Main.USAGE.contains("console commands on stdin (server --help):\n"
            + " ".repeat(33) + "clients, checkouts, break, release, backup, stop, help\n"), Main.USAGE);
        String readme = java.nio.file.Files.readString(Path.of("README.md"));
        int start = readme.indexOf("```\nclients ");
        assertTrue(start >= 0, "README lists the console's commands");
        List<String> listed = new java.util.ArrayList<>();
        m = java.util.regex.Pattern.compile("(?m)^(\\w+) ").matcher(readme.substring(start + 4, readme.indexOf("```", start + 4)));
        while (m.find()) listed.add(m.group(1));
        assertEquals(ServerConsole.COMMANDS, listed, "README's console commands");
        for (String command : ServerConsole.COMMANDS) {
            if (command.equals("stop")) continue; // ends the console: stopRunsTheStopActionAndEndsTheConsole
            assertFalse(type(command).startsWith("unknown command"), command);
        }
    }

    /**
     * {@code backup TARGET} while a node keeps sending changes: one line saying where, and a copy
     * that a server started on it serves, holding the records the server had committed, which a
     * fresh node receives intact. (cairn backup beside a busy server can fail; this cannot.)
     */
    @Test
    void backupCopiesTheServersDatabaseWhileANodeKeepsSendingChanges() throws Exception {
        Cairn desk = node("desk-1", new CopyOnWriteArrayList<>());
        Tree<Part> parts = desk.tree(Part.class);
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicInteger made = new java.util.concurrent.atomic.AtomicInteger();
        Thread writer = Thread.ofPlatform().start(() -> {
            for (int i = 0; !stop.get() && i < 100_000; i++) {
                parts.insert(dev.cairn.testing.Fixtures.part(i));
                made.set(i + 1);
            }
        });
        try {
            until("the server has some of the changes", () -> server.sequence() >= 500);
            Path target = dir.resolve("backups").resolve("one");
            String answer = type("backup " + target);
            assertTrue(answer.matches("backed up to " + java.util.regex.Pattern.quote(target.toString())
                + " \\(copy verified\\) in \\d+ ms\n"), answer);
            assertEquals("backup target " + target + " already holds a database (data.cairn); type help for the commands\n",
                type("backup " + target));
            assertEquals("backup needs a target folder (expected: backup TARGET); type help for the commands\n", type("backup"));
            stop.set(true);
            writer.join();

            try (CairnServer restored = CairnServer.start(target, 0, APP);
                 Cairn fresh = Cairn.open(dir.resolve("fresh"), Cairn.Options.defaults().withNodeName("fresh").withAppId(APP))) {
                assertEquals(server.serverId(), restored.serverId());
                long count = restored.sequence();
                assertTrue(count >= 500 && count <= made.get(), "the copy's sequence " + count + ", made " + made.get());
                Tree<Part> copied = fresh.tree(Part.class);
                fresh.connect("127.0.0.1", restored.port()).orTimeout(30, TimeUnit.SECONDS).join();
                until("the fresh node has the copy's records", () -> copied.keys().size() == count);
                for (Key<Part> k : copied.keys()) assertEquals(dev.cairn.testing.Fixtures.part(k.id()), copied.get(k), k.toString());
            }
        } finally {
            stop.set(true);
            writer.join();
        }
    }

    @Test
    void stopRunsTheStopActionAndEndsTheConsole() {
        bytes.reset();
        assertFalse(console.execute("stop"));
        assertEquals(1, stops.get());
        assertEquals("", bytes.toString(StandardCharsets.UTF_8), "the stop action says what happens, not the console");
    }
}
