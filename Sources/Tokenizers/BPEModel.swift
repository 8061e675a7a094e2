// Byte-level BPE model (tokenizers `models/bpe/model.rs` + `word.rs`), on raw bytes.
//
// A pre-token arrives as raw UTF-8 bytes. Each byte is one symbol of the byte-level alphabet, so the
// initial symbols are the vocabulary ids of single bytes. Then:
//   * ignore_merges (Llama-3): if the whole pre-token is a vocabulary entry, emit it and stop;
//   * otherwise merge: repeatedly apply the adjacent pair with the lowest merge rank (leftmost first
//     among equal ranks) until no adjacent pair has a merge. The library does this with a min-heap of
//     (rank, position) entries and skips stale entries; we do the same with a heap of packed
//     `rank << 32 | position` keys, so the result is identical by construction.
// A byte with no vocabulary entry is dropped when the model has no unk_token (as the library does),
// or becomes unk_token (fused with its neighbours when fuse_unk).

final class BPEModel: Sendable {
    /// Model vocabulary: raw bytes of each token → id (tokens whose characters are all in the
    /// byte-level alphabet; others can never be produced by encoding).
    let vocabBytes: ByteStringTable
    /// Id of each single byte's token, -1 when the byte has no token.
    let byteIDs: [Int32]
    /// (left id << 32 | right id) → (rank << 32 | merged id).
    let merges: UInt64Table
    let ignoreMerges: Bool
    let unkID: Int32?
    let fuseUnk: Bool

    init(vocabBytes: ByteStringTable, byteIDs: [Int32], merges: UInt64Table, ignoreMerges: Bool,
         unkID: Int32?, fuseUnk: Bool) {
        self.vocabBytes = vocabBytes
        self.byteIDs = byteIDs
        self.merges = merges
        self.ignoreMerges = ignoreMerges
        self.unkID = unkID
        self.fuseUnk = fuseUnk
    }

    /// Per-call working memory, reused across the pre-tokens of one encode call.
    struct Scratch {
        var ids: [Int32] = []
        var prev: [Int32] = []
        var next: [Int32] = []
        var alive: [Bool] = []
        var heap: [UInt64] = []
    }

    /// Appends the ids of the pre-token `word` (raw bytes) to `out`.
    func encode(_ word: UnsafeRawBufferPointer, into out: inout [Int], scratch s: inout Scratch) {
        guard !word.isEmpty else { return }
        if ignoreMerges, let id = vocabBytes.lookup(word) {
            out.append(Int(id))
            return
        }
        if word.count == 1 {
            let id = byteIDs[Int(word[0])]
            if id >= 0 { out.append(Int(id)) } else if let unkID { out.append(Int(unkID)) }
            return
        }

        // Initial symbols (merge_word): one per byte; unknown bytes → unk (fused or not) or dropped.
        s.ids.removeAll(keepingCapacity: true)
        var pendingUnk = false
        for b in word {
            let id = byteIDs[Int(b)]
            if id >= 0 {
                if pendingUnk, let unkID { s.ids.append(unkID); pendingUnk = false }
                s.ids.append(id)
            } else if unkID != nil {
                if pendingUnk && !fuseUnk { s.ids.append(unkID!) }
                pendingUnk = true
            }
        }
        if pendingUnk, let unkID { s.ids.append(unkID) }

        mergeAll(&s)

        for k in 0..<s.ids.count where s.alive[k] {
            out.append(Int(s.ids[k]))
        }
    }

    /// `Word::merge_all` without dropout. Symbols form a doubly linked list over `s.ids`; merged-away
    /// symbols are marked dead. Heap entries are `rank << 32 | position of the left symbol`.
    private func mergeAll(_ s: inout Scratch) {
        let n = s.ids.count
        s.prev.removeAll(keepingCapacity: true)
        s.next.removeAll(keepingCapacity: true)
        s.alive.removeAll(keepingCapacity: true)
        s.heap.removeAll(keepingCapacity: true)
        for k in 0..<n {
            s.prev.append(Int32(k - 1))
            s.next.append(k + 1 < n ? Int32(k + 1) : -1)
            s.alive.append(true)
        }
        for k in 0..<max(n - 1, 0) {
            if let m = merges.get(pairKey(s.ids[k], s.ids[k + 1])) {
                heapPush(&s.heap, (m & 0xFFFF_FFFF_0000_0000) | UInt64(k))
            }
        }

        while let top = heapPop(&s.heap) {
            let pos = Int(top & 0xFFFF_FFFF)
            let rank = top >> 32
            guard s.alive[pos] else { continue }
            let right = Int(s.next[pos])
            guard right >= 0 else { continue }
            // Stale entry? The pair at `pos` must still be the one this entry was made for. Ranks are
            // unique per pair, so comparing ranks is the library's comparison of merged ids.
            guard let m = merges.get(pairKey(s.ids[pos], s.ids[right])), m >> 32 == rank else { continue }

            s.ids[pos] = Int32(truncatingIfNeeded: m & 0xFFFF_FFFF)
            s.alive[right] = false
            let after = Int(s.next[right])
            s.next[pos] = Int32(after)
            if after >= 0 { s.prev[after] = Int32(pos) }

            let before = Int(s.prev[pos])
            if before >= 0, let m2 = merges.get(pairKey(s.ids[before], s.ids[pos])) {
                heapPush(&s.heap, (m2 & 0xFFFF_FFFF_0000_0000) | UInt64(before))
            }
            if after >= 0, let m2 = merges.get(pairKey(s.ids[pos], s.ids[after])) {
                heapPush(&s.heap, (m2 & 0xFFFF_FFFF_0000_0000) | UInt64(pos))
            }
        }
    }

    @inline(__always)
    func pairKey(_ a: Int32, _ b: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
    }
}

// MARK: - Binary min-heap on UInt64 keys

@inline(__always)
private func heapPush(_ h: inout [UInt64], _ key: UInt64) {
    h.append(key)
    var i = h.count - 1
    while i > 0 {
        let parent = (i - 1) / 2
        guard h[parent] > key else { break }
        h[i] = h[parent]
        i = parent
    }
    h[i] = key
}

@inline(__always)
private func heapPop(_ h: inout [UInt64]) -> UInt64? {
    guard let last = h.popLast() else { return nil }
    guard !h.isEmpty else { return last }
    let top = h[0]
    var i = 0
    let n = h.count
    while true {
        let l = 2 * i + 1
        guard l < n else { break }
        let r = l + 1
        let c = (r < n && h[r] < h[l]) ? r : l
        guard h[c] < last else { break }
        h[i] = h[c]
        i = c
    }
    h[i] = last
    return top
}
