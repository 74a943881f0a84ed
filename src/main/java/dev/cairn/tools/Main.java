package dev.cairn.tools;

import dev.cairn.CairnException;
import dev.cairn.CairnServer;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The command line: {@code java -jar cairn.jar COMMAND ...}.
 *
 * <p>Exit codes: 0 success; 1 the command ran and found a problem ({@code verify} found damage,
 * an import line was refused, ...); 2 bad usage or the command could not run (missing folder,
 * database locked by another process, ..., a result that could not all be written to stdout:
 * {@link Output}, a Java heap too small for the command). Every error is one line on stderr
 * that says what and where. {@code verify} exits 0 for a database that opens intact after crash recovery too,
 * and says on stdout what recovery found (commits replayed, a last log frame dropped).
 */
public final class Main {
    static final String USAGE = """
        usage: java -jar cairn.jar COMMAND [ARGS]

          server  --data DIR [--port 7070] [--app-id ID] [--host 127.0.0.1]
                                         run the sync server until Ctrl-C / SIGTERM / stop;
                                         console commands on stdin (server --help):
                                         %s
          inspect DIR [--app-id ID]      start jshell with the inspector on DIR
          verify  DIR                    check every page, record and the outbox of a copy of DIR
                                         (as it opens, after crash recovery; nothing in DIR is
                                         written) and say what recovery found; exit 0 intact,
                                         1 damaged
          backup  DIR TARGET_DIR         consistent copy of DIR, also while it is in use
          compact DIR TARGET_DIR         copy of DIR with live pages only (gives back the space
                                         of deleted records; the data file itself never shrinks)
          export  DIR TREE [--format jsonl|sql] [--schema-version N]   write a tree to stdout
          export  DIR TREE --jdbc URL [--table NAME] [--append] [--schema-version N]   ... or
                                         into a table of a JDBC database (driver jar on -cp: see
                                         export --help)
          import  DIR TREE FILE [--append] [--keep-ids] [--no-end-check]
                                         insert the records of FILE (jsonl or sql), keeping
                                         their ids where it can (--keep-ids: or none); a tree
                                         holding records takes more with --append only; an
                                         export cut short (without its end line) is refused
          import  DIR TREE --jdbc URL [--table NAME] [--append] [--keep-ids]   ... or a table
          stats   DIR                    database id, file, page and tree figures (of a copy,
                                         as verify); exit 1 when its page check finds damage
          salvage DIR [--apply]          when the log refuses the open: say what giving up the
                                         commits it names would do; --apply does it (keeps a
                                         copy of the whole log), then verifies
          demo    [DIR]                  the parts-inventory demo (default ./cairn-data)
          help    [COMMAND]              this text, or one command's
        cairn COMMAND --help (or -h) shows that command's usage and options.
        """.formatted(String.join(", ", ServerConsole.COMMANDS));

    /** Each command's own help ({@code cairn COMMAND --help}, {@code cairn help COMMAND}): usage, what it does, options. */
    static final java.util.Map<String, String> COMMAND_HELP = java.util.Map.ofEntries(
        java.util.Map.entry("server", """
            usage: java -jar cairn.jar server --data DIR [--port 7070] [--app-id ID] [--host 127.0.0.1]

            Runs the sync server on the database in DIR (created if absent) until Ctrl-C or
            SIGTERM, which close it cleanly (exit 143 after SIGTERM), or the console's stop (exit
            0). Exits 2 when it cannot start or its loop stops on an error it cannot serve past.

              --data DIR     the server's database folder (required)
              --port N       TCP port, 0..65535 (default 7070; 0 = any free port)
              --app-id ID    application id clients must present (default: default); a folder
                             keeps the id it was created with
              --host HOST    address to listen on (default 127.0.0.1)

            While it serves, it reads commands from standard input and answers on standard
            output, among its journal lines (the end of input ends the console, not the server):
            """ + ServerConsole.HELP.indent(2)),
        java.util.Map.entry("inspect", """
            usage: java -jar cairn.jar inspect DIR [--app-id ID]

            Starts jshell (of this JDK) with the database in DIR open as `db`; db.help() says
            what each of its verbs does: info, trees, keys, show, json, schema, find, insert,
            checkOut, save, checkIn, remove, meta, release, newRevision, setStateNumber, borrow,
            checkOuts, connect, connection, verify, close, cairn, help. The database must not be
            open elsewhere. Leaving jshell (/exit, the end of input) closes it cleanly; inspect returns
            once it is closed.

              --app-id ID   the application id db.connect presents to a server. Default: the one
                            the folder last linked with (its server's), else default. Given
                            and other than the folder's, db.connect refuses (its server
                            would refuse it: APP_ID), and says so

            db.connect links as the folder's node, under the name it last linked with (a folder
            that never linked, or last linked by an older Cairn: 'inspector'), so the server
            goes on knowing the node by its name; the inspector IS that node to the server:
            connect a node's folder only while its application is stopped. A backup (a folder
            holding backup-of.txt, which every backup leaves) opens and shows it, but db.connect
            refuses: the server would take it for the node and end the node's own link for good.

            Exit: jshell's own (0 after /exit), 2 could not start (a folder without a database, in
            use, no jshell) or the database was still in use 30 s after jshell ended.
            """),
        java.util.Map.entry("verify", """
            usage: java -jar cairn.jar verify DIR

            Checks every page, every record (decoded with its stored schema) and the outbox of
            the database in DIR, as it opens: on a copy of its data file and log, taken under its
            lock in a temporary folder (java.io.tmpdir), so nothing in DIR is written, not even
            the crash recovery an open does (only the empty lock file every open makes, when DIR
            has none and this user may write there), and reading DIR's files is all it needs. Says what recovery found: commits replayed, and a
            last log frame that does not check out (dropped by the next open; what a crash during
            that commit leaves, or damage). A folder in use by another process: verify a backup.
            Exit 0 intact (also after recovery), 1 damaged (with a report), 2 could not run (also:
            the Java heap was too small, which it says; give java more with -Xmx).
            """),
        java.util.Map.entry("backup", """
            usage: java -jar cairn.jar backup DIR TARGET_DIR

            Writes a consistent copy of the database in DIR into TARGET_DIR (which must not hold
            a database) and verifies the copy; never writes into DIR (but the empty lock file
            every open makes, when DIR has none and this user may write there). A folder no process holds
            is copied byte for byte (after a crash, its log too: opening the copy replays it); one
            an application or server holds open is copied until a copy is one committed state, at
            most 8 times: a process committing all the time can change every copy under it, and the
            backup then fails (exit 2; DIR is not damaged by it): back up at a quieter time, stop
            the application or server for the copy, or back up from inside it (the server
            console's backup TARGET, Cairn.backup), which cannot fail so. The copy is built in TARGET_DIR/backup.partial
            and moved into TARGET_DIR once checked: a backup that fails leaves nothing there, and
            one that was killed leaves only that folder, which the next backup names (delete it).
            The copy holds the note backup-of.txt (the folder it copies, and when): a backup of a
            node's folder is that node to its server, so cairn inspect on it refuses db.connect;
            restored as the node's folder, delete the note there (README, "Restoring a node from
            a backup").
            Exit 0 copied and verified, 1 the copy does not verify (it is kept as it is: it is what
            DIR holds), 2 could not run (DIR missing or unreadable, TARGET_DIR holding a database,
            no consistent copy of a folder in use, a full disk: nothing is left in TARGET_DIR).
            """),
        java.util.Map.entry("compact", """
            usage: java -jar cairn.jar compact DIR TARGET_DIR

            Writes a copy of the database in DIR into TARGET_DIR with live pages only (the space
            of deleted records back; the data file itself never shrinks), then verifies it. Needs
            DIR closed: compact a backup of a folder in use.
            Exit 0 copied and verified, 1 the copy does not verify, 2 could not run (DIR in use or
            without a database, TARGET_DIR holding a database or a compact.partial folder).
            """),
        java.util.Map.entry("export", """
            usage: java -jar cairn.jar export DIR TREE [--format jsonl|sql] [--schema-version N]
                   java -cp cairn.jar:DRIVER.jar dev.cairn.tools.Main export DIR TREE --jdbc URL
                        [--table NAME] [--user USER --password-env VAR] [--append] [--schema-version N]

            Writes every record of TREE to stdout as UTF-8 text (whatever the locale), without the
            application's classes, in the tree's current schema version (the version of the record
            class that opened the tree in DIR last; else the highest-numbered): records of other
            versions are converted as a class of that version reads them (renamed components under
            their new names, removed ones left out), so the output imports into a database that
            knows only that version.

              --format jsonl   one {"key":"TREE/id.rev","value":{...}} per line (default); a
                               versioned tree's lines carry "state":"Draft(n)"|"Released(n)" too;
                               last the end line {"cairn-export-end":{"tree":"TREE","records":N}}
                               (an empty tree: it alone)
              --format sql     CREATE TABLE plus one INSERT per record, last the end line
                               -- end of export: N rows; a record whose char or String
                               holds U+0000 (a char's default) is refused (sqlite3 and
                               others read it as the end of the text), and one whose
                               String holds \r\n (the sqlite3 shell drops the \r):
                               jsonl or --jdbc

            The end line counts the records: import refuses an export that lacks it (cut short,
            e.g. killed; it may end exactly at a line boundary) or whose count disagrees.
              --schema-version N   write in the tree's schema version N instead of the current one

            Every record is converted before anything is written: a value the version cannot hold
            (a number too wide for an older class) is refused, naming the record and component,
            with nothing written (exit 1), and a version that carries every record whole, or, when
            none does, the one that writes every record and what it leaves out. Data a version cannot carry (components its class
            lacks: ones it removed, or ones a newer class added) is left out with a warning on
            stderr naming the tree, the records and components, and a --schema-version that
            carries every record whole, or saying that none does (the data stays in the database).
            Standard output that cannot take it all (a full disk, a file size limit, a closed pipe)
            is said on stderr and exits 2: what was written is cut off, do not import it.
            Exit 0 written, 1 a record the version cannot hold (nothing written), 2 could not run
            (bad usage, no such tree or version, DIR in use, output cut off, too little heap).

            With --jdbc, writes them into a table of the database at URL instead, through its JDBC
            driver, which must be on the class path (java -jar ignores -cp: start Main as above).
            The table has the columns of --format sql; it is created when absent. All rows go in
            one transaction, are read back and compared with the records, then committed: any
            failure rolls back (exit 1). A table that holds rows is refused (exit 1). Records are
            converted first and data not carried is said, as above; --schema-version N as above.

              --jdbc URL            the database, e.g. jdbc:sqlite:parts.db, jdbc:h2:./parts
              --table NAME          the table (default: TREE)
              --user USER           the database user
              --password-env VAR    the environment variable holding the password (a password
                                    is never taken on the command line, where others can see it)
              --append              add to a table that holds rows
            """),
        java.util.Map.entry("import", """
            usage: java -jar cairn.jar import DIR TREE FILE [--append] [--keep-ids] [--no-end-check]
                   java -cp cairn.jar:DRIVER.jar dev.cairn.tools.Main import DIR TREE --jdbc URL
                        [--table NAME] [--user USER --password-env VAR] [--append] [--keep-ids]

            Inserts the records of FILE (.jsonl as export writes it, or one record object per line;
            .sql, in any case, as export --format sql writes it) into TREE, which must exist, all in
            one transaction: a refused record stores nothing (exit 1). An empty tree's export
            imports 0 records, also into a tree that holds records (it adds none); an empty file
            (what a failed export leaves) is refused. A FILE of exported lines (with "key") or
            SQL rows must end with the end line export writes last
            ({"cairn-export-end":{"tree":"TREE","records":N}}, -- end of export: N rows), counting
            the records before it: without it, FILE is an export cut short (killed, a full disk)
            and is refused, as is one whose count disagrees; bare record objects need none. A
            FILE whose only line is {"tree":"TREE","records":0} (an empty tree's export by an
            older cairn) imports 0 records. In SQL,
            INSERT INTO rows are read and statements that hold no row (CREATE, DROP, ALTER, BEGIN,
            COMMIT, SET, PRAGMA, ...) skipped; any other (REPLACE, UPDATE, DELETE, ...) is refused.
            A JSON line whose key names another tree is refused. A .jsonl line's "state" is
            restored (Released stays released); records without one (.sql, bare objects) start
            as new ones do (Draft(0) in a versioned tree), but a revision below a later one of its
            id in FILE as Released(0) (only the latest revision can be a draft). Refused, naming
            the line or row: a revision other than 0 in a tree without versions, a draft below a
            later revision of its id, an end line naming another tree. Times are not
            carried.

            Ids: into a database that never linked to a server, every record keeps its exported
            id and revision, so Key references to it from other trees still hold, as long as no id
            was handed out in TREE yet (e.g. a tree no record was ever inserted into); those ids
            are never handed out again, so no id above 2000000000 is kept (it would leave TREE
            next to no ids to insert with). Otherwise (a linked database gets its ids from the server)
            the records get new ids and a warning says how many: Key references to them in other
            trees are not renumbered. The application's indexes (e.g. unique names) live in its
            code, so import cannot check them: it refuses a tree that holds records already
            (importing a tree into itself doubled every record), and, when ids are not kept, a file
            holding two revisions of one record id (each would become a record of its own, with
            the same name).

              --keep-ids   refuse (exit 1, nothing imported) instead of giving new ids: use it
                           whenever other trees refer to TREE's records (restoring a system)
              --append     add to a tree that holds records anyway (names may then be duplicated:
                           the application's unique index lists them in duplicates())
              --no-end-check   FILE is whole without an end line: a part of a split export, an
                           export by an older cairn, rows another program wrote (no end line
                           required, no count compared; a JSON end line must still be last)

            FILE is read a line or a statement at a time, twice (to check every record, then to
            store them), so its size is not limited and its text is not held in memory (a file
            that changed in between is refused; a pipe such as /dev/stdin is read once, its
            records kept). The one transaction holds the pages it changes in the Java heap until
            it commits: about 1.5 times the size of the records (a 220 MB export of 8 KB records
            needs java -Xmx256m). Short of heap, it says so (exit 2). Split a larger file at line
            boundaries (a record's revisions together) and import the parts one after the other
            with --append --keep-ids, e.g. split -l 100000 Part.jsonl part- and
            for p in part-*; do java -jar cairn.jar import DIR Part $p --append --keep-ids
            --no-end-check; done (check first that the whole file ends with its end line)
            Exit 0 imported, 1 refused (nothing imported), 2 could not run (bad usage, no such
            tree or file, DIR in use, too little heap).

            With --jdbc instead of FILE, reads the rows of a table of the database at URL, through
            its JDBC driver on the class path (see export --help), with the same rules; it sends
            that database nothing but its SELECT. A URL naming a database that does not exist
            makes some drivers create an empty one as they connect (SQLite, H2: a new file):
            give the driver's way to open only an existing one, e.g.
            jdbc:sqlite:file:parts.db?mode=ro or jdbc:h2:./parts;IFEXISTS=TRUE. Columns as export
            --jdbc writes them; columns of components the table lacks take their defaults.

              --jdbc URL            the database
              --table NAME          the table (default: TREE)
              --user USER           the database user
              --password-env VAR    the environment variable holding the password
            """),
        java.util.Map.entry("stats", """
            usage: java -jar cairn.jar stats DIR

            Prints the database id, file size, format version, txn, page and free-page counts and
            the entries of every store tree, of a copy of DIR as verify takes it (nothing in DIR is
            written), and what crash recovery found in the log. For a node's folder also its node
            id, the server it is linked to and how far it has synced, the changes the server has
            not yet acknowledged, its check-outs, and each tree's records and schema versions; for
            a server's folder its id, app id, changes accepted, clients, check-outs and records.
            It checks the pages as verify does, and says whether they are intact (a node's records
            are not decoded: verify does that too); damaged, it says to run verify, which names
            the problems and what to do.
            Exit 0 printed and intact, 1 printed and damaged, 2 could not run (no database, in use,
            a file that cannot be read or does not open).
            """),
        java.util.Map.entry("salvage", """
            usage: java -jar cairn.jar salvage DIR [--apply]

            For a database whose log refuses the open: says what giving up the commits the refusal
            names would do (exit 1), changing nothing: like verify, it opens a copy of DIR's data
            file and log (java.io.tmpdir), so not even the recovery of a crashed log is written
            into DIR. Exit 0 if the database opens as it is and its store verifies (saying what
            recovery would replay), 1 also for damage that is not in the log, found at the open or
            by verify (salvage cannot help there: restore a backup; a node's folder restored from
            a backup is refused by its server when the node linked since: give it a new folder),
            2 could not run.

              --apply   do it: copy the whole log to wal.cairn.refused-N beside it, cut the log,
                        open and verify (exit 0 intact, 1 when the copy does not verify)
            """),
        java.util.Map.entry("demo", """
            usage: java -jar cairn.jar demo [DIR]

            Runs the parts-inventory demo in DIR (default ./cairn-data). Exit 0, 2 could not run.
            """),
        java.util.Map.entry("help", """
            usage: java -jar cairn.jar help [COMMAND]

            Prints the list of commands, or one command's usage and options. Exit 0, 2 for an
            unknown command.
            """));

    private Main() { }

    public static void main(String[] args) {
        // System.out swallows a failed write; Output keeps it, so that the exit code can say so.
        Output out = new Output(new java.io.FileOutputStream(java.io.FileDescriptor.out), System.out.charset());
        System.exit(run(args, out, System.err));
    }

    /**
     * Runs one command; returns its exit code. Never calls {@code System.exit}. A command whose
     * output could not all be written ({@code out} failed: a full disk, a file size limit, a
     * closed pipe) exits 2 with one line saying its output is incomplete, whatever it returned:
     * a cut-off export cut back to a line boundary imports cleanly, losing records.
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        int code;
        try {
            code = command(args, out, err);
        } catch (CairnException | IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
            // A write that failed to out is the cause of an exception it led to (an export stops at it).
            if (!saidOutputFailed(args, out, err)) err.println("cairn " + args[0] + ": " + e.getMessage());
            return 2;
        } catch (OutOfMemoryError e) {
            // The command's frames are gone: what they held is garbage now, and a line fits.
            saidOutputFailed(args, out, err);
            err.println("cairn " + args[0] + ": " + outOfMemory(args, e));
            return 2;
        }
        return saidOutputFailed(args, out, err) ? 2 : code;
    }

    /**
     * What an {@link OutOfMemoryError} in a command means for its user, in one line: the heap
     * (-Xmx) was too small for the command, and a larger one to run it with. A record near the
     * 16 MiB limit takes a few times that while it is verified or exported.
     */
    static String outOfMemory(String[] args, OutOfMemoryError e) {
        long maxMiB = Runtime.getRuntime().maxMemory() >> 20;
        long suggest = 512;
        while (suggest < 4 * maxMiB) suggest *= 2;
        String command = String.join(" ", java.util.Arrays.stream(args).map(Main::shellWord).toList());
        String more = args[0].equals("import") ? " (an import holds every page it changes in the heap until it commits: or"
            + " split FILE and import the parts one after the other with --append --keep-ids, see import --help)" : "";
        return "out of memory (" + e.getMessage() + "): the Java heap, at most " + maxMiB + " MiB here, was too small for"
            + " cairn " + command + ". Give java a larger one with -Xmx, e.g. java -Xmx"
            + (suggest % 1024 == 0 ? suggest / 1024 + "g" : suggest + "m") + " -jar cairn.jar " + command + more;
    }

    /** {@code word} as a shell reads it back: quoted when it holds more than letters, digits and {@code _./:=@%+,-}. */
    private static String shellWord(String word) {
        if (!word.isEmpty() && word.chars().allMatch(c -> Character.isLetterOrDigit(c) || "_./:=@%+,-".indexOf(c) >= 0)) {
            return word;
        }
        return "'" + word.replace("'", "'\\''") + "'";
    }

    /**
     * Whether {@code out} failed, then said on {@code err} in one line. The server's journal is no
     * result of a command, and a server whose standard output went away serves on: not checked.
     */
    private static boolean saidOutputFailed(String[] args, PrintStream out, PrintStream err) {
        if (args.length > 0 && args[0].equals("server")) return false;
        String why = Output.failure(out);
        if (why == null) return false;
        err.println("cairn " + (args.length == 0 ? "" : args[0]) + ": cannot write to standard output (" + why + "): "
            + (args.length > 0 && args[0].equals("export") ? "the export is incomplete, do not import it"
                : "its output is incomplete"));
        return true;
    }

    private static int command(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            err.print(USAGE);
            return 2;
        }
        // "cairn server --help" asks for that command's usage; it is no option to parse.
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--help") || args[i].equals("-h")) {
                String help = COMMAND_HELP.get(args[0]);
                if (help == null && !args[0].startsWith("-")) {
                    err.println("cairn: unknown command '" + args[0] + "'");
                    err.print(USAGE);
                    return 2;
                }
                out.print(help == null ? USAGE : help);
                return 0;
            }
        }
        try {
            Args a = new Args(Arrays.copyOfRange(args, 1, args.length));
            return switch (args[0]) {
                case "help", "--help", "-h" -> {
                    a.expect(args[0].equals("help") ? 1 : 0);
                    String command = a.optionalPositional(0, null);
                    if (command != null && !COMMAND_HELP.containsKey(command)) {
                        throw new UsageException("unknown command '" + command + "'");
                    }
                    out.print(command == null ? USAGE : COMMAND_HELP.get(command));
                    yield 0;
                }
                case "demo" -> {
                    a.expect(1);
                    Demo.run(Path.of(a.optionalPositional(0, "./cairn-data")), out);
                    yield 0;
                }
                case "verify" -> Commands.verify(a.expect(1).dir(0), out);
                case "backup" -> Commands.backup(a.expect(2).dir(0), Path.of(a.positional(1, "TARGET_DIR")), out);
                case "compact" -> Commands.compact(a.expect(2).dir(0), Path.of(a.positional(1, "TARGET_DIR")), out);
                case "server" -> {
                    a.expect(0, "--data", "--host", "--port", "--app-id");
                    int port = a.intOption("--port", 7070, 0, 65535, "0..65535");
                    CairnServer.runUntilShutdown(Path.of(a.requiredOption("--data")), a.option("--host", "127.0.0.1"),
                        port, a.option("--app-id", "default"), out,
                        (server, stop) -> ServerConsole.start(server, System.in, out, stop), ServerConsole.interactive());
                    yield 0;
                }
                case "inspect" -> InspectLauncher.launch(a.expect(1, "--app-id").dir(0), a.option("--app-id", null));
                case "stats" -> Commands.stats(a.expect(1).dir(0), out);
                case "salvage" -> Commands.salvage(a.expect(1, "--apply").dir(0), a.flag("--apply"), out);
                case "export" -> {
                    if (!a.given("--jdbc")) {
                        yield Commands.export(a.expect(2, "--format", "--schema-version").dir(0), a.positional(1, "TREE"),
                            a.option("--format", "jsonl"), schemaVersion(a), out, err);
                    }
                    JdbcCommands.Target target = jdbcTarget(a, JDBC_OPTIONS);
                    yield JdbcCommands.export(a.dir(0), a.positional(1, "TREE"), target, a.flag("--append"),
                        schemaVersion(a), out, err);
                }
                case "import" -> {
                    if (!a.given("--jdbc")) {
                        yield Commands.importFile(a.expect(3, "--append", "--keep-ids", "--no-end-check").dir(0),
                            a.positional(1, "TREE"), Path.of(a.positional(2, "FILE")), a.flag("--append"),
                            a.flag("--keep-ids"), !a.flag("--no-end-check"), out, err);
                    }
                    JdbcCommands.Target target = jdbcTarget(a, JDBC_IMPORT_OPTIONS);
                    yield JdbcCommands.importTable(a.dir(0), a.positional(1, "TREE"), target,
                        a.flag("--append"), a.flag("--keep-ids"), out, err);
                }
                default -> throw new UsageException("unknown command '" + args[0] + "'");
            };
        } catch (UsageException e) {
            err.println("cairn " + args[0] + ": " + e.getMessage());
            err.print(COMMAND_HELP.getOrDefault(args[0], USAGE));
            return 2;
        }
    }

    private static final String[] JDBC_OPTIONS = {"--jdbc", "--table", "--user", "--password-env", "--append",
        "--schema-version"};
    private static final String[] JDBC_IMPORT_OPTIONS = {"--jdbc", "--table", "--user", "--password-env", "--append",
        "--keep-ids"};

    /** {@code --schema-version N}: 0, the tree's current version, when it is not given; a given one is 1 or more. */
    private static int schemaVersion(Args a) {
        return a.intOption("--schema-version", 0, 1, Integer.MAX_VALUE,
            "a schema version of the tree, 1 or more; without the option, the tree's current one");
    }

    /**
     * The --jdbc options of export and import, after refusing any other ({@code allowed}); a
     * password given on the command line is refused first, saying why.
     */
    private static JdbcCommands.Target jdbcTarget(Args a, String... allowed) {
        if (a.given("--password")) {
            throw new UsageException("--password: a password is not taken on the command line, where other users of the"
                + " machine can see it; put it in an environment variable and give --password-env VAR");
        }
        a.expect(2, allowed);
        return new JdbcCommands.Target(a.requiredOption("--jdbc"), a.option("--table", a.positional(1, "TREE")),
            a.option("--user", null), a.option("--password-env", null));
    }

    /** Bad command-line usage: exit code 2 with the usage text. */
    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }
}
