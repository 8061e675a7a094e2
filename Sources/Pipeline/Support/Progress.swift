// Progress on stderr for long work. Draws a single updating line on a terminal and a line
// every few seconds otherwise (CI logs), and stays silent when `quiet` is set.
import Foundation

public final class Progress: @unchecked Sendable {
    private let label: String
    private let total: Int?
    private let quiet: Bool
    private let isTTY = isatty(STDERR_FILENO) != 0
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var done = 0
    private let lock = NSLock()

    public init(_ label: String, total: Int? = nil, quiet: Bool = false) {
        self.label = label
        self.total = total
        self.quiet = quiet
    }

    /// Advances by `n` units and redraws if enough time has passed.
    public func advance(_ n: Int = 1, note: String = "") {
        lock.lock(); defer { lock.unlock() }
        done += n
        let now = Date()
        let interval = isTTY ? 0.1 : 5.0
        guard !quiet, now.timeIntervalSince(lastDraw) >= interval else { return }
        lastDraw = now
        draw(note: note, final: false)
    }

    /// Prints the final line.
    public func finish(note: String = "") {
        lock.lock(); defer { lock.unlock() }
        guard !quiet else { return }
        draw(note: note, final: true)
    }

    private func draw(note: String, final: Bool) {
        let elapsed = Date().timeIntervalSince(start)
        var line = "\(label): \(done)"
        if let total { line += "/\(total)" }
        line += String(format: " (%.1fs)", elapsed)
        if !note.isEmpty { line += " \(note)" }
        let text = isTTY ? "\r\u{1B}[K" + line + (final ? "\n" : "") : line + "\n"
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// Writes one line to stderr (warnings and notes; never data).
public func printErr(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
