// Tokenizers module. See ../../README.md and ARCHITECTURE.md §1 for its place in the target DAG.
public enum TokenizersModule {
    public static let name = "Tokenizers"
}
