package dev.cairn.db;

import dev.cairn.FieldHandle;
import dev.cairn.schema.FieldPath;
import dev.cairn.schema.RecordCodec;

/**
 * A component path of one tree, resolved by that tree's codec. Immutable as its users see it:
 * only the resolved form it caches changes. The tree makes a new codec when
 * it learns a schema version (another node's class, by sync), and a path of an older codec
 * knows only the versions there were: the handle resolves its path again, once, for the codec
 * of the read that uses it.
 */
final class FieldHandleImpl implements FieldHandle {
    private final String tree;
    private final String path;
    private final Object owner;
    private volatile FieldPath field;

    FieldHandleImpl(String tree, String path, FieldPath field, Object owner) {
        this.tree = tree;
        this.path = path;
        this.field = field;
        this.owner = owner;
    }

    @Override
    public String tree() {
        return tree;
    }

    @Override
    public String path() {
        return path;
    }

    /** The tree (its {@code TreeImpl}) that resolved this handle. */
    Object owner() {
        return owner;
    }

    /** The path as {@code codec}, the codec of the read at hand, resolves it. */
    FieldPath field(RecordCodec<?> codec) {
        FieldPath f = field;
        if (!f.resolvedBy(codec)) {
            f = codec.field(path);
            field = f;
        }
        return f;
    }

    @Override
    public String toString() {
        return tree + "." + path;
    }
}
