package dev.cairn.tools;

import dev.cairn.BorrowState;
import dev.cairn.Cairn;
import dev.cairn.CairnException;
import dev.cairn.GenericTree;
import dev.cairn.Key;
import dev.cairn.RecordMeta;
import dev.cairn.db.NodeSummary;
import dev.cairn.store.BackupNote;
import dev.cairn.store.ReadTxn;
import dev.cairn.store.Store;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The inspector behind {@code java -jar cairn.jar inspect DIR} (tools/inspect.jsh): browses and
 * edits any Cairn database from jshell without the application's classes, through the generic
 * JSON access of the typed layer. Keys are written as in their text form, {@code "Part/3.0"}.
 *
 * <p>Every verb prints for a person and also returns its result, so it composes in jshell
 * ({@code var k = db.insert("Part", "{...}")}).
 */
public final class Inspector implements AutoCloseable {
    private static final String HELP = """
        db.info()                     node, folder, connection, trees
        db.trees()                    every tree with its record count
        db.keys("Part")               the keys of a tree, in key order
        db.show("Part/3.0")           a record as indented JSON
        db.json("Part/3.0")           the same as a compact string, to edit and save
        db.schema("Part")             the current schema of a tree, as JSON
        db.find("Part", "text")       records whose JSON contains text (ignoring case; strings are
                                      searched as their characters: "a\\nb" finds a line break);
                                      the list shortens strings over 200 characters (db.show or
                                      db.json gives a whole record)
        db.insert("Part", "{...}")    a new record from JSON; returns its key
        db.checkOut("Part/3.0")       check a record out (needed before save and remove); not
                                      connected, the request waits for the server until db.connect
                                      links, and lasts while this inspector runs (not after /exit)
        db.save("Part/3.0", "{...}")  change a checked-out record (members left out stay); a Key
                                      member is not checked against the tree its class names: a key
                                      of another tree makes the application's updates of the record
                                      fail (WrongTreeException) until it is set right
        db.checkIn("Part/3.0")        give the record back
        db.remove("Part/3.0")         remove a checked-out record (not a released one)
        db.meta("Part/3.0")           a record's state, iterations, times and schema version
        db.release("Part/3.0")        Draft(n) -> Released(n): its data frozen (versioned trees)
        db.newRevision("Part/3.0")    make the next revision of a released record, as Draft(0)
        db.setStateNumber("Part/3.0", 2)   set n of Draft(n) or Released(n)
        db.borrow("Part/3.0")         who holds a record (Free, Mine, HeldBy, Waiting)
        db.checkOuts()                every record that is not free
        db.connect("host", 7070)      link to a sync server (waits until caught up) as the folder's
                                      node, under the name and application id it last linked with:
                                      the inspector IS that node to the server, so connect a node's
                                      folder only while its application is stopped. Refused on a
                                      backup (a folder with backup-of.txt): the server would take
                                      it for the node and end the node's own link for good
        db.connection()               connected to a sync server or standalone
        db.verify()                   check every page, record and the outbox (closes and reopens
                                      the database: a link to a server ends, db.connect again;
                                      check-outs asked for and not yet granted are dropped)
        db.close()                    close the database (leaving jshell closes it too)
        db.cairn()                    the Cairn handle, for anything else
        db.help()                     this list
        """;

    /** How long a string find lists in full. */
    static final int FIND_STRING_CHARS_MAX = 200;

    private final Path dir;
    private final PrintStream out;
    /** Opened for jshell ({@link #openForShell}): expected errors lose their stack trace (see {@link #call}). */
    private final boolean shell;
    /**
     * How the database is opened: the node name and application id the folder last linked with
     * ({@link NodeSummary#linkName}), else {@value #UNLINKED_NAME} and the given or default id.
     */
    private final Cairn.Options options;
    /** The application id the folder last linked with, or null (never linked, or by a Cairn that did not store it). */
    private final String linkAppId;
    /** The --app-id given, or null. */
    private final String givenAppId;
    /** Check-outs asked for and not yet granted or refused: the typed layer shows them as Free (their request is not stored). */
    private final java.util.Set<String> asked = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Where the last db.connect linked, for what db.verify says; null before any. */
    private volatile String linkedTo;
    /** Volatile: the shutdown hook of {@link #openForShell} closes the one {@link #verify} last opened. */
    private volatile Cairn cairn;
    /** Set by {@link #close}: {@link #verify} must not open the database again after it. */
    private volatile boolean closed;

    /** The node name of a folder that has none stored: one never linked, or last linked by an older Cairn. */
    static final String UNLINKED_NAME = "inspector";

    private Inspector(Path dir, PrintStream out, boolean shell, String appId) {
        this.dir = dir;
        this.out = out;
        this.shell = shell;
        NodeSummary node = storedNode(dir);
        this.linkAppId = node == null ? null : node.linkAppId();
        this.givenAppId = appId;
        String name = node == null || node.linkName() == null ? UNLINKED_NAME : node.linkName();
        String id = appId != null ? appId : linkAppId != null ? linkAppId : Cairn.Options.defaults().appId();
        this.options = Cairn.Options.defaults().withNodeName(name).withAppId(id);
        this.cairn = Cairn.open(dir, options);
    }

    /** What the node's folder says of itself (its last link's name and application id), or null for another folder. */
    private static NodeSummary storedNode(Path dir) {
        try (Store store = Store.open(dir); ReadTxn r = store.beginRead()) {
            return NodeSummary.read(r);
        }
    }

    /** Opens the database in {@code dir} (which must exist) for inspection. */
    public static Inspector open(String dir) {
        return open(Path.of(dir), System.out);
    }

    /** As {@link #open(Path, PrintStream, String)} with no application id given: the folder's, else the default. */
    public static Inspector open(Path dir, PrintStream out) {
        return open(dir, out, false, null);
    }

    /**
     * As {@link #open(Path, PrintStream)}, for a server of application {@code appId} ({@link
     * #connect}); null: the id the folder last linked with, else {@code default}.
     */
    public static Inspector open(Path dir, PrintStream out, String appId) {
        return open(dir, out, false, appId);
    }

    /**
     * For tools/inspect.jsh: as {@link #open(String)}, but the errors a person makes at the prompt
     * (Cairn's own exceptions, {@link IllegalArgumentException}, {@link IllegalStateException}:
     * a bad key, JSON of the wrong type, a record not checked out, ...) reach jshell without their
     * stack trace, so jshell shows one line, the exception's type and message (and one per cause).
     * Anything else keeps its trace: that is a bug to report. {@code appId} null: the folder's.
     */
    public static Inspector openForShell(String dir, String appId) {
        Inspector inspector = open(Path.of(dir), System.out, true, appId);
        // jshell runs no code of a script when a session ends (/exit, the end of input, Ctrl-D):
        // it ends the JVM that runs the snippets, so the database is closed on the way out, and
        // the next open has no commits to replay (it found every commit of the session in the log).
        Runtime.getRuntime().addShutdownHook(new Thread(() -> inspector.cairn.close(), "cairn-inspector-close"));
        return inspector;
    }

    /**
     * For tools/inspect.jsh: {@link #openForShell}, or, when the database does not open (no such
     * folder, no database in it, locked, damaged), one line on stderr and {@code System.exit(2)},
     * as {@code cairn inspect} does. That ends jshell under {@code --execution local}; under its
     * default remote execution it ends the snippet runtime, and jshell says "State engine
     * terminated" (no variable {@code db} is left half made).
     */
    public static Inspector openForShellOrExit(String dir, String appId) {
        try {
            Path path = Path.of(dir);
            if (java.nio.file.Files.isDirectory(path) && !dev.cairn.store.Store.holdsFiles(path)) {
                throw new IllegalArgumentException("no database in " + path.toAbsolutePath());
            }
            return openForShell(dir, appId);
        } catch (CairnException | IllegalArgumentException | IllegalStateException e) {
            System.err.println("cairn inspect: " + e.getMessage());
            System.err.flush();
            System.exit(2);
            throw e;
        }
    }

    private static Inspector open(Path dir, PrintStream out, boolean shell, String appId) {
        if (java.nio.file.Files.isRegularFile(dir)) {
            throw new IllegalArgumentException(dir.toAbsolutePath() + " is a file, not a folder (expected: DIR, the"
                + " folder that holds a database)");
        }
        if (!java.nio.file.Files.isDirectory(dir)) {
            throw new IllegalArgumentException("no database folder " + dir.toAbsolutePath());
        }
        return new Inspector(dir, out, shell, appId);
    }

    /** Runs a verb; see {@link #openForShell} for what happens to its errors. */
    private <T> T call(java.util.function.Supplier<T> verb) {
        try {
            return verb.get();
        } catch (CairnException | IllegalArgumentException | IllegalStateException e) {
            if (shell) {
                // A bounded walk down the causes: a cycle of causes must not hang the prompt.
                Throwable t = e;
                for (int depth = 0; t != null && depth < 8; depth++, t = t.getCause()) t.setStackTrace(new StackTraceElement[0]);
            }
            throw e;
        }
    }

    private void run(Runnable verb) {
        call(() -> {
            verb.run();
            return null;
        });
    }

    public void help() {
        out.print(HELP);
    }

    public Cairn cairn() {
        return cairn;
    }

    public void info() {
        run(() -> {
            out.println("folder " + dir.toAbsolutePath() + "\nnode   " + cairn.nodeId() + ", name '" + options.nodeName() + "'"
                + (options.nodeName().equals(UNLINKED_NAME) && linkAppId == null ? " (the folder names none: never linked,"
                    + " or linked by an older Cairn)" : " (as it last linked)")
                + "\napp id '" + options.appId() + "'" + (givenAppId == null && linkAppId != null ? " (as it last linked)"
                    : appIdRefused() ? " (given; the folder last linked with '" + linkAppId + "': db.connect refuses)" : "")
                + "\nlink   " + connection() + "\ntrees  " + cairn.treeNames());
            BackupNote backup = BackupNote.read(dir);
            if (backup != null) {
                out.println("backup " + backup + " (" + BackupNote.FILE + "): inspect it, but do not connect it as it is;"
                    + " db.connect refuses (db.help())");
            }
        });
    }

    public void trees() {
        run(() -> {
            for (String name : cairn.treeNames()) {
                out.printf("%-24s %,10d records%n", name, cairn.genericTree(name).size());
            }
        });
    }

    /** The keys of a tree (jshell shows the list). */
    public List<Key<?>> keys(String tree) {
        return call(() -> cairn.genericTree(tree).keys());
    }

    /** Prints a record as indented JSON. */
    public void show(String key) {
        run(() -> out.println(PrettyJson.indent(json(key))));
    }

    /** A record as compact JSON, e.g. to edit and pass to {@link #save}. */
    public String json(String key) {
        return call(() -> {
            Key<?> k = Key.parse(key);
            return cairn.genericTree(k.tree()).getJson(k.id(), k.revision());
        });
    }

    public void schema(String tree) {
        run(() -> out.println(PrettyJson.indent(cairn.genericTree(tree).schemaJson())));
    }

    public List<Key<?>> find(String tree, String text) {
        return call(() -> {
            GenericTree t = cairn.genericTree(tree);
            String needle = text.toLowerCase(Locale.ROOT);
            List<Key<?>> hits = new ArrayList<>();
            boolean shortened = false;
            for (Key<?> k : t.keys()) {
                String json = t.getJson(k.id(), k.revision());
                // the printed form escapes quotes, backslashes and control characters: a value's own
                // text (a line break, a quote) is found in the JSON with its strings' escapes read
                if (json.toLowerCase(Locale.ROOT).contains(needle)
                    || unescaped(json).toLowerCase(Locale.ROOT).contains(needle)) {
                    hits.add(k);
                    String listed = JsonAbbreviation.strings(json, FIND_STRING_CHARS_MAX);
                    shortened |= listed.length() != json.length();
                    out.println(k + "  " + listed);
                }
            }
            if (shortened) {
                out.println("(strings over " + FIND_STRING_CHARS_MAX + " characters are shortened above, \"...\" and how"
                    + " many more; db.show(\"KEY\") or db.json(\"KEY\") gives the whole record)");
            }
            return hits;
        });
    }

    /** Compact JSON with every escape read ({@code \n} a line break, {@code \"} a quote, {@code \u0001} that character). */
    static String unescaped(String json) {
        StringBuilder text = new StringBuilder(json.length());
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (c != '\\' || i + 1 == json.length()) {
                text.append(c);
                continue;
            }
            char e = json.charAt(++i);
            switch (e) {
                case 'n' -> text.append('\n');
                case 'r' -> text.append('\r');
                case 't' -> text.append('\t');
                case 'b' -> text.append('\b');
                case 'f' -> text.append('\f');
                case 'u' -> {
                    text.append((char) Integer.parseInt(json, i + 1, i + 5, 16)); // the printer writes 4 hex digits
                    i += 4;
                }
                default -> text.append(e); // \" \\ \/
            }
        }
        return text.toString();
    }

    public Key<?> insert(String tree, String json) {
        return call(() -> {
            Key<?> k = cairn.genericTree(tree).insertJson(json);
            out.println("inserted " + k);
            return k;
        });
    }

    /**
     * Asks for the check-out and, when connected, waits up to 10 s for it; if the record is held
     * by another node, says where this node stands in the queue. Not connected, it says that the
     * request waits for the server. A check-out that arrives later is said when it does.
     */
    public void checkOut(String key) {
        run(() -> {
            Key<?> k = Key.parse(key);
            GenericTree tree = cairn.genericTree(k.tree());
            tree.getJson(k.id(), k.revision()); // a record that does not exist is said, not "asked for"
            boolean connected = cairn.isConnected();
            CompletableFuture<Void> request = tree.checkOut(k.id(), k.revision());
            if (await(request, connected ? 10 : 0)) {
                out.println("checked out " + k);
                return;
            }
            asked.add(k.toString());
            request.whenComplete((done, failure) -> {
                // Not in the set: dropped by verify's reopen, which says so; closed: the session is over.
                if (!asked.remove(k.toString()) || closed) return;
                out.println(failure == null ? "checked out " + k + " (asked for earlier)"
                    : "check-out of " + k + " failed: " + failure.getMessage());
            });
            out.println(connected ? "asked for " + k + ": " + tree.borrowState(k.id(), k.revision())
                + " (the check-out comes when the holder gives it back; said here then)" : notConnected(k));
        });
    }

    /** What an offline check-out says: the typed layer shows such a record Free until the server grants it. */
    private static String notConnected(Key<?> k) {
        return "asked for " + k + ", not connected: the request waits for the server, goes out when db.connect links,"
            + " and lasts while this inspector runs (/exit, db.close and db.verify drop it). Until the server grants it,"
            + " db.borrow shows the record Free and db.save and db.remove refuse it; the check-out is said here when it comes";
    }

    /** Who holds a record: Free, Mine, HeldBy(node, name) or Waiting(holder, position); says a request still waiting. */
    public BorrowState borrow(String key) {
        return call(() -> {
            Key<?> k = Key.parse(key);
            BorrowState state = cairn.genericTree(k.tree()).borrowState(k.id(), k.revision());
            if (state instanceof BorrowState.Free && asked.contains(k.toString())) {
                out.println(k + ": asked for by this inspector, waiting for the server");
            }
            return state;
        });
    }

    /** Every record of every tree that is not free, with its borrow state. */
    public List<String> checkOuts() {
        return call(() -> {
            List<String> lines = new ArrayList<>();
            for (String name : cairn.treeNames()) {
                GenericTree tree = cairn.genericTree(name);
                for (Key<?> k : tree.keys()) {
                    BorrowState state = tree.borrowState(k.id(), k.revision());
                    if (!(state instanceof BorrowState.Free)) {
                        lines.add(k + "  " + state);
                    } else if (asked.contains(k.toString())) {
                        lines.add(k + "  " + state + ", asked for by this inspector, waiting for the server");
                    }
                }
            }
            lines.forEach(out::println);
            return lines;
        });
    }

    public void save(String key, String json) {
        run(() -> {
            Key<?> k = Key.parse(key);
            cairn.genericTree(k.tree()).updateJson(k.id(), k.revision(), json);
            out.println("saved " + k);
        });
    }

    /** Removes a record and its check-out, as {@link GenericTree#remove}: it must be checked out and not released. */
    public void remove(String key) {
        run(() -> {
            Key<?> k = Key.parse(key);
            cairn.genericTree(k.tree()).remove(k.id(), k.revision());
            out.println("removed " + k);
        });
    }

    /** A record's metadata: state, who changed it last, when, its iterations and schema version. */
    public RecordMeta meta(String key) {
        return call(() -> {
            Key<?> k = Key.parse(key);
            return cairn.genericTree(k.tree()).meta(k.id(), k.revision());
        });
    }

    /** Releases a draft (its data is frozen from then on), as {@link GenericTree#release}. */
    public void release(String key) {
        run(() -> {
            Key<?> k = Key.parse(key);
            GenericTree tree = cairn.genericTree(k.tree());
            tree.release(k.id(), k.revision());
            out.println("released " + k + ": " + tree.meta(k.id(), k.revision()).state());
        });
    }

    /** Makes the next revision of a released record, as {@link GenericTree#newRevision}; returns its key. */
    public Key<?> newRevision(String key) {
        return call(() -> {
            Key<?> k = Key.parse(key);
            Key<?> next = cairn.genericTree(k.tree()).newRevision(k.id(), k.revision());
            out.println("made " + next + " from " + k);
            return next;
        });
    }

    /** Sets n of Draft(n) or Released(n), as {@link GenericTree#setStateNumber}. */
    public void setStateNumber(String key, int n) {
        run(() -> {
            Key<?> k = Key.parse(key);
            GenericTree tree = cairn.genericTree(k.tree());
            tree.setStateNumber(k.id(), k.revision(), n);
            out.println(k + " is " + tree.meta(k.id(), k.revision()).state());
        });
    }

    /** Gives a record back; says so when it was not checked out. @throws RecordNotFoundException if it does not exist */
    public void checkIn(String key) {
        run(() -> {
            Key<?> k = Key.parse(key);
            GenericTree tree = cairn.genericTree(k.tree());
            tree.getJson(k.id(), k.revision()); // a record that does not exist is said, not "checked in"
            if (tree.borrowState(k.id(), k.revision()) instanceof BorrowState.Free) {
                out.println(k + " was not checked out: nothing to check in");
                return;
            }
            tree.checkIn(k.id(), k.revision());
            out.println("checked in " + k);
        });
    }

    public String connection() {
        return cairn.isConnected() ? "connected" : "not connected";
    }

    /**
     * Links to a sync server as the folder's node (its last link's name and application id, or
     * those the inspector was started with) and waits (up to 60 s) until caught up. Refused on a
     * backup's folder ({@link BackupNote}) and for an --app-id other than the folder's.
     */
    public void connect(String host, int port) {
        run(() -> {
            BackupNote backup = BackupNote.read(dir);
            if (backup != null) throw new IllegalStateException(backupRefusal(backup));
            if (appIdRefused()) {
                throw new IllegalArgumentException("db.connect refused: this inspector was started with --app-id '" + givenAppId
                    + "', but " + dir.toAbsolutePath() + " last linked with the application id '" + linkAppId + "', its"
                    + " server's, which refuses any other (APP_ID): start cairn inspect without --app-id (it takes the"
                    + " folder's)");
            }
            linkedTo = "db.connect(\"" + host + "\", " + port + ")";
            if (await(cairn.connect(host, port), 60)) {
                out.println("connected to " + host + ":" + port);
            } else {
                out.println("still linking to " + host + ":" + port + " (it goes on in the background)");
            }
        });
    }

    private boolean appIdRefused() {
        return givenAppId != null && linkAppId != null && !givenAppId.equals(linkAppId);
    }

    /**
     * Why a backup does not connect: it has the node's id and link token, so the server takes it
     * for the node (sync-protocol.md §5.7), replaces the node's connection (REPLACED) and, once
     * the copy's link is stored, refuses the node's own folder (NODE_COPY).
     */
    private String backupRefusal(BackupNote backup) {
        return "db.connect refused: " + dir.toAbsolutePath() + " is " + backup + " (its " + BackupNote.FILE + " says so)."
            + " A backup of a node's folder holds the node's id (" + cairn.nodeId() + ") and link token, so a sync server"
            + " would take this inspector for the node and end the node's own link for good (REPLACED, and NODE_COPY when"
            + " the node starts again). Inspect it without connecting. To restore the node from it, follow README"
            + " \"Restoring a node from a backup\": the restored folder, with " + BackupNote.FILE + " deleted, is the node";
    }

    /** True once {@code f} completed within the time; its failure is rethrown as it was. */
    private static boolean await(CompletableFuture<Void> f, int seconds) {
        try {
            f.get(seconds, TimeUnit.SECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    /**
     * Closes the database, runs the full verify of {@code cairn verify}, and opens it again: a
     * link to a server ends with the close, and so do check-outs asked for and not yet granted
     * (their requests live in the open database); both are said.
     */
    public boolean verify() {
        return call(() -> {
            if (closed) throw new IllegalStateException("database " + dir + " is closed");
            boolean linked = cairn.isConnected() || linkedTo != null;
            List<String> dropped = List.copyOf(asked);
            asked.clear();
            cairn.close();
            try {
                return Commands.verify(dir, out) == 0;
            } finally {
                cairn = Cairn.open(dir, options);
                if (linked) {
                    out.println("db.verify closed and reopened the database, which ended its link to the server: "
                        + linkedTo + " links again");
                    linkedTo = null;
                }
                if (!dropped.isEmpty()) out.println("check-outs asked for and not granted were dropped: " + dropped);
            }
        });
    }

    /**
     * Closes the database (cleanly: its next open replays nothing) and says so; idempotent. The
     * verbs then refuse ({@link IllegalStateException}).
     */
    @Override
    public void close() {
        run(() -> {
            if (closed) return;
            closed = true;
            cairn.close();
            out.println("closed " + dir.toAbsolutePath());
        });
    }

    @Override
    public String toString() {
        return "Inspector[" + dir.toAbsolutePath() + "] (db.help() lists the verbs)";
    }
}
