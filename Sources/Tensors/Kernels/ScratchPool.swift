// Reusable scratch buffers for the large temporaries of a product (the int8 matmul's quantised
// activations and int32 accumulators: up to 134 MB per call at the vision tower's MLP). A buffer
// taken from the pool and given back is reused by the next call instead of a fresh allocation,
// whose pages the kernel would fault in (and the memory cgroup charge) on every call — ≈ 5–8 % of
// an int8 vision tile's samples on the 2-core VM. Thread-safe; holds at most `capacity` buffers.
import Foundation

public final class ScratchPool: @unchecked Sendable {
    // @unchecked: `free` is read and written under `lock` only.
    private let lock = NSLock()
    private var free: [(pointer: UnsafeMutableRawPointer, bytes: Int)] = []
    private let capacity: Int

    /// The pool the products of the fast precisions share.
    public static let shared = ScratchPool(capacity: 4)

    public init(capacity: Int) { self.capacity = capacity }

    deinit { for b in free { b.pointer.deallocate() } }

    /// Runs `body` with a buffer of at least `bytes` bytes (64-byte aligned, contents undefined),
    /// taken from the pool (the smallest that fits) or allocated, and given back afterwards.
    public func with<R>(bytes: Int, _ body: (UnsafeMutableRawPointer) throws -> R) rethrows -> R {
        let need = max(bytes, 64)
        var buffer: (pointer: UnsafeMutableRawPointer, bytes: Int)? = lock.withLock {
            guard let i = free.indices.filter({ free[$0].bytes >= need }).min(by: { free[$0].bytes < free[$1].bytes }) else { return nil }
            return free.remove(at: i)
        }
        if buffer == nil { buffer = (UnsafeMutableRawPointer.allocate(byteCount: need, alignment: 64), need) }
        defer {
            let evicted: UnsafeMutableRawPointer? = lock.withLock {
                free.append(buffer!)
                guard free.count > capacity else { return nil }
                // Keep the largest buffers.
                let i = free.indices.min(by: { free[$0].bytes < free[$1].bytes })!
                return free.remove(at: i).pointer
            }
            evicted?.deallocate()
        }
        return try body(buffer!.pointer)
    }

    /// Bytes held by the pool's free buffers.
    public var bytesHeld: Int { lock.withLock { free.reduce(0) { $0 + $1.bytes } } }
}
