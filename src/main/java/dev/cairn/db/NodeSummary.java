package dev.cairn.db;

import dev.cairn.store.Cursor;
import dev.cairn.store.ReadTxn;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * What a node's database says about itself, read from one snapshot without opening it as a
 * database (which writes): for {@code cairn stats}. Layout in spec/database-layout.md §2.
 *
 * @param serverId the server it is linked to, null when never linked
 * @param syncSeq the server sequence up to which it has every change (after a catch-up cut short:
 *     every record whose latest change is at or below it, as of {@code epochSeq})
 * @param epochSeq the server sequence its records come from: {@code syncSeq}, or above it after a
 *     catch-up cut short, which its next connection resumes after {@code syncSeq}
 * @param syncTrees the trees its last connection replicated; empty = all
 * @param unsent changes in the outbox, not yet acknowledged by the server
 * @param heldHere check-outs this node holds
 * @param checkOuts check-outs it knows of, its own included
 * @param linkName the node name of its last link, null when never linked or linked by a Cairn that did not store it
 * @param linkAppId the application id of its last link, null as {@code linkName}
 */
public record NodeSummary(UUID nodeId, UUID serverId, long syncSeq, long epochSeq, List<String> syncTrees, long unsent,
                          long heldHere, long checkOuts, List<TreeLine> trees, String linkName, String linkAppId) {

    /** A user tree: its records and the schema versions this database holds. */
    public record TreeLine(String name, boolean versioned, long records, int schemaVersions) { }

    /** The summary of the node database in {@code r}, or null when it holds none (a server's, or a bare store). */
    public static NodeSummary read(ReadTxn r) {
        if (!r.hasTree(Layout.NODE) || !r.hasTree(Layout.CATALOG)) return null;
        MemorySegment id = r.get(Layout.NODE, Layout.NODE_ID);
        MemorySegment server = r.get(Layout.NODE, SyncReplica.SERVER_ID);
        MemorySegment seq = r.get(Layout.NODE, SyncReplica.SYNC_SEQ);
        MemorySegment high = r.get(Layout.NODE, SyncReplica.EPOCH_SEQ);
        MemorySegment trees = r.get(Layout.NODE, SyncReplica.SYNC_TREES);
        UUID nodeId = id == null || id.byteSize() != 16 ? null : Layout.uuidOf(id);
        long held = 0;
        long known = 0;
        if (r.hasTree(Layout.CHECKOUTS)) {
            try (Cursor c = r.cursor(Layout.CHECKOUTS)) {
                for (boolean ok = c.first(); ok; ok = c.next()) {
                    known++;
                    if (Layout.checkoutHolder(c.value()).equals(nodeId)) held++;
                }
            }
        }
        long syncSeq = seq == null ? 0 : ByteBuffer.wrap(Layout.copy(seq)).getLong();
        return new NodeSummary(nodeId, server == null ? null : Layout.uuidOf(server), syncSeq,
            high == null ? syncSeq : Math.max(syncSeq, ByteBuffer.wrap(Layout.copy(high)).getLong()),
            trees == null ? List.of() : List.copyOf(SyncReplica.decodeTrees(Layout.copy(trees))),
            r.hasTree(Layout.OUTBOX) ? r.count(Layout.OUTBOX) : 0, held, known, treeLines(r),
            text(r.get(Layout.NODE, SyncReplica.LINK_NAME)), text(r.get(Layout.NODE, SyncReplica.LINK_APP_ID)));
    }

    private static String text(MemorySegment utf8) {
        return utf8 == null ? null : new String(Layout.copy(utf8), StandardCharsets.UTF_8);
    }

    private static List<TreeLine> treeLines(ReadTxn r) {
        List<TreeLine> lines = new ArrayList<>();
        try (Cursor c = r.cursor(Layout.CATALOG)) {
            for (boolean ok = c.first(); ok; ok = c.next()) {
                String name = new String(Layout.copy(c.key()), StandardCharsets.UTF_8);
                boolean versioned = c.value().byteSize() > 1 && (Layout.copy(c.value())[1] & 1) != 0;
                String data = Layout.dataTree(name);
                lines.add(new TreeLine(name, versioned, r.hasTree(data) ? r.count(data) : 0, schemaVersions(r, name)));
            }
        }
        return lines;
    }

    private static int schemaVersions(ReadTxn r, String tree) {
        byte[] prefix = Layout.schemaPrefix(tree);
        int n = 0;
        try (Cursor c = r.cursor(Layout.SCHEMAS)) {
            for (boolean ok = c.seek(prefix); ok && Layout.isSchemaKey(Layout.copy(c.key()), prefix); ok = c.next()) n++;
        }
        return n;
    }
}
