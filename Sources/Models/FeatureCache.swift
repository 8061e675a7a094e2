// Reuse of projected vision features across requests (issue 6 item 5): several questions about the
// same clip see the same frames and masks, so the tower runs once per (frame, union mask). The
// caller supplies the key and is responsible for it identifying BOTH the pixels and the union mask
// of the regions (e.g. "video.mp4#frame=12#masks=<hash>"); the cache never looks inside.
import Synchronization
import Tensors

/// A thread-safe LRU map from caller keys to projected features `[tiles·256, D]`.
public final class FeatureCache: Sendable {
    private struct State {
        var entries: [String: (features: Tensor, lastUse: UInt64)] = [:]
        var bytes = 0
        var clock: UInt64 = 0
        var hits = 0
        var misses = 0
    }

    /// Most bytes kept; the least recently used entries are dropped beyond it.
    public let capacityBytes: Int
    private let state = Mutex(State())

    /// `capacityBytes`: 1 GB by default (a GAR-1B frame's features take 2 MB).
    public init(capacityBytes: Int = 1 << 30) {
        self.capacityBytes = capacityBytes
    }

    public func get(_ key: String) -> Tensor? {
        state.withLock { s in
            guard let e = s.entries[key] else { s.misses += 1; return nil }
            s.clock += 1
            s.entries[key] = (e.features, s.clock)
            s.hits += 1
            return e.features
        }
    }

    public func put(_ key: String, _ features: Tensor) {
        let size = features.count * 4
        guard size <= capacityBytes else { return }
        state.withLock { s in
            if let old = s.entries[key] { s.bytes -= old.features.count * 4 }
            s.clock += 1
            s.entries[key] = (features, s.clock)
            s.bytes += size
            while s.bytes > capacityBytes, let victim = s.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                s.bytes -= victim.value.features.count * 4
                s.entries.removeValue(forKey: victim.key)
            }
        }
    }

    /// (hits, misses) so far.
    public var statistics: (hits: Int, misses: Int) { state.withLock { ($0.hits, $0.misses) } }
    public var count: Int { state.withLock { $0.entries.count } }

    public func removeAll() { state.withLock { $0.entries.removeAll(); $0.bytes = 0 } }
}
