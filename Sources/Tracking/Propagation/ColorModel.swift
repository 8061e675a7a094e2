// Colour histograms of an object and its surroundings, and the per-pixel posterior
// P(object | colour) = H_fg[q] / (H_fg[q] + H_bg[q]) with q the 16³-bin colour index
// (TRACKING.md §2.1 step 0). Layout: `posterior` has 4096 entries indexed by
// q = (R >> 4) · 256 + (G >> 4) · 16 + (B >> 4).

public struct ColorModel: Sendable {
    public static let bins = 16
    public let fg: [Float]          // normalised histograms (sum 1), smoothed: see init
    public let bg: [Float]
    public let posterior: [Float]
    /// Posterior with plain +1 smoothing of the raw counts (TRACKING.md's recipe): unseen colours
    /// get N_bg / (N_fg + N_bg). Offered for the fusion step (`FlowPropagator.Options`).
    public let posteriorPlusOne: [Float]
    let countsFg: [Float], countsBg: [Float]

    @inline(__always) static func index(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Int {
        (Int(r) >> 4) << 8 | (Int(g) >> 4) << 4 | (Int(b) >> 4)
    }

    /// Colour index of every pixel of an interleaved RGB buffer.
    public static func indices(_ rgb: [UInt8], count: Int) -> [UInt16] {
        var q = [UInt16](repeating: 0, count: count)
        rgb.withUnsafeBufferPointer { s in
            for i in 0..<count { q[i] = UInt16(index(s[3 * i], s[3 * i + 1], s[3 * i + 2])) }
        }
        return q
    }

    /// Builds the model from the object mask and a background region (the ring around it).
    /// Each class histogram gets a pseudo-count of (its pixel count / 4096) per bin, so a colour
    /// seen in neither class has posterior exactly ½ whatever the two regions' sizes (plain +1
    /// smoothing would give unseen colours Nbg / (Nfg + Nbg), often > 0.7).
    public init(indices q: [UInt16], object: Mask, background: Mask) {
        var hf = [Float](repeating: 0, count: 4096), hb = hf
        for i in 0..<q.count {
            if object.bits[i] != 0 { hf[Int(q[i])] += 1 } else if background.bits[i] != 0 { hb[Int(q[i])] += 1 }
        }
        self.init(countsFg: hf, countsBg: hb)
    }

    /// From raw class counts (both smoothings computed).
    init(countsFg hf: [Float], countsBg hb: [Float]) {
        countsFg = hf; countsBg = hb
        let nf = max(1, hf.reduce(0, +)), nb = max(1, hb.reduce(0, +))
        fg = hf.map { ($0 + nf / 4096) / (2 * nf) }; bg = hb.map { ($0 + nb / 4096) / (2 * nb) }
        var post = [Float](repeating: 0, count: 4096), post1 = post
        let sf = nf + 4096, sb = nb + 4096
        for k in 0..<4096 {
            post[k] = fg[k] / (fg[k] + bg[k])
            let a = (hf[k] + 1) / sf, b = (hb[k] + 1) / sb
            post1[k] = a / (a + b)
        }
        posterior = post; posteriorPlusOne = post1
    }

    /// Running update: class histograms mixed as (1 − rate) · self + rate · other, each
    /// normalised to its own class size first (so the mix does not depend on region sizes).
    public func blended(with other: ColorModel, rate: Float) -> ColorModel {
        let nf = max(1, countsFg.reduce(0, +)), nb = max(1, countsBg.reduce(0, +))
        let of = max(1, other.countsFg.reduce(0, +)), ob = max(1, other.countsBg.reduce(0, +))
        var hf = [Float](repeating: 0, count: 4096), hb = hf
        for k in 0..<4096 {
            hf[k] = nf * ((1 - rate) * countsFg[k] / nf + rate * other.countsFg[k] / of)
            hb[k] = nb * ((1 - rate) * countsBg[k] / nb + rate * other.countsBg[k] / ob)
        }
        return ColorModel(countsFg: hf, countsBg: hb)
    }

    /// The tracker's model: background = the ring dilate(mask, ringRadius) \ mask, or the whole
    /// complement when the ring has fewer than 100 pixels.
    public init(indices q: [UInt16], mask: Mask, ringRadius: Int = 40) {
        var ring = Morphology.dilate(mask, radius: ringRadius).subtracting(mask)
        if ring.area < 100 { ring = Mask(width: mask.width, height: mask.height, bits: mask.bits.map { $0 ^ 1 }) }
        self.init(indices: q, object: mask, background: ring)
    }

    /// Bhattacharyya coefficient between this model's object histogram and another histogram.
    public func bhattacharyya(_ h: [Float]) -> Float {
        var s: Float = 0
        for k in 0..<4096 { s += (fg[k] * h[k]).squareRoot() }
        return s
    }
}
