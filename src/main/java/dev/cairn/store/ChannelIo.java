package dev.cairn.store;

import dev.cairn.CairnException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/** Positional channel calls shared by the data file and the log, with errors that name the file. */
final class ChannelIo {
    private ChannelIo() { }

    /** Writes every remaining byte of the buffer at position. */
    static void writeFully(FileChannel channel, Path path, ByteBuffer bytes, long position) {
        writeFully(channel, path, bytes, position, 0);
    }

    /**
     * Writes every remaining byte of the buffer at position; a failure names the page it was
     * writing (position >> pageShift), or with pageShift 0 the byte.
     */
    static void writeFully(FileChannel channel, Path path, ByteBuffer bytes, long position, int pageShift) {
        try {
            while (bytes.hasRemaining()) position += channel.write(bytes, position);
        } catch (IOException e) {
            String where = pageShift > 0 ? "page " + (position >> pageShift) + " of " + path : path + " at byte " + position;
            throw new CairnException("cannot write " + where + ": " + e.getMessage(), e);
        }
    }

    /**
     * Fills the buffer (byte i of it from file byte position + i) until its limit or the end of
     * the file, then flips it: it then holds the bytes read.
     */
    static void readFully(FileChannel channel, Path path, ByteBuffer into, long position) {
        try {
            while (into.hasRemaining()) {
                if (channel.read(into, position + into.position()) < 0) break;
            }
            into.flip();
        } catch (IOException e) {
            throw new CairnException("cannot read " + path + " at byte " + position + ": " + e.getMessage(), e);
        }
    }

    /** Forces every write so far to the device (fdatasync). */
    static void force(FileChannel channel, Path path) {
        try {
            channel.force(false);
        } catch (IOException e) {
            throw new CairnException("cannot force " + path + ": " + e.getMessage(), e);
        }
    }

    static long size(FileChannel channel, Path path) {
        try {
            return channel.size();
        } catch (IOException e) {
            throw new CairnException("cannot read the size of " + path + ": " + e.getMessage(), e);
        }
    }
}
