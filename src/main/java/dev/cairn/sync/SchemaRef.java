package dev.cairn.sync;

/**
 * A schema as a connection knows it: by tree and fingerprint (sync-protocol.md §3). A SchemaDef
 * defines one for its tree only, so a record of another tree naming the same fingerprint needs
 * its own SchemaDef (the receiver creates the tree from it).
 */
record SchemaRef(String tree, long fingerprint) {
    static SchemaRef of(Message.SchemaDef d) {
        return new SchemaRef(d.tree(), d.fingerprint());
    }

    static SchemaRef of(Message.Pushed p) {
        return new SchemaRef(p.key().tree(), p.fingerprint());
    }
}
