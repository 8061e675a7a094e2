// tokenizer_config.json and special_tokens_map.json: which token plays which role (bos, eos, pad,
// image, video, ...), whether decode cleans up spaces, and the chat template if stored there.
//
// Values may be a plain string or an AddedToken object ({"content": "...", ...}). As in
// transformers' from_pretrained, special_tokens_map.json overrides tokenizer_config.json.
// Roles are kept by their config key ("bos_token", "image_token"); ids are looked up by name in the
// vocabulary, never assumed.
import Foundation

struct TokenizerConfig {
    /// Role → token content, e.g. "bos_token" → "<|begin_of_text|>", "image_token" → "<|image|>",
    /// "additional_special_tokens[0]" → ....
    var specialTokens: [String: String] = [:]
    /// Role → the file it was read from (for error messages).
    var roleSource: [String: String] = [:]
    /// transformers 4.56 defaults this to false when the key is absent (save_pretrained writes it).
    var cleanUpTokenizationSpaces = false
    /// `chat_template` from tokenizer_config.json (string, or the "default" of a named list).
    var chatTemplate: String?
    /// `added_tokens_decoder` entries (id → token with flags), checked against tokenizer.json.
    var addedTokensDecoder: [(field: JSONField, token: AddedToken)] = []

    static func load(directory: URL) throws -> TokenizerConfig {
        var config = TokenizerConfig()
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        if FileManager.default.fileExists(atPath: configURL.path) {
            let root = try JSONField.load(configURL)
            _ = try root.members()
            config.cleanUpTokenizationSpaces = try root["clean_up_tokenization_spaces"].bool(default: false)
            try config.readAddedTokensDecoder(root["added_tokens_decoder"])
            try config.readRoles(root)
            if case .object(let extra)? = root["extra_special_tokens"].value {
                for key in extra.map(\.key) {
                    config.specialTokens[key] = try tokenContent(root["extra_special_tokens"][key])
                    config.roleSource[key] = "\(configURL.path): extra_special_tokens.\(key)"
                }
            }
            let template = root["chat_template"]
            if !template.isNull {
                if case let .string(s)? = template.value {
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
            _ = try root.members()
            try config.readRoles(root)
        }
        return config
    }

    static let roleKeys = ["bos_token", "eos_token", "pad_token", "unk_token", "sep_token", "cls_token",
                           "mask_token", "image_token", "video_token"]

    private mutating func readRoles(_ root: JSONField) throws {
        for key in Self.roleKeys where !root[key].isNull {
            specialTokens[key] = try Self.tokenContent(root[key])
            roleSource[key] = "\(root.file): \(key)"
        }
        let extra = root["additional_special_tokens"]
        if !extra.isNull {
            for (k, item) in try extra.array().enumerated() {
                specialTokens["additional_special_tokens[\(k)]"] = try Self.tokenContent(item)
                roleSource["additional_special_tokens[\(k)]"] = "\(root.file): \(item.path)"
            }
        }
    }

    /// transformers re-adds any `added_tokens_decoder` entry that differs from tokenizer.json's added
    /// tokens (changing flags or ids); we read them so the tokenizer can refuse such a mismatch.
    private mutating func readAddedTokensDecoder(_ field: JSONField) throws {
        if field.isNull { return }
        for (key, value) in try field.members() {
            let entry = field.child(key: key, value)
            guard let id = Int(key), id >= 0 else { throw entry.error("key is not a token id") }
            let special = try entry["special"].bool(default: false)
            addedTokensDecoder.append((entry, AddedToken(
                id: id, content: try entry["content"].string(),
                singleWord: try entry["single_word"].bool(default: false),
                lstrip: try entry["lstrip"].bool(default: false),
                rstrip: try entry["rstrip"].bool(default: false),
                normalized: try entry["normalized"].bool(default: !special),
                special: special)))
        }
    }

    private static func tokenContent(_ field: JSONField) throws -> String {
        if case let .string(s)? = field.value { return s }
        if case .object? = field.value { return try field["content"].string() }
        throw field.error("expected a token string or an object with \"content\"")
    }
}
