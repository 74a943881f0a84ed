package dev.cairn.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * A second reader of a database folder, written from spec/storage-format.md alone and using
 * nothing of {@code dev.cairn.store} but this package's name: it reads the data file's newest
 * intact meta (§3), walks the catalog and every tree (§4), and applies the log's committed
 * frames after that meta (§5.2, §5.4 step 5), and gives every tree's keys and values. It checks
 * what the spec says a reader checks and fails with an AssertionError naming the file, the page
 * or the byte; it needs no free list and does not write. If the store and this reader disagree
 * on a folder, the spec is not precise enough to write a second reader, or the code left it.
 */
public final class SpecReader {
    /** Keys and values as hex strings, so that maps of them compare by content and print readably. */
    public static final HexFormat HEX = HexFormat.of();

    private final ByteBuffer data;
    private final int pageBytes;

    private SpecReader(ByteBuffer data, int pageBytes) {
        this.data = data;
        this.pageBytes = pageBytes;
    }

    /** Every tree of the folder's last commit: name, then key to value, both in hex. */
    public static Map<String, TreeMap<String, String>> read(Path folder) throws IOException {
        ByteBuffer data = ByteBuffer.wrap(Files.readAllBytes(folder.resolve("data.cairn"))).order(ByteOrder.LITTLE_ENDIAN);
        // §3.1 File header.
        check(data.capacity() >= 44, "data file shorter than its header");
        check(Arrays.equals(slice(data, 0, 8), "CAIRN-DB".getBytes(StandardCharsets.US_ASCII)), "magic of page 0");
        check(data.getInt(8) == 0x01020304, "byte-order mark of page 0");
        int readVersion = u16(data, 12);
        check(readVersion == 3 || readVersion == 2, "read version " + readVersion);
        int pageBytes = data.getInt(16);
        check(Integer.bitCount(pageBytes) == 1 && pageBytes >= 4096 && pageBytes <= 32768, "page size " + pageBytes);
        check(data.getInt(20) == 1024, "chunk pages");
        check(data.getInt(24) == crc(data, 0, 24), "checksum of page 0");
        long databaseId = data.getLong(32);
        check(databaseId == 0 ? data.getInt(40) == 0 : data.getInt(40) == crc(data, 0, 40), "database id checksum");
        SpecReader r = new SpecReader(data, pageBytes);

        // §5.4 steps 2-3: the intact meta with the highest txn id.
        long[] meta = null;
        for (int id = 1; id <= 2; id++) {
            long[] m = r.meta(id);
            if (m != null && (meta == null || m[0] > meta[0])) meta = m;
        }
        check(meta != null, "no intact meta page");
        long metaTxn = meta[0];
        long pageCount = meta[4];
        check(pageCount * pageBytes <= data.capacity(), "meta counts " + pageCount + " pages, the file is shorter");
        Map<String, TreeMap<String, String>> trees = new TreeMap<>();
        TreeMap<String, String> catalog = new TreeMap<>();
        r.walk(meta[1], meta[2], metaTxn, pageCount, catalog, readVersion);
        check(catalog.size() == meta[3], "catalog holds " + catalog.size() + " trees, the meta says " + meta[3]);
        for (Map.Entry<String, String> e : catalog.entrySet()) {
            String name = new String(HEX.parseHex(e.getKey()), StandardCharsets.UTF_8);
            ByteBuffer v = ByteBuffer.wrap(HEX.parseHex(e.getValue())).order(ByteOrder.LITTLE_ENDIAN);
            check(v.capacity() == 32, "catalog value of tree " + name);
            TreeMap<String, String> tree = new TreeMap<>();
            r.walk(v.getLong(0), v.getLong(8), metaTxn, pageCount, tree, readVersion);
            check(tree.size() == v.getLong(16), "tree " + name + " holds " + tree.size() + " keys, its count is " + v.getLong(16));
            trees.put(name, tree);
        }
        Path log = folder.resolve("wal.cairn");
        if (Files.exists(log)) replay(ByteBuffer.wrap(Files.readAllBytes(log)).order(ByteOrder.LITTLE_ENDIAN), metaTxn, pageBytes, databaseId, trees);
        return trees;
    }

    /** Tree {@code tree} of the folder's last commit with its keys and values as UTF-8 text (empty if none). */
    public static TreeMap<String, String> readText(Path folder, String tree) throws IOException {
        TreeMap<String, String> out = new TreeMap<>();
        read(folder).getOrDefault(tree, new TreeMap<>()).forEach((k, v) -> out.put(
            new String(HEX.parseHex(k), StandardCharsets.UTF_8), new String(HEX.parseHex(v), StandardCharsets.UTF_8)));
        return out;
    }

    /** The keys only one side holds and those whose values differ, a few of each: for messages, as the maps may be large. */
    static String difference(Map<String, String> store, Map<String, String> spec) {
        List<String> onlyStore = store.keySet().stream().filter(k -> !spec.containsKey(k)).sorted().toList();
        List<String> onlySpec = spec.keySet().stream().filter(k -> !store.containsKey(k)).sorted().toList();
        List<String> differ = store.keySet().stream().filter(k -> spec.containsKey(k) && !spec.get(k).equals(store.get(k))).sorted().toList();
        return onlyStore.size() + " keys only the store holds " + onlyStore.stream().limit(5).toList() + ", " + onlySpec.size()
            + " only the spec's reader " + onlySpec.stream().limit(5).toList() + ", " + differ.size() + " with other values "
            + differ.stream().limit(5).toList();
    }

    /** §3.3: txnId, catalogRoot, catalogRootTxn, treeCount, pageCount; null when not intact. */
    private long[] meta(int id) {
        int at = id * pageBytes;
        if (data.capacity() < at + pageBytes) return null;
        if (data.getInt(at) != crc(data, at + 4, at + pageBytes) || data.get(at + 4) != 2 || data.getLong(at + 8) != id) return null;
        return new long[] {data.getLong(at + 16), data.getLong(at + 32), data.getLong(at + 40), data.getLong(at + 48), data.getLong(at + 80)};
    }

    /** §4.1: adds every key and value under the node {@code id} (birth {@code birth}) to {@code out}, in hex. */
    private void walk(long id, long birth, long metaTxn, long pageCount, TreeMap<String, String> out, int readVersion) {
        if (id == 0) {
            check(birth == 0, "a tree with no root records birth " + birth);
            return;
        }
        check(id >= 3 && id < pageCount, "page id " + id + " out of [3, " + pageCount + ")");
        int at = Math.toIntExact(id * pageBytes);
        check(data.getInt(at) == crc(data, at + 4, at + pageBytes), "checksum of page " + id);
        int kind = data.get(at + 4);
        int count = u16(data, at + 6);
        check(data.getLong(at + 8) == id, "page " + id + " holds id " + data.getLong(at + 8));
        check(data.getLong(at + 16) == birth && birth <= metaTxn, "page " + id + " birth " + data.getLong(at + 16) + ", its parent says " + birth);
        int cellStart = u16(data, at + 24);
        check(32 + 10 * count <= cellStart && cellStart <= pageBytes, "cell start of page " + id);
        byte[] previous = null;
        for (int i = 0; i < count; i++) {
            int slot = at + 32 + 10 * i;
            int cell = at + u16(data, slot);
            long head = Long.reverseBytes(data.getLong(slot + 2)); // the one big-endian field
            int keyBytes = u16(data, cell);
            check(keyBytes <= 1024, "key of " + keyBytes + " bytes in page " + id);
            int keyAt = cell + (kind == 4 ? 7 : 18);
            check(keyAt + keyBytes <= at + pageBytes, "cell " + i + " of page " + id + " ends past the page");
            byte[] key = slice(data, keyAt, keyBytes);
            byte[] padded = Arrays.copyOf(key, 8);
            check(head == ByteBuffer.wrap(padded).getLong(), "head of slot " + i + " of page " + id);
            check(previous == null || Arrays.compareUnsigned(previous, key) < 0, "keys of page " + id + " do not ascend at slot " + i);
            previous = key;
            if (kind == 4) {
                int flags = data.get(cell + 2);
                int valueBytes = data.getInt(cell + 3);
                byte[] value;
                if ((flags & 1) == 0) {
                    check(flags == 0, "flags " + flags);
                    check(keyAt + keyBytes + valueBytes <= at + pageBytes, "value of cell " + i + " of page " + id + " ends past the page");
                    value = slice(data, keyAt + keyBytes, valueBytes);
                } else {
                    value = run(data.getLong(keyAt + keyBytes), data.getLong(keyAt + keyBytes + 8), valueBytes, metaTxn, pageCount);
                }
                out.put(HEX.formatHex(key), HEX.formatHex(value));
            } else {
                check(kind == 3, "page " + id + " is of kind " + kind);
                check(i > 0 || keyBytes == 0, "branch cell 0 of page " + id + " has a key");
                long child = data.getLong(cell + 2);
                long childId = child & ((1L << 48) - 1);
                int childCellStart = (int) (child >>> 48);
                check(readVersion == 3 || childCellStart == 0, "a version-2 branch records a cell start");
                long childTxn = data.getLong(cell + 10);
                if (childCellStart != 0) {
                    check(childCellStart == u16(data, Math.toIntExact(childId * pageBytes) + 24), "cell start of child " + childId);
                }
                walk(childId, childTxn, metaTxn, pageCount, out, readVersion);
            }
        }
        check(kind == 4 || count >= 1, "branch page " + id + " without a child");
    }

    /** §4.2: the value in the overflow run at {@code id}. */
    private byte[] run(long id, long birth, int valueBytes, long metaTxn, long pageCount) {
        int pages = (32 + valueBytes + pageBytes - 1) / pageBytes;
        check(id >= 3 && id + pages <= pageCount, "run " + id + " of " + pages + " pages out of [3, " + pageCount + ")");
        int at = Math.toIntExact(id * pageBytes);
        check(data.get(at + 4) == 5 && data.getLong(at + 8) == id && data.getLong(at + 16) == birth && birth <= metaTxn,
            "header of run " + id);
        check(data.getInt(at + 24) == pages && data.getInt(at + 28) == valueBytes, "size of run " + id);
        check(data.getInt(at) == crc(data, at + 4, at + 32 + valueBytes), "checksum of run " + id);
        return slice(data, at + 32, valueBytes);
    }

    /** §5.2 and §5.4 step 5: applies the committed frames with txn ids above the meta's. */
    private static void replay(ByteBuffer log, long metaTxn, int pageBytes, long databaseId, Map<String, TreeMap<String, String>> trees) {
        if (log.capacity() < 64 || (allZero(log, 0, 64) && (log.capacity() < 96 || allZero(log, 64, 96)))) return;
        check(Arrays.equals(slice(log, 0, 8), "CAIRNWAL".getBytes(StandardCharsets.US_ASCII)), "magic of the log");
        int version = log.getInt(8);
        check(version == 3 || version == 2, "log version " + version);
        check(log.getInt(60) == crc(log, 0, 60), "checksum of the log header");
        check(log.getInt(12) == pageBytes, "page size of the log");
        long generation = log.getLong(16);
        long base = log.getLong(24);
        check(version == 2 || log.getLong(32) == databaseId, "database id of the log");
        int previousCrc = log.getInt(60);
        long previousTxn = base;
        int at = 64;
        while (at + 32 <= log.capacity()) {
            long txn = log.getLong(at);
            int length = log.getInt(at + 16);
            int ops = log.getInt(at + 20);
            int flags = log.getInt(at + 24);
            if (log.getLong(at + 8) != generation || length < 0 || at + 32L + length > log.capacity()
                || (flags != 1 && flags != 3) || txn <= previousTxn) break;
            CRC32C c = new CRC32C();
            c.update(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(previousCrc).array());
            c.update(slice(log, at, 28));
            c.update(slice(log, at + 32, length));
            if ((int) c.getValue() != log.getInt(at + 28)) break;
            if (txn > metaTxn) {
                check(version == 2 ? base <= metaTxn : base == metaTxn, "frames after the meta under base " + base);
                apply(log, at + 32, length, ops, trees);
            }
            previousCrc = log.getInt(at + 28);
            previousTxn = txn;
            at += 32 + length;
        }
    }

    /** §5.2.1: the operations of one frame. */
    private static void apply(ByteBuffer log, int at, int length, int ops, Map<String, TreeMap<String, String>> trees) {
        int end = at + length;
        for (int i = 0; i < ops; i++) {
            int kind = log.get(at);
            int nameBytes = u16(log, at + 1);
            String name = new String(slice(log, at + 3, nameBytes), StandardCharsets.UTF_8);
            at += 3 + nameBytes;
            switch (kind) {
                case 1 -> trees.putIfAbsent(name, new TreeMap<>());
                case 2 -> trees.remove(name);
                case 3 -> {
                    int keyBytes = u16(log, at);
                    String key = HEX.formatHex(slice(log, at + 2, keyBytes));
                    int valueBytes = log.getInt(at + 2 + keyBytes);
                    String value = HEX.formatHex(slice(log, at + 6 + keyBytes, valueBytes));
                    at += 6 + keyBytes + valueBytes;
                    check(trees.containsKey(name), "put into tree " + name + ", which does not exist");
                    trees.get(name).put(key, value);
                }
                case 4 -> {
                    int keyBytes = u16(log, at);
                    String key = HEX.formatHex(slice(log, at + 2, keyBytes));
                    at += 2 + keyBytes;
                    check(trees.containsKey(name) && trees.get(name).remove(key) != null, "delete of a key " + name + " does not hold");
                }
                default -> throw new AssertionError("operation kind " + kind);
            }
        }
        check(at == end, "operations fill " + (at - end + length) + " bytes, the frame says " + length);
    }

    private static boolean allZero(ByteBuffer b, int from, int to) {
        for (int i = from; i < to; i++) if (b.get(i) != 0) return false;
        return true;
    }

    private static int u16(ByteBuffer b, int at) {
        return b.getShort(at) & 0xFFFF;
    }

    private static byte[] slice(ByteBuffer b, int at, int length) {
        byte[] out = new byte[length];
        b.get(at, out);
        return out;
    }

    private static int crc(ByteBuffer b, int from, int to) {
        CRC32C c = new CRC32C();
        c.update(b.slice(from, to - from));
        return (int) c.getValue();
    }

    private static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError("spec reader: " + what);
    }
}
