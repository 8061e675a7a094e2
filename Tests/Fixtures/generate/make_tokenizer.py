#!/usr/bin/env python3
"""Builds the tiny test tokenizer with the Llama-3 / PerceptionLM / GAR tokenizer.json structure.

Output: Tests/Fixtures/tokenizer/ (tokenizer.json, tokenizer_config.json, special_tokens_map.json,
chat_template.jinja) — the files a real GAR checkpoint directory carries, written by the same
transformers code path (PreTrainedTokenizerFast.save_pretrained) that wrote the real ones.

Structure reproduced from Llama-3 (transformers' TikTokenConverter + PerceptionLM's Llama3Converter):
  * pre-tokenizer: Sequence[Split(Llama-3 regex, Isolated), ByteLevel(add_prefix_space=False, use_regex=False)]
  * model: BPE with ignore_merges=True, no unk, no byte fallback
  * decoder: ByteLevel
  * post-processor: Sequence[ByteLevel(trim_offsets=False), TemplateProcessing("<|begin_of_text|> $A")]
  * added tokens: the 256 PLM special tokens in PLM order (convert_perception_lm_weights_to_hf.py
    DEFAULT_SPECIAL_TOKENS), then GAR's <Prompt0..4>, <NO_Prompt> added with
    add_tokens(..., special_tokens=True) as GARModel does.
The BPE itself is trained with the `tokenizers` library on a small deterministic corpus, so the
ids are small (base vocab BASE_VOCAB) instead of 128000+.

Run (venv with the pinned reference stack, see Tests/Fixtures/README.md):
    python Tests/Fixtures/generate/make_tokenizer.py
"""
import json
import os
import random
import shutil
import sys
import tempfile

import tokenizers
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
import transformers
from transformers import PreTrainedTokenizerFast

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "tokenizer"))
BASE_VOCAB = 1200  # size of the trained BPE vocabulary (bytes + merges)

# Llama-3's pre-tokenizer regex (tiktoken cl100k-style), as in transformers' TikTokenConverter.
LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)

PLM_SPECIAL_TOKENS = [
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|image|>",
    "<|video|>",
    "<|reserved_special_token_2|>",
    "<|reserved_special_token_3|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|reserved_special_token_4|>",
    "<|eot_id|>",
] + [f"<|reserved_special_token_{i}|>" for i in range(5, 256 - 5)]

GAR_TOKENS = [f"<Prompt{i}>" for i in range(5)] + ["<NO_Prompt>"]

CHAT_TEMPLATE = (
    "{{- bos_token }}"
    "{%- if messages[0]['role'] == 'system' -%}"
    "    {%- set system_message = messages[0]['content']|trim %}\n"
    "    {%- set messages = messages[1:] %}\n"
    "{%- else %}"
    "    {%- set system_message = 'You are a helpful language and vision assistant. You are able to understand the visual content that the user provides, and assist the user with a variety of tasks using natural language.' %}"
    "{%- endif %}"
    "{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' }}"
    "{{- system_message }}"
    "{{- '<|eot_id|>' }}"
    "{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}"
    "{%- for content in message['content'] | selectattr('type', 'equalto', 'image') %}"
    "{{ '<|image|>' }}"
    "{%- endfor %}"
    "{%- for content in message['content'] | selectattr('type', 'equalto', 'video') %}"
    "{{ '<|video|>' }}"
    "{%- endfor %}"
    "{%- for content in message['content'] | selectattr('type', 'equalto', 'text') %}"
    "{{- content['text'] | trim }}"
    "{%- endfor %}"
    "{{'<|eot_id|>' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{%- endif %}"
)


def training_corpus():
    """Deterministic multilingual training text: English prose about images and regions,
    the prompt strings GAR uses, numbers, code-ish text, CJK, Cyrillic, accents and emoji."""
    rng = random.Random(1234)
    nouns = ["object", "region", "frog", "slipper", "person", "dog", "ball", "car", "tree", "cup",
             "table", "shadow", "bird", "window", "road", "wheel", "hand", "shirt", "light", "water"]
    adjs = ["bright", "green", "small", "large", "red", "wooden", "shiny", "dark", "striped", "round",
            "blue", "white", "soft", "metal", "old", "tiny", "curved", "tall", "yellow", "black"]
    verbs = ["moves", "jumps", "falls", "sits", "rolls", "turns", "stops", "appears", "leaves", "holds"]
    preps = ["on", "under", "behind", "next to", "in front of", "near", "above", "inside"]
    lines = [
        "There are some objects I am curious about: <Prompt0>; <Prompt1>;",
        "Describe this masked region in detail.",
        "You are a helpful language and vision assistant. You are able to understand the visual "
        "content that the user provides, and assist the user with a variety of tasks using natural language.",
        "Answer with the correct option's letter directly.",
        "What does <Prompt0> do after <Prompt1> falls?",
    ]
    for _ in range(3000):
        n1, n2 = rng.choice(nouns), rng.choice(nouns)
        s = (f"The {rng.choice(adjs)} {n1} {rng.choice(verbs)} {rng.choice(preps)} the "
             f"{rng.choice(adjs)} {n2}.")
        if rng.random() < 0.3:
            s += f" It's {rng.randint(0, 99999)} pixels wide; they've counted {rng.randint(1, 9)} times."
        if rng.random() < 0.2:
            s = s.upper() if rng.random() < 0.5 else s.capitalize()
        lines.append(s)
    extra = [
        "日本語のテキストと中文文本，还有한국어 문장。", "Привет, как дела? Всё хорошо.",
        "Café, naïve, résumé, Ångström, Straße.", "emoji 😀👍🏽 👨‍👩‍👧 🇫🇷 ❤️", "x = f(a, b) + 3.14 * [1, 2, 3]",
        "def main():\n    return 0\n", "\t\ttabs and  double  spaces   here\n\n", "1234567890 12 345 6789",
        "I'm, you're, we'll, they'd, it's, don't, I'VE, WE'RE", "<|not_special|> <Prompt9> <prompt0>",
    ]
    for _ in range(200):
        lines.append(rng.choice(extra))
    return lines


def build_tokenizer():
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=BASE_VOCAB,
        min_frequency=2,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[],
    )
    tok.train_from_iterator(training_corpus(), trainer=trainer)
    # Training replaces the model; restore Llama-3's BPE options (ignore_merges) by editing the JSON.
    spec = json.loads(tok.to_str())
    spec["model"]["ignore_merges"] = True
    spec["model"]["byte_fallback"] = False
    spec["model"]["fuse_unk"] = False
    tok = Tokenizer.from_str(json.dumps(spec))
    base = tok.get_vocab_size()
    # The 256 PLM special tokens take the next ids, in PLM order (as 128000..128255 do in the real one).
    tok.add_special_tokens([tokenizers.AddedToken(t, special=True, normalized=False) for t in PLM_SPECIAL_TOKENS])
    bos_id = tok.token_to_id("<|begin_of_text|>")
    assert bos_id == base, (bos_id, base)
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(
            single="<|begin_of_text|> $A",
            pair="<|begin_of_text|>:0 $A:0 <|begin_of_text|>:1 $B:1",
            special_tokens=[("<|begin_of_text|>", bos_id)],
        ),
    ])
    return tok


def main():
    tok = build_tokenizer()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|begin_of_text|>",
        eos_token="<|eot_id|>",
        pad_token="<|end_of_text|>",
        model_input_names=["input_ids", "attention_mask"],
        model_max_length=11520,
        clean_up_tokenization_spaces=True,
        extra_special_tokens={"image_token": "<|image|>", "video_token": "<|video|>"},
    )
    fast.chat_template = CHAT_TEMPLATE
    added = fast.add_tokens(GAR_TOKENS, special_tokens=True)  # as GraspAnyRegion._add_special_tokens
    assert added == len(GAR_TOKENS)
    tmp = tempfile.mkdtemp()
    fast.save_pretrained(tmp)
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    shutil.copytree(tmp, OUT)
    os.chmod(OUT, 0o755)
    shutil.rmtree(tmp)
    ids = {t: fast.convert_tokens_to_ids(t) for t in ["<|begin_of_text|>", "<|eot_id|>", "<|image|>",
           "<|reserved_special_token_2|>", "<Prompt0>", "<NO_Prompt>"]}
    print(f"wrote {OUT}: vocab {len(fast)} (trained BPE {BASE_VOCAB} + 256 PLM specials + 6 GAR tokens), ids {ids}")
    print("versions:", "tokenizers", tokenizers.__version__, "transformers", transformers.__version__)
    print(os.listdir(OUT))


if __name__ == "__main__":
    sys.exit(main())
