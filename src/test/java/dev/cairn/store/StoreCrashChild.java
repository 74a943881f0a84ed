package dev.cairn.store;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The child JVM of {@link StoreCrashTest}: commits random transactions until it is killed and
 * prints each txn id once its commit returned. Arguments: folder, seed, checkpoint bytes (small
 * values make kills land in checkpoints too). Transaction T writes keys g/T/i (i < k), the
 * summary sum/T = k, and sometimes removes an older group X entirely, recording del/X.
 */
public final class StoreCrashChild {
    private StoreCrashChild() { }

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        Random rnd = new Random(Long.parseLong(args[1]));
        long checkpointBytes = Long.parseLong(args[2]);
        try (Store store = Store.open(dir, StoreOptions.defaults().withCheckpointBytes(checkpointBytes))) {
            List<Long> groups = new ArrayList<>();
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                try (Cursor c = w.cursor("t")) {
                    for (boolean ok = c.seek(bytes("sum/")); ok && text(c.key()).startsWith("sum/"); ok = c.next()) {
                        groups.add(Long.parseLong(text(c.key()).substring(4)));
                    }
                }
                w.commit();
            }
            for (int round = 0; round < 1_000_000; round++) {
                long txn;
                try (WriteTxn w = store.beginWrite()) {
                    txn = w.txnId();
                    int k = 1 + rnd.nextInt(40);
                    for (int i = 0; i < k; i++) {
                        int size = rnd.nextInt(20) == 0 ? 5000 + rnd.nextInt(5000) : rnd.nextInt(100);
                        w.put("t", bytes(groupKey(txn, i)), bytes(txn + ":" + "v".repeat(size)));
                    }
                    w.put("t", bytes("sum/" + pad(txn)), bytes(Integer.toString(k)));
                    if (groups.size() > 20 && rnd.nextBoolean()) {
                        long victim = groups.remove(rnd.nextInt(groups.size()));
                        int n = Integer.parseInt(text(w.get("t", bytes("sum/" + pad(victim)))));
                        for (int i = 0; i < n; i++) w.delete("t", bytes(groupKey(victim, i)));
                        w.delete("t", bytes("sum/" + pad(victim)));
                        w.put("t", bytes("del/" + pad(victim)), bytes(Long.toString(txn)));
                    }
                    w.commit();
                }
                groups.add(txn);
                System.out.println(txn);
                System.out.flush();
            }
        }
    }

    static String pad(long txn) {
        return String.format("%012d", txn);
    }

    static String groupKey(long txn, int i) {
        return "g/" + pad(txn) + "/" + String.format("%03d", i);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String text(java.lang.foreign.MemorySegment s) {
        return new String(s.toArray(PageLayout.U8), StandardCharsets.UTF_8);
    }
}
