// Prefix reuse across requests (issue 12 point 5): several questions about the same clip and
// regions share everything before the question's text (images, replayed regions, the template's
// head), so the KV cache of that shared prefix is computed once and each further question runs
// only its own rows.
//
// The shared prefix is never assumed from the template: it is the longest run of leading prompt
// rows whose decoder inputs are bit-identical — same token id at the same position and the same
// embedding row (an image or replay row equals only if the features and boxes do). The cache then
// holds the KV rows of the previous request; the next one keeps rows 0 ..< P ("truncate back":
// rows from P on, including the previous answer's tokens, are overwritten) and prefills P ..< L.
// At least the last prompt row always runs, since its output gives the first token's logits.
//
// Results equal those of a request run alone up to the summation order of the kernels on the
// rows that are run (a row's keys, values and outputs depend only on the rows before it); the
// tests check identical tokens and first-step logits within 1e-5 on the golden cases.
import Foundation

/// The KV cache of the last prompt a caller ran, kept for the next request. One per caller and
/// clip (e.g. per `gar ask` / `gar run` item); not for concurrent requests (it serialises them).
public final class PromptPrefixCache: @unchecked Sendable {
    // @unchecked: every field is read and written under `lock`, held for a whole request.
    private let lock = NSLock()
    private var state: DecoderState?
    private var decoder: ObjectIdentifier?
    /// The decoder inputs `[rows, D]` whose keys and values `state` holds (rows 0 ..< `rows`).
    private var inputs: [Float] = []
    private var rows = 0

    public init() {}

    /// Rows of the last request's prompt (0 before any).
    public var cachedRows: Int { lock.withLock { rows } }

    /// Runs `body` with a decoder state of at least `capacity` positions whose rows 0 ..< P
    /// already hold the keys and values of `embeds [L, D]`'s first P rows (P < L, P = 0 for a
    /// fresh state), and with `state.length == P`. Afterwards the cache remembers `embeds`.
    func withState<R>(decoder d: LlamaDecoder, embeds: [Float], rows L: Int, capacity: Int, chunkRows: Int,
                      _ body: (DecoderState, _ reused: Int) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        let D = d.spec.hiddenSize
        precondition(embeds.count == L * D && L > 0, "PromptPrefixCache: \(embeds.count) inputs for \(L) rows")
        var reused = 0
        if decoder == ObjectIdentifier(d), let old = state {
            reused = PromptPrefixCache.commonRows(inputs, embeds, width: D, limit: min(rows, L - 1))
            if old.capacity >= capacity && old.chunkRows == max(1, min(chunkRows, old.capacity)) {
                old.length = reused
            } else {
                let bigger = DecoderState(decoder: d, capacity: max(capacity, old.capacity), chunkRows: chunkRows)
                bigger.copyCache(from: old, rows: reused)
                state = bigger
            }
        } else {
            state = DecoderState(decoder: d, capacity: capacity, chunkRows: chunkRows)
        }
        decoder = ObjectIdentifier(d)
        // Until the body has run, the cached rows are only the shared prefix.
        rows = reused
        let s = state!
        let result = try body(s, reused)
        inputs = embeds
        rows = L
        return result
    }

    /// Leading rows (at most `limit`) of `a` and `b` (`[?, width]`) that are bit-identical.
    static func commonRows(_ a: [Float], _ b: [Float], width D: Int, limit: Int) -> Int {
        guard limit > 0 else { return 0 }
        return a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                var r = 0
                while r < limit && memcmp(ap.baseAddress! + r * D, bp.baseAddress! + r * D, D * 4) == 0 { r += 1 }
                return r
            }
        }
    }
}

extension DecoderState {
    /// Copies the keys and values of positions `0 ..< rows` from `other` (same decoder) and sets
    /// `length = rows`.
    func copyCache(from other: DecoderState, rows: Int) {
        precondition(rows <= capacity && rows <= other.capacity && keys.count == other.keys.count, "DecoderState.copyCache: shapes")
        let width = keys.isEmpty ? 0 : other.keys[0].count / other.capacity
        for i in keys.indices {
            keys[i].pointer.update(from: other.keys[i].pointer, count: rows * width)
            values[i].pointer.update(from: other.values[i].pointer, count: rows * width)
        }
        length = rows
    }
}
