package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Key;
import dev.cairn.schema.RecordCodec;
import dev.cairn.schema.Schema;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Catch-up sends about {@link ServerCore#PUMP_BELOW_BYTES} of records at a time, however large
 * they are (sync-protocol.md §4.2 step 2). Before, a batch was 256 records whatever their size:
 * records of 270 KB made one batch larger than a connection's 64 MiB queue, and every client
 * that caught up over them was closed (TOO_SLOW) again and again (found by a client written
 * from the spec alone).
 */
@Timeout(60)
class CatchUpPacingTest {
    @TempDir Path dir;

    @Test
    void aBatchOfLargeRecordsStopsNearTheByteLimit() {
        RecordCodec<Part> codec = CoreConn.codec(Part.class, "Part");
        Schema schema = codec.schema();
        int records = 40;
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 1000)) {
            CoreConn writer = new CoreConn(core);
            writer.hello(UUID.randomUUID(), "writer");
            int from = CoreConn.last(Message.Keys.class, writer.send(new Message.NeedKeys("Part"))).from();
            List<Message> changes = new ArrayList<>();
            changes.add(new Message.SchemaDef("Part", false, schema.fingerprint(), schema.toBytes()));
            for (int i = 0; i < records; i++) {
                byte[] body = codec.encode(new Part("p" + i + "-" + "x".repeat(100_000), "m", i, i, List.of()));
                byte[] value = CoreConn.recordValue(0, 0, 0, UUID.randomUUID(), body);
                changes.add(new Message.Change(i + 1, new Key<>("Part", from + i, 0), Message.Kind.CREATED, schema.fingerprint(), value));
            }
            writer.send(changes.toArray(Message[]::new));
            assertEquals(records, core.seq());

            CoreConn reader = new CoreConn(core);
            long firstBatch = reader.hello(UUID.randomUUID(), "reader").stream().filter(m -> m instanceof Message.Pushed)
                .mapToLong(m -> ((Message.Pushed) m).value().length).sum();
            assertTrue(firstBatch > 0 && firstBatch < ServerCore.PUMP_BELOW_BYTES + 110_000, "first batch of " + firstBatch + " bytes");
            for (int round = 0; round < records && !(reader.received.getLast() instanceof Message.CaughtUp); round++) core.endRound();
            List<Long> seqs = reader.received.stream().filter(m -> m instanceof Message.Pushed)
                .map(m -> ((Message.Pushed) m).serverSeq()).toList();
            assertEquals(java.util.stream.LongStream.rangeClosed(1, records).boxed().toList(), seqs, "every record once, in order");
            assertEquals(new Message.CaughtUp(records), reader.received.getLast());
        }
    }
}
