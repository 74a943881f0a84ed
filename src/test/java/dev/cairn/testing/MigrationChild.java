package dev.cairn.testing;

import dev.cairn.Cairn;
import dev.cairn.Key;
import dev.cairn.Migration;
import dev.cairn.testing.Fixtures.EvoV2;
import java.nio.file.Path;
import java.util.concurrent.locks.LockSupport;

/**
 * Child JVM of {@code MigrationCrashTest}: migrates tree Evo from {@link Fixtures.EvoV1} to
 * {@link EvoV2} slowly, printing "progress N" after each record, so that the parent can kill it
 * in the middle. Prints "done" if it ever finishes.
 */
public final class MigrationChild {
    private MigrationChild() { }

    public static void main(String[] args) {
        try (Cairn db = Cairn.open(Path.of(args[0]))) {
            db.tree(EvoV2.class, new Migration<>() {
                @Override
                public EvoV2 migrate(Key<EvoV2> key, String oldJson) {
                    LockSupport.parkNanos(1_000_000);
                    return new EvoV2(Integer.parseInt(oldJson.replaceAll("[^0-9]", "")));
                }

                @Override
                public void progress(long done, long total) {
                    System.out.println("progress " + done);
                    System.out.flush();
                }
            });
            System.out.println("done");
        }
    }
}
