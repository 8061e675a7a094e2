#!/usr/bin/env python3
"""llama.cpp side of `gar bench model --llama-cpp PY`: the GAR checkpoint's Llama decoder as GGUF,
timed with llama-cpp-python on the same token ids and thread count as gar.

1. Writes the decoder (embeddings, 16 layers, final norm; the LM head is tied to the embeddings) of a
   GAR checkpoint directory as GGUF files with the `gguf` package: BF16 (the checkpoint's bf16 bits,
   exact) and Q8_0 (llama.cpp's 8-bit blocks of 32 with one f16 scale). No tokenizer: the files say
   `tokenizer.ggml.model = none` (llama.cpp's "no vocab" mode with `llama.vocab_size` dummy tokens),
   and token ids are fed directly. The files are written once per checkpoint and reused (a stamp
   file records the checkpoint's size and modification time).
2. Loads each with llama-cpp-python's C API (llama_decode on a llama_batch_get_one batch, the way
   llama-bench feeds a prompt: n_batch 2048, n_ubatch 512) and measures:
     * prefill: one pass over N token ids on an empty KV cache, for each N of --prefill;
     * decode: --decode-steps greedy one-token steps after a prefill of --decode-context ids;
     * check: the logits after --check-ids (first generation step), written as raw little-endian
       float32 to --out-dir/check-logits-<type>.f32 for gar to compare with its own.
   A 16-token warm-up runs before the timings of each file.
Prints one JSON object on stdout.

Needs: pip install llama-cpp-python gguf numpy (llama-cpp-python builds llama.cpp from source; keep
it in its own venv, e.g. /work/venv/llamacpp). Usage:
    python bench/llamacpp/bench_llamacpp.py --model /tmp/gar-1b-random --gguf-dir /tmp/gar-gguf \
        --threads 2 --prefill 512,1024 --decode-context 1024 --decode-steps 16
"""
import argparse
import ctypes
import glob
import json
import math
import os
import resource
import struct
import sys
import time

import numpy as np

# The checkpoint's decoder keys (GAR = PerceptionLM whose language model is a Llama).
PREFIX = "mllm.model.language_model."
# Hugging Face Llama tensor name (after "layers.N.") -> GGUF name (after "blk.N.").
LAYER_KEYS = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}
TOP_KEYS = {"embed_tokens.weight": "token_embd.weight", "norm.weight": "output_norm.weight"}
TYPES = ("bf16", "q8_0")


def gguf_name(hf_name):
    """GGUF tensor name of a checkpoint key, or None for a key outside the decoder."""
    if not hf_name.startswith(PREFIX):
        return None
    rest = hf_name[len(PREFIX):]
    if rest in TOP_KEYS:
        return TOP_KEYS[rest]
    parts = rest.split(".", 2)
    if len(parts) == 3 and parts[0] == "layers" and parts[2] in LAYER_KEYS:
        return f"blk.{int(parts[1])}.{LAYER_KEYS[parts[2]]}"
    return None


def permute_rope(w, n_head):
    """Rows of a q/k projection from Hugging Face's rotate-half order to llama.cpp's interleaved
    RoPE pairs (what convert_hf_to_gguf.py's LlamaModel.permute does)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def llama3_rope_factors(text):
    """The `rope_freqs` tensor of a llama3-scaled RoPE (convert_hf_to_gguf.py's formula), or None."""
    scaling = text.get("rope_scaling") or {}
    if scaling.get("rope_type", scaling.get("type", "")).lower() != "llama3":
        return None
    dim = text.get("head_dim") or text["hidden_size"] // text["num_attention_heads"]
    base = text.get("rope_theta", 10000.0)
    factor = scaling.get("factor", 8.0)
    low, high = scaling.get("low_freq_factor", 1.0), scaling.get("high_freq_factor", 4.0)
    old = scaling.get("original_max_position_embeddings", 8192)
    factors = []
    for i in range(0, dim, 2):
        wavelen = 2 * math.pi / (1.0 / base ** (i / dim))
        if wavelen < old / high:
            factors.append(1.0)
        elif wavelen > old / low:
            factors.append(factor)
        else:
            smooth = (old / wavelen - low) / (high - low)
            factors.append(1 / ((1 - smooth) / factor + smooth))
    return np.array(factors, dtype=np.float32)


def read_safetensors(directory):
    """{name: (dtype, shape, numpy view of the raw bytes)} over the directory's *.safetensors (memory-mapped)."""
    tensors = {}
    files = sorted(glob.glob(os.path.join(directory, "*.safetensors")))
    if not files:
        raise SystemExit(f"error: {directory}: no *.safetensors file")
    for path in files:
        mm = np.memmap(path, dtype=np.uint8, mode="r")
        n = struct.unpack("<Q", bytes(mm[:8]))[0]
        header = json.loads(bytes(mm[8:8 + n]))
        base = 8 + n
        for name, info in header.items():
            if name == "__metadata__":
                continue
            a, b = info["data_offsets"]
            tensors[name] = (info["dtype"], info["shape"], mm[base + a:base + b])
    return tensors


def as_bf16_bits(dtype, shape, raw):
    """The tensor as bf16 bit patterns (uint16), from BF16 (as stored) or F32 (rounded to nearest even)."""
    if dtype == "BF16":
        return raw.view(np.uint16).reshape(shape)
    if dtype == "F32":
        u = raw.view(np.uint32).reshape(shape).astype(np.uint64)
        return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    raise SystemExit(f"error: unsupported checkpoint dtype {dtype}")


def as_f32(dtype, shape, raw):
    if dtype == "F32":
        return np.array(raw.view(np.float32).reshape(shape))
    return (as_bf16_bits(dtype, shape, raw).astype(np.uint32) << 16).view(np.float32)


def checkpoint_stamp(directory):
    files = sorted(glob.glob(os.path.join(directory, "*.safetensors"))) + [os.path.join(directory, "config.json")]
    return [[os.path.abspath(f), os.path.getsize(f), int(os.path.getmtime(f))] for f in files]


def write_gguf(model_dir, out_path, kind, log):
    """Writes the checkpoint's decoder as GGUF `kind` ("bf16" or "q8_0") to out_path (atomically)."""
    import gguf
    from gguf import GGMLQuantizationType as Q, LlamaFileType

    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    text = config["mllm_config"]["text_config"]
    n_head, n_kv = text["num_attention_heads"], text["num_key_value_heads"]
    head_dim = text.get("head_dim") or text["hidden_size"] // n_head
    tensors = read_safetensors(model_dir)

    tmp = out_path + ".tmp"
    w = gguf.GGUFWriter(tmp, "llama")
    w.add_name("GAR decoder (Llama) from " + os.path.basename(os.path.abspath(model_dir)))
    w.add_context_length(text["max_position_embeddings"])
    w.add_embedding_length(text["hidden_size"])
    w.add_block_count(text["num_hidden_layers"])
    w.add_feed_forward_length(text["intermediate_size"])
    w.add_rope_dimension_count(head_dim)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_kv)
    w.add_key_length(head_dim)
    w.add_value_length(head_dim)
    w.add_layer_norm_rms_eps(text["rms_norm_eps"])
    w.add_rope_freq_base(text.get("rope_theta", 10000.0))
    w.add_vocab_size(text["vocab_size"])
    w.add_file_type(LlamaFileType.MOSTLY_BF16 if kind == "bf16" else LlamaFileType.MOSTLY_Q8_0)
    w.add_tokenizer_model("none")   # no vocabulary: token ids are fed directly
    factors = llama3_rope_factors(text)
    if factors is not None:
        w.add_tensor("rope_freqs.weight", factors)

    count = 0
    for name in sorted(tensors):
        target = gguf_name(name)
        if target is None:
            continue
        dtype, shape, raw = tensors[name]
        if len(shape) == 1:   # norms stay f32, as convert_hf_to_gguf.py keeps them
            w.add_tensor(target, as_f32(dtype, shape, raw))
        else:
            heads = n_head if target.endswith("attn_q.weight") else n_kv if target.endswith("attn_k.weight") else None
            if kind == "bf16":
                bits = as_bf16_bits(dtype, shape, raw)
                if heads:
                    bits = permute_rope(bits, heads)
                w.add_tensor(target, np.ascontiguousarray(bits), raw_dtype=Q.BF16)
            else:
                values = as_f32(dtype, shape, raw)
                if heads:
                    values = permute_rope(values, heads)
                w.add_tensor(target, gguf.quants.quantize(np.ascontiguousarray(values), Q.Q8_0), raw_dtype=Q.Q8_0)
        count += 1
    expected = 2 + len(LAYER_KEYS) * text["num_hidden_layers"]
    if count != expected:
        raise SystemExit(f"error: {model_dir}: found {count} decoder tensors, expected {expected}")
    log(f"llama.cpp: writing {out_path} ({count} tensors, {kind})…")
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(tmp, out_path)


def gguf_files(model_dir, gguf_dir, kinds, log):
    """{kind: path}, writing the files that are missing or were made from another checkpoint."""
    os.makedirs(gguf_dir, exist_ok=True)
    stamp = checkpoint_stamp(model_dir)
    paths = {}
    for kind in kinds:
        path = os.path.join(gguf_dir, f"gar-decoder-{kind}.gguf")
        stamp_path = path + ".source.json"
        current = None
        if os.path.exists(path) and os.path.exists(stamp_path):
            with open(stamp_path) as f:
                current = json.load(f)
        if current != stamp:
            write_gguf(model_dir, path, kind, log)
            with open(stamp_path, "w") as f:
                json.dump(stamp, f)
        paths[kind] = path
    return paths


class Runner:
    """One GGUF loaded in llama.cpp with a context of n_ctx positions."""

    def __init__(self, L, path, n_ctx, threads):
        self.L = L
        params = L.llama_model_default_params()
        self.model = L.llama_model_load_from_file(path.encode(), params)
        if not self.model:
            raise SystemExit(f"error: {path}: llama.cpp could not load it")
        cp = L.llama_context_default_params()
        cp.n_ctx = n_ctx
        cp.n_batch = 2048
        cp.n_ubatch = 512
        cp.n_threads = threads
        cp.n_threads_batch = threads
        self.n_batch = cp.n_batch
        self.ctx = L.llama_init_from_model(self.model, cp)
        if not self.ctx:
            raise SystemExit(f"error: {path}: llama.cpp could not make a context of {n_ctx} positions")
        self.n_vocab = L.llama_vocab_n_tokens(L.llama_model_get_vocab(self.model))

    def clear(self):
        self.L.llama_memory_clear(self.L.llama_get_memory(self.ctx), True)

    def eval(self, ids):
        """Runs ids after what the cache holds; returns the last position's logits (float32 array)."""
        L = self.L
        for i in range(0, len(ids), self.n_batch):
            chunk = ids[i:i + self.n_batch]
            arr = (L.llama_token * len(chunk))(*chunk)
            rc = L.llama_decode(self.ctx, L.llama_batch_get_one(arr, len(chunk)))
            if rc != 0:
                raise SystemExit(f"error: llama_decode returned {rc}")
        L.llama_synchronize(self.ctx)
        return np.ctypeslib.as_array(L.llama_get_logits_ith(self.ctx, -1), shape=(self.n_vocab,)).copy()

    def close(self):
        self.L.llama_free(self.ctx)
        self.L.llama_model_free(self.model)


def current_rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="GAR checkpoint directory (config.json + *.safetensors)")
    ap.add_argument("--gguf-dir", required=True, help="where the GGUF files are written (and reused)")
    ap.add_argument("--types", default="bf16,q8_0", help="comma list of bf16, q8_0")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--prefill", default="512,1024", help="comma list of prefill lengths")
    ap.add_argument("--decode-context", type=int, default=1024, help="prefill length before the decode steps")
    ap.add_argument("--decode-steps", type=int, default=16)
    ap.add_argument("--check-ids", default="", help="comma list of token ids whose next-token logits are written")
    ap.add_argument("--out-dir", default=None, help="where check-logits-<type>.f32 go (default: --gguf-dir)")
    ap.add_argument("--vocab-limit", type=int, default=1000, help="random ids are drawn below this")
    ap.add_argument("--write-only", action="store_true", help="only write the GGUF files")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    kinds = [k.strip().lower() for k in args.types.split(",") if k.strip()]
    for k in kinds:
        if k not in TYPES:
            raise SystemExit(f"error: --types: unknown type '{k}' (expected bf16 or q8_0)")
    prefills = [int(x) for x in args.prefill.split(",") if x.strip()]
    check_ids = [int(x) for x in args.check_ids.split(",") if x.strip()]
    paths = gguf_files(args.model, args.gguf_dir, kinds, log)
    if args.write_only:
        print(json.dumps({"gguf": paths}, indent=1))
        return

    import llama_cpp as L
    L.llama_backend_init()
    quiet = L.llama_log_callback(lambda level, text, user: None)
    L.llama_log_set(quiet, ctypes.c_void_p())

    rng = np.random.default_rng(args.seed)
    longest = max(prefills + [args.decode_context, len(check_ids)])
    ids = [int(x) for x in rng.integers(0, args.vocab_limit, size=longest)]
    out_dir = args.out_dir or args.gguf_dir
    results = []
    for kind in kinds:
        t0 = time.perf_counter()
        r = Runner(L, paths[kind], n_ctx=longest + args.decode_steps + 16, threads=args.threads)
        load_s = time.perf_counter() - t0
        entry = dict(type=kind.upper(), gguf=paths[kind], gguf_mb=os.path.getsize(paths[kind]) / 2**20, load_s=load_s,
                     rss_after_load_mb=current_rss_mb())
        r.eval(ids[:16])  # warm-up
        entry["prefill"] = []
        for n in prefills:
            r.clear()
            t = time.perf_counter()
            r.eval(ids[:n])
            s = time.perf_counter() - t
            entry["prefill"].append(dict(tokens=n, seconds=s, tokens_per_s=n / s))
        r.clear()
        logits = r.eval(ids[:args.decode_context])
        t = time.perf_counter()
        for _ in range(args.decode_steps):
            logits = r.eval([int(np.argmax(logits))])
        s = time.perf_counter() - t
        entry.update(decode_context=args.decode_context, decode_steps=args.decode_steps, decode_s=s,
                     decode_tokens_per_s=args.decode_steps / s)
        if check_ids:
            r.clear()
            logits = r.eval(check_ids)
            path = os.path.join(out_dir, f"check-logits-{kind}.f32")
            logits.astype("<f4").tofile(path)
            entry.update(check_tokens=len(check_ids), check_logits=path)
        r.close()
        results.append(entry)

    print(json.dumps(dict(model=os.path.abspath(args.model), threads=args.threads, llama_cpp_python=L.__version__,
                          n_batch=2048, n_ubatch=512, results=results,
                          peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0), indent=1))


if __name__ == "__main__":
    main()
