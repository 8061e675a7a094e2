// The one way tests make temporary folders: all of a test process's folders live under
// $TMPDIR/gar-tests-<pid>/, which is removed when the process exits — so a test run leaves
// nothing in /tmp, whether or not each test deletes what it made (a crashed run leaves that one
// folder, named by its pid).
import Foundation

public enum TestTemp {
    /// `$TMPDIR/gar-tests-<pid>`, created on first use; removed at exit.
    public static let root: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gar-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: TestTemp.root) }
        return url
    }()

    /// A fresh empty folder `root/<tag>-<random>`.
    public static func directory(_ tag: String) -> URL {
        let url = root.appendingPathComponent("\(tag)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
