package dev.cairn.bench;

/** Entry point of {@code ./build.sh bench}: runs every benchmark of the project in turn. */
public final class Bench {
    private Bench() { }

    public static void main(String[] args) throws Exception {
        StoreBench.main(args);
    }
}
