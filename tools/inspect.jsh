// Cairn inspector: jshell with a database open as `db`.
// Start: java -jar build/cairn.jar inspect DIR [--app-id ID]
//    or: jshell --class-path build/cairn.jar -R-Dcairn.dir=DIR [-R-Dcairn.appId=ID] tools/inspect.jsh
import dev.cairn.*;
import dev.cairn.tools.Inspector;

var dir = System.getProperty("cairn.dir");
if (dir == null) throw new IllegalStateException("start with -R-Dcairn.dir=DIR (or java -jar cairn.jar inspect DIR)");
// A folder that does not open is one line and the end of the session (exit 2, as cairn inspect),
// not a stack trace and a prompt where db is null.
// Without cairn.appId: the application id the folder last linked with, else the default.
var db = Inspector.openForShellOrExit(dir, System.getProperty("cairn.appId"));
System.out.println("Cairn inspector on " + dir + ". db.help() lists the verbs; /exit leaves.");
db.info();
