// Guided filter (He, Sun, Tang 2010), colour-guide version: edge-aware smoothing of a soft mask
// p with an RGB frame I as the guide. Per window ω_k of radius r:
//   a_k = (Σ_k + ε U)⁻¹ (mean(I p) − mean(I) mean(p)),   b_k = mean(p) − a_kᵀ mean(I)
//   q_i = mean_k(a)ᵀ I_i + mean_k(b)
// Box means are normalised by the number of window pixels inside the image (no padding).
// Layout: guide = interleaved RGB bytes (scaled to [0, 1]), p and q = row-major Float W×H.
// The filter runs on a rectangular region of interest only; outside it q = p.

public enum GuidedFilter {
    /// Box mean of radius r over a W×H row-major plane (separable running sums), each window
    /// divided by its number of in-image pixels. `tmp` holds W×H floats of scratch.
    static func boxMean(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ w: Int, _ h: Int, _ r: Int,
                        _ tmp: UnsafeMutablePointer<Float>) {
        // Horizontal window sums into tmp, four rows at a time: four independent running sums
        // (a single one is a chain of dependent adds, one per pixel).
        var y = 0
        while y + 4 <= h {
            rowSums4(src + y * w, tmp + y * w, w, r)
            y += 4
        }
        while y < h { rowSums(src + y * w, tmp + y * w, w, r); y += 1 }
        // Vertical running sums of the row sums, row by row (contiguous, SIMD8), times the
        // reciprocal window area.
        let col = UnsafeMutablePointer<Float>.allocate(capacity: 2 * w)
        defer { col.deallocate() }
        let icx = col + w
        col.initialize(repeating: 0, count: w)
        for x in 0..<w { icx[x] = 1 / Float(min(x + r, w - 1) - max(x - r, 0) + 1) }
        for y in 0...min(r, h - 1) { addRow(col, tmp + y * w, w, 1) }
        for y in 0..<h {
            let icy = 1 / Float(min(y + r, h - 1) - max(y - r, 0) + 1)
            let out = dst + y * w
            var x = 0
            let vy = SIMD8<Float>(repeating: icy)
            while x + 8 <= w {
                store8(out, x, load8(UnsafePointer(col), x) * load8(UnsafePointer(icx), x) * vy)
                x += 8
            }
            while x < w { out[x] = col[x] * icx[x] * icy; x += 1 }
            let add = y + r + 1, sub = y - r
            if add < h { addRow(col, tmp + add * w, w, 1) }
            if sub >= 0 { addRow(col, tmp + sub * w, w, -1) }
        }
    }

    /// col[x] += sign · row[x].
    @inline(__always) static func addRow(_ col: UnsafeMutablePointer<Float>, _ row: UnsafePointer<Float>, _ w: Int, _ sign: Float) {
        var x = 0
        let s = SIMD8<Float>(repeating: sign)
        while x + 8 <= w { store8(col, x, load8(UnsafePointer(col), x) + s * load8(row, x)); x += 8 }
        while x < w { col[x] += sign * row[x]; x += 1 }
    }

    /// out[x] = Σ row[x − r ... x + r] (in-image terms only) for one row.
    @inline(__always) static func rowSums(_ row: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ w: Int, _ r: Int) {
        var s: Float = 0
        for x in 0...min(r, w - 1) { s += row[x] }
        for x in 0..<w {
            out[x] = s
            let add = x + r + 1, sub = x - r
            if add < w { s += row[add] }
            if sub >= 0 { s -= row[sub] }
        }
    }

    /// `rowSums` of four consecutive rows (stride w) in one pass: four independent running
    /// sums, branch-free in the middle part of the row.
    @inline(__always) static func rowSums4(_ row: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ w: Int, _ r: Int) {
        guard w > 2 * r + 1 else {
            for i in 0..<4 { rowSums(row + i * w, out + i * w, w, r) }
            return
        }
        let r0 = row, r1 = row + w, r2 = row + 2 * w, r3 = row + 3 * w
        let o0 = out, o1 = out + w, o2 = out + 2 * w, o3 = out + 3 * w
        var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
        for x in 0...r { s0 += r0[x]; s1 += r1[x]; s2 += r2[x]; s3 += r3[x] }
        // x < r: only the entering pixel; r ≤ x < w − r − 1: entering and leaving; then leaving only.
        for x in 0..<r {
            o0[x] = s0; o1[x] = s1; o2[x] = s2; o3[x] = s3
            let a = x + r + 1
            s0 += r0[a]; s1 += r1[a]; s2 += r2[a]; s3 += r3[a]
        }
        for x in r..<(w - r - 1) {
            o0[x] = s0; o1[x] = s1; o2[x] = s2; o3[x] = s3
            let a = x + r + 1, b = x - r
            s0 += r0[a] - r0[b]; s1 += r1[a] - r1[b]; s2 += r2[a] - r2[b]; s3 += r3[a] - r3[b]
        }
        for x in (w - r - 1)..<w {
            o0[x] = s0; o1[x] = s1; o2[x] = s2; o3[x] = s3
            let b = x - r
            s0 -= r0[b]; s1 -= r1[b]; s2 -= r2[b]; s3 -= r3[b]
        }
    }

    /// Filters `p` (W×H) guided by `rgb` (W×H×3 bytes) inside `roi`; returns the full-size result.
    public static func filter(p: [Float], rgb: [UInt8], width W: Int, height H: Int, roi: PixelBox,
                              radius r: Int, eps: Float) -> [Float] {
        var q = p
        let inside = roi.clipped(width: W, height: H)
        let x0 = inside.x, y0 = inside.y, w = inside.width, h = inside.height
        guard w > 0 && h > 0 else { return q }
        let n = w * h
        // Channels: 0-2 I, 3 p, 4-6 I·p, 7-12 IrIr IrIg IrIb IgIg IgIb IbIb.
        var buf = [Float](repeating: 0, count: 13 * n)
        var mean = [Float](repeating: 0, count: 13 * n)
        var tmp = [Float](repeating: 0, count: n)
        for y in 0..<h {
            for x in 0..<w {
                let i = y * w + x, s = (y + y0) * W + (x + x0)
                let r = Float(rgb[3 * s]) / 255, g = Float(rgb[3 * s + 1]) / 255, b = Float(rgb[3 * s + 2]) / 255
                let pv = p[s]
                buf[i] = r; buf[n + i] = g; buf[2 * n + i] = b; buf[3 * n + i] = pv
                buf[4 * n + i] = r * pv; buf[5 * n + i] = g * pv; buf[6 * n + i] = b * pv
                buf[7 * n + i] = r * r; buf[8 * n + i] = r * g; buf[9 * n + i] = r * b
                buf[10 * n + i] = g * g; buf[11 * n + i] = g * b; buf[12 * n + i] = b * b
            }
        }
        buf.withUnsafeBufferPointer { B in mean.withUnsafeMutableBufferPointer { M in
            let bp = SendableConstPointer(B.baseAddress!), mp = SendablePointer(M.baseAddress!)
            Parallel.forBands(13, minBand: 1) { chans in
                let t = UnsafeMutablePointer<Float>.allocate(capacity: n)
                defer { t.deallocate() }
                for c in chans { boxMean(bp.p + c * n, mp.p + c * n, w, h, r, t) }
            }
        } }
        // a (3 channels) and b per pixel, written over buf channels 0-3.
        for i in 0..<n {
            let mr = mean[i], mg = mean[n + i], mb = mean[2 * n + i], mpv = mean[3 * n + i]
            let cr = mean[4 * n + i] - mr * mpv, cg = mean[5 * n + i] - mg * mpv, cb = mean[6 * n + i] - mb * mpv
            let srr = mean[7 * n + i] - mr * mr + eps, srg = mean[8 * n + i] - mr * mg, srb = mean[9 * n + i] - mr * mb
            let sgg = mean[10 * n + i] - mg * mg + eps, sgb = mean[11 * n + i] - mg * mb, sbb = mean[12 * n + i] - mb * mb + eps
            // Inverse of the symmetric 3×3 covariance by cofactors.
            let i00 = sgg * sbb - sgb * sgb, i01 = srb * sgb - srg * sbb, i02 = srg * sgb - srb * sgg
            let i11 = srr * sbb - srb * srb, i12 = srb * srg - srr * sgb, i22 = srr * sgg - srg * srg
            let det = srr * i00 + srg * i01 + srb * i02
            let inv = det != 0 ? 1 / det : 0
            let ar = inv * (i00 * cr + i01 * cg + i02 * cb)
            let ag = inv * (i01 * cr + i11 * cg + i12 * cb)
            let ab = inv * (i02 * cr + i12 * cg + i22 * cb)
            buf[i] = ar; buf[n + i] = ag; buf[2 * n + i] = ab
            buf[3 * n + i] = mpv - ar * mr - ag * mg - ab * mb
        }
        buf.withUnsafeMutableBufferPointer { B in mean.withUnsafeMutableBufferPointer { M in
            let bp = SendableConstPointer(B.baseAddress!), mp = SendablePointer(M.baseAddress!)
            Parallel.forBands(4, minBand: 1) { chans in
                let t = UnsafeMutablePointer<Float>.allocate(capacity: n)
                defer { t.deallocate() }
                for c in chans { boxMean(bp.p + c * n, mp.p + c * n, w, h, r, t) }
            }
        } }
        for y in 0..<h {
            for x in 0..<w {
                let i = y * w + x, s = (y + y0) * W + (x + x0)
                let rr = Float(rgb[3 * s]) / 255, gg = Float(rgb[3 * s + 1]) / 255, bb = Float(rgb[3 * s + 2]) / 255
                q[s] = mean[i] * rr + mean[n + i] * gg + mean[2 * n + i] * bb + mean[3 * n + i]
            }
        }
        _ = tmp.count; tmp = []
        return q
    }
}

extension GuidedFilter {
    /// Naive twin of `filter` over the whole image: every window sum computed directly, in Double.
    static func filterNaive(p: [Float], rgb: [UInt8], width W: Int, height H: Int, radius r: Int, eps: Float) -> [Float] {
        func px(_ i: Int) -> [Double] { [Double(rgb[3 * i]) / 255, Double(rgb[3 * i + 1]) / 255, Double(rgb[3 * i + 2]) / 255] }
        var a = [[Double]](repeating: [0, 0, 0], count: W * H), b = [Double](repeating: 0, count: W * H)
        for y in 0..<H { for x in 0..<W {
            var mI = [0.0, 0, 0], mp = 0.0, mIp = [0.0, 0, 0], mII = [Double](repeating: 0, count: 9), c = 0.0
            for yy in max(0, y - r)...min(H - 1, y + r) { for xx in max(0, x - r)...min(W - 1, x + r) {
                let i = yy * W + xx, I = px(i), pv = Double(p[i])
                for k in 0..<3 { mI[k] += I[k]; mIp[k] += I[k] * pv; for l in 0..<3 { mII[3 * k + l] += I[k] * I[l] } }
                mp += pv; c += 1
            } }
            mI = mI.map { $0 / c }; mp /= c; mIp = mIp.map { $0 / c }; mII = mII.map { $0 / c }
            var S = [Double](repeating: 0, count: 9)
            for k in 0..<3 { for l in 0..<3 { S[3 * k + l] = mII[3 * k + l] - mI[k] * mI[l] + (k == l ? Double(eps) : 0) } }
            let cov = (0..<3).map { mIp[$0] - mI[$0] * mp }
            // Solve S a = cov by Cramer's rule.
            func det3(_ m: [Double]) -> Double {
                m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6])
            }
            let d = det3(S)
            var av = [0.0, 0, 0]
            for k in 0..<3 { var M = S; for row in 0..<3 { M[3 * row + k] = cov[row] }; av[k] = d != 0 ? det3(M) / d : 0 }
            a[y * W + x] = av; b[y * W + x] = mp - av[0] * mI[0] - av[1] * mI[1] - av[2] * mI[2]
        } }
        var q = [Float](repeating: 0, count: W * H)
        for y in 0..<H { for x in 0..<W {
            var ma = [0.0, 0, 0], mb = 0.0, c = 0.0
            for yy in max(0, y - r)...min(H - 1, y + r) { for xx in max(0, x - r)...min(W - 1, x + r) {
                let i = yy * W + xx
                for k in 0..<3 { ma[k] += a[i][k] }; mb += b[i]; c += 1
            } }
            let I = px(y * W + x)
            q[y * W + x] = Float((ma[0] * I[0] + ma[1] * I[1] + ma[2] * I[2] + mb) / c)
        } }
        return q
    }
}
