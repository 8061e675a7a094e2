// tokenizer_config.json and special_tokens_map.json: which token plays which role (bos, eos, pad,
// image, video, ...), whether decode cleans up spaces, and the chat template if stored there.
//
// Values may be a plain string or an AddedToken object ({"content": "...", ...}). As in
// transformers' from_pretrained, special_tokens_map.json overrides tokenizer_config.json.
// Roles are kept by their config key ("bos_token", "image_token"); ids are looked up by name in the
// vocabulary, never assumed.
import Foundation

struct TokenizerConfig {
    /// Role → token content, e.g. "bos_token" → "<|begin_of_text|>", "image_token" → "<|image|>".
    var specialTokens: [String: String] = [:]
    var cleanUpTokenizationSpaces = true
    /// `chat_template` from tokenizer_config.json (string, or the "default" of a named list).
    var chatTemplate: String?

    static func load(directory: URL) throws -> TokenizerConfig {
        var config = TokenizerConfig()
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        if FileManager.default.fileExists(atPath: configURL.path) {
            let root = try JSONField.load(configURL)
            _ = try root.object()
            // transformers' default for clean_up_tokenization_spaces has changed across versions;
            // the key is always written by save_pretrained, so a missing key means "true" (4.x).
            config.cleanUpTokenizationSpaces = try root["clean_up_tokenization_spaces"].bool(default: true)
            try config.readRoles(root)
            if let extra = try? root["extra_special_tokens"].object() {
                for key in extra.keys.sorted() {
                    config.specialTokens[key] = try tokenContent(root["extra_special_tokens"][key])
                }
            }
            let template = root["chat_template"]
            if !template.isNull {
                if let s = template.value as? String {
                    config.chatTemplate = s
                } else {
                    for item in try template.array() {
                        if try item["name"].string() == "default" { config.chatTemplate = try item["template"].string() }
                    }
                    if config.chatTemplate == nil {
                        throw template.error("named templates without a \"default\" entry are not supported")
                    }
                }
            }
        }
        let mapURL = directory.appendingPathComponent("special_tokens_map.json")
        if FileManager.default.fileExists(atPath: mapURL.path) {
            let root = try JSONField.load(mapURL)
            _ = try root.object()
            try config.readRoles(root)
        }
        return config
    }

    static let roleKeys = ["bos_token", "eos_token", "pad_token", "unk_token", "sep_token", "cls_token",
                           "mask_token", "image_token", "video_token"]

    private mutating func readRoles(_ root: JSONField) throws {
        for key in Self.roleKeys where !root[key].isNull {
            specialTokens[key] = try Self.tokenContent(root[key])
        }
    }

    private static func tokenContent(_ field: JSONField) throws -> String {
        if let s = field.value as? String { return s }
        if field.value is [String: Any] { return try field["content"].string() }
        throw field.error("expected a token string or an object with \"content\"")
    }
}
