import bench.Dataset;
import bench.KvStore;
import bench.Part;
import bench.PartCodec;
import bench.Stores;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * W1 of ../shared/bench/WORKLOAD.md timed as the storage-peers harness times it (a fresh JVM, the
 * data generated first, then N records in key order, 1,000 a transaction, each durable), for one
 * store of the harness, or for {@code floor}: no store at all, each batch's keys and values
 * (bench.PartCodec, as the stores get them) written at the end of what the file holds so far and
 * forced once. The file is filled with zeros beforehand (untimed), so that a force does not also
 * have to store the file's new length, as a store whose files are already allocated does not.
 * The floor is the least any durable store pays for W1 here: the same encoding, one force per
 * commit, no index, no page, nothing read back.
 *
 * <pre>java -cp HARNESS_CLASSPATH:. W1Floor STORE N   (prints one line: "STORE RECORDS_PER_S")</pre>
 */
public final class W1Floor {
    private static final int BATCH = 1_000;

    public static void main(String[] args) throws Exception {
        String store = args[0];
        int n = Integer.parseInt(args[1]);
        Part[] parts = Dataset.generate(n);
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) keys[i] = Dataset.key(i);
        Path dir = Files.createTempDirectory("w1floor-");
        try {
            System.gc();
            long nanos = store.equals("floor") ? floor(dir, keys, parts) : load(store, dir, keys, parts);
            System.out.printf("%s %.0f%n", store, n / (nanos / 1e9));
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** W1 through the harness's adapter for {@code name} (lmdb, bench.stores.CairnStore, ...). */
    private static long load(String name, Path dir, long[] keys, Part[] parts) throws Exception {
        KvStore store = Stores.create(name);
        store.open(dir);
        try {
            long start = System.nanoTime();
            for (int off = 0; off < keys.length; off += BATCH) store.putBatch(keys, parts, off, Math.min(BATCH, keys.length - off));
            return System.nanoTime() - start;
        } finally {
            store.close();
        }
    }

    /** Each batch encoded into one buffer (key, value length, value), written with one positional write, then forced. */
    private static long floor(Path dir, long[] keys, Part[] parts) throws Exception {
        ByteBuffer value = ByteBuffer.allocate(64 << 10);
        ByteBuffer batch = ByteBuffer.allocateDirect(1 << 20);
        try (FileChannel file = FileChannel.open(dir.resolve("floor.bin"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long bytes = (long) keys.length * 128; // more than a record's key, length and value take
            for (long at = 0; at < bytes; at += batch.capacity()) file.write(batch.clear(), at);
            file.force(true);
            long start = System.nanoTime();
            long at = 0;
            for (int off = 0; off < keys.length; off += BATCH) {
                batch.clear();
                for (int i = off; i < Math.min(off + BATCH, keys.length); i++) {
                    int len = PartCodec.encode(parts[i], value);
                    batch.putLong(keys[i]).putShort((short) len).put(value.array(), 0, len);
                }
                batch.flip();
                while (batch.hasRemaining()) at += file.write(batch, at);
                file.force(false);
            }
            return System.nanoTime() - start;
        }
    }
}
