package dev.cairn.db;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ids an older copy of a node leaves out of its pools (SyncReplica, sync-protocol.md §5.7),
 * said as one WARNING line per tree when a catch-up or connection ends, not one per record: a
 * restored node's catch-up can bring thousands of such records (probe 35: 134 lines for 134).
 */
final class LaterCopyIds {
    private static final System.Logger LOG = System.getLogger(SyncReplica.class.getName());

    /** What arrived for one tree since the last line. */
    private static final class Seen {
        long records;
        long idsLeft;
        long lowestId = Long.MAX_VALUE;
        long highestId;
    }

    /** Guarded by this. */
    private final Map<String, Seen> byTree = new LinkedHashMap<>();

    /** A record of {@code tree} with id {@code id} arrived; {@code idsLeft} ids left the pool for it. */
    synchronized void add(String tree, long id, long idsLeft) {
        Seen s = byTree.computeIfAbsent(tree, t -> new Seen());
        s.records++;
        s.idsLeft += idsLeft;
        s.lowestId = Math.min(s.lowestId, id);
        s.highestId = Math.max(s.highestId, id);
    }

    /** Logs one line per tree with what arrived since the last call, naming the node, and forgets it. */
    void say(String node) {
        List<Map.Entry<String, Seen>> said;
        synchronized (this) {
            if (byTree.isEmpty()) return;
            said = new ArrayList<>(byTree.entrySet());
            byTree.clear();
        }
        for (Map.Entry<String, Seen> e : said) {
            Seen s = e.getValue();
            String ids = s.lowestId == s.highestId ? "id " + s.lowestId : "ids " + s.lowestId + " to " + s.highestId;
            LOG.log(System.Logger.Level.WARNING, s.records + " record(s) of tree " + e.getKey() + " (" + ids + ") arrived"
                + " from the server with ids this node had not handed out yet: this database is an older copy of node "
                + node + " (restored from a backup taken while it was connected?); the " + s.idsLeft + " id(s) of tree "
                + e.getKey() + " up to " + s.highestId + " are not handed out again");
        }
    }
}
