package dev.cairn.tools;

import java.io.PrintStream;
import java.util.Arrays;

/**
 * The command line: {@code java -jar cairn.jar COMMAND ...}. Exit codes: 0 success,
 * 1 the command ran and found a problem (e.g. {@code verify} found damage), 2 bad usage.
 */
public final class Main {
    private Main() { }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            usage(args.length == 0 ? err : out);
            return args.length == 0 ? 2 : 0;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        return switch (args[0]) {
            default -> {
                err.println("cairn: unknown command '" + args[0] + "'");
                usage(err);
                yield 2;
            }
        };
    }

    static void usage(PrintStream out) {
        out.println("""
            usage: java -jar cairn.jar COMMAND [ARGS]
            """);
    }
}
