package dev.cairn.tools;

import dev.cairn.store.Store;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The arguments after the command name: positionals and {@code --name value} options. */
final class Args {
    /** Options that take no value. */
    private static final Set<String> FLAGS = Set.of("--apply", "--append", "--keep-ids", "--no-end-check");
    private final List<String> positionals = new ArrayList<>();
    private final Map<String, String> options = new HashMap<>();
    private final Set<String> flags = new HashSet<>();
    /** An option last on the line, with no value after it: said by {@link #expect}, which knows the command's options. */
    private String withoutValue;

    Args(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (FLAGS.contains(args[i])) {
                if (!flags.add(args[i])) throw new Main.UsageException("option " + args[i] + " given twice");
            } else if (args[i].startsWith("--") && args[i].indexOf('=') > 2) {
                // --name=value, as many tools take it
                String name = args[i].substring(0, args[i].indexOf('='));
                if (options.put(name, args[i].substring(name.length() + 1)) != null) {
                    throw new Main.UsageException("option " + name + " given twice");
                }
            } else if (args[i].startsWith("--")) {
                if (i + 1 >= args.length) {
                    withoutValue = args[i];
                    break;
                }
                if (options.put(args[i], args[++i]) != null) {
                    throw new Main.UsageException("option " + args[i - 1] + " given twice");
                }
            } else {
                positionals.add(args[i]);
            }
        }
    }

    String positional(int index, String name) {
        if (index >= positionals.size()) throw new Main.UsageException("missing " + name);
        return positionals.get(index);
    }

    String optionalPositional(int index, String fallback) {
        return index < positionals.size() ? positionals.get(index) : fallback;
    }

    /**
     * A database folder that must exist already, with a database in it: tools never create a
     * database by accident (opening an empty folder would make one, and verify would call it OK).
     */
    Path dir(int index) {
        Path dir = Path.of(positional(index, "DIR"));
        if (Files.isRegularFile(dir)) {
            Path parent = dir.toAbsolutePath().getParent();
            throw new Main.UsageException(dir.toAbsolutePath() + " is a file, not a folder"
                + (parent != null && Store.exists(parent) ? ": give the folder that holds it, " + parent
                    : " (expected: DIR, the folder that holds a database)"));
        }
        if (!Files.isDirectory(dir)) throw new Main.UsageException("no database folder " + dir.toAbsolutePath());
        // A log without its data file is a database that lost it: open says so (not "no database").
        if (!Store.holdsFiles(dir)) throw new Main.UsageException("no database in " + dir.toAbsolutePath());
        return dir;
    }

    /**
     * Refuses what the command does not take: more than {@code maxPositionals} positionals, or an
     * option or flag not in {@code allowed}. Returns this, for chaining.
     */
    Args expect(int maxPositionals, String... allowed) {
        if (positionals.size() > maxPositionals) {
            throw new Main.UsageException("unexpected argument '" + positionals.get(maxPositionals) + "'");
        }
        Set<String> known = Set.of(allowed);
        for (String name : options.keySet()) {
            if (!known.contains(name)) throw new Main.UsageException("unknown option " + name);
        }
        for (String name : flags) {
            if (!known.contains(name)) throw new Main.UsageException("unknown option " + name);
        }
        if (withoutValue != null) {
            throw new Main.UsageException((known.contains(withoutValue) ? "option " + withoutValue + " needs a value"
                : "unknown option " + withoutValue));
        }
        return this;
    }

    /** True when option {@code name} is on the line, with a value or (last on it) without one. */
    boolean given(String name) {
        return options.containsKey(name) || name.equals(withoutValue);
    }

    boolean flag(String name) {
        return flags.contains(name);
    }

    String option(String name, String fallback) {
        return options.getOrDefault(name, fallback);
    }

    /**
     * Option {@code name} as a number in {@code min..max}, or {@code fallback} when it is not
     * given. A value given is checked against the range even when it equals the fallback, so a
     * fallback outside the range (0 for "the current version") cannot be given by hand.
     * {@code expected} says the range in the error.
     */
    int intOption(String name, int fallback, int min, int max, String expected) {
        String v = options.get(name);
        if (v == null) return fallback;
        int n;
        try {
            n = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            // digits beyond int's range are a number too, just out of the option's range
            if (v.matches("[+-]?[0-9]+")) throw outOfRange(name, v, expected);
            throw new Main.UsageException("option " + name + " '" + v + "' (expected: a number)");
        }
        if (n < min || n > max) throw outOfRange(name, Integer.toString(n), expected);
        return n;
    }

    private static Main.UsageException outOfRange(String name, String number, String expected) {
        return new Main.UsageException("option " + name + " " + number + " (expected: " + expected + ")");
    }

    String requiredOption(String name) {
        String v = options.get(name);
        if (v == null) throw new Main.UsageException("missing " + name);
        return v;
    }
}
