// The chat template around one user turn. GAR ships the PerceptionLM template (GAR-SPEC §5.1):
//
//   bos_token <|start_header_id|>system<|end_header_id|>\n\n SYSTEM <|eot_id|>
//   <|start_header_id|>user<|end_header_id|>\n\n <|image|>… trim(TEXT) <|eot_id|>
//   <|start_header_id|>assistant<|end_header_id|>\n\n
//
// with the template's default system prompt. The prompt builder only needs the text before the
// images and after the user text, so it renders a user turn holding a placeholder.
// TODO(tokenizers): render through Tokenizers' ChatTemplate (which also checks that the model
// directory's template is the PLM one) once it has landed on main.
import Foundation
import Tokenizers

struct PLMChatFrame {
    static let defaultSystemPrompt =
        "You are a helpful language and vision assistant. You are able to understand the visual content that the user provides, and assist the user with a variety of tasks using natural language."

    let bosToken: String

    init(directory: URL, tokenizer: Tokenizer) throws {
        guard let bos = tokenizer.specialTokens["bos_token"] else {
            throw ModelError.modelFiles(path: directory.path, problem: "the tokenizer config names no bos_token (the chat template starts with it)")
        }
        bosToken = bos
    }

    /// The rendered prompt for one user turn with text `userText` and no media items.
    func render(_ userText: String) throws -> String {
        bosToken + "<|start_header_id|>system<|end_header_id|>\n\n" + PLMChatFrame.defaultSystemPrompt + "<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\n" + TextCleanup.pythonStrip(userText) + "<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n"
    }
}
