// Prefix reuse across requests (issue 12 point 5): several questions about the same clip and
// regions share everything before the question's text (images, replayed regions, the template's
// head), so the KV cache of that shared prefix is computed once and each further question runs
// only its own rows.
//
// The shared prefix is never assumed from the template: it is the longest run of leading prompt
// rows whose decoder inputs are bit-identical — same token id at the same position and the same
// embedding row (an image or replay row equals only if the features and boxes do). Rows are
// compared by a 128-bit digest of their bytes (two independently keyed SipHash passes), so the
// cache keeps 16 bytes per row instead of the previous prompt's inputs (GAR-1B, 8k rows: 128 KB
// instead of 65 MB held while the next prompt's inputs are built). The cache then
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
    /// Digests of the decoder input rows whose keys and values `state` holds (rows 0 ..< `rows`).
    private var digests: [RowDigest] = []
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
        let newDigests = PromptPrefixCache.rowDigests(embeds, width: D)
        if decoder == ObjectIdentifier(d), let old = state {
            reused = PromptPrefixCache.commonRows(digests, newDigests, limit: min(rows, L - 1))
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
        digests = newDigests
        rows = L
        return result
    }

    /// A row's 128-bit digest: two SipHash passes over its bytes with different keys.
    struct RowDigest: Equatable {
        var a: Int
        var b: Int
    }

    /// Keys of the two passes, drawn once per process (Hasher is seeded per process too).
    private static let salts = (UInt64.random(in: .min ... .max), UInt64.random(in: .min ... .max))

    /// Digests of the rows of `x [?, width]`.
    static func rowDigests(_ x: [Float], width D: Int) -> [RowDigest] {
        x.withUnsafeBytes { raw in
            (0 ..< x.count / D).map { r in
                let row = UnsafeRawBufferPointer(rebasing: raw[r * D * 4 ..< (r + 1) * D * 4])
                var h1 = Hasher(), h2 = Hasher()
                h1.combine(salts.0)
                h2.combine(salts.1)
                h1.combine(bytes: row)
                h2.combine(bytes: row)
                return RowDigest(a: h1.finalize(), b: h2.finalize())
            }
        }
    }

    /// Leading rows (at most `limit`) whose digests agree.
    static func commonRows(_ a: [RowDigest], _ b: [RowDigest], limit: Int) -> Int {
        var r = 0
        while r < min(limit, a.count, b.count) && a[r] == b[r] { r += 1 }
        return r
    }
}

extension DecoderState {
    /// Copies the keys and values of positions `0 ..< rows` from `other` (same decoder) and sets
    /// `length = rows`.
    func copyCache(from other: DecoderState, rows: Int) {
        cache.copy(from: other.cache, rows: rows)
        length = rows
    }
}
