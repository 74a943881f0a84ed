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

    /**
     * What §5.2 and §5.4 step 5 make of a folder's log: open goes on with the log's committed
     * frames up to txn {@code lastTxn} ({@code keepBytes < 0}), or refuses, and keeping only the
     * log's first {@code keepBytes} bytes would open it (0: none of it).
     */
    public record LogVerdict(long keepBytes, long lastTxn, String why) {
        public boolean opens() {
            return keepBytes < 0;
        }
    }

    /** The verdict on the folder's log, beside the data file's newest intact meta; reads nothing else. */
    public static LogVerdict logVerdict(Path folder) throws IOException {
        ByteBuffer data = ByteBuffer.wrap(Files.readAllBytes(folder.resolve("data.cairn"))).order(ByteOrder.LITTLE_ENDIAN);
        int pageBytes = data.getInt(16);
        SpecReader r = new SpecReader(data, pageBytes);
        long metaTxn = Math.max(r.meta(1) == null ? -1 : r.meta(1)[0], r.meta(2) == null ? -1 : r.meta(2)[0]);
        check(metaTxn >= 0, "no intact meta page");
        Path log = folder.resolve("wal.cairn");
        if (!Files.exists(log)) return new LogVerdict(-1, metaTxn, "no log");
        return readLog(ByteBuffer.wrap(Files.readAllBytes(log)).order(ByteOrder.LITTLE_ENDIAN), metaTxn, pageBytes,
            data.getLong(32), null);
    }

    /** §5.2 and §5.4 step 5: applies the committed frames with txn ids above the meta's, unless the log is refused. */
    private static void replay(ByteBuffer log, long metaTxn, int pageBytes, long databaseId, Map<String, TreeMap<String, String>> trees) {
        LogVerdict verdict = readLog(log, metaTxn, pageBytes, databaseId, trees);
        check(verdict.opens(), "the log is refused (keep " + verdict.keepBytes() + " bytes): " + verdict.why());
    }

    /**
     * Reads the log's header and frames (§5.2), runs the damage check on the frame that ended
     * it, and the checks of §5.4 step 5; applies the committed frames after the meta to trees
     * (unless null) only when the log opens.
     */
    private static LogVerdict readLog(ByteBuffer log, long metaTxn, int pageBytes, long databaseId, Map<String, TreeMap<String, String>> trees) {
        int size = log.capacity();
        if (size < 64) return new LogVerdict(-1, metaTxn, "empty");
        if (allZero(log, 0, 64)) {
            if (size >= 96 && !allZero(log, 64, 96)) return new LogVerdict(0, metaTxn, "a header of zeros with a frame header behind it");
            long p = search(log, 64, metaTxn + 1, 0, 3);
            return p < 0 ? new LogVerdict(-1, metaTxn, "empty")
                : new LogVerdict(0, metaTxn, "a header of zeros with a commit after the meta at " + p);
        }
        if (!Arrays.equals(slice(log, 0, 8), "CAIRNWAL".getBytes(StandardCharsets.US_ASCII))) return new LogVerdict(0, metaTxn, "magic");
        if (log.getInt(60) != crc(log, 0, 60)) return new LogVerdict(0, metaTxn, "checksum of the header");
        if (log.getInt(12) != pageBytes) return new LogVerdict(0, metaTxn, "page size of the header");
        int version = log.getInt(8);
        check(version == 3 || version == 2, "log version " + version + " (a newer Cairn's)");
        if (version == 3 && log.getLong(32) != databaseId) return new LogVerdict(0, metaTxn, "another database's log");
        long generation = log.getLong(16);
        long base = log.getLong(24);
        if (base > metaTxn) return new LogVerdict(0, metaTxn, "base txn " + base + " after the data file's meta " + metaTxn);
        // The committed frames: {start, txn} each.
        List<long[]> frames = new java.util.ArrayList<>();
        int previousCrc = log.getInt(60);
        long previousTxn = base;
        long at = 64;
        while (frameAt(log, at, generation, version, previousTxn, previousCrc)) {
            previousCrc = log.getInt((int) at + 28);
            previousTxn = log.getLong((int) at);
            frames.add(new long[] {at, previousTxn});
            at += 32 + u32(log, at + 16);
        }
        long s = at;
        // The damage check, on the frame at s that ended the log.
        if (s + 32 <= size) {
            long n = s + 32 + u32(log, s + 16);
            if (n + 32 <= size && log.getInt((int) n + 24) == 3) {
                int storedCrc = log.getInt((int) s + 28);
                boolean own = u32(log, s + 16) <= 16 << 20;
                if (frameAt(log, n, generation, version, previousTxn, storedCrc)
                        || (own && frameAt(log, n, generation, version, previousTxn, frameCrc(log, s, previousCrc)))) {
                    return new LogVerdict(s, metaTxn, "frame at " + s + " damaged: the forced frame at " + n + " follows it");
                }
            }
            // An older generation's frame: another generation, and not zeros (txn id and generation 0).
            boolean olderGeneration = log.getLong((int) s + 8) != generation
                && !(log.getLong((int) s) == 0 && log.getLong((int) s + 8) == 0);
            if (version == 3 && (!frames.isEmpty() || !olderGeneration)) {
                long p = search(log, s, previousTxn + 1, generation, version);
                if (p >= 0) return new LogVerdict(s, metaTxn, "frame at " + s + " damaged: a frame header at " + p + " follows it");
            }
        }
        // previousTxn: the last committed frame's txn id, else the base (not above the meta, checked above).
        if (previousTxn > metaTxn && (version == 2 ? base > metaTxn : base != metaTxn)) {
            return new LogVerdict(0, metaTxn, "frames after the meta " + metaTxn + " under base " + base);
        }
        if (trees != null) {
            for (long[] f : frames) {
                if (f[1] > metaTxn) apply(log, (int) f[0] + 32, log.getInt((int) f[0] + 16), log.getInt((int) f[0] + 20), trees);
            }
        }
        return new LogVerdict(-1, Math.max(metaTxn, previousTxn), frames.size() + " committed frames, ended at byte " + s);
    }

    /**
     * The damage check's search (§5.2): the first frame header after the stopped frame at s, of
     * the generation (0: any but 0, for a lost header), with flags 3, a txn id t in
     * {@code (m, m + 1 + (p - s) / 32]}, its ops within the log, and backed by the frame after it
     * or by its ops; -1 when none.
     */
    private static long search(ByteBuffer log, long s, long m, long generation, int version) {
        int size = log.capacity();
        for (long p = s + 32; p + 32 <= size; p++) {
            int i = (int) p;
            long t = log.getLong(i);
            long length = u32(log, p + 16);
            long g = log.getLong(i + 8);
            if ((generation == 0 ? g == 0 : g != generation) || log.getInt(i + 24) != 3 || t <= m || t > m + 1 + (p - s) / 32
                    || p + 32 + length > size) {
                continue;
            }
            long q = p + 32 + length;
            boolean follows = q + 32 <= size && log.getLong((int) q + 8) == g;
            boolean backed = follows ? frameAt(log, q, g, version, t, log.getInt(i + 28))
                : parses(log, i + 32, (int) length, log.getInt(i + 20));
            if (backed) return p;
        }
        return -1;
    }

    /**
     * A valid frame at {@code at} (§5.2): whole, of the generation, valid flags, a txn id above
     * {@code afterTxn}, and its chained CRC over {@code previousCrc}.
     */
    private static boolean frameAt(ByteBuffer log, long at, long generation, int version, long afterTxn, int previousCrc) {
        if (at + 32 > log.capacity()) return false;
        int i = (int) at;
        long length = u32(log, at + 16);
        int flags = log.getInt(i + 24);
        if (log.getLong(i + 8) != generation || at + 32 + length > log.capacity()
            || !(flags == 1 || (flags == 3 && version == 3)) || log.getLong(i) <= afterTxn) {
            return false;
        }
        return frameCrc(log, at, previousCrc) == log.getInt(i + 28);
    }

    /** The chained CRC of the frame at {@code at} (its length field as it is) over previousCrc; the frame fits the log. */
    private static int frameCrc(ByteBuffer log, long at, int previousCrc) {
        int i = (int) at;
        CRC32C c = new CRC32C();
        c.update(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(previousCrc).array());
        c.update(slice(log, i, 28));
        c.update(slice(log, i + 32, (int) u32(log, at + 16)));
        return (int) c.getValue();
    }

    /** Whether {@code length} bytes at {@code at} parse as exactly {@code ops} operations (§5.2.1). */
    private static boolean parses(ByteBuffer log, int at, int length, int ops) {
        int end = at + length;
        for (int i = 0; i < ops; i++) {
            if (at + 3 > end) return false;
            int kind = log.get(at);
            at += 3 + u16(log, at + 1);
            if (kind == 3 || kind == 4) {
                if (at + 2 > end) return false;
                at += 2 + u16(log, at);
                if (kind == 3) {
                    if (at + 4 > end) return false;
                    long v = u32(log, at);
                    if (at + 4 + v > end) return false;
                    at += 4 + (int) v;
                }
            } else if (kind != 1 && kind != 2) {
                return false;
            }
            if (at > end) return false;
        }
        return at == end;
    }

    private static long u32(ByteBuffer b, long at) {
        return b.getInt((int) at) & 0xFFFF_FFFFL;
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
