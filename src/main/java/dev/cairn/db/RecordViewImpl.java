package dev.cairn.db;

import dev.cairn.FieldHandle;
import dev.cairn.RecordView;
import dev.cairn.schema.FieldPath;
import dev.cairn.schema.RecordCodec;
import java.lang.foreign.MemorySegment;

/**
 * A {@link RecordView} over the record bytes of one stored value. Reusable: the tree points it
 * at each record in turn and {@link #invalidate()}s it when the read ends, so a view kept past
 * its call throws instead of reading freed pages.
 */
final class RecordViewImpl implements RecordView {
    private final String tree;
    private final Object owner;
    private final RecordCodec<?> codec;
    private MemorySegment bytes;

    RecordViewImpl(String tree, Object owner, RecordCodec<?> codec) {
        this.tree = tree;
        this.owner = owner;
        this.codec = codec;
    }

    RecordViewImpl at(MemorySegment recordBytes) {
        this.bytes = recordBytes;
        return this;
    }

    void invalidate() {
        this.bytes = null;
    }

    private FieldPath path(FieldHandle f) {
        if (bytes == null) {
            throw new IllegalStateException("record view of tree " + tree + " used outside its read call");
        }
        if (!(f instanceof FieldHandleImpl h) || h.owner() != owner) {
            throw new IllegalArgumentException("field handle " + f + " does not belong to tree " + tree
                + " (resolve it with this tree's field(name))");
        }
        return h.field(codec);
    }

    @Override
    public int getInt(FieldHandle f) {
        FieldPath p = path(f);
        return codec.getInt(bytes, p);
    }

    @Override
    public long getLong(FieldHandle f) {
        FieldPath p = path(f);
        return codec.getLong(bytes, p);
    }

    @Override
    public double getDouble(FieldHandle f) {
        FieldPath p = path(f);
        return codec.getDouble(bytes, p);
    }

    @Override
    public boolean getBoolean(FieldHandle f) {
        FieldPath p = path(f);
        return codec.getBoolean(bytes, p);
    }

    @Override
    public String getString(FieldHandle f) {
        FieldPath p = path(f);
        return codec.getString(bytes, p);
    }

    @Override
    public boolean stringEquals(FieldHandle f, String s) {
        FieldPath p = path(f);
        return codec.stringEquals(bytes, p, s);
    }
}
