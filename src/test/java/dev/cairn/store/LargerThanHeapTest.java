package dev.cairn.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** A database several times larger than the JVM heap: a child JVM with -Xmx24m writes 96 MiB. */
class LargerThanHeapTest {
    @TempDir Path dir;

    @Test
    void databaseFourTimesTheHeapWritesReadsAndVerifies() throws Exception {
        String javaCommand = ProcessHandle.current().info().command().orElseThrow();
        Process child = new ProcessBuilder(javaCommand, "-Xmx24m", "-cp", dev.cairn.testing.ChildJvm.classPath(),
            Child.class.getName(), dir.toString()).redirectErrorStream(true).start();
        assertTrue(child.waitFor(120, TimeUnit.SECONDS), "child did not finish");
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, child.exitValue(), out);
        assertTrue(out.contains("ok 24000"), out);
        assertTrue(java.nio.file.Files.size(dir.resolve(Store.DATA_FILE)) > 90L << 20);
    }

    /** Writes 24,000 values of 4,000 bytes, reopens, reads a sample back and verifies. */
    public static final class Child {
        private Child() { }

        public static void main(String[] args) {
            Path dir = Path.of(args[0]);
            try (Store store = Store.open(dir, StoreOptions.defaults().withDurable(false))) {
                for (int t = 0; t < 24; t++) {
                    try (WriteTxn w = store.beginWrite()) {
                        w.createTree("big");
                        for (int i = t * 1000; i < (t + 1) * 1000; i++) w.put("big", key(i), value(i));
                        w.commit();
                    }
                }
            }
            try (Store store = Store.open(dir)) {
                try (ReadTxn r = store.beginRead()) {
                    for (int i = 0; i < 24_000; i += 7) {
                        if (!java.util.Arrays.equals(value(i), r.get("big", key(i)).toArray(PageLayout.U8))) {
                            throw new AssertionError("value " + i + " differs");
                        }
                    }
                    VerifyReport report = store.verify();
                    if (!report.ok()) throw new AssertionError(report.problems().toString());
                    System.out.println("ok " + r.count("big"));
                }
            }
        }

        static byte[] key(int i) {
            return String.format("%08d", i).getBytes(StandardCharsets.US_ASCII);
        }

        static byte[] value(int i) {
            byte[] v = new byte[4000];
            for (int j = 0; j < v.length; j++) v[j] = (byte) (i * 7 + j);
            return v;
        }
    }
}
