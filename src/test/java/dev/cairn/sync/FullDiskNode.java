package dev.cairn.sync;

import dev.cairn.Cairn;
import dev.cairn.Event;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A node for {@link LinkWriteFailureTest}, run in a child JVM whose file size limit makes its
 * database's writes fail: it links to the server at 127.0.0.1:PORT (args: port, folder), prints
 * "linked", then every event it receives as "event: EVENT", until a Disconnected saying the link
 * stopped for good (or 60 s), then "end".
 */
public final class FullDiskNode {
    private FullDiskNode() { }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        CountDownLatch stopped = new CountDownLatch(1);
        Cairn c = Cairn.open(Path.of(args[1]), SyncFixture.options("full-disk"));
        c.subscribe(e -> {
            System.out.println("event: " + e);
            System.out.flush();
            if (e instanceof Event.Disconnected d && d.reason().startsWith("sync stopped for good")) {
                stopped.countDown();
            }
        });
        c.connect("127.0.0.1", port).orTimeout(20, TimeUnit.SECONDS).join();
        System.out.println("linked");
        System.out.flush();
        stopped.await(60, TimeUnit.SECONDS);
        System.out.println("end connected=" + c.isConnected());
        System.out.flush();
        // No close: the database refuses writes, and only its exit matters here.
        Runtime.getRuntime().halt(0);
    }
}
