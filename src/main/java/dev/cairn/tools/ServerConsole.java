package dev.cairn.tools;

import dev.cairn.CairnServer;
import dev.cairn.Key;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The operator console of {@code cairn server}: reads commands from standard input while the
 * server serves, and answers on its output, among the journal lines (SPEC §4: an administrator
 * can break a check-out).
 *
 * <ul>
 *   <li>Runs on a daemon thread of its own; it reads server state only through
 *       {@link CairnServer}, which reads it on the server's loop thread.
 *   <li>A mistake (unknown command, bad argument) or a failed command is one line that says
 *       what is wrong; the server keeps serving.
 *   <li>End of input ends the console alone, quietly: a server under nohup or systemd has its
 *       standard input at /dev/null.
 *   <li>Each answer is printed whole under the output's lock, which the journal takes for each
 *       of its lines, so no journal line lands inside an answer.
 * </ul>
 */
final class ServerConsole {
    /** The commands, in the order of {@link #HELP}; every list of them is made from this one (ServerConsoleTest). */
    static final List<String> COMMANDS = List.of("clients", "checkouts", "break", "release", "backup", "stop", "help");
    static final String HELP = """
        console commands:
          clients               connected nodes: name, id, address, live or catching up, since
          checkouts [TREE]      checked-out records: holder, since, nodes waiting
          break TREE ID [REV]   break a check-out (REV defaults to 0; TREE/ID.REV works too):
                                the first node waiting gets the record, else it is free
          release NODE          for a node that will not come back (NODE: its id, or its name
                                as clients and checkouts show it): it leaves every queue, and
                                each record it holds goes to the first node waiting, else is free;
                                a node connected after all is disconnected, and asks again
          backup TARGET         a consistent, verified copy of the server's database into the
                                folder TARGET (relative to the server's working folder) while
                                it serves; a stop meanwhile waits for it
          stop                  stop the server as SIGTERM does (database closed cleanly), exit 0
          help                  this list
        """;
    private static final String BREAK_USAGE = "break TREE ID [REV] or break TREE/ID.REV";

    private final CairnServer server;
    private final PrintStream out;
    private final Runnable stop;

    /** {@code stop} stops the server as SIGTERM does and returns once its database is closed. */
    ServerConsole(CairnServer server, PrintStream out, Runnable stop) {
        this.server = server;
        this.out = out;
        this.stop = stop;
    }

    /**
     * True when an operator can type into standard input: the JVM's console is a terminal. Under
     * nohup or systemd (stdin /dev/null) or in a pipe the hint to type help is not printed.
     */
    static boolean interactive() {
        java.io.Console console = System.console();
        return console != null && console.isTerminal();
    }

    /** Reads commands from {@code in} on a daemon thread until {@code stop} or the end of input. */
    static Thread start(CairnServer server, InputStream in, PrintStream out, Runnable stop) {
        Charset charset = Charset.forName(System.getProperty("stdin.encoding", ""), Charset.defaultCharset());
        BufferedReader lines = new BufferedReader(new InputStreamReader(in, charset));
        ServerConsole console = new ServerConsole(server, out, stop);
        return Thread.ofPlatform().name("cairn-server-console").daemon(true).start(() -> console.run(lines));
    }

    void run(BufferedReader lines) {
        try {
            for (String line; (line = lines.readLine()) != null; ) {
                if (!execute(line)) return;
            }
        } catch (IOException e) {
            print("console: cannot read standard input (" + e.getMessage() + "); the server serves on without it\n");
        }
    }

    /** Runs one command line and prints its answer; false after {@code stop} (the console ends). */
    boolean execute(String line) {
        String command = line.strip();
        if (command.isEmpty()) return true;
        String[] words = command.split("\\s+");
        String rest = command.substring(words[0].length()).strip();
        String answer;
        try {
            answer = switch (words[0]) {
                case "help" -> {
                    expectNoArguments(words);
                    yield HELP;
                }
                case "clients" -> {
                    expectNoArguments(words);
                    yield clients(server.clients());
                }
                case "checkouts" -> {
                    if (!rest.isEmpty()) requireTree(rest);
                    yield checkOuts(server.checkOuts(), rest.isEmpty() ? null : rest);
                }
                case "break" -> breakCheckOut(key(words, rest));
                case "release" -> release(rest);
                case "backup" -> backup(rest);
                case "stop" -> {
                    expectNoArguments(words);
                    stop.run();   // says itself that the server stops and that it stopped
                    yield null;
                }
                default -> throw new Main.UsageException("unknown command '" + words[0] + "'");
            };
        } catch (Main.UsageException | IllegalArgumentException e) {
            answer = e.getMessage() + "; type help for the commands\n";
        } catch (RuntimeException e) {
            answer = words[0] + " failed: " + e + "\n";
        }
        if (answer == null) return false;
        print(answer);
        return true;
    }

    private void print(String answer) {
        synchronized (out) {
            // One line per mistake even when an exception's message spans lines.
            out.print(answer.endsWith("\n") ? answer : answer.replace('\n', ' ') + "\n");
            out.flush();
        }
    }

    private static void expectNoArguments(String[] words) {
        if (words.length > 1) throw new Main.UsageException(words[0] + " takes no arguments (got '" + words[1] + "')");
    }

    /** {@code TREE ID [REV]}, or the key as {@code checkouts} prints it: {@code TREE/ID.REV}. */
    private static Key<?> key(String[] words, String rest) {
        if (words.length == 3 || words.length == 4) {
            Integer id = number(words[2]);
            Integer revision = words.length == 4 ? number(words[3]) : Integer.valueOf(0);
            if (id != null && revision != null) return new Key<>(words[1], id, revision);
        }
        if (rest.isEmpty()) throw new Main.UsageException("break needs a record (expected: " + BREAK_USAGE + ")");
        try {
            return Key.parse(rest);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException("break '" + rest + "': not a record (expected: " + BREAK_USAGE + ")");
        }
    }

    private static Integer number(String word) {
        try {
            return Integer.valueOf(word);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** A typo in a tree name reads as a mistake, not as an empty tree or a free record. */
    private void requireTree(String tree) {
        if (!server.trees().contains(tree)) {
            throw new IllegalArgumentException("no tree '" + tree + "' on this server (trees: " + server.trees() + ")");
        }
    }

    private String breakCheckOut(Key<?> key) {
        requireTree(key.tree());
        CairnServer.BreakResult r = server.breakCheckOutWithResult(key.tree(), key.id(), key.revision());
        if (r.before() == null) return key + " is not checked out: nothing to break\n";
        return key + ": broke the check-out of " + node(r.before().holder()) + "; now "
            + (r.after() == null ? "free" : "held by " + node(r.after().holder())) + "\n";
    }

    private String release(String rest) {
        if (rest.isEmpty()) throw new Main.UsageException("release needs a node (expected: release NODE, its id or name)");
        CairnServer.Released r = server.releaseNode(nodeId(rest));
        String closed = r.disconnected() ? "; it was connected: its connection was closed, and it connects again"
            + " and asks again for the check-outs its application still waits for" : "";
        if (r.held().isEmpty() && r.waited().isEmpty()) {
            // A mistyped id names no node: saying it holds nothing would hide that the real one still does (probe 105).
            if (!server.everLinked(r.node().id())) {
                throw new IllegalArgumentException("no node with id " + r.node().id() + " ever linked to this server: nothing"
                    + " released (clients lists the connected ones; release takes a node's id or name)");
            }
            return node(r.node()) + " holds and waits for no record: nothing to release" + closed + "\n";
        }
        return "released " + node(r.node()) + ": broke " + r.held().size() + " check-out(s)" + keys(r.held()) + ", left "
            + r.waited().size() + " queue(s)" + keys(r.waited()) + closed + "\n";
    }

    private String backup(String target) {
        if (target.isEmpty()) throw new Main.UsageException("backup needs a target folder (expected: backup TARGET)");
        Path to = Path.of(target);
        long start = System.nanoTime();
        server.backup(to);
        return "backed up to " + to.toAbsolutePath() + " (copy verified) in "
            + (System.nanoTime() - start) / 1_000_000 + " ms\n";
    }

    /** A node's id as given, or the id of the one node ever connected under that name. */
    private java.util.UUID nodeId(String idOrName) {
        try {
            return java.util.UUID.fromString(idOrName);
        } catch (IllegalArgumentException notAnId) {
            List<CairnServer.Node> named = server.nodesNamed(idOrName);
            if (named.size() == 1) return named.getFirst().id();
            if (named.isEmpty()) throw new IllegalArgumentException("no node named '" + idOrName + "' ever connected to this server");
            throw new IllegalArgumentException(named.size() + " nodes are named '" + idOrName + "' ("
                + named.stream().map(n -> n.id().toString()).collect(Collectors.joining(", ")) + "): release one by its id");
        }
    }

    /** " (K1, K2, ...)" for up to 20 keys, "" for none. */
    private static String keys(List<dev.cairn.Key<?>> keys) {
        if (keys.isEmpty()) return "";
        String shown = keys.stream().limit(20).map(Object::toString).collect(Collectors.joining(", "));
        return " (" + shown + (keys.size() > 20 ? ", and " + (keys.size() - 20) + " more" : "") + ")";
    }

    static String clients(List<CairnServer.Client> clients) {
        if (clients.isEmpty()) return "clients: none connected\n";
        StringBuilder s = new StringBuilder("clients: " + clients.size() + " connected\n");
        for (CairnServer.Client c : clients) {
            s.append("  ").append(node(c.node())).append(" from ").append(c.address().isEmpty() ? "?" : c.address())
                .append(", ").append(c.live() ? "live" : "catching up").append(" since ").append(time(c.since()))
                .append('\n');
        }
        return s.toString();
    }

    /** The check-outs of {@code tree} (null: of every tree). */
    static String checkOuts(List<CairnServer.CheckOut> all, String tree) {
        List<CairnServer.CheckOut> shown = all.stream().filter(c -> tree == null || c.key().tree().equals(tree)).toList();
        String title = tree == null ? "check-outs" : "check-outs in tree " + tree;
        if (shown.isEmpty()) return title + ": none\n";
        StringBuilder s = new StringBuilder(title + ": " + shown.size() + "\n");
        for (CairnServer.CheckOut c : shown) {
            s.append("  ").append(c.key()).append(" held by ").append(node(c.holder())).append(" since ")
                .append(c.since() == null ? "unknown" : time(c.since()))
                .append(c.queue().isEmpty() ? ", nobody waiting"
                    : ", waiting: " + c.queue().stream().map(ServerConsole::node).collect(Collectors.joining(", ")))
                .append('\n');
        }
        return s.toString();
    }

    /** As the journal names nodes. */
    private static String node(CairnServer.Node n) {
        return "node " + (n.name().isEmpty() ? "" : "'" + n.name() + "' ") + "(" + n.id() + ")";
    }

    private static String time(Instant t) {
        return t.truncatedTo(ChronoUnit.SECONDS).toString();
    }
}
