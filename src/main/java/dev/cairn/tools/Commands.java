package dev.cairn.tools;

import dev.cairn.Cairn;
import dev.cairn.CairnException;
import dev.cairn.GenericTree;
import dev.cairn.DatabaseLockedException;
import dev.cairn.db.GenericTreeImpl;
import dev.cairn.db.Layout;
import dev.cairn.db.NodeSummary;
import dev.cairn.store.BackupBuild;
import dev.cairn.store.ForeignBackup;
import dev.cairn.store.LogRefusedException;
import dev.cairn.store.ReadTxn;
import dev.cairn.store.Store;
import dev.cairn.store.StoreOptions;
import dev.cairn.store.VerifyReport;
import dev.cairn.sync.ServerSummary;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The subcommands of {@link Main}, each returning its exit code. */
final class Commands {

    private Commands() { }

    /**
     * Verifies a copy of the database (see {@link #onCopy}), so that nothing in {@code dir} is
     * written, not even by the recovery an open does after a crash: the store (every page,
     * checksum, order, accounting), then every record of every typed tree decoded with its stored
     * schema, then the node's layout ({@link dev.cairn.db.LayoutCheck}: the outbox). Says what
     * recovery found in the log first. 0 when intact (also after a recovery), 1 with a report of
     * each problem.
     */
    static int verify(Path dir, PrintStream out) {
        return onCopy(dir, "verify", out, (copy, said) -> verifyCopy(dir, copy, said));
    }

    private static int verifyCopy(Path dir, Path copy, PrintStream out) {
        VerifyReport report;
        boolean node;
        try (Store store = Store.open(copy); ReadTxn r = store.beginRead()) {
            printRecovery(dir, store.recovered(), out);
            report = store.verify();
            node = r.hasTree(Layout.NODE);
        } catch (LogRefusedException e) {
            out.println("DAMAGED " + dir + ": " + e.getMessage()); // its message says what salvage would do
            return 1;
        } catch (dev.cairn.CorruptionException e) {
            out.println("DAMAGED " + dir + ": " + e.getMessage());
            out.println(restoreAdvice());
            return 1;
        }
        for (String problem : report.problems()) out.println("problem: " + problem);
        long records = 0;
        int recordProblems = 0;
        // Damage to the free list alone leaves every tree readable (writes are refused): the
        // records are checked too, and compact makes a whole copy (probe 124).
        boolean freeSpaceOnly = !report.ok() && report.problems().stream().allMatch(Commands::aboutFreeSpace);
        // A server's database keeps records as bytes with their schemas: the store walk is its check.
        if ((report.ok() || freeSpaceOnly) && node) {
            try (Cairn db = Cairn.open(copy)) {
                int[] problems = {0};
                for (String name : db.treeNames()) {
                    // A walk, not a list of every key: the heap stays the same for any number of records.
                    records += ((GenericTreeImpl) db.genericTree(name)).decodeEvery((key, e) -> {
                        problems[0]++;
                        out.println("problem: record " + key + ": " + e.getMessage());
                    });
                }
                recordProblems += problems[0];
            } catch (dev.cairn.CorruptionException e) {
                recordProblems++;
                out.println("problem: " + e.getMessage());
            }
            // After Cairn.open, which brings the layout of an older Cairn up to date (in the copy).
            try (Store store = Store.open(copy); ReadTxn r = store.beginRead()) {
                for (String problem : dev.cairn.db.LayoutCheck.problems(r)) {
                    recordProblems++;
                    out.println("problem: " + problem);
                }
            } catch (dev.cairn.CorruptionException e) {
                recordProblems++;
                out.println("problem: " + e.getMessage());
            }
        }
        boolean ok = report.ok() && recordProblems == 0;
        out.printf("%s %s: txn %d, %d pages (%d free), %d store trees, %s%n",
            ok ? "OK" : "DAMAGED", dir, report.txnId(), report.pageCount(), report.freePageCount(),
            report.treeCount(), node ? records + " records checked" : "not a node's database (records not decoded)");
        if (!ok && freeSpaceOnly && recordProblems == 0) {
            out.println("Every tree" + (node ? " and record" : "") + " checks out: only the free list is damaged, so the"
                + " database reads but refuses writes. cairn compact " + dir + " NEW writes a copy of it with live pages"
                + " only and a new free list; put NEW in its place (or restore a backup)");
        } else if (!ok) {
            out.println(restoreAdvice());
        }
        return ok ? 0 : 1;
    }

    /** A problem verify found in the free space (the free list, or pages it no longer lists), not in a tree. */
    private static boolean aboutFreeSpace(String problem) {
        return problem.startsWith("free list: ") || problem.endsWith(" is neither reachable nor free (leaked)")
            || problem.contains(" more pages are neither reachable nor free (");
    }

    /** A command's work on the copy {@link #onCopy} made: what it prints goes through {@code said}. */
    private interface OnCopy {
        int run(Path copy, PrintStream said);
    }

    /**
     * Runs {@code work} on a copy of {@code dir}'s data file and log, taken byte for byte while
     * holding {@code dir}'s lock ({@link Store#copyAsIs}) into a temporary folder (under {@code
     * java.io.tmpdir}), and deletes the copy after. Opening the copy does what opening {@code dir}
     * would (replaying the log after a crash, bringing an older layout up to date), but only to
     * the copy: {@code verify} and {@code stats} leave the evidence as it is. What the work prints
     * names {@code dir}, not the copy.
     */
    private static int onCopy(Path dir, String command, PrintStream out, OnCopy work) {
        // A copy is as large as the database: one left by Ctrl-C or SIGTERM would stay in the
        // temporary folder for good (probe 124: 1.9 GB after each). kill -9 still leaves it. The
        // hook comes first: added after the folder, a SIGTERM between the two left it.
        java.util.concurrent.atomic.AtomicReference<Path> made = new java.util.concurrent.atomic.AtomicReference<>();
        Thread cleanup = new Thread(() -> {
            Path folder = made.get();
            if (folder != null) deleteCopy(folder);
        }, "cairn " + command + ": delete the copy");
        Runtime.getRuntime().addShutdownHook(cleanup); // throws IllegalStateException once the JVM is shutting down
        Path copy;
        try {
            copy = Files.createTempDirectory("cairn-" + command + "-");
            made.set(copy);
        } catch (IOException e) {
            Runtime.getRuntime().removeShutdownHook(cleanup);
            throw new UncheckedIOException("cannot make a folder for the copy " + command + " checks in "
                + System.getProperty("java.io.tmpdir") + ": " + e.getMessage(), e);
        }
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        try {
            try {
                Store.copyAsIs(dir, copy);
            } catch (DatabaseLockedException e) {
                throw new DatabaseLockedException(e.getMessage() + "; " + command + " a backup of it instead (cairn backup "
                    + dir + " COPY, then cairn " + command + " COPY)");
            } catch (dev.cairn.store.UnreadableFileException e) {
                throw e; // a file of dir: said as it is, the temporary folder is not to blame
            } catch (CairnException e) {
                // The copy could not be made or written (a full or read-only temporary folder)
                if (!e.getMessage().contains(copy.toString())) throw e;
                throw new CairnException(e.getMessage() + " (" + command + " checks a copy of the folder in "
                    + copy.getParent() + "; java -Djava.io.tmpdir=FOLDER -jar cairn.jar ... puts it elsewhere)", e);
            }
            // The store logs what recovery replayed, naming the copy; the work prints it for dir.
            try (PrintStream said = new PrintStream(text, true, StandardCharsets.UTF_8)) {
                return withStoreLogQuiet(() -> work.run(copy, said));
            } catch (CairnException e) {
                throw new CairnException(renamed(e.getMessage(), copy, dir), e);
            }
        } finally {
            // Paths of the copy in messages (store, log, salvage hints) name the folder itself.
            out.print(renamed(text.toString(StandardCharsets.UTF_8), copy, dir));
            out.flush();
            deleteCopy(copy);
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook runs, and finds nothing left to delete
            }
        }
    }

    /** {@code text} with the copy's folder replaced by the folder it is a copy of. */
    private static String renamed(String text, Path copy, Path dir) {
        return text == null ? null : text.replace(copy.toAbsolutePath().toString(), dir.toString());
    }

    /**
     * Deletes the folder of a copy: again until it is gone, for at most 2 s, as the shutdown hook
     * runs beside the main thread, which may still be writing into it.
     */
    private static void deleteCopy(Path folder) {
        IOException failed = null;
        for (int tries = 0; tries < 200; tries++) {
            try (var files = Files.list(folder)) {
                for (Path f : files.toList()) Files.deleteIfExists(f);
                Files.deleteIfExists(folder);
                return;
            } catch (java.nio.file.NoSuchFileException e) {
                return; // deleted already (by the shutdown hook, or before it ran)
            } catch (IOException e) {
                failed = e; // a file made after the listing: the folder is not empty yet
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                break;
            }
        }
        System.getLogger(Commands.class.getName()).log(System.Logger.Level.WARNING, "cannot delete the copy " + folder, failed);
    }

    /**
     * Says what opening the copy of {@code dir} ({@link #onCopy}) found in its log: commits
     * replayed after a crash, and a last frame that does not check out (dropped); {@code dir}
     * itself is still as it was.
     */
    private static void printRecovery(Path dir, Store.Recovered found, PrintStream out) {
        if (found == null) return;
        if (found.replayed() > 0) {
            out.printf("recovery: not closed cleanly: the log holds %,d commit%s after the data file's checkpoint (txn %d),"
                    + " up to txn %d; checked as the next open will replay them (%s is unchanged)%n",
                found.replayed(), found.replayed() == 1 ? "" : "s", found.checkpointTxn(), found.lastTxn(), dir);
        }
        if (found.frameDropped()) {
            long after = Math.max(found.lastTxn(), found.checkpointTxn());
            out.printf("recovery: the log ends at byte %,d with a frame that does not check out (%s): nothing after"
                    + " txn %d is in the database. A crash while a commit was being written leaves this (that commit was"
                    + " never acknowledged); so do damage to the log's end and a log cut short (a copy that stopped, a"
                    + " truncated file), which may have held more commits. The next open drops the frame: to keep its"
                    + " bytes, copy %s before%n",
                found.logEnd(), found.endReason(), after, dir.resolve("wal.cairn"));
        }
    }

    /**
     * Copies the database into TARGET without writing into DIR, then checks the copy. A folder no
     * process holds is copied byte for byte under its lock ({@link Store#copyAsIs}): a backup
     * taken after a crash keeps the evidence as it is, and opening the copy replays its log there.
     * A folder another process holds is copied and verified until a copy is one committed
     * snapshot ({@link ForeignBackup}). Either copy is built in TARGET's {@link BackupBuild#DIR}
     * folder and moved into TARGET once checked, so a backup killed part-way leaves no data file
     * there that could pass for a backup.
     */
    static int backup(Path dir, Path target, PrintStream out) {
        // Opening a copy replays the log it holds, routine here: not worth an INFO line naming it.
        return withStoreLogQuiet(() -> {
            try {
                return backupAsIs(dir, target, out);
            } catch (DatabaseLockedException e) {
                ForeignBackup.copy(dir, target);
                out.println("backed up " + dir + " (in use by another process; copy verified) to " + target);
                return 0;
            }
        });
    }

    /** The backup of a folder no process holds: copied as it is into the build folder, checked, moved into place. */
    private static int backupAsIs(Path dir, Path target, PrintStream out) {
        if (!Store.exists(dir)) {
            // Only a log, without the data file its commits follow: nothing a backup could open.
            try {
                Store.refuseLogWithoutData(dir);
            } catch (dev.cairn.CorruptionException e) {
                out.println("DAMAGED: " + e.getMessage() + "; nothing was copied");
                return 1;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + dir + ": " + e.getMessage(), e);
            }
        }
        try (BackupBuild build = BackupBuild.begin(dir, target)) {
            Store.copyAsIs(dir, build.dir(), "backup");
            String opened = null;
            VerifyReport report = null;
            try (Store copy = Store.open(build.dir())) {
                report = copy.verify();
            } catch (CairnException e) {
                opened = e.getMessage().replace(build.dir().toString(), target.toString());
            }
            build.publish(); // kept as it is when it does not verify: it is what DIR holds
            if (opened != null) {
                out.println("DAMAGED: copied " + dir + " to " + target + " as it is, and the copy does not open: " + opened);
                return 1;
            }
            for (String problem : report.problems()) {
                out.println("problem: " + problem.replace(build.dir().toString(), target.toString()));
            }
            out.println((report.ok() ? "backed up " : "DAMAGED: copied ") + dir + " to " + target
                + (report.ok() ? " (copy verified)" : " as it is, and the copy does not verify"));
            return report.ok() ? 0 : 1;
        }
    }

    /** Runs {@code work} with the store's INFO lines off (what opening a temporary copy recovered, naming the copy). */
    private static int withStoreLogQuiet(java.util.function.IntSupplier work) {
        java.util.logging.Logger storeLog = java.util.logging.Logger.getLogger(Store.class.getName());
        java.util.logging.Level level = storeLog.getLevel();
        storeLog.setLevel(java.util.logging.Level.WARNING);
        try {
            return work.getAsInt();
        } finally {
            storeLog.setLevel(level);
        }
    }

    /**
     * Writes a compacted copy of DIR into TARGET (live pages only) and verifies it. Needs the
     * database's lock: a database another process holds is backed up first, then compacted.
     */
    static int compact(Path dir, Path target, PrintStream out) {
        try (Store store = Store.open(dir)) {
            store.compactTo(target);
        } catch (DatabaseLockedException e) {
            throw new DatabaseLockedException(e.getMessage() + "; compact a backup of it instead (cairn backup "
                + dir + " COPY, then cairn compact COPY " + target + ")");
        }
        try (Store copy = Store.open(target)) {
            VerifyReport report = copy.verify();
            for (String problem : report.problems()) out.println("problem: " + problem);
            out.printf("%s compacted %s (%,d bytes) into %s (%,d bytes): %,d pages (%d free)%n", report.ok() ? "OK" : "DAMAGED",
                dir, folderBytes(dir), target, folderBytes(target), report.pageCount(), report.freePageCount());
            return report.ok() ? 0 : 1;
        }
    }

    /**
     * File, page and tree figures of a copy of the database ({@link #onCopy}): as the database
     * opens, after what recovery would replay, without writing into {@code dir}.
     */
    static int stats(Path dir, PrintStream out) {
        return onCopy(dir, "stats", out, (copy, said) -> statsOfCopy(dir, copy, said));
    }

    private static int statsOfCopy(Path dir, Path copy, PrintStream out) {
        try (Store store = Store.open(copy)) {
            VerifyReport report = store.verify();
            out.printf("folder      %s, %,d bytes on disk%n", dir.toAbsolutePath(), folderBytes(dir));
            out.printf("database    id %s, pages of %,d bytes, format version %d%s%n",
                store.databaseId() == 0 ? "none (made before ids)" : String.format("0x%016x", store.databaseId()), store.pageBytes(),
                store.formatVersion(), store.formatVersion() < 3 ? " (cairn compact makes a version-3 copy, with faster point reads)" : "");
            out.printf("txn         %d%n", report.txnId());
            out.printf("pages       %,d (%,d free)%n", report.pageCount(), report.freePageCount());
            boolean node;
            try (ReadTxn r = store.beginRead()) {
                NodeSummary summary = NodeSummary.read(r);
                node = summary != null;
                printNode(summary, out);
                printServer(ServerSummary.read(r), out);
                out.println("store trees " + r.treeNames().size());
                for (String name : r.treeNames()) out.printf("  %-28s %,12d entries%n", name, r.count(name));
            }
            printRecovery(dir, store.recovered(), out);
            // The figures come from the same walk as verify's store checks: say what it found.
            if (report.ok()) {
                out.println("check       pages intact (" + (node ? "records not decoded: " : "")
                    + "cairn verify " + dir + " checks everything)");
                return 0;
            }
            out.printf("check       DAMAGED: %,d problem%s in the pages: cairn verify %s names them and what to do%n",
                report.problems().size(), report.problems().size() == 1 ? "" : "s", dir);
            return 1;
        }
    }

    /** A node database's identity, link and pending work; nothing for another kind of folder. */
    private static void printNode(NodeSummary node, PrintStream out) {
        if (node == null) return;
        out.printf("node        id %s%s%n", node.nodeId(), node.linkName() == null ? ""
            : ", name '" + node.linkName() + "', app id '" + node.linkAppId() + "' (of its last link)");
        if (node.serverId() == null) {
            out.println("link        never linked to a server (standalone: it allocates its own ids)");
            // A standalone node grants its own check-outs: all it knows of are held here.
            out.printf("check-outs  %,d held here%n", node.heldHere());
        } else {
            String trees = node.syncTrees().isEmpty() ? "every tree" : "the trees " + node.syncTrees();
            if (node.epochSeq() > node.syncSeq()) {
                // A catch-up cut short (sync-protocol.md §4.1 step 4): its records up to the mark, as of a later sequence.
                out.printf("link        server %s; has its records up to its sequence %,d as of %,d (a catch-up cut short: "
                    + "the next connection resumes there); replicates %s%n", node.serverId(), node.syncSeq(), node.epochSeq(), trees);
            } else {
                out.printf("link        server %s; has every change up to its sequence %,d; replicates %s%n", node.serverId(),
                    node.syncSeq(), trees);
            }
            out.printf("pending     %,d change%s not yet acknowledged by the server; %,d check-out%s held here (%,d known)%n",
                node.unsent(), node.unsent() == 1 ? "" : "s", node.heldHere(), node.heldHere() == 1 ? "" : "s", node.checkOuts());
        }
        out.println("trees       " + node.trees().size());
        for (NodeSummary.TreeLine t : node.trees()) {
            out.printf("  %-28s %,12d records, %d schema version%s%s%n", t.name(), t.records(), t.schemaVersions(),
                t.schemaVersions() == 1 ? "" : "s", t.versioned() ? ", versioned" : "");
        }
    }

    /** A sync server database's identity, clients and records; nothing for another kind of folder. */
    private static void printServer(ServerSummary server, PrintStream out) {
        if (server == null) return;
        out.printf("server      id %s, app '%s', %,d changes accepted%n", server.serverId(), server.appId(), server.seq());
        out.printf("clients     %,d known; %,d record%s checked out%n", server.clients(), server.checkOuts(),
            server.checkOuts() == 1 ? "" : "s");
        out.println("trees       " + server.trees().size());
        server.trees().forEach((name, counts) -> out.printf("  %-28s %,12d records, %,d removed%n", name, counts[0], counts[1]));
    }

    /**
     * For a database whose log refuses the open ({@link LogRefusedException}): says what giving
     * up the commits the refusal names would do (exit 1), and with {@code apply} does it through
     * {@link Store#salvage}, then verifies (exit 0 if intact). Exit 0 without change when the
     * database opens and verifies; 1 for damage that is not in the log, found at the open or by
     * verify (salvage cannot help there).
     */
    static int salvage(Path dir, boolean apply, PrintStream out) {
        // The dry run opens a copy: opening dir itself would replay and checkpoint a crashed log
        // into it, changing the very files an operator may want to keep as they are.
        if (!apply) return onCopy(dir, "salvage", out, (copy, said) -> salvageDryRun(dir, copy, said));
        try {
            Store.Salvaged salvaged = Store.salvage(dir, StoreOptions.defaults());
            try (Store store = salvaged.store()) {
                for (LogRefusedException e : salvaged.refusals()) {
                    out.println("REFUSED " + e.getMessage());
                    out.println("cut " + dir.resolve("wal.cairn") + " to " + e.keepBytes() + " bytes");
                }
                if (salvaged.keptLog() == null) return nothingToSalvage(dir, store, out);
                out.println("the whole log as it was is kept in " + salvaged.keptLog());
                VerifyReport report = store.verify();
                for (String problem : report.problems()) out.println("problem: " + problem);
                out.printf("%s %s: opens at txn %d after salvage, %d pages (%d free)%n", report.ok() ? "OK" : "DAMAGED",
                    dir, report.txnId(), report.pageCount(), report.freePageCount());
                return report.ok() ? 0 : 1;
            }
        } catch (dev.cairn.CorruptionException e) {
            out.println("DAMAGED " + e.getMessage());
            out.println(e instanceof LogRefusedException ? "salvage cannot get past this: the log cannot be cut shorter."
                + " Restore the folder from a backup (cairn backup makes one)" : notInTheLog());
            return 1;
        }
    }

    /** What {@code salvage} without {@code --apply} says, from a copy of {@code dir} ({@link #onCopy}). */
    private static int salvageDryRun(Path dir, Path copy, PrintStream out) {
        try (Store store = Store.open(copy)) {
            printRecovery(dir, store.recovered(), out);
            return nothingToSalvage(dir, store, out);
        } catch (LogRefusedException e) {
            out.println("REFUSED " + e.getMessage());
            out.println("salvage would copy the whole log to a new wal.cairn.refused-N file beside it, then "
                + (e.keepBytes() == 0 ? "empty the log: the database opens at its data file's last checkpoint"
                    : "cut the log to " + e.keepBytes() + " bytes: the database opens at the last commit before the damage")
                + ", without the commits named above (if the shorter log is refused too, it cuts again and says so)");
            out.println("to do it: java -jar cairn.jar salvage " + dir + " --apply");
            return 1;
        } catch (dev.cairn.CorruptionException e) {
            out.println("DAMAGED " + e.getMessage());
            out.println(notInTheLog());
            return 1;
        }
    }

    /**
     * A database that opens as it is: nothing to salvage if it also verifies (the store's checks,
     * as {@code cairn verify} runs them); damage verify finds is outside the log, where salvage
     * cannot help (probe 35: a zeroed data page was called OK).
     */
    private static int nothingToSalvage(Path dir, Store store, PrintStream out) {
        VerifyReport report = store.verify();
        if (report.ok()) {
            out.println("OK " + dir + " opens as it is (txn " + report.txnId() + "): nothing to salvage");
            return 0;
        }
        for (String problem : report.problems()) out.println("problem: " + problem);
        out.println("DAMAGED " + dir + ": opens as it is (txn " + report.txnId() + "), but verify finds damage (above)");
        out.println(notInTheLog());
        return 1;
    }

    /**
     * What to do about damage salvage cannot get past. A node's folder restored from a backup is
     * refused by its server once the node linked after the backup (NODE_COPY), so for a node the
     * remedy is a new folder.
     */
    private static String notInTheLog() {
        return "salvage cannot get past this: the damage is not in the log. " + restoreAdvice();
    }

    /**
     * What to do about damage outside the log (verify, salvage): restore a backup, or, for a node
     * that linked since the backup (which its server then refuses: NODE_COPY), a new folder.
     */
    private static String restoreAdvice() {
        return "Restore the folder from a backup (cairn backup makes one; README, \"Restoring a node from a backup\");"
            + " but for a node of a sync server, a restored backup is refused by the server as an older copy of the node"
            + " (NODE_COPY) if the node has linked since the backup: give the node a new folder instead, which gets every"
            + " record from the server, after exporting what only this folder holds (README, Sync)";
    }

    /**
     * Writes every record of {@code treeName}: one {@code {"key":..,"value":..}} per line, or SQL,
     * in schema version {@code schemaVersion} (0: the tree's current one). Every record is
     * converted before anything is written: one the version cannot hold is refused, naming it
     * (exit 1, nothing on {@code out}). Data the version cannot carry (components its class
     * lacks) is said on {@code err}, with a version that carries every record, when one does.
     */
    static int export(Path dir, String treeName, String format, int schemaVersion, PrintStream out, PrintStream err) {
        if (!format.equals("jsonl") && !format.equals("sql")) {
            throw new Main.UsageException("unknown format '" + format + "' (expected: jsonl or sql)");
        }
        try (Cairn db = openToExport(dir, treeName)) {
            GenericTree tree = db.genericTree(treeName);
            GenericTree.Exported exported;
            // UTF-8 whatever the locale; throws at the first write out cannot take, which PrintStream
            // would swallow (Main says so, exit 2).
            java.io.Writer text = Output.utf8(out);
            try {
                exported = format.equals("jsonl") ? tree.exportJsonLines(text, schemaVersion)
                    : tree.exportSql(treeName, text, schemaVersion);
                text.flush();
            } catch (dev.cairn.SchemaMismatchException e) {
                err.println("cairn export: " + e.getMessage() + " (--schema-version N)");
                return 1;
            } catch (dev.cairn.TransferRefusedException e) {
                err.println("cairn export: " + e.getMessage());
                return 1;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the export of tree " + treeName + ": " + e.getMessage(), e);
            }
            out.flush();
            warnIfNotCarried(treeName, exported, err);
        }
        return 0;
    }

    /**
     * Opens {@code dir} for an export; a folder another process holds is said with how to export
     * it anyway, as {@code compact}, {@code verify} and {@code stats} say it.
     */
    static Cairn openToExport(Path dir, String treeName) {
        try {
            return Cairn.open(dir);
        } catch (DatabaseLockedException e) {
            // The lock names no holder, and the folder's trees cannot be read while another process writes it:
            // the advice covers a server's folder too, which export refuses however it is reached.
            throw new DatabaseLockedException(e.getMessage() + "; export a backup of it instead (cairn backup " + dir
                + " COPY, then cairn export COPY " + treeName + "), or, if it is a sync server's folder (cairn server"
                + " --data " + dir + "), which holds no node's trees to export, sync a fresh node from the server and"
                + " export that");
        }
    }

    /**
     * A warning when records hold data the export's schema version cannot carry: what the export
     * holds instead (what that version's class reads), and how to keep it, when a version of the
     * tree carries every record whole. Version numbers are per database and say nothing of which
     * class is newer, so the warning names what the version's class lacks, not when.
     */
    static void warnIfNotCarried(String treeName, GenericTree.Exported exported, PrintStream err) {
        long n = exported.recordsNotCarried();
        if (n == 0) return;
        int version = exported.schemaVersion();
        String remedy = exported.versionCarryingAll() > 0
            ? "To export that data too, give --schema-version " + exported.versionCarryingAll() + ", which carries every"
                + " record of the tree whole (a database that knows that version imports it)"
            : "No single schema version of the tree carries every record whole (each lacks data some record holds, or"
                + " cannot hold a value of another), so no --schema-version exports it all: the data stays in the"
                + " database, for a record class that has all of it";
        err.println("cairn export: warning: " + n + " record" + (n == 1 ? "" : "s") + " of tree " + treeName
            + (n == 1 ? " holds" : " hold") + " data that schema version " + version + " cannot carry, in the component"
            + (exported.componentsNotCarried().size() == 1 ? " " : "s ") + exported.componentsNotCarried()
            + ": the record class of schema version " + version + " lacks the component, or a constant or variant in"
            + " it, or types it so that a value does not fit, and this export holds what that class reads there"
            + " (nothing for a component it lacks, its @Fallback for a constant, 0 or false for a null, a narrower"
            + " number); the database keeps the data as it is. " + remedy);
    }

    /**
     * Inserts every record of a JSON-lines file (lines as {@link #export} writes them, or bare
     * record objects), or of a {@code .sql} file as {@code export --format sql} writes it, all in
     * one transaction: a refused record stores nothing. The file is read a line or a statement
     * at a time ({@link GenericTree#importJsonLines(Path, boolean)}): its size is limited by
     * neither a string nor the heap, only the transaction's pages are. Records keep their exported ids and
     * revisions when the database never linked and the ids are free in the tree
     * ({@link GenericTree#importSql(String, String, boolean)}); otherwise they get new ids and a
     * warning says so, or, with {@code keepIds}, nothing is imported (exit 1).
     *
     * <p>Refused before anything is stored (exit 1), since the command has none of the
     * application's classes and so cannot check its indexes (a {@code UniqueNameIndex} lives in
     * the application's code and memory, not in the file): a file that holds records, into a
     * tree that holds records already, unless {@code append} (importing a tree's export into
     * itself doubled every record, names included; an empty tree's export adds none and is
     * imported); and, when ids cannot be kept, a file whose keys name two revisions of one record
     * id (each would become a record with an id of its own, sharing one name); and, with {@code
     * checkEnd}, a file of exported lines or SQL rows without the export's end line, or whose end
     * line counts other than the records before it (an export cut short: record-format.md §10).
     */
    static int importFile(Path dir, String treeName, Path file, boolean append, boolean keepIds, boolean checkEnd,
                          PrintStream out, PrintStream err) {
        boolean sql = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".sql");
        // Said before the database opens; the file is read as it is imported, a line or a statement at a time.
        if (!Files.exists(file)) {
            throw new UncheckedIOException("cannot read " + file + ": no such file", new java.nio.file.NoSuchFileException(
                file.toString()));
        }
        if (!Files.isReadable(file)) {
            throw new UncheckedIOException("cannot read " + file + ": access denied (to user " + System.getProperty("user.name")
                + ": see its owner and permissions)", new java.nio.file.AccessDeniedException(file.toString()));
        }
        try (Cairn db = Cairn.open(dir)) {
            GenericTree tree = db.genericTree(treeName);
            long held = tree.size();
            // Refused at the file's first record: an empty tree's export adds nothing, so it doubles nothing.
            Runnable refuseDoubles = held > 0 && !append ? () -> {
                throw new dev.cairn.TransferRefusedException("tree " + treeName + " holds " + records(held) + " already,"
                    + " and import adds every record of " + file + " and cannot check the application's indexes (a"
                    + " unique name index lives in its code), so records that are there already would be doubled. To"
                    + " add them to a tree that holds records anyway, give --append (nothing imported)");
            } : () -> { };
            GenericTreeImpl.ImportCount imported;
            try {
                // An empty file without an empty tree's mark (what an export that failed leaves) is refused there.
                // Counted, not listed: the heap holds no key per record imported.
                imported = ((GenericTreeImpl) tree).importFileCounting(file, sql ? treeName : null, keepIds, checkEnd,
                    refuseDoubles);
            } catch (CairnException | IllegalArgumentException e) {
                String message = e.getMessage();
                String lower = message.toLowerCase(java.util.Locale.ROOT);
                if (!sql && (lower.contains("(found 'create table") || lower.contains("(found 'insert into"))) {
                    // probe 124: `cat Part.sql | cairn import DIR Part /dev/stdin`
                    message += " (this looks like SQL: a FILE is read as SQL only when its name ends in .sql, so SQL from"
                        + " a pipe cannot be imported; save it to a file named so)";
                }
                // The database's own files could not be written (a full disk): the command could
                // not run, and the file is not what failed.
                boolean databaseWrite = e instanceof CairnException && e.getCause() instanceof IOException;
                err.println("cairn import: " + (databaseWrite ? "" : message.startsWith(file.toString()) ? "" : file + ": ")
                    + message + (message.toLowerCase(java.util.Locale.ROOT).contains("nothing imported") ? "" : " (nothing imported)"));
                return databaseWrite ? 2 : 1;
            }
            warnIfRenumbered(file.toString(), treeName, imported.renumbered(), err);
            out.println("imported " + records(imported.records()) + " into " + treeName);
        }
        return 0;
    }

    /**
     * A warning line when records that named a key got another id: the command cannot know which
     * other trees refer to them, and their {@code Key} components are not renumbered.
     */
    static void warnIfRenumbered(String source, String treeName, int n, PrintStream err) {
        if (n == 0) return;
        err.println("cairn import: warning: " + n + " record" + (n == 1 ? "" : "s") + " of " + source + " got new ids in tree "
            + treeName + " (old id -> new id: " + n + " changed); Key references to them in other trees are NOT renumbered"
            + " and now point at other records or at none. Ids are kept only in a database that never linked, for ids"
            + " the tree never handed out; give --keep-ids to refuse instead of renumbering");
    }

    /** "1 record", "2 records": a count of records as a line says it. */
    static String records(long n) {
        return n + (n == 1 ? " record" : " records");
    }

    /** Apparent size of every file in the folder (data file and lock file). */
    private static long folderBytes(Path dir) {
        try (var files = Files.list(dir)) {
            long total = 0;
            for (Path f : files.toList()) {
                if (Files.isRegularFile(f)) total += Files.size(f);
            }
            return total;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }
}
