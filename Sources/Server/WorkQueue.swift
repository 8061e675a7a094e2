// A bounded queue of CPU work run on one dedicated thread (a serial DispatchQueue), off the NIO
// event loops, so `/healthz` and cheap routes answer while a long job runs. At most `capacity`
// items are queued or running; one more is refused at once with 429 and Retry-After — never an
// unbounded backlog. `gar serve` has two: `model` (ask, chat: one generation at a time) and
// `media` (frames, segment, track jobs).
import Dispatch
import Foundation

public final class WorkQueue: @unchecked Sendable {
    // @unchecked: `count` is guarded by `lock`.
    public let name: String
    public let capacity: Int
    /// Suggested wait for a refused client (Retry-After, seconds).
    public let retryAfter: Int
    private let queue: DispatchQueue
    private let lock = NSLock()
    private var count = 0

    public init(name: String, capacity: Int, retryAfter: Int) {
        self.name = name
        self.capacity = max(1, capacity)
        self.retryAfter = retryAfter
        queue = DispatchQueue(label: "gar.serve.\(name)", qos: .userInitiated)
    }

    /// Items queued or running.
    public var pending: Int { lock.withLock { count } }

    /// Takes a place or throws 429. The place is given back by `run` (or `release`).
    func reserve() throws {
        try lock.withLock {
            guard count < capacity else {
                throw APIError(.tooManyRequests, "busy: the \(name) queue is full (\(capacity) requests); retry later", retryAfter: retryAfter)
            }
            count += 1
        }
    }

    func release() { lock.withLock { count -= 1 } }

    /// Runs `work` on the queue's thread in a place taken by `reserve`, and frees the place.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
            queue.async {
                let result = Result { try work() }
                self.release()
                c.resume(with: result)
            }
        }
    }

    /// `reserve` then `run`.
    func submit<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try reserve()
        return try await run(work)
    }

    /// Starts `work` in a reserved place without waiting for it (track jobs).
    func start(_ work: @escaping @Sendable () -> Void) {
        queue.async {
            work()
            self.release()
        }
    }
}
