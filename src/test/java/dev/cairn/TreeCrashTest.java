package dev.cairn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.index.UniqueNameIndex;
import dev.cairn.testing.ChildJvm;
import dev.cairn.testing.Fixtures.Part;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A child JVM inserting and updating through the typed API is killed at random moments. After
 * each kill: every acknowledged change is present, ids are never reused, the unique index
 * rebuilds consistently, check-outs survive.
 */
class TreeCrashTest {
    @TempDir Path dir;
    @TempDir Path logs;

    /** The last acknowledged state of one record, and a change that may or may not have landed. */
    record Expected(int stock, String name, boolean checkedOut) { }

    @Test
    void killedWriterLosesNoAcknowledgedChange() throws Exception {
        crashRounds(6, 11);
    }

    @Test
    @Tag("long")
    void killedWriterLosesNoAcknowledgedChangeOverManyRounds() throws Exception {
        crashRounds(40, 12);
    }

    void crashRounds(int rounds, long seed) throws Exception {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<Integer, Expected> expected = new HashMap<>();
        int maxIdSeen = -1;
        for (int round = 0; round < rounds; round++) {
            Path log = logs.resolve("round-" + round + ".log");
            Process child = ChildJvm.start("dev.cairn.testing.CrashChild", dir.toString(),
                Long.toString(seed * 1000 + round), log.toString());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!readLog(log).contains("READY") && child.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertTrue(readLog(log).contains("READY"), "child did not start: " + readLog(log));
            Thread.sleep(50 + rnd.nextInt(600));
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            List<String> lines = readLog(log);
            maxIdSeen = replay(lines, expected, maxIdSeen, round);
        }
    }

    /** The complete lines of the log (a line being written when the child died is left out). */
    static List<String> readLog(Path log) throws java.io.IOException {
        if (!Files.exists(log)) return List.of();
        String text = Files.readString(log, StandardCharsets.UTF_8);
        int end = text.lastIndexOf('\n');
        return end < 0 ? List.of() : List.of(text.substring(0, end).split("\n"));
    }

    /** Applies the child's acknowledged log to {@code expected}, then checks the reopened database. */
    private int replay(List<String> lines, Map<Integer, Expected> expected, int maxIdSeen, int round) {
        String[] pending = null;
        Expected inFlight = null;
        int inFlightId = -1;
        for (String line : lines) {
            String[] f = line.split(" ");
            switch (f[0]) {
                case "READY" -> { }
                case "I", "U", "O" -> pending = f;
                case "OK" -> {
                    switch (pending[0]) {
                        case "I" -> {
                            int id = Integer.parseInt(f[1]);
                            assertTrue(id > maxIdSeen, "id " + id + " reused (max seen " + maxIdSeen + ")");
                            maxIdSeen = id;
                            expected.put(id, new Expected(Integer.parseInt(pending[2]), pending[3], false));
                        }
                        case "U" -> {
                            int id = Integer.parseInt(pending[1]);
                            expected.put(id, new Expected(Integer.parseInt(pending[2]), pending[3], true));
                        }
                        default -> {
                            int id = Integer.parseInt(pending[1]);
                            Expected e = expected.get(id);
                            expected.put(id, new Expected(e.stock(), e.name(), true));
                        }
                    }
                    pending = null;
                }
                default -> throw new AssertionError("unexpected line " + line);
            }
        }
        if (pending != null && pending[0].equals("U")) {
            inFlightId = Integer.parseInt(pending[1]);
            inFlight = new Expected(Integer.parseInt(pending[2]), pending[3], true);
        }
        try (Cairn db = Cairn.open(dir)) {
            Tree<Part> parts = db.tree(Part.class);
            UniqueNameIndex<Part> names = parts.register(new UniqueNameIndex<>("Part.name", Part::name));
            for (Map.Entry<Integer, Expected> e : expected.entrySet()) {
                Key<Part> k = parts.key(e.getKey(), 0);
                Optional<Part> p = parts.find(k);
                assertTrue(p.isPresent(), "round " + round + ": acknowledged " + k + " is missing");
                Expected want = e.getValue();
                Expected got = new Expected(p.get().stock(), p.get().name(), want.checkedOut());
                // An in-flight update of a record whose check-out was not acknowledged yet (the
                // child found it checked out after a restart) may have landed too.
                if (e.getKey() == inFlightId && inFlight.stock() == got.stock()
                    && inFlight.name().equals(got.name())) {
                    expected.put(e.getKey(), inFlight);
                } else {
                    assertEquals(want, got, "round " + round + ": " + k + ", log tail "
                        + lines.subList(Math.max(0, lines.size() - 12), lines.size()));
                }
                if (want.checkedOut()) assertEquals(new BorrowState.Mine(), parts.borrowState(k), k.toString());
                assertEquals(Optional.of(k), names.lookup(got.name()), "index entry of " + k);
            }
            for (Key<Part> k : parts.keys()) {
                if (!expected.containsKey(k.id())) {
                    // At most the one unacknowledged insert; its id is above every acknowledged one.
                    assertTrue(k.id() > maxIdSeen, "unacknowledged " + k + " below max id " + maxIdSeen);
                    maxIdSeen = k.id();
                    Part p = parts.get(k);
                    expected.put(k.id(), new Expected(p.stock(), p.name(), false));
                    assertEquals(Optional.of(k), names.lookup(p.name()));
                }
            }
            assertEquals(parts.size(), names.size());
        }
        try (dev.cairn.store.Store store = dev.cairn.store.Store.open(dir)) {
            dev.cairn.store.VerifyReport report = store.verify();
            assertTrue(report.ok(), "round " + round + ": " + report);
        }
        long acknowledged = lines.stream().filter(l -> l.startsWith("OK")).count();
        System.out.printf("crash round %d: %d acknowledged operations, %d records%n", round, acknowledged,
            expected.size());
        return maxIdSeen;
    }
}
