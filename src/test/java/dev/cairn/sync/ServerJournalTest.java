package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's journal names who was refused or closed and why (README: the operator's lines):
 * a connection refused before its Hello by its address, a node the network layer dropped for
 * reading too slowly with TOO_SLOW and the reason (before: only "disconnected").
 */
class ServerJournalTest {
    @TempDir
    Path dir;

    private static ServerCore.Outbound from(String address) {
        return new ServerCore.Outbound() {
            @Override
            public void send(Message m) { }

            @Override
            public long pendingBytes() {
                return 0;
            }

            @Override
            public void close(String reason) { }

            @Override
            public String remoteAddress() {
                return address;
            }
        };
    }

    record ItemV1(String name) { }

    record ItemV2(String name, int count) { }

    private static Message.SchemaDef schemaDef(Class<? extends Record> type) {
        dev.cairn.schema.Schema s = dev.cairn.schema.Schema.derive(type);
        return new Message.SchemaDef("Item", false, s.fingerprint(), s.toBytes());
    }

    /**
     * Who introduced a schema of a tree (probe 59: a node that stopped for good on a schema it
     * could not read left the operator only "disconnected"): one line per schema the server
     * stores, none when a node defines a stored one again.
     */
    @Test
    void aNewSchemaOfATreeIsJournaledWithTheNodeThatSentIt() {
        try (ServerCore core = ServerCore.open(dir, SyncFixture.APP, 1000)) {
            List<String> journal = new ArrayList<>();
            core.journal(journal::add);
            UUID a = new UUID(1, 1);
            UUID b = new UUID(2, 2);
            ServerCore.Peer pa = core.connect(from("10.0.0.1:1"));
            ServerCore.Peer pb = core.connect(from("10.0.0.2:2"));
            for (var p : List.of(pa, pb)) {
                core.onMessage(p, new Message.Hello(FrameCodec.PROTOCOL_VERSION, SyncFixture.APP, p == pa ? a : b,
                    p == pa ? "lab-a" : "lab-b", 0, List.of(), List.of(), new byte[0], Message.NONE));
            }
            core.onMessage(pa, schemaDef(ItemV1.class));
            core.endRound();
            core.onMessage(pb, schemaDef(ItemV1.class)); // stored already: no news
            core.onMessage(pb, schemaDef(ItemV2.class));
            core.endRound();
            long v1 = dev.cairn.schema.Schema.derive(ItemV1.class).fingerprint();
            long v2 = dev.cairn.schema.Schema.derive(ItemV2.class).fingerprint();
            assertEquals(List.of(
                "node 'lab-a' (" + a + ") stored schema " + Long.toHexString(v1) + " (record ItemV1) of tree Item: version 1"
                    + " of that tree on this server",
                "node 'lab-b' (" + b + ") stored schema " + Long.toHexString(v2) + " (record ItemV2) of tree Item: version 2"
                    + " of that tree on this server"),
                journal.stream().filter(l -> l.contains("stored schema")).toList());
        }
    }

    @Test
    void refusalsAndDropsNameTheConnectionAndTheReason() {
        try (ServerCore core = ServerCore.open(dir, SyncFixture.APP, 1000)) {
            List<String> journal = new ArrayList<>();
            core.journal(journal::add);
            ServerCore.Peer silent = core.connect(from("10.0.0.9:5555"));
            core.fail(silent, ErrorCode.PROTOCOL, "no Hello within 10000 ms");
            core.endRound();
            UUID id = new UUID(7, 7);
            ServerCore.Peer slow = core.connect(from("10.0.0.10:6666"));
            core.onMessage(slow, new Message.Hello(FrameCodec.PROTOCOL_VERSION, SyncFixture.APP, id, "lab-2", 0, List.of(),
                List.of(), new byte[0], Message.NONE));
            core.endRound();
            core.dropped(slow, ErrorCode.TOO_SLOW, "more than 64 bytes queued for this client; reconnect and catch up");
            core.disconnected(slow); // the close that follows is no news
            String caughtUp = "node 'lab-2' (" + id + ") caught up: 0 records to sequence 0 in ";
            assertTrue(journal.get(2).startsWith(caughtUp) && journal.get(2).endsWith(" ms"), journal.toString());
            journal.remove(2);
            assertEquals(List.of(
                "a connection from 10.0.0.9:5555 refused: PROTOCOL: no Hello within 10000 ms",
                "node 'lab-2' (" + id + ") linked: protocol " + FrameCodec.PROTOCOL_VERSION + ", catching up from sequence 0 of 0, trees all",
                "node 'lab-2' (" + id + ") closed: TOO_SLOW: more than 64 bytes queued for this client; reconnect and catch up"),
                journal);
        }
    }

    /**
     * Names a peer sends are written on one line each (probe 101: a Hello naming 65,535 trees made
     * a line of 513,307 characters; a line end in a node or tree name started a line of the
     * peer's making): control characters and separators escaped, at most 20 trees named.
     */
    @Test
    void namesFromPeersStayOnOneLineAndTreeListsAreCut() {
        try (ServerCore core = ServerCore.open(dir, SyncFixture.APP, 1000)) {
            List<String> journal = new ArrayList<>();
            core.journal(journal::add);
            UUID a = new UUID(3, 3);
            ServerCore.Peer p = core.connect(from("10.0.0.3:3"));
            List<String> trees = new ArrayList<>(List.of("T\n2026-12-07T00:00:00Z database closed cleanly", "U\u2028V\u001b[2J"));
            for (int i = 0; i < 40; i++) trees.add("t" + i);
            core.onMessage(p, new Message.Hello(FrameCodec.PROTOCOL_VERSION, SyncFixture.APP, a, "lab\r\nnode 'x' linked",
                0, trees, List.of(), new byte[0], Message.NONE));
            core.endRound();
            String linked = journal.stream().filter(l -> l.contains(" linked: ")).findFirst().orElseThrow();
            assertEquals("node 'lab\\u000d\\u000anode 'x' linked' (" + a + ") linked: protocol " + FrameCodec.PROTOCOL_VERSION
                + ", catching up from sequence 0 of 0, trees T\\u000a2026-12-07T00:00:00Z database closed cleanly,"
                + " U\\u2028V\\u001b[2J, t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15, t16, t17"
                + " and 22 more", linked);
            for (String line : journal) {
                assertTrue(line.chars().noneMatch(c -> c < 0x20 || c == 0x2028), line);
            }
        }
    }
}
