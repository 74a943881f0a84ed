package dev.cairn.sync;

import dev.cairn.store.Cursor;
import dev.cairn.store.ReadTxn;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * What a sync server's database says about itself, read from one snapshot without starting a
 * server on it: for {@code cairn stats}. Layout in spec/sync-protocol.md §7.
 *
 * @param clients clients that ever linked (their names are kept)
 * @param checkOuts records some client holds
 * @param trees per tree: live records and tombstones (removed records, kept so nobody brings them back)
 */
public record ServerSummary(UUID serverId, String appId, long seq, long clients, long checkOuts,
                            Map<String, long[]> trees) {

    /** The summary of the server database in {@code r}, or null when it holds none. */
    public static ServerSummary read(ReadTxn r) {
        if (!r.hasTree(ServerCore.META)) return null;
        MemorySegment id = r.get(ServerCore.META, ServerCore.SERVER_ID);
        MemorySegment app = r.get(ServerCore.META, ServerCore.APP_ID);
        MemorySegment seq = r.get(ServerCore.META, ServerCore.SEQ);
        return new ServerSummary(id == null || id.byteSize() != 16 ? null : Bytes.uuidAt(id, 0),
            app == null ? null : new String(Bytes.copy(app), StandardCharsets.UTF_8),
            seq == null ? 0 : ByteBuffer.wrap(Bytes.copy(seq)).getLong(),
            count(r, ServerCore.NAMES), count(r, ServerCore.BORROWS), trees(r));
    }

    private static long count(ReadTxn r, String tree) {
        return r.hasTree(tree) ? r.count(tree) : 0;
    }

    private static Map<String, long[]> trees(ReadTxn r) {
        Map<String, long[]> trees = new TreeMap<>();
        if (!r.hasTree(ServerCore.RECORDS)) return trees;
        try (Cursor c = r.cursor(ServerCore.RECORDS)) {
            for (boolean ok = c.first(); ok; ok = c.next()) {
                byte[] k = Bytes.copy(c.key());
                String tree = new String(k, 0, Math.max(0, k.length - 9), StandardCharsets.UTF_8);
                long[] liveAndRemoved = trees.computeIfAbsent(tree, t -> new long[2]);
                liveAndRemoved[c.value().byteSize() > 16 ? 0 : 1]++;
            }
        }
        return trees;
    }
}
