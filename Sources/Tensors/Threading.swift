// The one place where gar runs work on several threads, and the thread policy towards OpenBLAS.
//
// Policy: OpenBLAS owns its threads for GEMM/GEMV called from ordinary (serial) code; it runs
// with `Threading.count` threads. Inside a `parallelFor` region our workers already occupy
// every core, so OpenBLAS is switched to 1 thread for the region's duration and restored after:
// the two pools never nest. A `parallelFor` called from inside another region runs serially on
// the calling worker.
//
// Per-thread choices travel with the work: a thread count set for one task
// (`Threading.withCount`) and the CKernels dispatch state of the calling thread (a SIMD level or
// bf16 attention path forced by a test, `gk_dispatch_state`) are used by the `parallelFor`s that
// task starts and by their workers — never by computations running at the same time elsewhere.
import CKernels
import COpenBLAS
import Dispatch
import Foundation
import Synchronization

public enum Threading {
    /// Guards `configured` and the region flag.
    private static let state = Mutex<(count: Int, inRegion: Bool)>((Threading.defaultCount, false))

    /// Logical CPUs available to this process.
    public static var defaultCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// This task's thread count, when set with `withCount` (else the process-wide one).
    @TaskLocal static var taskCount: Int?

    /// Number of threads used by `parallelFor` (and by OpenBLAS outside parallel regions: the
    /// process-wide count).
    public static var count: Int { taskCount ?? state.withLock { $0.count } }

    /// Runs `body` with `count` threads for the `parallelFor`s (and oneDNN calls) of this task only
    /// (values < 1 mean "all CPUs"); other tasks keep theirs. OpenBLAS keeps the process-wide count.
    public static func withCount<T>(_ count: Int, _ body: () throws -> T) rethrows -> T {
        try $taskCount.withValue(count < 1 ? defaultCount : count) { try body() }
    }

    /// Sets the thread count for our kernels and for OpenBLAS (values < 1 mean "all CPUs").
    public static func set(_ count: Int) {
        let n = count < 1 ? defaultCount : count
        state.withLock { $0.count = n }
        openblas_set_num_threads(Int32(n))
    }

    /// Applies the configured count to OpenBLAS once (OpenBLAS starts with its own default).
    static let applyOnce: Void = { openblas_set_num_threads(Int32(state.withLock { $0.count })) }()

    /// Enters a parallel region: returns the worker count to use (1 = run serially because we
    /// are nested or single-threaded) and whether this call opened the region. OpenBLAS runs on
    /// one thread inside every region, serial ones included, so the products in a region are
    /// summed the same way whatever this task's thread count.
    fileprivate static func enterRegion() -> (workers: Int, opened: Bool) {
        _ = applyOnce
        let wanted = taskCount
        let region: (workers: Int, opened: Bool) = state.withLock { s in
            if s.inRegion { return (1, false) }
            s.inRegion = true
            return (max(1, wanted ?? s.count), true)
        }
        if region.opened { openblas_set_num_threads(1) }
        return region
    }

    fileprivate static func leaveRegion(opened: Bool) {
        guard opened else { return }
        let n = state.withLock { s in
            s.inRegion = false
            return s.count
        }
        openblas_set_num_threads(Int32(n))
    }

    /// Makes sure OpenBLAS uses the configured thread count (call before timing GEMMs).
    public static func prepareBLAS() { _ = applyOnce }
}

/// Calls `body` with disjoint ranges covering `0..<count`, on up to `Threading.count` threads.
///
/// Ranges hold at least `grain` items (except possibly the last); they are handed out
/// dynamically, so uneven work balances. `body` must only write to memory that no other range
/// writes. Nested calls run serially. Allocate per-call scratch inside `body` (once per range,
/// not per item).
public func parallelFor(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let (workers, opened) = Threading.enterRegion()
    defer { Threading.leaveRegion(opened: opened) }
    let grain = max(1, grain)
    if workers == 1 || count <= grain {
        body(0 ..< count)
        return
    }
    // About 4 ranges per worker for balance, but never below the grain.
    let chunk = max(grain, (count + 4 * workers - 1) / (4 * workers))
    let chunks = (count + chunk - 1) / chunk
    let next = ChunkCounter()
    // Audited escape hatch (STYLE.md §8 #6): concurrentPerform wants a @Sendable closure, but
    // `body` captures raw pointers. This is safe because every range is processed by exactly one
    // worker (the atomic counter hands each chunk out once), callers write disjoint memory per
    // range, and concurrentPerform returns only after every worker has finished.
    nonisolated(unsafe) let work = body
    let dispatch = gk_dispatch_state()
    DispatchQueue.concurrentPerform(iterations: min(workers, chunks)) { _ in
        let own = gk_dispatch_state()
        gk_set_dispatch_state(dispatch)
        defer { gk_set_dispatch_state(own) }
        while true {
            let c = next.value.wrappingAdd(1, ordering: .relaxed).oldValue
            if c >= chunks { break }
            let lo = c * chunk
            work(lo ..< min(count, lo + chunk))
        }
    }
}

/// Hands out chunk numbers to the workers of one `parallelFor` call.
private final class ChunkCounter: Sendable {
    let value = Atomic<Int>(0)
}
