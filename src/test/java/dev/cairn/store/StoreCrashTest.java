package dev.cairn.store;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static dev.cairn.store.StoreCrashChild.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Kills a child JVM that commits transactions at random moments (with checkpoints after every
 * commit, every 64 KiB of log, or at the default size, in turn); after each kill the database
 * opens, verifies, holds every transaction the child reported, and none half-applied; and a
 * reader written from the spec ({@link SpecReader}) finds the same commits in the folder first.
 */
class StoreCrashTest {
    @TempDir Path dir;

    @Test
    void killedWriterLosesNoReportedCommitAndHalfAppliesNone() throws Exception {
        rounds(20, 1);
    }

    @Test
    @Tag("long")
    void killedWriterManyRounds() throws Exception {
        rounds(150, 2);
    }

    private void rounds(int rounds, long seed) throws Exception {
        Random rnd = new Random(seed);
        List<Long> reported = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            long[] checkpointBytes = {0, 64 << 10, StoreOptions.CHECKPOINT_BYTES};
            reported.addAll(runAndKill(rnd.nextLong(), 20 + rnd.nextInt(250), checkpointBytes[round % checkpointBytes.length]));
            check(reported, round);
        }
        assertTrue(reported.size() > rounds, "the child committed only " + reported.size() + " transactions");
    }

    private List<Long> runAndKill(long seed, int millisAfterFirstCommit, long checkpointBytes) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process child = new ProcessBuilder(java, "-Xmx128m", "-cp", dev.cairn.testing.ChildJvm.classPath(),
            StoreCrashChild.class.getName(), dir.toString(), Long.toString(seed), Long.toString(checkpointBytes))
            .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        List<Long> lines = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) lines.add(Long.parseLong(line.trim()));
            } catch (java.io.IOException | NumberFormatException e) {
                // The stream ends (or a line is cut) when the child is killed; what was read counts.
            }
        });
        reader.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (lines.isEmpty() && child.isAlive() && System.nanoTime() < deadline) Thread.sleep(5);
        assertTrue(child.isAlive(), "child exited early with " + (child.isAlive() ? "?" : child.exitValue()));
        Thread.sleep(millisAfterFirstCommit);
        child.destroyForcibly();
        assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        reader.join(10_000);
        return lines;
    }

    private void check(List<Long> reported, int round) throws IOException {
        // The folder as the kill left it, read by the spec's recovery rule before the store
        // replays anything (storage-format.md §5.4): both must find the same commits.
        Map<String, String> bySpec = SpecReader.readText(dir, "t");
        try (Store store = Store.open(dir)) {
            VerifyReport report = store.verify();
            assertTrue(report.ok(), "round " + round + ": " + report.problems());
            Map<String, String> all = new HashMap<>();
            try (ReadTxn r = store.beginRead(); Cursor c = r.cursor("t")) {
                for (boolean ok = c.first(); ok; ok = c.next()) all.put(text(c.key()), text(c.value()));
            }
            assertTrue(all.equals(bySpec), () -> "round " + round + ": the store and the spec's reader recover different commits: "
                + SpecReader.difference(all, bySpec));
            for (long txn : reported) {
                assertTrue(all.containsKey("sum/" + pad(txn)) || all.containsKey("del/" + pad(txn)),
                    "round " + round + ": reported txn " + txn + " is missing");
            }
            Map<String, Integer> groupSizes = new HashMap<>();
            for (String key : all.keySet()) {
                if (key.startsWith("g/")) groupSizes.merge(key.substring(2, 14), 1, Integer::sum);
            }
            for (Map.Entry<String, String> e : all.entrySet()) {
                String key = e.getKey();
                if (key.startsWith("sum/")) {
                    String group = key.substring(4);
                    int k = Integer.parseInt(e.getValue());
                    assertEquals(k, groupSizes.getOrDefault(group, 0), "round " + round + ": group " + group + " half-applied");
                    for (int i = 0; i < k; i++) {
                        String v = all.get(groupKey(Long.parseLong(group), i));
                        assertNotNull(v, "round " + round + ": " + groupKey(Long.parseLong(group), i) + " missing");
                        assertTrue(v.startsWith(Long.parseLong(group) + ":"), v);
                    }
                } else if (key.startsWith("del/")) {
                    String group = key.substring(4);
                    assertFalse(all.containsKey("sum/" + group), "round " + round + ": deleted group " + group + " has a summary");
                    assertFalse(groupSizes.containsKey(group), "round " + round + ": deleted group " + group + " has keys");
                } else if (key.startsWith("g/")) {
                    assertTrue(all.containsKey("sum/" + key.substring(2, 14)), "round " + round + ": " + key + " without summary");
                }
            }
        }
    }
}
