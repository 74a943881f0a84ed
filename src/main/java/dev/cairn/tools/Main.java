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
 * database locked by another process, ...). Every error is one line on stderr that says what
 * and where. {@code verify} exits 0 for a database that opens intact after crash recovery too,
 * and says on stdout what recovery found (commits replayed, a last log frame dropped).
 */
public final class Main {
    static final String USAGE = """
        usage: java -jar cairn.jar COMMAND [ARGS]

          server  --data DIR [--port 7070] [--app-id ID] [--host 127.0.0.1]
                                         run the sync server until Ctrl-C / SIGTERM
          inspect DIR                    start jshell with the inspector on DIR
          verify  DIR                    check every page, record and the outbox of a copy of DIR
                                         (as it opens, after crash recovery; nothing in DIR is
                                         written) and say what recovery found; exit 0 intact,
                                         1 damaged
          backup  DIR TARGET_DIR         consistent copy of DIR, also while it is in use
          compact DIR TARGET_DIR         copy of DIR with live pages only (gives back the space
                                         of deleted records; the data file itself never shrinks)
          export  DIR TREE [--format jsonl|sql]   write a tree to stdout
          import  DIR TREE FILE          insert the records of FILE (jsonl or sql) as new records
          stats   DIR                    database id, file, page and tree figures (of a copy,
                                         as verify)
          salvage DIR [--apply]          when the log refuses the open: say what giving up the
                                         commits it names would do; --apply does it (keeps a
                                         copy of the whole log), then verifies
          demo    [DIR]                  the parts-inventory demo (default ./cairn-data)
          help                           this text
        """;

    private Main() { }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command; returns its exit code. Never calls {@code System.exit}. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            err.print(USAGE);
            return 2;
        }
        // "cairn server --help" asks for the usage, as "cairn help" does; it is no option to parse.
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--help") || args[i].equals("-h")) {
                out.print(USAGE);
                return 0;
            }
        }
        try {
            Args a = new Args(Arrays.copyOfRange(args, 1, args.length));
            return switch (args[0]) {
                case "help", "--help", "-h" -> {
                    a.expect(0);
                    out.print(USAGE);
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
                    int port = a.intOption("--port", 7070);
                    if (port < 0 || port > 65535) throw new UsageException("option --port " + port + " (expected: 0..65535)");
                    CairnServer.runUntilShutdown(Path.of(a.requiredOption("--data")), a.option("--host", "127.0.0.1"),
                        port, a.option("--app-id", "default"), out);
                    yield 0;
                }
                case "inspect" -> InspectLauncher.launch(a.expect(1).dir(0));
                case "stats" -> Commands.stats(a.expect(1).dir(0), out);
                case "salvage" -> Commands.salvage(a.expect(1, "--apply").dir(0), a.flag("--apply"), out);
                case "export" -> Commands.export(a.expect(2, "--format").dir(0), a.positional(1, "TREE"),
                    a.option("--format", "jsonl"), out);
                case "import" -> Commands.importFile(a.expect(3).dir(0), a.positional(1, "TREE"), Path.of(a.positional(2, "FILE")),
                    out, err);
                default -> throw new UsageException("unknown command '" + args[0] + "'");
            };
        } catch (UsageException e) {
            err.println("cairn " + args[0] + ": " + e.getMessage());
            err.print(USAGE);
            return 2;
        } catch (CairnException | IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
            err.println("cairn " + args[0] + ": " + e.getMessage());
            return 2;
        }
    }

    /** Bad command-line usage: exit code 2 with the usage text. */
    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }
}
