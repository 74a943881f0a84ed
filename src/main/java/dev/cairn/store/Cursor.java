package dev.cairn.store;

import dev.cairn.internal.Limits;

import java.lang.foreign.MemorySegment;

import static dev.cairn.store.PageLayout.*;

/**
 * A position in one tree of a transaction; moves in key order both ways.
 *
 * <ul>
 *   <li>Positioned nowhere until {@link #first}, {@link #last} or {@link #seek} succeeds; a move
 *       off either end leaves it positioned nowhere again ({@link #key} then throws).
 *   <li>{@link #key} and {@link #value} are read-only and valid until the next move or until
 *       the transaction closes.
 *   <li>In a {@link WriteTxn}, writes between moves are seen: the cursor re-finds its key.
 * </ul>
 */
public final class Cursor implements AutoCloseable {
    private final ReadTxn txn;
    private final String tree;
    private final Snapshot.TreeRef fixedTree;
    /** A read transaction's pages never change, so moves within a leaf need no re-checks. */
    private final boolean readOnly;
    /**
     * The path from the root: page id, birth txn id and slot index per level. Only the leaf's
     * segment is kept; an ancestor is looked up again when a move leaves the leaf (about once per
     * 50 keys), which keeps segments out of arrays (their store checks upset the JIT).
     */
    private final long[] ids = new long[Limits.TREE_DEPTH_MAX];
    private final long[] births = new long[Limits.TREE_DEPTH_MAX];
    private final int[] index = new int[Limits.TREE_DEPTH_MAX];
    private MemorySegment leaf;
    /** Cells in the leaf, for the read-only fast path (a write can change it, but goes the slow way). */
    private int leafCount;
    private int leafDepth = -1;
    private boolean positioned;
    private boolean closed;
    private long modCount;
    private byte[] currentKey;
    /** Scratch copy of the leaf for {@link #visitLeaf}. */
    private byte[] leafCopy;

    Cursor(ReadTxn txn, String tree) {
        this.txn = txn;
        this.tree = tree;
        this.fixedTree = null;
        this.readOnly = !txn.tracksWrites();
    }

    Cursor(ReadTxn txn, Snapshot.TreeRef fixedTree) {
        this.txn = txn;
        this.tree = null;
        this.fixedTree = fixedTree;
        this.readOnly = !txn.tracksWrites();
    }

    /** Moves to the smallest key; false when the tree is empty. */
    public boolean first() {
        live();
        return settle(descendEdge(false) && skipEmpty(true));
    }

    /** Moves to the largest key; false when the tree is empty. */
    public boolean last() {
        live();
        return settle(descendEdge(true) && skipEmpty(false));
    }

    /** Moves to the first key >= key; false when there is none. */
    public boolean seek(byte[] key) {
        ReadTxn.checkKey(key);
        live();
        return settle(seekInternal(MemorySegment.ofArray(key)));
    }

    /** Moves to the first key >= key; false when there is none. */
    public boolean seek(MemorySegment key) {
        ReadTxn.checkKey(key);
        live();
        return settle(seekInternal(key));
    }

    /** Moves to the next key; false (and positioned nowhere) at the end. */
    public boolean next() {
        if (steady()) {
            // Fast path, kept small so that it inlines into the caller's loop: the next cell of
            // the same leaf. Everything else (leaf ends, write transactions, misuse) goes below.
            int i = index[leafDepth] + 1;
            if (i < leafCount) {
                index[leafDepth] = i;
                return true;
            }
        }
        return nextSlow();
    }

    private boolean nextSlow() {
        live();
        if (!positioned) return false;
        if (stale()) {
            byte[] at = currentKey;
            if (!seekInternal(MemorySegment.ofArray(at))) return settle(false);
            if (!keyIs(at)) return settle(true);
        }
        return settle(forward());
    }

    /** Moves to the previous key; false (and positioned nowhere) at the start. */
    public boolean prev() {
        live();
        if (!positioned) return false;
        if (stale()) {
            if (!seekInternal(MemorySegment.ofArray(currentKey))) {
                return settle(descendEdge(true) && skipEmpty(false));
            }
        }
        return settle(backward());
    }

    /** The key at the position. @throws IllegalStateException when positioned nowhere */
    public MemorySegment key() {
        MemorySegment leaf = steady() ? this.leaf : current();
        int cell = NodePage.slot(leaf, index[leafDepth]);
        return txn.export(leaf.asSlice(NodePage.keyOffset(leaf, cell), NodePage.keyBytes(leaf, cell)));
    }

    /** The value at the position. @throws IllegalStateException when positioned nowhere */
    public MemorySegment value() {
        MemorySegment leaf = steady() ? this.leaf : current();
        return txn.value(leaf, NodePage.slot(leaf, index[leafDepth]));
    }

    /**
     * Visits the entries from the position to the end of the tree in key order until the visitor
     * returns false, and returns how many it visited. Afterwards the cursor is on the entry that
     * returned false, else positioned nowhere; positioned nowhere to begin with, it visits nothing.
     * In a write transaction, writes the visitor makes are seen as {@link #next} sees them.
     */
    public long forEachRemaining(EntryVisitor visitor) {
        if (visitor == null) throw new IllegalArgumentException("visitor is null");
        live();
        if (!positioned) return 0;
        long visited = 0;
        if (!readOnly) {
            do {
                visited++;
                if (!visitor.visit(key(), value())) return visited;
            } while (next());
            return visited;
        }
        // The per-entry loop lives in visitLeaf, called once per leaf (thousands of times per
        // scan), so the JIT compiles it whole with the visitor inlined; this loop runs once per
        // leaf and costs little even interpreted. The scan ends by comparing page ids here rather
        // than by a failed move to a next leaf: a branch the compiled code has never seen taken
        // would throw it away at the end of every scan.
        long lastLeaf = lastLeafId();
        // Allocated here rather than in visitLeaf: a first call that found it missing in every
        // new cursor would be a branch the compiled visitLeaf drops, then traps on next scan.
        if (leafCopy == null) leafCopy = new byte[txn.file.pageBytes];
        while (true) {
            int n = visitLeaf(visitor);
            if (n < 0) return visited - n;
            visited += n;
            if (ids[leafDepth] == lastLeaf || !nextLeaf()) {
                positioned = false;
                return visited;
            }
        }
    }

    /**
     * Visits the rest of the leaf. Returns the number of entries visited, or minus that number
     * when the visitor returned false (the cursor then stays on that entry). Slots and cell
     * headers are read from one bulk copy of the page, as plain array elements: those reads stay
     * cheap before the JIT's last tier compiles this method (a segment read costs far more
     * there), which for a scan of a few thousand leaves may be never. Keys and values handed out
     * are still slices of the mapped page.
     */
    private int visitLeaf(EntryVisitor visitor) {
        MemorySegment page = leaf;
        byte[] b = leafCopy;
        MemorySegment.copy(page, U8, 0, b, 0, b.length);
        int from = index[leafDepth];
        int count = leafCount;
        for (int i = from; i < count; i++) {
            int cell = le16(b, HEADER_BYTES + SLOT_BYTES * i);
            int keyBytes = le16(b, cell);
            int valueBytes = le32(b, cell + 3);
            int valueAt = cell + LEAF_CELL_HEADER + keyBytes;
            MemorySegment value = (b[cell + 2] & FLAG_OVERFLOW) == 0
                ? page.asSlice(valueAt, valueBytes)
                : txn.overflow(le64(b, valueAt), le64(b, valueAt + 8), valueBytes);
            boolean more = visitor.visit(page.asSlice(cell + LEAF_CELL_HEADER, keyBytes), value);
            if (txn.closed || closed) live(); // the visitor closed its transaction: stop, loudly
            if (!more) {
                index[leafDepth] = i;
                return -(i - from + 1);
            }
        }
        return count - from;
    }

    /** Moves to the first entry of the next non-empty leaf; false when there is none. */
    private boolean nextLeaf() {
        index[leafDepth] = leafCount - 1;
        return up(true) && skipEmpty(true);
    }

    /** The page id of the tree's rightmost leaf. */
    private long lastLeafId() {
        Snapshot.TreeRef ref = ref();
        long id = ref.root();
        long birth = ref.rootTxn();
        for (int d = 0; d < Limits.TREE_DEPTH_MAX; d++) {
            MemorySegment page = txn.node(id, birth);
            if (NodePage.isLeaf(page)) return id;
            int last = count(page) - 1;
            id = NodePage.child(page, last);
            birth = NodePage.childTxn(page, last);
        }
        throw txn.store.corruption(ref.root(), "tree deeper than " + Limits.TREE_DEPTH_MAX + " levels");
    }

    @Override
    public void close() {
        closed = true;
    }

    // ---------------------------------------------------------------- movement

    /** Positioned, open, in a read transaction: the position needs no re-finding. */
    private boolean steady() {
        return readOnly && positioned && !closed && !txn.closed && !txn.store.isClosed();
    }

    private void live() {
        if (closed) throw new IllegalStateException("cursor is closed");
        txn.live();
    }

    private MemorySegment current() {
        live();
        if (!positioned) throw new IllegalStateException("cursor is positioned nowhere (call first, last or seek)");
        if (stale()) {
            byte[] at = currentKey;
            if (!seekInternal(MemorySegment.ofArray(at)) || !keyIs(at)) {
                positioned = false;
                throw new IllegalStateException("the cursor's entry was deleted by a write in this transaction");
            }
            settle(true);
        }
        return leaf;
    }

    private boolean stale() {
        return txn.modCount() != modCount;
    }

    private boolean keyIs(byte[] key) {
        return NodePage.keyEquals(leaf, index[leafDepth], MemorySegment.ofArray(key), 0, key.length);
    }

    /** Records the position; in a write transaction also the key, to re-find it after writes. */
    private boolean settle(boolean ok) {
        positioned = ok;
        modCount = txn.modCount();
        if (ok && txn.tracksWrites()) {
            int cell = NodePage.slot(leaf, index[leafDepth]);
            currentKey = leaf.asSlice(NodePage.keyOffset(leaf, cell), NodePage.keyBytes(leaf, cell)).toArray(U8);
        }
        return ok;
    }

    private Snapshot.TreeRef ref() {
        return tree == null ? (fixedTree != null ? fixedTree : txn.catalogRef()) : txn.tree(tree);
    }

    private boolean seekInternal(MemorySegment key) {
        Snapshot.TreeRef ref = ref();
        if (ref.root() == 0) return false;
        long id = ref.root();
        long birth = ref.rootTxn();
        int keyBytes = (int) key.byteSize();
        for (int d = 0; d < Limits.TREE_DEPTH_MAX; d++) {
            MemorySegment page = txn.node(id, birth);
            NodePage.touchSlots(page);
            ids[d] = id;
            births[d] = birth;
            if (NodePage.isLeaf(page)) {
                leafDepth = d;
                leaf = page;
                leafCount = count(page);
                index[d] = NodePage.lowerBound(page, key, 0, keyBytes);
                if (index[d] < count(page)) return true;
                index[d] = count(page) - 1;
                return forward();
            }
            int i = NodePage.childIndex(page, key, 0, keyBytes);
            index[d] = i;
            id = NodePage.child(page, i);
            birth = NodePage.childTxn(page, i);
        }
        throw txn.store.corruption(ref.root(), "tree deeper than " + Limits.TREE_DEPTH_MAX + " levels");
    }

    private boolean descendEdge(boolean right) {
        Snapshot.TreeRef ref = ref();
        if (ref.root() == 0) return false;
        return descendFrom(0, ref.root(), ref.rootTxn(), right);
    }

    /** From the page at level d, follows the leftmost or rightmost edge down to a leaf. */
    private boolean descendFrom(int d, long id, long birth, boolean right) {
        for (; d < Limits.TREE_DEPTH_MAX; d++) {
            MemorySegment page = txn.node(id, birth);
            ids[d] = id;
            births[d] = birth;
            int n = count(page);
            index[d] = right ? n - 1 : 0;
            if (NodePage.isLeaf(page)) {
                leafDepth = d;
                leaf = page;
                leafCount = count(page);
                return true;
            }
            id = NodePage.child(page, index[d]);
            birth = NodePage.childTxn(page, index[d]);
        }
        throw txn.store.corruption(ids[0], "tree deeper than " + Limits.TREE_DEPTH_MAX + " levels");
    }

    /** After landing on a leaf, steps over empty leaves; false if no key lies that way. */
    private boolean skipEmpty(boolean forward) {
        int guard = 0;
        while (count(leaf) == 0) {
            if (++guard > txn.pageCount + 1) throw txn.store.corruption(0, "cursor loop over empty leaves");
            if (!(forward ? up(true) : up(false))) return false;
        }
        return true;
    }

    private boolean forward() {
        if (index[leafDepth] + 1 < count(leaf)) {
            index[leafDepth]++;
            return true;
        }
        return up(true) && skipEmpty(true);
    }

    private boolean backward() {
        if (index[leafDepth] > 0) {
            index[leafDepth]--;
            return true;
        }
        return up(false) && skipEmpty(false);
    }

    /** Moves to the neighbouring leaf through the nearest ancestor that has a next child. */
    private boolean up(boolean forward) {
        for (int d = leafDepth - 1; d >= 0; d--) {
            MemorySegment page = txn.node(ids[d], births[d]);
            int next = index[d] + (forward ? 1 : -1);
            if (next >= 0 && next < count(page)) {
                index[d] = next;
                return descendFrom(d + 1, NodePage.child(page, next), NodePage.childTxn(page, next), !forward);
            }
        }
        return false;
    }
}
