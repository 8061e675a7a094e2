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

    /// The default on the running CPU: the fastest faithful mode — bf16 where the CPU has native
    /// bf16 dot products (`CPUFeatures.hasNativeBF16`, AVX512_BF16), else f32. Measured on an idle
    /// 2-core Sapphire Rapids, GAR-1B shape, `gar bench model --tiles 1 --prefill-len 512
    /// --decode-steps 16`: bf16 vs f32 vision 9.1 vs 11.1 s/tile, prefill 37.0 vs 30.0 tok/s, decode
    /// 8.62 vs 8.10 tok/s (README "Precision"). The exact path stays `--precision f32`.
    public static var cpuDefault: Precision { CPUFeatures.hasNativeBF16 ? .bf16 : .f32 }

    /// The accepted spellings, for error messages: "f32, bf16, int8".
    public static var choices: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
