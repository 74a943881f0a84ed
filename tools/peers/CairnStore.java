package bench.stores;

import bench.KvStore;
import bench.Part;
import dev.cairn.store.ReadTxn;
import dev.cairn.store.Store;
import dev.cairn.store.WriteTxn;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * Cairn's storage engine ({@code dev.cairn.store}) in the shared storage-peers harness, used like
 * the LMDB adapter: default durable commits, one read transaction per point read, values read in
 * place from the map. Values use the harness's layout (bench.PartCodec); this adapter encodes into
 * a heap array, and decodes a value with one copy out of the mapped segment into the reader's
 * scratch array, then field for field as PartCodec does.
 */
public final class CairnStore implements KvStore {
    private static final String TREE = "parts";
    private static final ValueLayout.OfInt INT_BE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong LONG_BE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final VarHandle INT_AT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle LONG_AT = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle SHORT_AT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.BIG_ENDIAN);

    private Store store;
    private final byte[] wKey = new byte[8];
    private final MemorySegment wKeySeg = MemorySegment.ofArray(wKey);
    private final byte[] wVal = new byte[64 * 1024];
    private final MemorySegment wValSeg = MemorySegment.ofArray(wVal);
    private final java.nio.ByteBuffer wValBuf = java.nio.ByteBuffer.wrap(wVal);

    @Override public String name() { return "cairn"; }

    @Override public String describe() {
        return "Cairn store (dev.cairn.store), durable commits, one ReadTxn per read";
    }

    @Override public void open(Path dir) {
        store = Store.open(dir);
        try (ReadTxn r = store.beginRead()) {
            if (r.hasTree(TREE)) return; // a reopen (W6) needs no write transaction
        }
        try (WriteTxn w = store.beginWrite()) {
            if (!w.hasTree(TREE)) w.createTree(TREE);
            w.commit();
        }
    }

    /** Slices of wVal by length, made once each: as the LMDB adapter reuses its value buffer. */
    private final MemorySegment[] wValSlices = new MemorySegment[wVal.length + 1];

    private void putOne(WriteTxn w, long key, Part p) {
        wKeySeg.set(LONG_BE, 0, key);
        int len = bench.PartCodec.encode(p, wValBuf);
        MemorySegment value = wValSlices[len];
        if (value == null) wValSlices[len] = value = wValSeg.asSlice(0, len);
        w.put(TREE, wKeySeg, value);
    }

    @Override public void putBatch(long[] keys, Part[] parts, int off, int len) {
        try (WriteTxn w = store.beginWrite()) {
            for (int i = off; i < off + len; i++) putOne(w, keys[i], parts[i]);
            w.commit();
        }
    }

    @Override public void updateDurable(long key, Part part) {
        try (WriteTxn w = store.beginWrite()) {
            putOne(w, key, part);
            w.commit();
        }
    }

    @Override public Reader reader() {
        return new CairnReader();
    }

    private final class CairnReader implements Reader {
        private final byte[] key = new byte[8];
        private final MemorySegment keySeg = MemorySegment.ofArray(key);
        private final byte[] scratch = new byte[1024];

        @Override public Part get(long k) {
            keySeg.set(LONG_BE, 0, k);
            try (ReadTxn r = store.beginRead()) {
                MemorySegment v = r.get(TREE, keySeg);
                return v == null ? null : decode(v, scratch);
            }
        }

        @Override public int getStock(long k) {
            keySeg.set(LONG_BE, 0, k);
            try (ReadTxn r = store.beginRead()) {
                MemorySegment v = r.get(TREE, keySeg);
                return v == null ? Integer.MIN_VALUE : v.get(INT_BE, 0);
            }
        }
    }

    static Part decode(MemorySegment v, byte[] scratch) {
        // One bulk copy of the value out of the map, then array decoding: a segment copy per
        // string (and a temporary array each) made W2 ~7% slower.
        int size = (int) v.byteSize();
        byte[] a = size <= scratch.length ? scratch : new byte[size];
        MemorySegment.copy(v, ValueLayout.JAVA_BYTE, 0, a, 0, size);
        int stock = (int) INT_AT.get(a, 0);
        long price = (long) LONG_AT.get(a, 4);
        int pos = 12;
        int len = (short) SHORT_AT.get(a, pos) & 0xFFFF;
        String name = new String(a, pos + 2, len, StandardCharsets.UTF_8);
        pos += 2 + len;
        len = (short) SHORT_AT.get(a, pos) & 0xFFFF;
        String mfr = new String(a, pos + 2, len, StandardCharsets.UTF_8);
        pos += 2 + len;
        int tagCount = a[pos++] & 0xFF;
        String[] tags = new String[tagCount];
        for (int i = 0; i < tagCount; i++) {
            len = (short) SHORT_AT.get(a, pos) & 0xFFFF;
            tags[i] = new String(a, pos + 2, len, StandardCharsets.UTF_8);
            pos += 2 + len;
        }
        return new Part(name, mfr, stock, price, List.of(tags));
    }

    @Override public ScanResult scanSumStock() {
        long[] sum = new long[1];
        long n;
        try (ReadTxn r = store.beginRead()) {
            n = r.forEach(TREE, (k, v) -> {
                sum[0] += v.get(INT_BE, 0);
                return true;
            });
        }
        return new ScanResult(n, sum[0]);
    }

    @Override public void close() {
        store.close();
    }
}
