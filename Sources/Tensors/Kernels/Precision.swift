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

    /// The default on the running CPU. For now f32 everywhere: the faithful bf16 mode (split
    /// activations) has not yet been measured faster end to end on an idle machine — under load its
    /// decoding was slower than f32's own bf16 GEMV — so it is opt-in (`--precision bf16`,
    /// GAR_PRECISION=bf16) until a benchmark shows it faster (issue 12). The rule it will take:
    /// bf16 where the CPU has native bf16 dot products (`CPUFeatures.hasNativeBF16`), else f32.
    public static var cpuDefault: Precision { .f32 }

    /// The accepted spellings, for error messages: "f32, bf16, int8".
    public static var choices: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
