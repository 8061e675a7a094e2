#!/usr/bin/env python3
"""Writes the tokenizer parity goldens that the Swift Tokenizers tests compare against.

Reads the tiny Llama-3-structure tokenizer in Tests/Fixtures/tokenizer/ (written by make_tokenizer.py)
and writes, with a fixed seed:

  Tests/Fixtures/tokenizer-parity/corpus.json
      >= 2,000 strings (whitespace runs, digit runs, contractions in all cases, many scripts, emoji
      with ZWJ / skin tones / flags / keycaps, combining marks, special-token look-alikes, GAR prompt
      strings, very long words, the empty string) with, for each:
        split        lengths (in Unicode scalars) of the pieces of the Llama-3 Split pre-tokenizer
        ids          tokenizer.encode(text, add_special_tokens=False)
        ids_special  tokenizer.encode(text, add_special_tokens=True)
        decoded      tokenizer.decode(ids_special, skip_special_tokens=False)   (cleanup on, as configured)
        decoded_skip tokenizer.decode(ids_special, skip_special_tokens=True)
        gar          decoded_skip.strip()   (GAR-SPEC §15.2, the demo decode rule)
  Tests/Fixtures/tokenizer-parity/decode.json
      random id sequences (incl. specials, cut multi-byte characters, out-of-range ids) with the
      decoded text raw (tokenizers library) and through transformers (cleanup), with/without skip.
  Tests/Fixtures/tokenizer-parity/added_tokens.json
      extra added tokens with lstrip / rstrip / single_word / normalized / special flags, and the ids
      the library produces for texts that exercise them.
  Tests/Fixtures/tokenizer-parity/chat_template.json
      message lists and tokenizer.apply_chat_template(..., tokenize=False) output.
  Sources/Tokenizers/UnicodeClassTable.swift
      the \\p{L}, \\p{N} and \\s sets of the Oniguruma engine that `tokenizers` compiles the
      pre-tokenizer regex with, read off the library itself (so the Swift matcher uses exactly them).

Run (venv with the pinned reference stack, see Tests/Fixtures/README.md):
    python Tests/Fixtures/generate/make_tokenizer_goldens.py
"""
import json
import os
import random
import sys

import jinja2
import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, pre_tokenizers
import transformers
from transformers import AutoTokenizer

SEED = 20250611
FORMAT = 1
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
TOKENIZER_DIR = os.path.join(ROOT, "Tests", "Fixtures", "tokenizer")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "tokenizer-parity")
TABLE = os.path.join(ROOT, "Sources", "Tokenizers", "UnicodeClassTable.swift")

LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# ---------------------------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------------------------

WHITESPACE = [" ", "  ", "   ", "    ", "\t", "\t\t", " \t", "\t ", "\n", "\n\n", "\n\n\n", "\r\n", "\r",
              "\r\r\n", " \n", "\n ", " \n ", "  \n  ", " \t\n", "\u00a0", "\u00a0\u00a0", " \u00a0 ",
              "\u3000", "\u3000\u3000", "\u2028", "\u2029", "\u0085", "\u000b", "\u000c", "\u001c",
              "\u001d", "\u001e", "\u001f", "\u200b", "\ufeff", "\u180e", "\u2003", "\u2009", "\u202f",
              "\u205f", "\u1680", "\n\u00a0\n", "\t\u3000\n"]

SCRIPTS = [
    "我们今天去公园散步。", "中文文本，还有标点！", "漢字と仮名", "ひらがなとカタカナ、漢字まじりの文。",
    "カタカナ・テキスト", "ｶﾀｶﾅ半角", "안녕하세요 세계", "한국어 문장입니다.", "Съешь же ещё этих мягких булок",
    "Привет, как дела? Всё хорошо.", "مرحبا بالعالم", "السَّلَامُ عَلَيْكُمْ", "नमस्ते दुनिया", "हिन्दी में लिखा",
    "สวัสดีชาวโลก", "ภาษาไทยไม่มีช่องว่าง", "Καλημέρα κόσμε", "שלום עולם", "Tiếng Việt có dấu",
    "Ελληνικά ΚΕΦΑΛΑΙΑ", "Ærøskøbing Straße Ångström", "ĳsselmeer ǅ ǈ", "ქართული ენა", "Հայերեն",
    "ᠮᠣᠩᠭᠣᠯ", "ꦗꦮ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙", "𐌰𐌱𐌲 gothic", "𠜎𠜱𠝹 ext-b", "ꓮꓯ lisu",
]

EMOJI = ["😀", "👍", "👍🏽", "👍🏿", "👨‍👩‍👧‍👦", "👩🏽‍💻", "🧑🏿‍🤝‍🧑🏻", "🏳️‍🌈", "🇫🇷", "🇯🇵🇺🇸", "🇩🇪",
         "1️⃣", "#️⃣", "*️⃣", "❤️", "❤", "✌🏼", "🫠", "🦄", "👁‍🗨", "☺︎", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "😀😀😀", "🔥🔥"]

COMBINING = ["e\u0301", "n\u0303", "a\u0308\u0304", "\u0301", "\u0301\u0302a", "Z\u0324\u0354\u0367\u0311\u0313a\u0356",
             "o\u0336v\u0336e\u0336r", "c\u0327a", "क्\u200dष", "ก\u0e34\u0e48", "x\u20dd", "\u0915\u094d\u0937",
             "A\u030a", "i\u0307", "\u1100\u1161\u11a8"]

DIGIT_EXTRA = ["١٢٣", "٤٥٦٧", "०१२३", "１２３", "²³", "½", "¾", "Ⅻ", "ⅷ", "𝟙𝟚", "3.14159", "1,000,000",
               "-42", "+7", "2024-06-01", "0x1F", "1e-9", "12:30", "50%", "$9.99", "#1", "v2.0.1"]

PUNCT = [".", ",", "!", "?", "!?", "...", "…", "—", "–", "«", "»", "“", "”", "’", "‘", "(", ")", "[", "]", "{",
         "}", "@", "#", "$", "%", "^", "&", "*", "\\", "/", "~", "-", "--", ";", ":", "\"", "'", "''", "`",
         "¿", "¡", "。", "、", "！", "？", "・", "_", "__", "=", "==", "+", "<", ">", "|", "||", "§", "©",
         "™", "°", "±", "×", "÷", "→", "∑", "√", "∞", "♥", "★", "\u00ad", "\u200d", "\u2060", "\u0000",
         "\u0007", "\u007f", "\u0080", "\ue000", "\U000f0000", "\ufffd", "\uffff", "\U0010fffd"]

WORDS = ["the", "The", "THE", "object", "region", "frog", "slipper", "person", "dog", "ball", "car", "tree",
         "cup", "table", "shadow", "bird", "window", "road", "wheel", "hand", "shirt", "light", "water",
         "describe", "masked", "detail", "curious", "about", "pixels", "between", "a", "I", "you", "is",
         "naïve", "café", "résumé", "Ångström", "Straße", "ÉCOLE", "über", "jalapeño", "coöperate",
         "internationalization", "Supercalifragilisticexpialidocious", "x", "y", "ok", "OK", "Ok", "_id",
         "snake_case", "camelCase", "PascalCase", "kebab-case", "don", "won", "can", "it", "they", "we"]

CONTRACTION_SUFFIXES = ["s", "t", "re", "ve", "m", "ll", "d", "S", "T", "RE", "Re", "rE", "VE", "Ve", "vE", "M",
                        "LL", "Ll", "lL", "D", "\u017f", "\u017ft", "x", "", "'", "s'", "ss", "tt", "rem",
                        "dd", "ld", "e", "r", "v", "l", "1", " s", "\u2019s"]

SPECIAL_LOOKALIKES = [
    "<|eot_id|>", "<|eot_id|", "|eot_id|>", "<|eot_id|>>", "<<|eot_id|>", "<|EOT_ID|>", "<| eot_id |>",
    "<Prompt0>", "<Prompt1>", "<Prompt4>", "<Prompt5>", "<Prompt9>", "<prompt0>", "<PROMPT0>", "<Prompt0",
    "Prompt0>", "<NO_Prompt>", "<No_Prompt>", "<|image|>", "<|IMAGE|>", "< |image|>", "<|video|>",
    "<|image|><|image|>", "<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
    "<|end_header_id|>", "<|reserved_special_token_2|>", "<|reserved_special_token_250|>",
    "<|reserved_special_token_251|>", "<|reserved_special_token_|>", "<|reserved_special_token_2|",
    "<Prompt1><Prompt1>", "<|not_special|>", "<|", "|>", "<", ">", "<>", "<||>",
]


def gar_single_region_prompt(k=1, crop="<|reserved_special_token_3|>"):
    return (f"There are some objects I am curious about: <Prompt{k}>;\n<Prompt{k}>: " + crop * 256 +
            "Describe this masked region in detail.")


def gar_multi_region_prompt(ks, question):
    objects = "There are some objects I am curious about: " + "".join(f"<Prompt{k}>; " for k in ks)
    crops = {0: "<|reserved_special_token_2|>", 1: "<|reserved_special_token_3|>",
             2: "<|reserved_special_token_4|>", 3: "<|reserved_special_token_5|>",
             4: "<|reserved_special_token_6|>"}
    sub = "".join(f"<Prompt{k}>: " + crops[k] * 256 + "\n" for k in ks)
    return objects + "\n" + sub + "\n" + question


def rendered(user_text, images=1, system=None):
    sys_text = system or ("You are a helpful language and vision assistant. You are able to understand the "
                          "visual content that the user provides, and assist the user with a variety of tasks "
                          "using natural language.")
    return ("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n" + sys_text + "<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\n" + "<|image|>" * images + user_text.strip() +
            "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")


def hand_written_cases():
    vqa = ("Question: What is <Prompt0> doing?\nOptions:\nA. jumping\nB. sitting\nC. swimming\nD. eating\n"
           "Answer with the correct option's letter directly.")
    detailed = "Describe <Prompt0> in detail, including the relationship with <Prompt1>."
    cases = [
        "", " ", "a", "\n", "\t", "'", "''", "'s", "'S", "'\u017f", "'ll", "'LL", "'lL", "'re", "'Re", "'ve", "'m",
        "'d", "'t", "'x", "'sa", "'ss", "'lla", "'rem", "''s", "x's", "x'S", "don't", "DON'T", "Don'T", "I'm", "I'M",
        "we'll", "WE'LL", "they're", "THEY'RE", "you've", "YOU'VE", "she'd", "SHE'D", "it's", "IT'S", "'s's's",
        "rock 'n' roll", "'tis", "ma'am", "o'clock", "y'all", "don\u2019t", "L'\u00e9t\u00e9",
        "Hello world", "Hello  world", "Hello\tworld", "Hello\nworld", "Hello\r\nworld", "Hello \n world",
        "  leading", "trailing  ", "   ", "\n\n\n", " \n \n ", "\r\n\r\n", "\t\n\t", "a \u00a0b", "a\u3000b",
        "a\u2028b", "\u0085x", "x\u001cy", "x\u200by", "\ufeffBOM", "12345678901", "1", "12", "123", "1234",
        "12345", "123456789012", "a1b22c333d4444", "1 2 3", "1\n2", "３４５６７", "٣٤٥٦٧٨", "Ⅻ Ⅻ", "x²³⁴",
        "$1,234.56", "3.14.15", "...", "!!!", "?!", " .", " ,", " !", " ?", "word .", "word , word",
        "it ' s", " n't", "do n't", "I 'm", "he 's", "we 've", "they 're", "' ' '", "a ' b", "x . y",
        "<|eot_id|>", "<|begin_of_text|>", "<|begin_of_text|><|begin_of_text|>", "hello<|eot_id|>world",
        "hello <|eot_id|> world", "abc<|image|>def", "<|image|>" * 8, "<|image|> <|image|>", "<|eot_id|",
        "<Prompt0>", "<Prompt9>", "<prompt0>", "<Prompt0><Prompt1><Prompt2><Prompt3><Prompt4><NO_Prompt>",
        "x<Prompt0>y", " <Prompt0> ", "<<Prompt0>>", "<|reserved_special_token_250|>",
        "<|reserved_special_token_251|>", "<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>",
        gar_single_region_prompt(), gar_multi_region_prompt([0, 1], detailed),
        gar_multi_region_prompt([0, 1, 2], vqa), vqa, detailed,
        "There are some objects I am curious about: <Prompt1>;",
        rendered("There are some objects I am curious about: <Prompt1>;\n<Prompt1>: " +
                 "<|reserved_special_token_3|>" * 4 + "Describe this masked region in detail.", images=4),
        rendered(gar_single_region_prompt(), images=256),
        "a" * 300, "ab" * 200, "Z" * 1000, "1" * 500, "!" * 300, " " * 300, "\n" * 100, "é" * 200,
        "漢" * 300, "😀" * 100, "👨‍👩‍👧‍👦" * 20, "x" + "\u0301" * 50,
        "Supercalifragilisticexpialidocious" * 10, "pneumonoultramicroscopicsilicovolcanoconiosis",
        "https://example.com/path?query=1&x=y#frag", "user@example.com", "C:\\Users\\name\\file.txt",
        "def main():\n    return 0\n", "if (a && b) { x++; }", "<div class=\"x\">text</div>",
        "{\"json\": [1, 2, 3], \"k\": null}", "| col | col |\n|-----|-----|", "# Heading\n\n* item\n",
        "\u0000", "\u0001\u0002\u0003", "\u007f", "a\u0000b", "\ue000\uf8ff", "\U000f0000", "\U0010fffd",
        "\ufffd", "\ufffe", "\uffff", "\u00ad", "\u200d", "\u200c", "\u2060", "\u034f", "\u061c",
        "e\u0301", "\u0301", "\u0301abc", "abc\u0301", "\u0915\u094d\u0937", "ก\u0e34\u0e48",
        "1\ufe0f\u20e3", "🇫🇷🇩🇪", "🏳️‍🌈", "👍🏽", "A\u030a", "\u1100\u1161\u11a8",
        "日本語のテキストと中文文本，还有한국어 문장。", "Привет, как дела? Всё хорошо.",
        "Café, naïve, résumé, Ångström, Straße.", "emoji 😀👍🏽 👨‍👩‍👧 🇫🇷 ❤️",
        "x = f(a, b) + 3.14 * [1, 2, 3]", "\t\ttabs and  double  spaces   here\n\n",
        "1234567890 12 345 6789", "I'm, you're, we'll, they'd, it's, don't, I'VE, WE'RE",
        "<|not_special|> <Prompt9> <prompt0>",
    ]
    return cases


def random_word(rng):
    return rng.choice(WORDS)


def random_digits(rng):
    n = rng.randint(1, 12)
    return "".join(rng.choice("0123456789") for _ in range(n))


def random_contraction(rng):
    w = random_word(rng)
    suffix = rng.choice(CONTRACTION_SUFFIXES)
    s = w + "'" + suffix
    if rng.random() < 0.3:
        s = s.upper()
    elif rng.random() < 0.2:
        s = "".join(c.upper() if rng.random() < 0.5 else c for c in s)
    return s


def random_fragment(rng):
    kind = rng.random()
    if kind < 0.30:
        return random_word(rng)
    if kind < 0.38:
        return random_digits(rng)
    if kind < 0.43:
        return rng.choice(DIGIT_EXTRA)
    if kind < 0.52:
        return rng.choice(PUNCT)
    if kind < 0.59:
        return random_contraction(rng)
    if kind < 0.68:
        s = rng.choice(SCRIPTS)
        i = rng.randint(0, len(s) - 1)
        return s[i:i + rng.randint(1, len(s))]
    if kind < 0.75:
        return rng.choice(EMOJI)
    if kind < 0.80:
        return rng.choice(COMBINING)
    if kind < 0.86:
        return rng.choice(SPECIAL_LOOKALIKES)
    return rng.choice(WHITESPACE)


def random_string(rng, max_fragments):
    parts = []
    for _ in range(rng.randint(1, max_fragments)):
        parts.append(random_fragment(rng))
        r = rng.random()
        if r < 0.45:
            parts.append(" ")
        elif r < 0.60:
            parts.append(rng.choice(WHITESPACE))
    return "".join(parts)


def generated_cases(rng):
    cases = []
    # Whitespace runs between words, including every whitespace-like character we know of.
    for _ in range(150):
        cases.append(random_word(rng) + "".join(rng.choice(WHITESPACE) for _ in range(rng.randint(1, 4))) +
                     rng.choice([random_word(rng), random_digits(rng), rng.choice(PUNCT), ""]))
    # Digit runs of every length 1..12, alone and glued to letters and punctuation.
    for n in range(1, 13):
        for _ in range(8):
            d = "".join(rng.choice("0123456789") for _ in range(n))
            cases.append(rng.choice(["", " ", "x", "$", "-", "a "]) + d + rng.choice(["", " ", "px", ".", "%", "\n"]))
    # Contractions in all cases, in sentences.
    for _ in range(150):
        cases.append(" ".join(random_contraction(rng) for _ in range(rng.randint(1, 4))))
    # Scripts, single and mixed.
    for _ in range(120):
        cases.append(rng.choice(SCRIPTS) + rng.choice(["", " ", "\n", "。", ", "]) + rng.choice(SCRIPTS + WORDS))
    # Emoji sequences with modifiers.
    for _ in range(80):
        cases.append("".join(rng.choice(EMOJI) + rng.choice(["", " ", "", "x"]) for _ in range(rng.randint(1, 5))))
    # Combining marks after letters, digits, spaces and punctuation.
    for _ in range(60):
        base = rng.choice(["a", "Z", "1", " ", ".", "漢", "ก", "'", "\n"])
        marks = "".join(rng.choice("\u0300\u0301\u0302\u0303\u0308\u0327\u0336\u20dd\u0e34\u094d")
                        for _ in range(rng.randint(1, 4)))
        cases.append(base + marks + rng.choice(["", "b", " c", "1"]))
    # Special-token look-alikes inside words and sentences.
    for _ in range(150):
        la = rng.choice(SPECIAL_LOOKALIKES)
        cases.append(rng.choice(["", " ", "abc", "x ", "\n", "1"]) + la + rng.choice(["", " ", "def", "!", "\n", "2"]))
    # Very long words.
    for _ in range(20):
        cases.append("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(50, 400))))
    # Random mixtures (the bulk).
    while len(cases) < 1900:
        cases.append(random_string(rng, 12))
    return cases


def build_corpus():
    rng = random.Random(SEED)
    cases = hand_written_cases() + generated_cases(rng)
    seen, unique = set(), []
    for c in cases:
        if c not in seen:
            seen.add(c)
            unique.append(c)
    return unique


# ---------------------------------------------------------------------------------------------
# Goldens
# ---------------------------------------------------------------------------------------------

def split_lengths(splitter, text):
    return [b - a for _, (a, b) in splitter.pre_tokenize_str(text)]


def corpus_goldens(hf, raw):
    splitter = pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False)
    bos = hf.bos_token
    out = []
    for text in build_corpus():
        ids = hf.encode(text, add_special_tokens=False)
        ids_special = hf.encode(text, add_special_tokens=True)
        assert raw.encode(text, add_special_tokens=False).ids == ids, text
        assert raw.encode(text, add_special_tokens=True).ids == ids_special, text
        # Round trip: byte-level BPE with no normalizer reproduces the input exactly.
        assert raw.decode(ids_special, skip_special_tokens=False) == bos + text, text
        decoded = hf.decode(ids_special, skip_special_tokens=False)
        decoded_skip = hf.decode(ids_special, skip_special_tokens=True)
        out.append({"text": text, "split": split_lengths(splitter, text), "ids": ids,
                    "ids_special": ids_special, "decoded": decoded, "decoded_skip": decoded_skip,
                    "gar": decoded_skip.strip()})
    return out


def decode_goldens(hf, raw):
    rng = random.Random(SEED + 1)
    vocab = raw.get_vocab_size(with_added_tokens=True)
    sequences = []
    for _ in range(150):  # arbitrary ids: broken UTF-8 everywhere
        sequences.append([rng.randrange(vocab) for _ in range(rng.randint(1, 30))])
    for _ in range(100):  # mostly byte tokens (ids < 256 in the fixture) to cut multi-byte characters
        sequences.append([rng.randrange(256) for _ in range(rng.randint(1, 12))])
    for _ in range(100):  # real encodings cut at random places, with specials sprinkled in
        text = random_string(rng, 8)
        ids = raw.encode(text, add_special_tokens=True).ids
        a = rng.randint(0, len(ids))
        b = rng.randint(a, len(ids))
        cut = ids[a:b]
        if rng.random() < 0.5:
            cut.insert(rng.randint(0, len(cut)), rng.randrange(1200, vocab))
        sequences.append(cut)
    sequences += [[], [vocab], [vocab + 5, 0, 99999], [1200, 1209, 1456], [220, 220, 13], [220, 13, 220]]
    out = []
    for ids in sequences:
        out.append({"ids": ids,
                    "raw": raw.decode(ids, skip_special_tokens=False),
                    "raw_skip": raw.decode(ids, skip_special_tokens=True),
                    "decoded": hf.decode(ids, skip_special_tokens=False),
                    "decoded_skip": hf.decode(ids, skip_special_tokens=True),
                    "gar": hf.decode(ids, skip_special_tokens=True).strip()})
    return out


EXTRA_ADDED = [
    # content, special, normalized, lstrip, rstrip, single_word
    ("<mask>", True, False, True, False, False),
    ("[R]", True, False, False, True, False),
    ("<both>", True, False, True, True, False),
    ("cat", False, True, False, False, True),
    ("dog", False, True, False, False, False),
    ("ab", False, False, False, False, False),
    ("abc", False, False, False, False, False),
    ("é!", False, True, False, False, False),
    ("<|eot", False, False, False, False, False),
    ("the", False, True, False, False, False),
    ("ed", False, True, True, True, False),
    ("tok en", True, False, False, False, False),
    ("Ġhello", False, False, False, False, False),
    ("\u00a0x", False, False, False, False, True),
]

ADDED_TEXTS = [
    "a <mask> b", "a   <mask>b", "<mask>", "  <mask>  ", "x[R]   y", "[R]\n\nz", "q  <both>  r", "<both><both>",
    "cat", "a cat b", "concat", "cats", "cat_", "_cat", "cat1", "(cat)", "dog cat", "hotdog", "catdog",
    "ab", "abc", "abcd", "xabcx", "ababc", "café!", "é!é!", "<|eot_id|>", "<|eot", "<|eotx", "the theme",
    "bathe", "edited", "  ed  ", "a ed b", "tok en", "tok  en", "hello", " hello", "Ġhello", "\u00a0x",
    "a\u00a0x", "a \u00a0x b", "<mask><mask>", "[R][R]", "x <mask> [R] y", "red ed bed", "cat\u00a0x",
    "<Prompt0>cat<Prompt1>", "é", "ca\u0301t", "CAT", "the<mask>the",
]


def added_token_goldens():
    tok = Tokenizer.from_file(os.path.join(TOKENIZER_DIR, "tokenizer.json"))
    before = {t.content for t in tok.get_added_tokens_decoder().values()}
    for content, special, normalized, lstrip, rstrip, single_word in EXTRA_ADDED:
        t = AddedToken(content, single_word=single_word, lstrip=lstrip, rstrip=rstrip, normalized=normalized,
                       special=special)
        if special:
            tok.add_special_tokens([t])
        else:
            tok.add_tokens([t])
    spec = json.loads(tok.to_str())
    extra = [t for t in spec["added_tokens"] if t["content"] not in before]
    cases = []
    for text in ADDED_TEXTS:
        ids = tok.encode(text, add_special_tokens=False).ids
        ids_special = tok.encode(text, add_special_tokens=True).ids
        cases.append({"text": text, "ids": ids, "ids_special": ids_special,
                      "decoded": tok.decode(ids_special, skip_special_tokens=False),
                      "decoded_skip": tok.decode(ids_special, skip_special_tokens=True)})
    return {"added_tokens": extra, "cases": cases}


def chat_template_goldens(hf):
    img, vid = {"type": "image"}, {"type": "video"}

    def txt(t):
        return {"type": "text", "text": t}

    region = "There are some objects I am curious about: <Prompt1>;\n<Prompt1>: " + \
        "<|reserved_special_token_3|>" * 3 + "Describe this masked region in detail."
    conversations = [
        [{"role": "user", "content": [img, txt(region)]}],
        [{"role": "user", "content": [txt("What is this?")]}],
        [{"role": "user", "content": [txt("Describe."), img]}],
        [{"role": "user", "content": [img, img, img, txt("Compare the images.")]}],
        [{"role": "user", "content": [txt("first "), img, txt(" second"), vid, txt("\nthird\n"), img]}],
        [{"role": "user", "content": [vid, txt("What happens in the video?")]}],
        [{"role": "user", "content": [vid, vid, img]}],
        [{"role": "user", "content": []}],
        [{"role": "user", "content": [txt("")]}],
        [{"role": "user", "content": [txt("   \n\t  ")]}],
        [{"role": "user", "content": [txt("\n\n  padded both sides \t\n")]}],
        [{"role": "user", "content": [txt("\u00a0nbsp\u3000ideographic\u2028"), txt("\u001cfile sep\u001f"),
                                      txt("\u200bzero width\u200b"), txt("\u0085nel\u0085")]}],
        [{"role": "system", "content": "You are terse."}, {"role": "user", "content": [img, txt("Hi")]}],
        [{"role": "system", "content": "  \n spaced system prompt \n "}, {"role": "user", "content": [txt("x")]}],
        [{"role": "system", "content": ""}, {"role": "user", "content": [txt("empty system")]}],
        [{"role": "user", "content": [img, txt("What is it?")]},
         {"role": "assistant", "content": [txt("A frog.")]},
         {"role": "user", "content": [txt("What colour?")]}],
        [{"role": "system", "content": "S"},
         {"role": "user", "content": [txt("a")]},
         {"role": "assistant", "content": [txt(" b ")]},
         {"role": "user", "content": [img, txt("c")]}],
        [{"role": "user", "content": [txt("a")]}, {"role": "system", "content": [txt("late system")]}],
        [{"role": "tool", "content": [txt("custom role")]}],
        [{"role": "user", "content": [txt("<|eot_id|> inside text <Prompt0>")]}],
        [{"role": "user", "content": [txt("multi\nline\n\ntext"), txt("second item"), txt("third")]}],
        [{"role": "user", "content": [txt("日本語 😀 ok")]}],
    ]
    out = []
    for messages in conversations:
        for gen in (True, False):
            text = hf.apply_chat_template(messages, tokenize=False, add_generation_prompt=gen)
            out.append({"messages": messages, "add_generation_prompt": gen, "text": text})
    return out


# ---------------------------------------------------------------------------------------------
# Unicode class table (read off the library's regex engine)
# ---------------------------------------------------------------------------------------------

def class_members(pattern, scalars, text):
    pt = pre_tokenizers.Split(Regex(pattern), behavior="removed")
    keep = bytearray(len(scalars))
    for _, (a, b) in pt.pre_tokenize_str(text):
        for i in range(a, b):
            keep[i] = 1
    return [scalars[i] for i in range(len(scalars)) if not keep[i]]


def to_ranges(members):
    out = []
    for c in members:
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return out


def write_unicode_table():
    scalars = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    text = "".join(map(chr, scalars))
    letters = to_ranges(class_members(r"\p{L}", scalars, text))
    numbers = to_ranges(class_members(r"\p{N}", scalars, text))
    spaces = to_ranges(class_members(r"\s", scalars, text))
    fold_s = class_members(r"(?i:s)", scalars, text)
    assert fold_s == [0x53, 0x73, 0x17F], fold_s  # the matcher hard-codes U+017F for (?i:'s)
    for letter in "trevmld":
        assert class_members(f"(?i:{letter})", scalars, text) == [ord(letter.upper()), ord(letter)], letter

    def fmt(ranges):
        items = [f"0x{a:X}, 0x{b:X}," for a, b in ranges]
        lines, line = [], "        "
        for item in items:
            if len(line) + len(item) + 1 > 112:
                lines.append(line.rstrip())
                line = "        "
            line += item + " "
        lines.append(line.rstrip())
        return "\n".join(lines)

    src = f"""// GENERATED by Tests/Fixtures/generate/make_tokenizer_goldens.py — do not edit.
//
// The character classes \\p{{L}}, \\p{{N}} and \\s exactly as the Oniguruma engine inside the Python
// `tokenizers` {tokenizers.__version__} library defines them (the engine that runs the Llama-3
// pre-tokenizer regex). They were read off the library by splitting a string of every Unicode scalar
// with each class, so the Swift matcher agrees with it on every code point, including ones newer than
// the Unicode version of Swift's standard library.
//
// Layout: flat [first, last, first, last, ...] inclusive scalar ranges, sorted, non-overlapping.
// Sizes: letters {len(letters)} ranges, numbers {len(numbers)} ranges, whitespace {len(spaces)} ranges.
// (?i:...) case folding used by the contraction alternative: only 's' also matches U+017F (long s).

enum UnicodeClassTable {{
    static let letterRanges: [UInt32] = [
{fmt(letters)}
    ]

    static let numberRanges: [UInt32] = [
{fmt(numbers)}
    ]

    static let whitespaceRanges: [UInt32] = [
{fmt(spaces)}
    ]
}}
"""
    with open(TABLE, "w", encoding="utf-8") as f:
        f.write(src)
    return len(letters), len(numbers), len(spaces)


def dump(name, payload):
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    return os.path.getsize(path)


def main():
    os.makedirs(OUT, exist_ok=True)
    hf = AutoTokenizer.from_pretrained(TOKENIZER_DIR)
    raw = Tokenizer.from_file(os.path.join(TOKENIZER_DIR, "tokenizer.json"))
    assert hf.clean_up_tokenization_spaces is True
    header = {"format": FORMAT, "generator": "Tests/Fixtures/generate/make_tokenizer_goldens.py", "seed": SEED,
              "tokenizer": "Tests/Fixtures/tokenizer",
              "versions": {"tokenizers": tokenizers.__version__, "transformers": transformers.__version__,
                           "jinja2": jinja2.__version__, "python": sys.version.split()[0]}}
    corpus = corpus_goldens(hf, raw)
    sizes = {
        "corpus.json": dump("corpus.json", {**header, "pattern": LLAMA3_PATTERN, "cases": corpus}),
        "decode.json": dump("decode.json", {**header, "cases": decode_goldens(hf, raw)}),
        "added_tokens.json": dump("added_tokens.json", {**header, **added_token_goldens()}),
        "chat_template.json": dump("chat_template.json", {**header, "cases": chat_template_goldens(hf)}),
    }
    table = write_unicode_table()
    print(f"corpus: {len(corpus)} strings; files: {sizes}; unicode ranges (L, N, S): {table}")


if __name__ == "__main__":
    sys.exit(main())
