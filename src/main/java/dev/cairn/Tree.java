package dev.cairn;

import dev.cairn.index.Indexer;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * The records of one type, stored in one tree of a {@link Cairn} database, under keys
 * {@code (id, revision)}. Thread-safe: readers never wait for writers; writes are serialised
 * and each is durable when the method returns (or, inside {@link Cairn#write(Runnable)}, when
 * the batch returns).
 *
 * <p>Every method taking a key throws {@link WrongTreeException} naming both trees if the key
 * belongs to another tree, and {@link IllegalStateException} once the database is closed.
 * Changing an existing record's data ({@code update}, {@code remove}) needs the record checked
 * out by this node ({@link NotCheckedOutException} otherwise); the state changes
 * ({@code release}, {@code setStateNumber}, {@code newRevision}) do not.
 */
public interface Tree<V extends Record> {
    String name();

    /** Whether the tree keeps revisions ({@code @TreeSpec(versioned = true)}). */
    boolean versioned();

    /**
     * Stores a new record under the next id of the local pool, revision 0; {@code Draft(0)} if versioned.
     *
     * @throws IllegalArgumentException if the stored record would be larger than 16 MiB − 64 KiB
     *     (what one sync frame carries; spec/database-layout.md §3); nothing is stored
     * <p>On a linked, connected node whose pool is short it waits for ids from the server, up
     * to 10 s in all, also when other threads' inserts take the ids that arrive first.
     *
     * @throws IllegalStateException naming the tree when no id is left and none can come (a
     *     linked node offline, or whose connection does not replicate this tree), or when a
     *     connected node got too few from the server in those 10 s (saying so); nothing is stored
     */
    Key<V> insert(V value);

    /** Inserts every value in one durable transaction; the keys in the order of {@code values}. */
    List<Key<V>> insertAll(List<? extends V> values);

    /** @throws RecordNotFoundException naming the key if absent */
    V get(Key<V> key);

    Optional<V> find(Key<V> key);

    boolean contains(Key<V> key);

    /**
     * Replaces the record's data. Components unknown to {@code V} (written by newer code) are
     * carried over unchanged. Increments both iterations.
     *
     * @throws RecordNotFoundException if absent
     * @throws NotCheckedOutException if this node does not hold the check-out
     * @throws ReleasedRecordException if the record is released
     * @throws IllegalArgumentException if the stored record would be larger than 16 MiB − 64 KiB
     */
    void update(Key<V> key, V value);

    /** Removes the record and its check-out; same errors as {@link #update}. */
    void remove(Key<V> key);

    /** @throws RecordNotFoundException if absent */
    RecordMeta meta(Key<V> key);

    /**
     * Every stored key, every revision, in key order (id, then revision), as a list in the heap
     * (about 24 bytes a key): to walk a tree of millions of records in a small heap, use
     * {@link #forEach} or {@link #scan}, which hold one record at a time.
     */
    List<Key<V>> keys();

    long size();

    /** The key {@code (id, revision)} of this tree, without looking anything up. */
    Key<V> key(int id, int revision);

    /** @throws IllegalArgumentException naming the tree and the path if no such component */
    FieldHandle field(String componentName);

    /**
     * Runs {@code reader} over the stored bytes of the record; @throws RecordNotFoundException if
     * absent. Inside {@link Cairn#write} the reader may not change this tree (see {@link #forEach}).
     */
    <R> R read(Key<V> key, Function<RecordView, R> reader);

    /**
     * Visits every record in key order on one snapshot, zero-copy; the view is valid in the call
     * only. Inside {@link Cairn#write} as {@link #forEach}.
     */
    void scan(BiConsumer<Key<V>, RecordView> visitor);

    /**
     * Visits every record in key order on one snapshot, decoded. Inside {@link Cairn#write} the
     * snapshot is the batch's own state, and the visitor may not change this tree: an insert,
     * update, remove or state change of its records throws
     * {@link java.util.ConcurrentModificationException} before it changes anything (collect the
     * keys, then change them); other trees it may change. Outside a batch each change is its own
     * transaction and the visit goes on over the snapshot it started with.
     */
    void forEach(BiConsumer<Key<V>, V> visitor);

    /** {@code Draft(n) -> Released(n)}. @throws IllegalStateException if not versioned or already released */
    void release(Key<V> key);

    /**
     * Creates the next revision of the id as {@code Draft(0)} with a copy of the data: {@code
     * (id, released.revision + 1)}, or, when revisions of the id above that were removed (here,
     * or on the server and this node was told), the revision after the highest removed one. A
     * removed revision stays removed (the server refuses it for ever), so its number is never
     * handed out again (database-layout.md §5).
     *
     * @throws IllegalStateException if not versioned, not released, a newer revision exists, or
     *     no revision number is left
     */
    Key<V> newRevision(Key<V> released);

    /** Sets {@code n} of {@code Draft(n)} or {@code Released(n)}. @throws IllegalStateException if not versioned */
    void setStateNumber(Key<V> key, int n);

    /**
     * Completes when this node holds the record; at once while standalone. Fails with
     * {@code IllegalStateException} when the node's connection does not replicate this tree
     * (selective sync: the server would never grant it). Wait for it outside a write batch
     * ({@code Cairn.write}): the grant is stored through the writer the batch holds, so
     * {@code get}/{@code join} inside one, of the future or of a stage of it, throws
     * {@code IllegalStateException} at once while the grant has not come, and withdraws the
     * request (the future fails with that exception; ask again once the batch is over). Each
     * call returns a future of its own; the calls of this node waiting for one record share the
     * node's request, and the grant completes every one still waiting. A check-out belongs to
     * the node (the database), not to a thread: a {@link #checkIn} of the record on this node
     * while the request waits (say, by another thread) withdraws it, and every waiting future is
     * cancelled ({@code CancellationException} saying this node checked the record in). Ending a
     * future while it waits takes its caller out of the request, which is withdrawn when no other
     * caller of this node still waits for the record, giving the record back if the grant crossed the end:
     * {@code cancel} (as a cancel button or {@code cancel(true)} of the waiting task does),
     * {@code orTimeout} when its time is up, {@code completeExceptionally} or
     * {@code obtrudeException}, and a completion with a value ({@code complete},
     * {@code completeOnTimeout}, {@code obtrudeValue}: the application goes on without the
     * record); so a check-out the application stopped waiting for is never held later. It fails
     * with {@code RecordNotFoundException} when the record is removed meanwhile, and with
     * {@code IllegalStateException} saying so when the database is closed before the grant
     * (a thread joined on it returns). The request belongs to this process: a close while
     * connected leaves the server's queue at once; after a close offline, or a crash, the next
     * run of the node leaves it, and gives back a record handed to it meanwhile (ask again to
     * wait again; sync-protocol.md §5.4). Stages added to the future before the grant
     * ({@code thenRun}, {@code whenComplete}, ...) run on a virtual thread of their own, after the
     * grant is stored, never on the sync link's thread, so they may write and block (added once
     * it is complete, they run at once on the caller's thread, in its write batch if it is in one):
     * {@snippet :
     * parts.checkOut(k).thenRun(() -> { parts.update(k, changed); parts.checkIn(k); });
     * }
     *
     * @throws RecordNotFoundException naming the key if absent
     */
    CompletableFuture<Void> checkOut(Key<V> key);

    /**
     * Gives the record back; a no-op if this node does not hold it. The check-out is the node's,
     * not the calling thread's: this ends it for every thread, and ends every {@link #checkOut}
     * still waiting for the record on this node (see there). Linked, the server hears of
     * it once the record's pending change is acknowledged: in a tree the node's connection does
     * not replicate (selective sync), on the next connection that replicates the tree.
     */
    void checkIn(Key<V> key);

    BorrowState borrowState(Key<V> key);

    /**
     * Registers an index: rebuilds it over the whole tree now (atomically for its readers), then
     * keeps it up to date with every change, and returns it. Registering the same indexer
     * again rebuilds it (it is offered each change once); an indexer registered on another tree
     * or database is refused.
     *
     * @throws CairnException (e.g. {@code DuplicateNameException}) if the stored records break
     *         the index's rule; the index is then not registered
     */
    <I extends Indexer<V>> I register(I indexer);
}
