package dev.cairn.sync;

import dev.cairn.Key;
import dev.cairn.WrongServerException;
import dev.cairn.internal.Limits;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The client side of one connection, without I/O (spec/sync-protocol.md §4.1): handshake,
 * outbox sending with a bounded window, applying pushes, key ranges and check-out requests.
 * The network layer feeds it messages and writes what it emits; a new session is made for
 * every connection.
 *
 * <ul>
 *   <li>At most {@link #window()} changes are unacknowledged, one per record, and a change goes
 *       only while the values of those total less than {@link #WINDOW_BYTES}: so the first always
 *       goes, and the values unacknowledged stay under {@code WINDOW_BYTES + RECORD_BYTES_MAX}
 *       (the link's memory for sending, sync-protocol.md §4.1 step 3).
 *   <li>The last-synced sequence advances on {@code CaughtUp}, on the server's catch-up marks
 *       ({@code CaughtUpTo}, version 6) and, once live, on pushes and acks. Pushes during
 *       catch-up do not move it: the server sends some out of the log's order (a record handed
 *       over with a check-out, the stored record after an Ack, a removed record's tombstone),
 *       and moving to one would skip the records below it. A catch-up cut short resumes after
 *       its last mark (from the old point on a connection below version 6) and loses nothing.
 *   <li>Version 7: the outbox goes in groups (where {@link Replica.Pending#groupEnds} cuts it),
 *       each whole within the window after a Group frame, and the Pushed frames of a Group from
 *       the server are applied in one local transaction ({@link #onMessages}), so a write batch
 *       of one node is atomic on the others (sync-protocol.md §4.1 step 3, §5.3).
 *   <li>A catch-up is kept until its {@code CaughtUp} and applied in one local transaction (up to
 *       {@link #CATCH_UP_KEPT_BYTES} and {@link Limits#CATCH_UP_HELD_MILLIS}, beyond which in
 *       parts), so a node that was offline goes from its old state to the server's in one step (§4.1 step 4).
 *   <li>A {@link Message.Error}, a wrong server or a schema the app cannot read ends the
 *       session with {@link Failure}; nothing further is applied.
 * </ul>
 */
public final class ClientSession {
    /**
     * Bytes of values of unacknowledged changes below which another change may go (whatever its
     * size): bounds what a node holds for sending by bytes, not only by count (4,096 records of
     * 16 MiB would be 64 GiB).
     */
    public static final long WINDOW_BYTES = Limits.WINDOW_BYTES;

    public enum State { HELLO_SENT, CATCHING_UP, LIVE, ENDED }

    private final Replica replica;
    private final Set<String> trees;
    private final Consumer<Message> out;
    /** The protocol version the Hello offers. */
    private final int helloVersion;
    /** The connection's protocol version: the Welcome's (0 before it). */
    private int version;
    private State state = State.HELLO_SENT;
    /** The changes sent and not yet acknowledged or refused, one per record. */
    private final Map<Key<?>, Sent> inFlight = new HashMap<>();
    /** The sum of {@link Sent#valueBytes} over {@link #inFlight}. */
    private long inFlightBytes;
    private final Set<SchemaRef> schemasSent = new HashSet<>();
    private final Map<SchemaRef, Message.SchemaDef> schemas = new HashMap<>();
    private final Set<String> keysAsked = new HashSet<>();
    private final Set<Key<?>> checkOuts = new LinkedHashSet<>();
    /** Check-outs this node holds that the snapshot did not list, asked for again (§4.1 step 5). */
    private final Set<Key<?>> reRequests = new LinkedHashSet<>();
    private final Set<Key<?>> checkIns = new LinkedHashSet<>();
    /**
     * Records whose CheckIn went out and whose answer (a Borrow naming another holder or none)
     * has not come: a Borrow naming this node meanwhile predates the check-in.
     */
    private final Set<Key<?>> checkInsSent = new HashSet<>();
    /**
     * Records of {@link #checkOuts} and {@link #checkIns} to look at again at the next pump:
     * whether a record still has a change pending or in flight takes a store lookup, made only
     * for a record something happened to (asked for, its change answered or gone), not for every
     * waiting record at every message (probe 86: 2,000 check-outs asked for offline made each
     * message cost 2,000 lookups under the link's write, and the node's writes waited seconds).
     */
    private final Set<Key<?>> lookAgain = new LinkedHashSet<>();
    /** Look at every waiting record at the next pump: at first, and whenever nothing is in flight any more. */
    private boolean lookAtAll = true;
    private Set<Key<?>> toConfirm;
    /** The last frame was a Pushed during the snapshot: the latest state of a record the next snapshot Borrow may grant. */
    private boolean latestBeforeBorrow;
    /** Records this node knew held by others: those the snapshot does not list are free now. */
    private Set<Key<?>> toFree;
    private boolean outboxDirty = true;
    /** The changes in flight when the last outbox listing stopped at a waiting change; -1: it did not ({@link #roomGrew}). */
    private int stoppedAt = -1;
    /** The bytes in flight then. */
    private long stoppedAtBytes;
    /**
     * When the last listing stopped at a whole group waiting for window room: the number of
     * changes in flight at which it fits; -1 when it stopped for another reason ({@link #roomGrew}).
     */
    private int fitsAt = -1;
    /**
     * The highest outbox sequence this connection sent; -1: none. Changes go in sequence order,
     * so while some are in flight every entry up to it is in flight or answered, and a listing
     * starts after it.
     */
    private long sentThrough = -1;
    /** The Hello's lastSeq: the replica's, or 0 for a full catch-up (§5.6). */
    private long catchUpFrom;
    /** The seq and serverSeq of the last CaughtUpTo (at first the Hello's lastSeq and the Welcome's serverSeq): marks never go back. */
    private long markSeq;
    private long markServerSeq;
    private int marksStored;
    private long changesSent;
    private long pushesReceived;
    /** Groups of the outbox larger than the window, sent in parts (each part a group of its own). */
    private long groupsCut;
    /** True while the rest of a cut group is still to go: its later parts do not count again. */
    private boolean cutGroupGoing;
    /** Pushed frames still to come of the Group being applied (0: none open). */
    private int groupLeft;
    /** The count of the Group being applied. */
    private int groupCount;
    /** A Group from the server whose Pushed had not all come by the end of a read pass, with what followed it. */
    private List<Message> heldBack = List.of();
    /** Of heldBack, kept during a catch-up: how many messages, and their bytes as {@link #catchUpReleased} counts them. */
    private int catchUpKept;
    private long catchUpKeptBytes;
    /** When the first of them was kept (System.nanoTime). */
    private long catchUpKeptSince;
    /** False: the catch-up is applied read by read, as it comes ({@link #applyCatchUpAsItComes}, a small heap). */
    private boolean keepCatchUp = CATCH_UP_KEPT_BYTES > 0;
    /** This session reached CATCHING_UP (it may have ended since). */
    private boolean wasCatchingUp;
    /** What a kept message counts for beyond its value: its key, header and object (a bound, not a measure). */
    private static final int MESSAGE_OVERHEAD_BYTES = 64;
    /**
     * The bytes of a catch-up this node keeps unapplied: {@link Limits#CATCH_UP_HELD_BYTES}, or a
     * 64th of the heap when that is less, and none with a heap under 64 MiB (the catch-up is then
     * applied as it comes). What is kept, and the transaction that applies it, come on top of what
     * the link held before: a small heap ran out of memory at every connection and never caught
     * up (probe 92: 20 MiB keeping 8 MiB; probe 93: 8 MiB keeping a 64th).
     */
    public static final long CATCH_UP_KEPT_BYTES = Runtime.getRuntime().maxMemory() < (64L << 20) ? 0
        : Math.min(Limits.CATCH_UP_HELD_BYTES, Runtime.getRuntime().maxMemory() / 64);

    /** A change in flight: its outbox entry and the bytes of its value. */
    private record Sent(long outboxSeq, long valueBytes) { }

    /** Why a session ended for good (the client must not simply reconnect). */
    public static final class Failure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final transient RuntimeException cause;
        private final boolean permanent;
        private final boolean versionRefused;
        private final transient Message.Error told;
        private final boolean retryLater;
        private final int serverCode;

        Failure(String message, RuntimeException cause, boolean permanent) {
            this(message, cause, permanent, false, null, false);
        }

        Failure(String message, RuntimeException cause, boolean permanent, boolean versionRefused, Message.Error told) {
            this(message, cause, permanent, versionRefused, told, false);
        }

        Failure(String message, RuntimeException cause, boolean permanent, boolean versionRefused, Message.Error told,
                boolean retryLater) {
            this(message, cause, permanent, versionRefused, told, retryLater, -1);
        }

        private Failure(String message, RuntimeException cause, boolean permanent, boolean versionRefused, Message.Error told,
                        boolean retryLater, int serverCode) {
            super(message, cause);
            this.cause = cause;
            this.permanent = permanent;
            this.versionRefused = versionRefused;
            this.told = told;
            this.retryLater = retryLater;
            this.serverCode = serverCode;
        }

        /** The code of the server's Error that ended the session, or -1 when it ended otherwise. */
        public int serverCode() {
            return serverCode;
        }

        /** A permanent failure that is about the server at this address, not this node: see {@link #retryLater()}. */
        static Failure ofServer(String message, RuntimeException cause, Message.Error told) {
            return new Failure(message, cause, true, false, told, true);
        }

        /**
         * True when the server at this address is not one this node can sync with (another
         * server, one restored from a backup, another application's, one of a protocol version
         * it does not speak, one holding a tree differently): the node's own state is fine, and
         * the right server may answer there later, so a node that has linked keeps trying.
         */
        public boolean retryLater() {
            return retryLater;
        }

        /** The exception to hand the application (e.g. {@link WrongServerException}). */
        public RuntimeException reason() {
            return cause;
        }

        /** True when reconnecting cannot help (wrong server or app id, unreadable schema). */
        public boolean permanent() {
            return permanent;
        }

        /**
         * True when the server refused the Hello's protocol version, and an older version may
         * be offered: a server older than this build refuses its newest Hello (sync-protocol.md §4.3).
         */
        public boolean versionRefused() {
            return versionRefused;
        }

        /**
         * The Error to send the server before closing, or null. It travels here, not through the
         * session's output: frames queued in the batch that failed may depend on its commit
         * (a LinkStored), so only this one may go out.
         */
        public Message.Error told() {
            return told;
        }
    }

    /** {@code trees}: the trees to replicate, empty = all. The Hello offers {@link FrameCodec#PROTOCOL_VERSION}. */
    public ClientSession(Replica replica, Set<String> trees, Consumer<Message> out) {
        this(replica, trees, out, FrameCodec.PROTOCOL_VERSION);
    }

    /**
     * As above, with the Hello offering {@code helloVersion} ({@link FrameCodec#PROTOCOL_VERSION_MIN}
     * to {@link FrameCodec#PROTOCOL_VERSION}): the older one after a server refused the newer.
     */
    public ClientSession(Replica replica, Set<String> trees, Consumer<Message> out, int helloVersion) {
        if (helloVersion < FrameCodec.PROTOCOL_VERSION_MIN || helloVersion > FrameCodec.PROTOCOL_VERSION) {
            throw new IllegalArgumentException("protocol version " + helloVersion + " (expected: "
                + FrameCodec.PROTOCOL_VERSION_MIN + " to " + FrameCodec.PROTOCOL_VERSION + ")");
        }
        this.replica = replica;
        this.trees = Set.copyOf(trees);
        this.out = out;
        this.helloVersion = helloVersion;
    }

    /**
     * This session applies its catch-up as it comes, each read in its own transaction, not kept
     * until CaughtUp: for a link whose last connection ended inside its catch-up, which must
     * store progress however short it lives, and for a small heap.
     */
    public void applyCatchUpAsItComes() {
        keepCatchUp = false;
    }

    /** True once this session was welcomed and began its catch-up (whatever its state now). */
    public boolean wasCatchingUp() {
        return wasCatchingUp;
    }

    public State state() {
        return state;
    }

    /**
     * The connection's protocol version once welcomed (the lower of the Hello's and the
     * Welcome's), 0 before. From 3 on the link pings and watches for silence (sync-protocol.md §4.3).
     */
    public int protocolVersion() {
        return version;
    }

    /**
     * Changes this connection has in flight at most, and its largest Group either way: 4,096 from
     * protocol version 8, 256 before ({@link FrameCodec#groupChangesMax}, sync-protocol.md §4.1 step 3).
     */
    public int window() {
        return FrameCodec.groupChangesMax(version);
    }

    public long changesSent() {
        return changesSent;
    }

    public long pushesReceived() {
        return pushesReceived;
    }

    /** Sends the Hello. */
    public void start() {
        catchUpFrom = replica.catchUpFrom(trees);
        List<Message.Claim> claims = replica.serverId() == null ? replica.claims() : List.of();
        java.util.UUID server = replica.serverId();
        // Version 5 and later: the run and sequence of the node's last sync (above lastSeq after a
        // catch-up cut short: the state of the server its records come from), and the ids it holds from the
        // server, so that a server restored from a backup older than them refuses it (§4.4).
        List<Message.TreeIds> ids = server == null ? List.of() : replica.treeIds(trees);
        Message.Hello hello = new Message.Hello(helloVersion, replica.appId(), replica.nodeId(), replica.nodeName(),
            catchUpFrom, List.copyOf(trees), claims, new byte[0], replica.linkToken(),
            server == null ? Message.NONE : server, replica.syncEpoch(), replica.epochSeq(), ids);
        int bytes = FrameCodec.encode(hello).length - FrameCodec.LENGTH_BYTES;
        if (bytes > Limits.HELLO_FRAME_BYTES_MAX) {
            // A server reads no larger frame before the Hello: it would answer PROTOCOL, and the
            // link retried the same Hello for ever (probe 103: 4,200 trees of 250-byte names).
            state = State.ENDED;
            String text = "this node's Hello would be " + bytes + " bytes, over the " + Limits.HELLO_FRAME_BYTES_MAX
                + " a server takes (HELLO_FRAME_BYTES_MAX): it names " + hello.trees().size() + " trees to replicate, "
                + claims.size() + " id claims and the ids of " + ids.size() + " trees, each by its name; replicate fewer"
                + " trees (connect with the set of trees this node needs) or give them shorter names. Nothing was sent";
            throw new Failure(text, new SyncException(text), true);
        }
        out.accept(hello);
    }

    /** Local data changed: send the outbox again at the next {@link #pump()}. */
    public void outboxChanged() {
        outboxDirty = true;
    }

    /**
     * Queues a check-out request (sent at once when linked, else after the handshake). It cancels
     * a check-in still waiting for its record's change to be acknowledged, which would otherwise
     * free the record after this request and while the node believes it holds it.
     */
    public void checkOut(Key<?> key) {
        checkIns.remove(key);
        checkOuts.add(key);
        lookAgain.add(key);
    }

    /**
     * Sends a check-in (or leaves the queue) once the record's pending change is acknowledged,
     * so the next holder never sees the record before that change. In a tree this connection
     * does not replicate, a check-in waiting for a change is left to a later connection (§5.6).
     */
    public void checkIn(Key<?> key) {
        checkOuts.remove(key);
        reRequests.remove(key);
        checkIns.add(key);
        lookAgain.add(key);
    }

    /** True when no check-in waits to be sent, or for the server's answer to its CheckIn. */
    public boolean checkInsAnswered() {
        return checkIns.isEmpty() && checkInsSent.isEmpty();
    }

    /**
     * Handles the messages of one read pass, in order; the caller runs this in one local
     * transaction. A Group (version 7) whose Pushed frames have not all arrived is not applied
     * yet: it and the messages after it are kept and handled first with the next pass, so that
     * the records of one group are applied in one transaction (sync-protocol.md §5.3). What is
     * kept is bounded: a group that holds more than {@link Limits#GROUP_BYTES_MAX} bytes of values
     * and schemas, or more SchemaDef frames than records, before its last Pushed is a protocol
     * error of the server.
     *
     * <p>During a catch-up every message is kept the same way until {@code CaughtUp}, so that the
     * node goes from its old state to the server's in one transaction and a reader never sees
     * part of a batch another node wrote (sync-protocol.md §4.1 step 4): up to {@link
     * #CATCH_UP_KEPT_BYTES} and for at most {@link Limits#CATCH_UP_HELD_MILLIS}, past which
     * what is kept is applied (a larger or slower catch-up goes in parts, each keeping its progress,
     * so that a link that drops every few seconds still gets there), and up to an Error or a
     * frame out of place, which is handled with everything before it.
     * What is kept when the connection ends is dropped, as if it had not arrived: the next
     * catch-up sends it again (from the last mark applied), and a lost Ack makes the node resend
     * its change, which the server acknowledges again (§5.1).
     *
     * @throws Failure when the session ends (error frame, wrong server, unreadable schema)
     */
    public void onMessages(List<Message> pass) {
        List<Message> all = pass;
        if (!heldBack.isEmpty()) {
            all = new java.util.ArrayList<>(heldBack);
            all.addAll(pass);
            heldBack = List.of();
        }
        int released = 0; // messages before this index are applied without looking for CaughtUp again
        for (int i = 0; i < all.size() && state != State.ENDED; i++) {
            Message m = all.get(i);
            // A Group over the connection's bound is refused at once (onGroup), not held.
            if (m instanceof Message.Group g && groupOpens() && g.count() <= window() && !wholeFrom(all, i, g.count())) {
                heldBack = List.copyOf(all.subList(i, all.size()));
                return;
            }
            if (state == State.CATCHING_UP && keepCatchUp && i >= released) {
                released = catchUpReleased(all, i);
                if (released < 0) {
                    heldBack = List.copyOf(all.subList(i, all.size()));
                    return;
                }
            }
            onMessage(m);
        }
    }

    /**
     * During a catch-up, how far the messages of {@code all} from {@code from} on are applied now:
     * through the CaughtUp (or an Error, or a frame out of place) among them, or all of them once
     * they (with what earlier passes kept) hold more than {@link #CATCH_UP_KEPT_BYTES} (through the
     * one that passed it: the rest is counted again from there), or
     * the first of them came more than {@link Limits#CATCH_UP_HELD_MILLIS} ago; -1 to keep them
     * all for the next pass. The messages earlier passes kept start {@code all} and are not
     * counted again.
     */
    private int catchUpReleased(List<Message> all, int from) {
        boolean kept = from == 0 && catchUpKept > 0;
        boolean late = kept && catchUpKeptTooLong();
        int start = kept ? catchUpKept : from;
        long bytes = kept ? catchUpKeptBytes : 0;
        catchUpKept = 0;
        catchUpKeptBytes = 0;
        if (late) return all.size();
        for (int j = start; j < all.size(); j++) {
            switch (all.get(j)) {
                case Message.Pushed p -> bytes += MESSAGE_OVERHEAD_BYTES + p.value().length;
                case Message.SchemaDef d -> bytes += MESSAGE_OVERHEAD_BYTES + d.schema().length;
                case Message.Refused r -> bytes += MESSAGE_OVERHEAD_BYTES + r.current().value().length;
                case Message.CaughtUpTo _, Message.Ack _, Message.Keys _, Message.Borrow _ -> bytes += MESSAGE_OVERHEAD_BYTES;
                default -> {
                    // CaughtUp ends the catch-up; an Error, or a frame that may not come now (a
                    // protocol error of the server), ends the session: now, with what came before.
                    return j + 1;
                }
            }
            if (bytes > CATCH_UP_KEPT_BYTES) return j + 1;
        }
        if (!kept) catchUpKeptSince = System.nanoTime();
        catchUpKept = all.size() - from;
        catchUpKeptBytes = bytes;
        return -1;
    }

    /**
     * True when frames of a catch-up have been kept longer than {@link Limits#CATCH_UP_HELD_MILLIS}:
     * {@link #onMessages} of an empty pass applies them (a link that stalls keeps what it brought).
     */
    public boolean catchUpKeptTooLong() {
        return catchUpKept > 0 && System.nanoTime() - catchUpKeptSince > Limits.CATCH_UP_HELD_MILLIS * 1_000_000;
    }

    /** True when a Group now would be taken (LIVE, version 7, none open): else onMessage refuses it. */
    private boolean groupOpens() {
        return state == State.LIVE && version >= 7 && groupLeft == 0;
    }

    /**
     * True when the Group at {@code at} has its {@code count} Pushed in {@code all}, or is broken
     * by a frame that may not come inside it (onMessage then ends the session naming it).
     */
    private boolean wholeFrom(List<Message> all, int at, int count) {
        int pushed = 0;
        int schemas = 0;
        long bytes = 0;
        for (int i = at + 1; i < all.size(); i++) {
            switch (all.get(i)) {
                case Message.Pushed p -> {
                    bytes += p.value().length;
                    if (++pushed == count) return true;
                }
                case Message.SchemaDef d -> {
                    bytes += d.schema().length;
                    schemas++;
                }
                case Message.Pong x -> { }
                default -> {
                    return true;
                }
            }
        }
        if (bytes > Limits.GROUP_BYTES_MAX || schemas > count) {
            protocol("a Group(" + count + ") holds " + bytes + " bytes of values and schemas in " + pushed + " Pushed and "
                + schemas + " SchemaDef frames before its last Pushed (expected: <= GROUP_BYTES_MAX " + Limits.GROUP_BYTES_MAX
                + " bytes, at most one SchemaDef per record)");
        }
        return false;
    }

    /**
     * Handles one message from the server (a Group's Pushed frames are applied in one local
     * transaction only through {@link #onMessages}).
     *
     * @throws Failure when the session ends (error frame, wrong server, unreadable schema)
     */
    public void onMessage(Message m) {
        if (state == State.ENDED) return;
        if (m instanceof Message.Pong) return; // for the link: it proves the server alive, and changes nothing here
        if (groupLeft > 0 && !(m instanceof Message.Pushed) && !(m instanceof Message.SchemaDef)) {
            protocol(frame(m) + " inside a Group(" + groupCount + ") after " + (groupCount - groupLeft)
                + " of its Pushed (expected: Pushed or SchemaDef)");
        }
        if (toConfirm != null) {
            // The snapshot ends at the first frame that is neither one of its Borrows nor the
            // latest state of a record that its next Borrow grants (§4.1 step 5), with the
            // SchemaDef before it: ended at such a frame, the node asked again for the records
            // the snapshot had yet to name, a record whose check-out was broken among them, and
            // took it back (probe 111).
            boolean maybeLatest = !latestBeforeBorrow && (m instanceof Message.SchemaDef || m instanceof Message.Pushed);
            if (m instanceof Message.Borrow b && b.snapshot()) latestBeforeBorrow = false;
            else if (maybeLatest) latestBeforeBorrow = m instanceof Message.Pushed;
            else confirmHeld();
        }
        try {
            handle(m);
        } catch (Failure | java.io.UncheckedIOException | dev.cairn.CorruptionException | dev.cairn.WritesStoppedException e) {
            throw e; // the session's own ending, or a failure of the local database
        } catch (dev.cairn.SchemaMismatchException e) {
            // A record this node's classes cannot read (in a Refused's state, say): as in apply.
            state = State.ENDED;
            throw new Failure("the server's " + frame(m) + ": " + e.getMessage(), e, true);
        } catch (RuntimeException e) {
            // A frame that decodes but that the replica refuses to apply (a Keys range of ids
            // this node holds, a value out of bounds): a protocol error of the server, not the
            // end of the link (sync-protocol.md §4.1): told, and retried after the backoff.
            protocol("the server's " + frame(m) + " cannot be applied: " + e.getMessage());
        }
        pump();
    }

    /**
     * A frame from the server did not decode (the frames before it in the same read were
     * applied). Before the Welcome it is thrown as it is: the peer is no Cairn server (§4.1);
     * after it, a protocol error of the server naming what was wrong with the frame.
     */
    public void badFrame(ProtocolException e) {
        if (state == State.HELLO_SENT) throw e;
        if (state == State.ENDED) return;
        protocol("a frame from the server does not decode: " + e.getMessage());
    }

    /** A message as a log or error text names it (no payload bytes). */
    private static String frame(Message m) {
        return switch (m) {
            case Message.Keys k -> "Keys(" + k.tree() + ", [" + k.from() + ", " + k.toExclusive() + "))";
            case Message.Pushed p -> "Pushed " + p.key();
            case Message.Borrow b -> "Borrow of " + b.key();
            case Message.Ack a -> "Ack of " + a.key();
            case Message.Refused r -> "Refused of " + r.current().key();
            case Message.Group g -> "Group(" + g.count() + ")";
            default -> m.getClass().getSimpleName();
        };
    }

    /**
     * The answer of a server of protocol version 4 or older to a Hello longer than its own (a
     * version 5 or later Hello; a version 4 one at a version 3 server): its decoder refuses the
     * extra fields as PROTOCOL before it reads the version (sync-protocol.md §4.3), so that is a
     * refusal of this version too.
     */
    private static boolean olderHelloDecoder(Message.Error e) {
        return e.code() == ErrorCode.PROTOCOL && e.text().startsWith("message tag 1 has ") && e.text().endsWith(" trailing bytes");
    }

    private void handle(Message m) {
        switch (m) {
            case Message.Welcome w -> onWelcome(w);
            case Message.Error e when (e.code() == ErrorCode.VERSION || olderHelloDecoder(e)) && state == State.HELLO_SENT
                && helloVersion > FrameCodec.PROTOCOL_VERSION_MIN -> {
                // A server older than this version: the link offers it the older one next.
                state = State.ENDED;
                String text = ErrorCode.name(e.code()) + ": " + e.text();
                throw new Failure(text, new SyncException(text), false, true, null);
            }
            case Message.Error e when e.code() == ErrorCode.WRONG_SERVER -> {
                // The server compared the Hello's serverId with its own (version 4 on): as a
                // Welcome from another server, nothing changed (a linked node retries later).
                state = State.ENDED;
                throw Failure.ofServer(e.text(), new WrongServerException(e.text()), null);
            }
            case Message.Error e -> end(e.code(), ErrorCode.name(e.code()) + ": " + e.text());
            case Message.SchemaDef d -> schemas.put(SchemaRef.of(d), d);
            case Message.Pushed p -> {
                pushesReceived++;
                if (groupLeft > 0) groupLeft--;
                apply(p);
            }
            case Message.Group g -> onGroup(g);
            case Message.CaughtUp c -> {
                replica.caughtUp(c.serverSeq(), trees);
                state = State.LIVE;
            }
            case Message.CaughtUpTo c -> onCaughtUpTo(c);
            case Message.Ack a -> {
                settled(a.key(), a.outboxSeq());
                replica.acknowledged(a, state == State.LIVE);
            }
            case Message.Refused r -> {
                settled(r.current().key(), r.outboxSeq());
                replica.refused(r, r.current().removed() ? null : schemas.get(SchemaRef.of(r.current())));
            }
            case Message.Keys k -> {
                keysAsked.remove(k.tree());
                replica.keysReceived(k);
            }
            case Message.Borrow b -> onBorrow(b);
            case Message.Hello h -> protocol("Hello from the server");
            case Message.Change c -> protocol("Change from the server");
            case Message.NeedKeys n -> protocol("NeedKeys from the server");
            case Message.CheckOut c -> protocol("CheckOut from the server");
            case Message.CheckIn c -> protocol("CheckIn from the server");
            case Message.LinkStored c -> protocol("LinkStored from the server");
            case Message.Ping c -> protocol("Ping from the server");
            case Message.Pong c -> { }
        }
    }

    private void protocol(String what) {
        String text = "protocol: " + what;
        state = State.ENDED;
        throw new Failure(text, new SyncException(text), false, false, new Message.Error(ErrorCode.PROTOCOL, what));
    }

    private void end(int code, String text) {
        state = State.ENDED;
        if (code == ErrorCode.APP_ID || code == ErrorCode.VERSION || code == ErrorCode.TREE_MISMATCH
                || code == ErrorCode.SERVER_BEHIND) {
            throw Failure.ofServer(text, new SyncException(text), null);
        }
        throw new Failure(text, new SyncException(text), code == ErrorCode.ID_CONFLICT || code == ErrorCode.NODE_COPY
            || code == ErrorCode.REPLACED, false, null, false, code);
    }

    private void onWelcome(Message.Welcome w) {
        if (state != State.HELLO_SENT) {
            protocol("second Welcome");
            return;
        }
        if (w.protocolVersion() < FrameCodec.PROTOCOL_VERSION_MIN) {
            // Nothing below the oldest version this node speaks can be run: not taken as it is,
            // and not retried (the server has to be upgraded).
            String text = "the server answered with protocol version " + w.protocolVersion() + "; this node speaks "
                + FrameCodec.PROTOCOL_VERSION_MIN + " to " + helloVersion + "; nothing was changed";
            state = State.ENDED;
            throw Failure.ofServer(text, new SyncException(text), new Message.Error(ErrorCode.VERSION, text));
        }
        java.util.UUID known = replica.serverId();
        if (known != null && !known.equals(w.serverId())) {
            state = State.ENDED;
            String text = "server " + w.serverId() + " is not the server this database is linked to (" + known
                + "); nothing was changed";
            throw Failure.ofServer(text, new WrongServerException(text), null);
        }
        long seen = replica.epochSeq();
        if (catchUpFrom < seen && w.serverSeq() < seen) {
            // The Hello asked for a full catch-up (a tree added to the set), or resumes a catch-up
            // cut short (its syncSeq below the server's sequence it came from, §4.1 step 4), so a
            // server below version 5, which reads no epochSeq, could not compare what the node
            // saw with its own sequence (§4.2 step 1): the node does.
            state = State.ENDED;
            String text = ErrorCode.name(ErrorCode.SERVER_BEHIND) + ": this node has "
                + (seen == replica.lastSeq() ? "every change up to " + seen : "records of the server's sequence " + seen)
                + ", but the server's database ends at " + w.serverSeq()
                + " (it is older than what it served: restored from a backup?). Nothing was changed";
            throw Failure.ofServer(text, new SyncException(text), null);
        }
        markSeq = catchUpFrom;
        markServerSeq = w.serverSeq();
        version = Math.min(helloVersion, w.protocolVersion());
        // Not stored now: only with the sequence the node gets on this connection, in the same
        // transaction. Stored now, it would pair this run with a sequence the node got in an
        // earlier one (or from another state of the server), which this run may not hold.
        replica.epochWelcomed(version >= 5 ? w.epoch() : Message.NONE);
        if (known == null) replica.link(w.serverId());
        // Stored with this batch; the confirmation goes out after its commit (the session's
        // frames are flushed once the messages of a read are applied).
        replica.linkTokenIssued(w.linkToken());
        out.accept(new Message.LinkStored(w.linkToken()));
        state = State.CATCHING_UP;
        wasCatchingUp = true;
        toConfirm = new HashSet<>(replica.heldHere());
        latestBeforeBorrow = false;
        toFree = new HashSet<>(replica.heldElsewhere());
        replica.connectionChanged(true, w.serverId(), "");
    }

    /**
     * The server's mark of this catch-up's progress (version 6, §4.1 step 4): the records of this
     * connection's trees up to {@code seq} have all arrived, and were applied before it (in this
     * batch or an earlier one), so the replica stores {@code seq} with this connection's tree set
     * and run: the next connection resumes after it. A mark on an older connection, outside the
     * catch-up, or below an earlier one (or the Hello's lastSeq, or the Welcome's sequence) is a
     * protocol error: stored, it could make the next catch-up skip records.
     */
    private void onCaughtUpTo(Message.CaughtUpTo c) {
        if (state != State.CATCHING_UP) {
            protocol("CaughtUpTo " + (state == State.LIVE ? "after CaughtUp" : "before the Welcome"));
            return;
        }
        if (version < 6) {
            protocol("CaughtUpTo on a protocol version " + version + " connection (expected: version 6)");
            return;
        }
        if (c.seq() < markSeq || c.serverSeq() < markServerSeq) {
            protocol("CaughtUpTo(" + c.seq() + ", " + c.serverSeq() + ") below the catch-up's earlier mark ("
                + markSeq + ", " + markServerSeq + ")");
            return;
        }
        markSeq = c.seq();
        markServerSeq = c.serverSeq();
        replica.caughtUpTo(c.seq(), c.serverSeq(), trees);
        marksStored++;
    }

    /**
     * Group(k) from the server (version 7): the next k Pushed frames are the records of one
     * node's transaction, applied together ({@link #onMessages}). Only LIVE pushes come in groups.
     */
    private void onGroup(Message.Group g) {
        if (version < 7) {
            protocol("Group on a protocol version " + version + " connection (expected: version 7)");
        } else if (g.count() > window()) {
            protocol("Group(" + g.count() + ") on a protocol version " + version + " connection (expected: 2 to " + window()
                + " Pushed; " + Limits.GROUP_CHANGES_MAX_V8 + " from version 8)");
        } else if (state != State.LIVE) {
            protocol("Group(" + g.count() + ") in state " + state + " (expected: LIVE)");
        }
        groupCount = g.count();
        groupLeft = g.count();
    }

    /** Groups of the outbox larger than the window that this connection sent in parts (each part atomic on its own). */
    public long groupsCut() {
        return groupsCut;
    }

    /** The CaughtUpTo marks this connection stored: progress the next connection keeps. */
    public int marksStored() {
        return marksStored;
    }

    private void apply(Message.Pushed p) {
        Message.SchemaDef d = p.removed() ? null : schemas.get(SchemaRef.of(p));
        if (!p.removed() && d == null) {
            protocol("record " + p.key() + " names schema " + Long.toHexString(p.fingerprint()) + " before its SchemaDef for tree " + p.key().tree());
            return;
        }
        try {
            replica.apply(p, d, state == State.LIVE);
        } catch (dev.cairn.SchemaMismatchException e) {
            state = State.ENDED;
            throw new Failure("record " + p.key() + " from the server: " + e.getMessage(), e, true);
        }
    }

    private void onBorrow(Message.Borrow b) {
        if (b.snapshot() && toConfirm != null) {
            toConfirm.remove(b.key());
            toFree.remove(b.key());
        }
        java.util.UUID me = replica.nodeId();
        // Only a Borrow naming this node is looked at (a lookup each, at every Borrow of a snapshot).
        boolean asked = !b.holder().equals(me) && !b.queue().contains(me)
            || replica.requested(b.key()) || replica.holdsHere(b.key());
        if (b.holder().equals(me) && !asked) {
            // A check-out request belongs to the process that made it (§5.4). This record was
            // checked in while offline, its grant was lost, or it was handed to this node for a
            // request of an earlier process, and nobody in this one asked for it: give it back,
            // once the record's pending change is acknowledged (pump), as for any check-in: sent
            // now, it would overtake changes beyond the first window, and the server would
            // refuse them. A node that asks for it again takes the Borrow as its grant; a CheckIn
            // would cross its CheckOut and free the record while the node believes it holds it.
            if (!checkInsSent.contains(b.key())) checkInLater(b.key());
            return;
        }
        if (!asked && b.queue().contains(me)) {
            // A queue place of an earlier process's request (the node was closed or killed while
            // waiting): leave the queue, and show the record as held by its holder, not as waited for.
            if (!checkInsSent.contains(b.key())) checkInLater(b.key());
            List<java.util.UUID> others = new java.util.ArrayList<>(b.queue());
            others.remove(me);
            b = new Message.Borrow(b.key(), b.snapshot(), b.holder(), b.holderName(), others);
        }
        boolean mine = b.holder().equals(me);
        if (!mine) {
            checkInsSent.remove(b.key());
        } else if (checkIns.contains(b.key()) || checkInsSent.contains(b.key())) {
            // The server sent this before it got our CheckIn (another node's request made it
            // broadcast the queue). Taken, it would make this node holder again: the application
            // could change the record that the CheckIn is about to pass on.
            return;
        }
        replica.borrow(b);
        if (mine) {
            checkOuts.remove(b.key());
            reRequests.remove(b.key());
        }
    }

    /**
     * After the check-out snapshot: re-request what this node holds but the server does not
     * list, and take as free what it knew held by another node and the server does not list
     * (checked in while this node was away: no Borrow told it so).
     */
    private void confirmHeld() {
        for (Key<?> k : toConfirm) {
            if (wants(k.tree())) reRequests.add(k);
        }
        for (Key<?> k : toFree) {
            if (wants(k.tree())) replica.borrow(new Message.Borrow(k, true, Message.NONE, "", List.of()));
        }
        toConfirm = null;
        toFree = null;
    }

    private boolean wants(String tree) {
        return trees.isEmpty() || trees.contains(tree);
    }

    /** Sends what is due: check-out requests, outbox changes within the window, key requests. */
    public void pump() {
        if (state != State.CATCHING_UP && state != State.LIVE) return;
        for (Key<?> k : reRequests) out.accept(new Message.CheckOut(k));
        reRequests.clear();
        List<Key<?>> look = List.copyOf(lookAtAll ? union(checkOuts, checkIns) : lookAgain);
        lookAtAll = false;
        lookAgain.clear();
        sendCheckOuts(look);
        if (outboxDirty && inFlight.size() <= window() / 2 && inFlightBytes <= WINDOW_BYTES / 2 && roomGrew()) sendOutbox();
        sendCheckIns(look);
        for (String t : replica.trees()) {
            if (needsKeys(t) && !keysAsked.contains(t)) {
                keysAsked.add(t);
                out.accept(new Message.NeedKeys(t));
            }
        }
    }

    /**
     * Sends the check-outs the application asked for, each once the server has answered every
     * change of its record this node made: a change made under a check-out that an
     * administrator broke must reach the server while this node holds nothing there, to be
     * refused; behind a new CheckOut it counted as the new holder's and overwrote what the holder
     * in between had checked in (probe 77: check in and ask again while offline, break, another
     * node edits, reconnect).
     */
    private void sendCheckOuts(List<Key<?>> look) {
        for (Key<?> k : look) {
            if (!checkOuts.contains(k) || wants(k.tree()) && changePending(k)) continue;
            out.accept(new Message.CheckOut(k));
            checkOuts.remove(k);
        }
    }

    /** Sends the check-ins among {@code look} whose record has no change pending or in flight. */
    private void sendCheckIns(List<Key<?>> look) {
        for (Key<?> k : look) {
            if (!checkIns.contains(k)) continue;
            boolean pending = changePending(k);
            if (pending && !wants(k.tree())) {
                // This connection never sends that change (§5.6), so the CheckIn could never
                // follow it here. The server still lists this node as holder: the Borrow snapshot
                // of the next connection with the tree makes it a check-in again (§4.1 step 5).
                checkIns.remove(k);
                continue;
            }
            if (pending) continue;
            out.accept(new Message.CheckIn(k));
            checkInsSent.add(k);
            checkIns.remove(k);
        }
    }

    /** A check-in the session sends once the record's pending change is answered (pump). */
    private void checkInLater(Key<?> key) {
        checkIns.add(key);
        lookAgain.add(key);
    }

    /** True when a change of {@code key} is in flight or waits in the outbox. */
    private boolean changePending(Key<?> key) {
        return inFlight.containsKey(key) || replica.hasPending(key);
    }

    private static List<Key<?>> union(Set<Key<?>> a, Set<Key<?>> b) {
        List<Key<?>> all = new java.util.ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** True when this connection replicates {@code tree} and the node holds fewer of its ids than it keeps in hand. */
    private boolean needsKeys(String tree) {
        return wants(tree) && replica.idsAvailable(tree) < replica.idReserve();
    }

    /**
     * True when the outbox is worth listing again: the last listing did not stop at a change that
     * waits (for room, or for its record's older change in flight), or nothing is in flight, or
     * the group it stopped at now fits the window ({@link #fitsAt}), or, when it stopped for
     * another reason, Acks freed a sixteenth of the window since (of its count or of its bytes).
     * A waiting change stops every later one, so listing again at each Ack finds it waiting
     * again: with protocol 8's window that was 2,000 listings of 4,096 entries while a batch of
     * 3,000 waited behind another (probe 91: such a batch reached other nodes ~10 s late); and a
     * listing at each sixteenth still took a third of a sending node's time in batches of 3,000.
     * A local write after the stop leaves the waiting group as large or larger (a change to one
     * of its records joins it), so it cannot fit sooner than {@code fitsAt} says.
     */
    private boolean roomGrew() {
        if (stoppedAt < 0 || inFlight.isEmpty()) return true;
        if (fitsAt >= 0) return inFlight.size() <= fitsAt;
        return stoppedAt - inFlight.size() >= window() / 16 || stoppedAtBytes - inFlightBytes >= WINDOW_BYTES / 16;
    }

    private void sendOutbox() {
        outboxDirty = false;
        stoppedAt = -1;
        fitsAt = -1;
        // The oldest window() entries after those sent hold every one that can go now: at most
        // window() - inFlight may be sent. With nothing in flight, from the outbox's start.
        int window = window();
        List<Replica.Pending> oldest = replica.outbox(trees, inFlight.isEmpty() ? -1 : sentThrough, window);
        if (oldest.size() == window) outboxDirty = true; // more may wait; listed again when acks free room
        if (version < 7) {
            sendSingly(oldest);
            return;
        }
        for (int from = 0; from < oldest.size(); ) {
            int end = from;
            while (end < oldest.size() - 1 && !oldest.get(end).groupEnds()) end++;
            boolean ends = oldest.get(end).groupEnds() || oldest.size() < window; // the outbox's last entry ends a group
            List<Replica.Pending> group = oldest.subList(from, end + 1);
            // A group that starts the listing and does not end in it has more than window()
            // entries: it goes in parts whatever is in flight.
            boolean tooLarge = from == 0 && !ends;
            from = end + 1;
            // A group that waits stops the ones after it: the server, and every other node,
            // takes this node's changes in the order it made them (probe 76: a part's update,
            // held back by its earlier change in flight, reached another node after the log
            // entry the node wrote after it).
            if (!sendGroup(group, ends, tooLarge)) {
                outboxDirty = true;
                stoppedAt = inFlight.size();
                stoppedAtBytes = inFlightBytes;
                return;
            }
        }
    }

    /**
     * Sends one group of the outbox (version 7, sync-protocol.md §4.1 step 3): whole, after a
     * Group(n) when n >= 2, and only within the window: its entries with those in flight at most
     * {@link #window()}, and each of its values going while the values in flight before it total
     * less than {@link #WINDOW_BYTES} (the rule for a single change, so the bound on what is in
     * flight holds). A group with a record in flight under an older change waits (its entries
     * already in flight, a part sent before, are skipped). One that cannot fit even with nothing
     * in flight ({@code tooLarge}: more than {@link #window()} entries; or its values are too many)
     * is cut: the part that fits goes as a group, the rest later as a group of its own, and
     * {@link #groupsCut} counts it. Values are read one at a time, and only as far as the window
     * reaches. True when the whole group is sent; false when it, and so the groups after it, wait.
     */
    private boolean sendGroup(List<Replica.Pending> group, boolean ends, boolean tooLarge) {
        List<Replica.Pending> todo = new java.util.ArrayList<>(group.size());
        for (Replica.Pending p : group) {
            Sent sent = inFlight.get(p.key());
            if (sent == null) {
                todo.add(p);
            } else if (sent.outboxSeq() != p.outboxSeq()) {
                return false;
            }
        }
        if (todo.isEmpty()) return true;
        // Alone (nothing in flight), no group before it in the listing waits: it is the oldest.
        // One too large to go whole goes in parts as the window allows, not alone each time:
        // waiting for the window to empty before each part halved the rate of a large outbox
        // (probe 83: an offline backlog of 50,000 changes, merged into groups, took 2-3 times as long).
        boolean alone = inFlight.isEmpty() || tooLarge;
        if (!alone && !ends) return false;
        if (!alone && inFlight.size() + todo.size() > window()) {
            fitsAt = window() - todo.size();
            return false;
        }
        List<Replica.Outgoing> going = new java.util.ArrayList<>(todo.size());
        long bytes = inFlightBytes;
        for (Replica.Pending p : todo) {
            if (inFlight.size() + going.size() >= window() || bytes >= WINDOW_BYTES) break;
            Replica.Outgoing o = replica.outgoing(p);
            if (o == null) { // the entry changed since it was listed: its group may have too; listed again
                lookAgain.add(p.key());
                return false;
            }
            going.add(o);
            bytes += o.change().value().length;
        }
        boolean whole = ends && going.size() == todo.size();
        if (!whole && (!alone || going.isEmpty())) return false; // dropped: read again once it fits
        if (!whole && !cutGroupGoing) groupsCut++; // its first part: one cut group, however many parts
        cutGroupGoing = !whole;
        if (going.size() >= 2) out.accept(new Message.Group(going.size()));
        for (int i = 0; i < going.size(); i++) send(todo.get(i), going.get(i));
        return whole;
    }

    /** Below version 7: each entry on its own, oldest first, as long as the window has room. */
    private void sendSingly(List<Replica.Pending> oldest) {
        for (Replica.Pending p : oldest) {
            if (inFlight.size() >= window() || inFlightBytes >= WINDOW_BYTES) {
                outboxDirty = true;
                return;
            }
            Sent sent = inFlight.get(p.key());
            if (sent != null) {
                if (sent.outboxSeq() == p.outboxSeq()) continue;
                outboxDirty = true; // its record's older change is in flight: it and those after it wait, in order
                stoppedAt = inFlight.size();
                stoppedAtBytes = inFlightBytes;
                return;
            }
            Replica.Outgoing o = replica.outgoing(p);
            if (o == null) {
                outboxDirty = true;
                lookAgain.add(p.key());
                continue;
            }
            send(p, o);
        }
    }

    /** Sends one change (its SchemaDef first, once per connection) and puts it in flight. */
    private void send(Replica.Pending p, Replica.Outgoing o) {
        if (o.schema() != null && schemasSent.add(SchemaRef.of(o.schema()))) {
            schemas.putIfAbsent(SchemaRef.of(o.schema()), o.schema());
            out.accept(o.schema());
        }
        // A version 8 or older server's decoder refuses a Change with a base (tag 20).
        out.accept(version >= 9 ? o.change() : o.change().withoutBase());
        sentThrough = Math.max(sentThrough, p.outboxSeq());
        inFlight.put(p.key(), new Sent(p.outboxSeq(), o.change().value().length));
        inFlightBytes += o.change().value().length;
        changesSent++;
    }

    /** The server answered the change {@code outboxSeq} of {@code key}: it is in flight no more. */
    private void settled(Key<?> key, long outboxSeq) {
        Sent sent = inFlight.get(key);
        if (sent == null || sent.outboxSeq() != outboxSeq) return;
        inFlight.remove(key);
        inFlightBytes -= sent.valueBytes();
        lookAgain.add(key);
        if (inFlight.isEmpty()) lookAtAll = true; // a safety net, and at most once per round trip
    }

    /** The bytes of the values of the changes in flight (sent, not yet acknowledged or refused). */
    public long inFlightBytes() {
        return inFlightBytes;
    }

    /** True when no outbox change this connection sends waits to go out or for its Ack. */
    public boolean changesAcknowledged() {
        return inFlight.isEmpty() && !outboxDirty;
    }

    /**
     * True when nothing is in flight, the outbox was sent, and every tree has its ids in hand: a
     * node that goes offline right after its link completed can still create records.
     */
    public boolean idle() {
        return inFlight.isEmpty() && !outboxDirty && checkOuts.isEmpty() && reRequests.isEmpty() && checkIns.isEmpty()
            && keysAsked.isEmpty()
            && replica.trees().stream().noneMatch(this::needsKeys);
    }
}
