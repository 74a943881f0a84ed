package dev.cairn.bench;

import java.util.Arrays;

/**
 * Entry point of {@code ./build.sh bench [store|typed|codec|sync|all] [N]}: the workloads of
 * shared/bench/WORKLOAD.md on the raw store and through {@code Tree<Part>}, the record codec, and
 * sync on loopback (S1–S5; its N defaults to 100,000, and {@code all} runs it with that).
 * Each part runs in this JVM in turn; compare ratios measured in the same run.
 */
public final class Bench {
    private Bench() { }

    public static void main(String[] args) throws Exception {
        String which = args.length > 0 && !Character.isDigit(args[0].charAt(0)) ? args[0] : "all";
        String[] rest = which.equals("all") && (args.length == 0 || Character.isDigit(args[0].charAt(0))) ? args
            : Arrays.copyOfRange(args, 1, args.length);
        switch (which) {
            case "store" -> StoreBench.main(rest);
            case "typed" -> TypedBench.main(rest);
            case "codec" -> CodecBench.main(rest);
            case "sync" -> SyncBench.main(rest);
            case "all" -> {
                CodecBench.main(new String[0]);
                StoreBench.main(rest);
                TypedBench.main(rest);
                SyncBench.main(new String[0]);
            }
            default -> throw new IllegalArgumentException("bench '" + which + "' (expected: store, typed, codec, sync or all)");
        }
    }
}
