// The compute precision of the model's weight matrix products (the GEMM backend), chosen by the
// caller at load time (`GARModel.load(directory:precision:)`); model files never choose kernels.
import CKernels

public enum Precision: String, Sendable, CaseIterable, Codable {
    /// The exact path: f32 arithmetic (bf16-stored weights widened exactly). Parity with the
    /// PyTorch fp32 reference; what the golden tests run.
    case f32
    /// bf16 inputs, f32 accumulation (oneDNN matmul on weights packed at load).
    case bf16
    /// int8 weights (per output channel), activations quantised per row for GEMMs (oneDNN int8
    /// matmul) and kept f32 for one-row decode steps (weight-only int8 GEMV). Not faithful enough
    /// to be a default (README "Precision faithfulness").
    case int8

    /// The default on the running CPU: the fastest faithful mode — bf16 where bf16 products
    /// outrun f32 ones (`CPUFeatures.hasFastBF16`: AMX), else f32. Native AVX512_BF16 without AMX
    /// is not enough: on the 2-core Sapphire Rapids development VM its dot product runs at half the
    /// f32 FMA rate, and once the f32 path's GEMMs ran on oneDNN's f32 matmul instead of the
    /// misdetected OpenBLAS, f32 was faster than bf16 on every GEMM-bound stage (README "Measured").
    /// The exact path is `--precision f32` everywhere.
    public static var cpuDefault: Precision { CPUFeatures.hasFastBF16 ? .bf16 : .f32 }

    /// The accepted spellings, for error messages: "f32, bf16, int8".
    public static var choices: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
