package dev.cairn.sync;

import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.CairnServer;
import dev.cairn.Key;
import dev.cairn.testing.Fixtures.Part;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Hundreds of connections on one Selector thread: all linked, all receive one change at once. */
@Timeout(60)
class ManyClientsTest {
    static final int CLIENTS = 300;
    @TempDir Path dir;

    @Test
    void threeHundredClientsAllReceiveAChange() throws Exception {
        try (CairnServer server = CairnServer.start(dir.resolve("server"), 0, SyncFixture.APP);
             Cairn a = Cairn.open(dir.resolve("a"), Cairn.Options.defaults().withAppId(SyncFixture.APP))) {
            List<Socket> sockets = new ArrayList<>();
            try {
                for (int i = 0; i < CLIENTS; i++) {
                    Socket s = new Socket();
                    s.connect(new InetSocketAddress("127.0.0.1", server.port()));
                    s.setSoTimeout(20_000);
                    s.getOutputStream().write(FrameCodec.encode(new Message.Hello(FrameCodec.PROTOCOL_VERSION,
                        SyncFixture.APP, UUID.randomUUID(), "raw-" + i, 0, List.of(), List.of(), new byte[0], Message.NONE)));
                    sockets.add(s);
                }
                for (Socket s : sockets) readUntil(s, Message.CaughtUp.class, null);
                assertEquals(CLIENTS, server.clientCount());
                a.connect("127.0.0.1", server.port()).orTimeout(20, TimeUnit.SECONDS).join();
                long start = System.nanoTime();
                Key<Part> k = a.tree(Part.class).insert(part(1));
                for (Socket s : sockets) readUntil(s, Message.Pushed.class, k);
                long millis = (System.nanoTime() - start) / 1_000_000;
                System.out.println("ManyClientsTest: one insert reached " + CLIENTS + " clients in " + millis + " ms");
                assertTrue(millis < 20_000);
            } finally {
                for (Socket s : sockets) s.close();
            }
        }
    }

    /** Reads frames until one of {@code type} (for {@code key}, if given) arrives. */
    private static void readUntil(Socket s, Class<? extends Message> type, Key<?> key) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        while (true) {
            int length = in.readInt();
            byte[] body = new byte[length];
            in.readFully(body);
            Message m = FrameCodec.decodeBody(ByteBuffer.wrap(body));
            if (type.isInstance(m) && (key == null || (m instanceof Message.Pushed p && p.key().equals(key)))) return;
        }
    }
}
