#!/usr/bin/python3
"""clip_ref.py — an independent CLIP reference for imgdex's tests and bench.

Written from the published architecture (Radford et al. 2021; OpenAI's
released tokenizer rules; Hugging Face's CLIPModel tensor names), in plain
PyTorch + NumPy + PIL, without transformers or safetensors packages:

  clip_ref.py tokenize --vocab FILE          texts on stdin, one id line per text
  clip_ref.py gen DIR --seed N [--dtype f32|f16|bf16] [--act quick_gelu|gelu] [shape options]
                                             a random CLIPModel checkpoint (+ tokenizer files)
  clip_ref.py embed DIR [--text T]... [--image PATH]... [--pixels OUT.f32] [--float64]
                                             L2-normalised embeddings as JSON {"text": [...], "image": [...]}
  clip_ref.py preprocess IMAGE SIZE OUT.f32  CLIP's preprocessing with PIL, CHW float32
  clip_ref.py preprocess --outdir D SIZE IMAGE...   the same, into D/<stem>.f32 each
"""
import argparse
import gzip
import html
import json
import os
import struct
import sys
import unicodedata

import numpy as np

torch = None   # imported only by the commands that need it (it takes seconds)

# ---------------------------------------------------------------- tokenizer


def byte_to_char():
    """Printable Latin-1 bytes map to themselves, the rest to 256, 257, ..."""
    keep = [b for b in range(256) if (33 <= b <= 126) or (161 <= b <= 172) or (174 <= b <= 255)]
    table, extra = {}, 0
    for b in keep:
        table[b] = chr(b)
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    order = keep + [b for b in range(256) if b not in keep]
    return table, order


class Tokenizer:
    def __init__(self, path):
        self.b2c, order = byte_to_char()
        if path.endswith(".json") and not path.endswith("vocab.json"):
            tj = json.load(open(path, encoding="utf-8"))
            self.vocab = tj["model"]["vocab"]
            merges = [m if isinstance(m, str) else " ".join(m) for m in tj["model"]["merges"]]
        elif path.endswith("vocab.json"):
            self.vocab = json.load(open(path, encoding="utf-8"))
            lines = open(path[: -len("vocab.json")] + "merges.txt", encoding="utf-8").read().split("\n")
            merges = [l for l in lines if l and not l.startswith("#version")]
        else:
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8") as f:
                lines = f.read().split("\n")
            merges = [l for l in lines[1:] if l]
            merges = merges[: 49152 - 256 - 2]
            toks = [self.b2c[b] for b in order]
            toks += [t + "</w>" for t in toks]
            toks += ["".join(m.split(" ")) for m in merges]
            toks += ["<|startoftext|>", "<|endoftext|>"]
            self.vocab = {t: i for i, t in enumerate(toks)}
        merges = merges[: 49152 - 256 - 2]
        self.rank = {}
        for i, m in enumerate(merges):
            a, b = m.split(" ")
            self.rank.setdefault((a, b), i)
        self.sot = self.vocab["<|startoftext|>"]
        self.eot = self.vocab["<|endoftext|>"]

    @staticmethod
    def clean(text):
        text = html.unescape(html.unescape(text)).strip()
        text = " ".join(text.split())   # str.split() splits on str.isspace runs
        return text.lower()

    @staticmethod
    def split(text):
        """The pre-split pattern, by hand on unicodedata categories."""
        cat = lambda c: unicodedata.category(c)[0]
        out, i, n = [], 0, len(text)
        lits = ["<|startoftext|>", "<|endoftext|>", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d"]
        while i < n:
            c = text[i]
            if c.isspace():
                i += 1
                continue
            hit = next((l for l in lits if text.startswith(l, i)), None)
            if hit:
                j = i + len(hit)
            elif cat(c) == "L":
                j = i + 1
                while j < n and cat(text[j]) == "L":
                    j += 1
            elif cat(c) == "N":
                j = i + 1
            else:
                j = i + 1
                while j < n and not text[j].isspace() and cat(text[j]) not in "LN":
                    j += 1
            out.append(text[i:j])
            i = j
        return out

    def bpe(self, word):
        syms = [self.b2c[b] for b in word.encode("utf-8")]
        syms[-1] += "</w>"
        while len(syms) > 1:
            pairs = [(self.rank.get((syms[i], syms[i + 1]), 1 << 30), i) for i in range(len(syms) - 1)]
            r, at = min(pairs)
            if r == 1 << 30:
                break
            a, b = syms[at], syms[at + 1]
            merged, i = [], 0
            while i < len(syms):
                if i + 1 < len(syms) and syms[i] == a and syms[i + 1] == b:
                    merged.append(a + b)
                    i += 2
                else:
                    merged.append(syms[i])
                    i += 1
            syms = merged
        return [self.vocab[s] for s in syms]

    def encode(self, text):
        ids = []
        for piece in self.split(self.clean(text)):
            if piece == "<|startoftext|>":
                ids.append(self.sot)
            elif piece == "<|endoftext|>":
                ids.append(self.eot)
            else:
                ids += self.bpe(piece)
        return ids

    def tokenize(self, text, ctx=77):
        ids = [self.sot] + self.encode(text) + [self.eot]
        if len(ids) > ctx:
            ids = ids[:ctx]
            ids[-1] = self.eot
        return ids


def find_tokenizer(d):
    for f in ("vocab.json", "tokenizer.json", "bpe_simple_vocab_16e6.txt.gz"):
        if os.path.exists(os.path.join(d, f)):
            return os.path.join(d, f)
    raise SystemExit(f"{d}: no tokenizer files")

# ---------------------------------------------------------------- safetensors


def st_read(path):
    with open(path, "rb") as f:
        raw = f.read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen])
    base = 8 + hlen
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        buf = raw[base + a: base + b]
        if t["dtype"] == "F32":
            arr = np.frombuffer(buf, "<f4")
        elif t["dtype"] == "F16":
            arr = np.frombuffer(buf, "<f2").astype(np.float32)
        elif t["dtype"] == "BF16":
            arr = (np.frombuffer(buf, "<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            continue
        out[name] = torch.from_numpy(arr.reshape(t["shape"]).astype(np.float64))
    return out


def st_write(path, tensors, dtype):
    header, blobs, off = {}, [], 0
    for name, arr in tensors.items():
        arr = np.asarray(arr, np.float32)
        if dtype == "f32" or arr.ndim == 0:
            data, dt = arr.astype("<f4").tobytes(), "F32"
        elif dtype == "f16":
            data, dt = arr.astype("<f2").tobytes(), "F16"
        else:   # bf16, rounded to nearest even
            u = arr.view(np.uint32).astype(np.uint64)
            u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2")
            data, dt = u.tobytes(), "BF16"
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)

# ---------------------------------------------------------------- the model


def layer_norm(x, g, b, eps):
    return torch.nn.functional.layer_norm(x, g.shape, g, b, eps)


def activation(name, x):
    if name == "quick_gelu":
        return x * torch.sigmoid(1.702 * x)
    return 0.5 * x * (1 + torch.erf(x / np.sqrt(2.0)))


def encoder(W, pre, cfg, x, causal):
    """x: batch x T x D; pre-LN transformer blocks."""
    n, T, D = x.shape
    H = cfg["num_attention_heads"]
    hd = D // H
    mask = None
    if causal:
        mask = torch.full((T, T), float("-inf"), dtype=x.dtype).triu(1)
    for i in range(cfg["num_hidden_layers"]):
        p = f"{pre}.encoder.layers.{i}."
        lin = lambda h, name: torch.nn.functional.linear(h, W[p + name + ".weight"], W[p + name + ".bias"])
        h = layer_norm(x, W[p + "layer_norm1.weight"], W[p + "layer_norm1.bias"], cfg["layer_norm_eps"])
        q = lin(h, "self_attn.q_proj").view(n, T, H, hd).transpose(1, 2) * hd ** -0.5
        k = lin(h, "self_attn.k_proj").view(n, T, H, hd).transpose(1, 2)
        v = lin(h, "self_attn.v_proj").view(n, T, H, hd).transpose(1, 2)
        s = q @ k.transpose(-1, -2)
        if mask is not None:
            s = s + mask
        a = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(n, T, D)
        x = x + lin(a, "self_attn.out_proj")
        h = layer_norm(x, W[p + "layer_norm2.weight"], W[p + "layer_norm2.bias"], cfg["layer_norm_eps"])
        x = x + lin(activation(cfg["hidden_act"], lin(h, "mlp.fc1")), "mlp.fc2")
    return x


TEXT_DEFAULTS = dict(hidden_size=512, intermediate_size=2048, num_attention_heads=8, num_hidden_layers=12,
                     hidden_act="quick_gelu", layer_norm_eps=1e-5, vocab_size=49408, max_position_embeddings=77)
VISION_DEFAULTS = dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12, num_hidden_layers=12,
                       hidden_act="quick_gelu", layer_norm_eps=1e-5, image_size=224, patch_size=32, num_channels=3)


class Clip:
    def __init__(self, d, dtype=None):
        dtype = dtype or torch.float64
        cfg = json.load(open(os.path.join(d, "config.json")))
        self.tc = dict(TEXT_DEFAULTS, **(cfg.get("text_config") or {}))
        self.vc = dict(VISION_DEFAULTS, **(cfg.get("vision_config") or {}))
        self.W = {k: v.to(dtype) for k, v in st_read(os.path.join(d, "model.safetensors")).items()}
        self.dtype = dtype
        self.tok = Tokenizer(find_tokenizer(d))

    def text(self, texts):
        tc = self.tc
        ids = torch.zeros((len(texts), tc["max_position_embeddings"]), dtype=torch.long)
        for i, t in enumerate(texts):
            tt = self.tok.tokenize(t, tc["max_position_embeddings"])
            ids[i, : len(tt)] = torch.tensor(tt)
        return self.text_ids(ids)

    def text_ids(self, ids):
        W, tc = self.W, self.tc
        x = W["text_model.embeddings.token_embedding.weight"][ids]
        x = x + W["text_model.embeddings.position_embedding.weight"][: ids.shape[1]]
        x = encoder(W, "text_model", tc, x, causal=True)
        x = layer_norm(x, W["text_model.final_layer_norm.weight"], W["text_model.final_layer_norm.bias"],
                       tc["layer_norm_eps"])
        x = x[torch.arange(ids.shape[0]), ids.argmax(-1)]
        x = x @ W["text_projection.weight"].T
        return x / x.norm(dim=-1, keepdim=True)

    def image_pixels(self, px):
        """px: n x 3 x S x S, preprocessed."""
        W, vc = self.W, self.vc
        P = vc["patch_size"]
        x = torch.nn.functional.conv2d(px.to(self.dtype), W["vision_model.embeddings.patch_embedding.weight"],
                                       stride=P)
        x = x.flatten(2).transpose(1, 2)
        cls = W["vision_model.embeddings.class_embedding"].expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], 1) + W["vision_model.embeddings.position_embedding.weight"]
        x = layer_norm(x, W["vision_model.pre_layrnorm.weight"], W["vision_model.pre_layrnorm.bias"],
                       vc["layer_norm_eps"])
        x = encoder(W, "vision_model", vc, x, causal=False)
        x = layer_norm(x[:, 0], W["vision_model.post_layernorm.weight"], W["vision_model.post_layernorm.bias"],
                       vc["layer_norm_eps"])
        x = x @ W["visual_projection.weight"].T
        return x / x.norm(dim=-1, keepdim=True)


MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)


def preprocess(path, size):
    """OpenAI's: Resize(size, BICUBIC) on the PIL image, CenterCrop, RGB, normalise."""
    from PIL import Image
    im = Image.open(path)
    w, h = im.size
    if w <= h:
        nw, nh = size, int(size * h / w)
    else:
        nw, nh = int(size * w / h), size
    im = im.resize((nw, nh), Image.BICUBIC)
    top, left = int(round((nh - size) / 2.0)), int(round((nw - size) / 2.0))
    im = im.crop((left, top, left + size, top + size)).convert("RGB")
    a = np.asarray(im, np.float32) / 255.0
    a = (a - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
    return a.transpose(2, 0, 1).copy()

# ---------------------------------------------------------------- random checkpoints


def gen(d, seed, dtype, tact, vact, t_shape, v_shape, proj, vocab_src, tokenizer_json=False):
    rng = np.random.default_rng(seed)
    tD, tI, tH, tL = t_shape
    vD, vI, vH, vL, S, P = v_shape
    V, ctx = 49408, 77
    cfg = {
        "architectures": ["CLIPModel"], "projection_dim": proj, "logit_scale_init_value": 2.6592,
        "text_config": {"hidden_size": tD, "intermediate_size": tI, "num_attention_heads": tH,
                        "num_hidden_layers": tL, "hidden_act": tact, "vocab_size": V,
                        "max_position_embeddings": ctx, "layer_norm_eps": 1e-5},
        "vision_config": {"hidden_size": vD, "intermediate_size": vI, "num_attention_heads": vH,
                          "num_hidden_layers": vL, "hidden_act": vact, "image_size": S, "patch_size": P,
                          "layer_norm_eps": 1e-5},
    }
    W = {}
    r = lambda *s, sd=0.1: (rng.standard_normal(s) * sd).astype(np.float32)

    def layers(pre, D, I, L):
        for i in range(L):
            p = f"{pre}.encoder.layers.{i}."
            for ln in ("layer_norm1", "layer_norm2"):
                W[p + ln + ".weight"] = 1 + r(D)
                W[p + ln + ".bias"] = r(D)
            for pr in ("q_proj", "k_proj", "v_proj", "out_proj"):
                W[p + "self_attn." + pr + ".weight"] = r(D, D, sd=D ** -0.5)
                W[p + "self_attn." + pr + ".bias"] = r(D)
            W[p + "mlp.fc1.weight"] = r(I, D, sd=D ** -0.5)
            W[p + "mlp.fc1.bias"] = r(I)
            W[p + "mlp.fc2.weight"] = r(D, I, sd=I ** -0.5)
            W[p + "mlp.fc2.bias"] = r(D)

    W["text_model.embeddings.token_embedding.weight"] = r(V, tD, sd=0.5)
    W["text_model.embeddings.position_embedding.weight"] = r(ctx, tD, sd=0.2)
    layers("text_model", tD, tI, tL)
    W["text_model.final_layer_norm.weight"] = 1 + r(tD)
    W["text_model.final_layer_norm.bias"] = r(tD)
    W["text_projection.weight"] = r(proj, tD, sd=tD ** -0.5)
    W["vision_model.embeddings.class_embedding"] = r(vD, sd=0.5)
    W["vision_model.embeddings.patch_embedding.weight"] = r(vD, 3, P, P, sd=(3 * P * P) ** -0.5)
    W["vision_model.embeddings.position_embedding.weight"] = r((S // P) ** 2 + 1, vD, sd=0.2)
    W["vision_model.pre_layrnorm.weight"] = 1 + r(vD)
    W["vision_model.pre_layrnorm.bias"] = r(vD)
    layers("vision_model", vD, vI, vL)
    W["vision_model.post_layernorm.weight"] = 1 + r(vD)
    W["vision_model.post_layernorm.bias"] = r(vD)
    W["visual_projection.weight"] = r(proj, vD, sd=vD ** -0.5)
    W["logit_scale"] = np.array(np.log(100.0), np.float32)
    os.makedirs(d, exist_ok=True)
    json.dump(cfg, open(os.path.join(d, "config.json"), "w"), indent=1)
    st_write(os.path.join(d, "model.safetensors"), W, dtype)
    if vocab_src:
        write_vocab_files(d, vocab_src, tokenizer_json)


def write_vocab_files(d, vocab_src, tokenizer_json):
    """vocab.json + merges.txt (or tokenizer.json) derived from OpenAI's
    file, laid out as Hugging Face ships them."""
    os.makedirs(d, exist_ok=True)
    tok = Tokenizer(vocab_src)
    json.dump(tok.vocab, open(os.path.join(d, "vocab.json"), "w", encoding="utf-8"), ensure_ascii=False)
    inv = sorted(tok.rank.items(), key=lambda kv: kv[1])
    if tokenizer_json:
        # The newer layout: one tokenizer.json, merges as pairs.
        tj = {"version": "1.0", "model": {"type": "BPE", "vocab": tok.vocab,
                                            "merges": [[a, b] for (a, b), _ in inv]}}
        json.dump(tj, open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8"), ensure_ascii=False)
        os.remove(os.path.join(d, "vocab.json"))
        return
    with open(os.path.join(d, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for (a, b), _ in inv:
            f.write(f"{a} {b}\n")


# The checkpoints tests/test_clip_model.c compares on: odd sizes, several
# layers, both activations, all three dtypes, both tokenizer file layouts.
SUITE = {
    "f32": dict(seed=1, dtype="f32", tact="quick_gelu", vact="quick_gelu", t=(36, 70, 3, 3),
                v=(44, 90, 4, 2, 64, 16), proj=24, tj=False),
    "f16": dict(seed=2, dtype="f16", tact="gelu", vact="gelu", t=(40, 64, 5, 2),
                v=(30, 50, 3, 3, 60, 12), proj=17, tj=False),
    "bf16": dict(seed=3, dtype="bf16", tact="gelu", vact="quick_gelu", t=(32, 96, 4, 4),
                 v=(48, 100, 6, 3, 56, 14), proj=20, tj=True),
}


def suite(out, vocab, texts_file, nimg):
    """Generate every SUITE checkpoint under out/, with nimg random pixel
    images (out/TAG.pix, float32 CHW) and the reference embeddings of the
    texts and those pixels (out/TAG.json) — one torch start for all."""
    texts = [l for l in open(texts_file, encoding="utf-8").read().split("\n")]
    if texts and texts[-1] == "":
        texts.pop()
    for tag, c in SUITE.items():
        d = os.path.join(out, tag)
        gen(d, c["seed"], c["dtype"], c["tact"], c["vact"], c["t"], c["v"], c["proj"], vocab, c["tj"])
        S = c["v"][4]
        rng = np.random.default_rng(c["seed"] + 100)
        px = ((rng.random((nimg, 3, S, S)) - 0.45) / 0.27).astype("<f4")
        px.tofile(os.path.join(out, tag + ".pix"))
        m = Clip(d)
        res = {"text": m.text(texts).tolist(), "image": m.image_pixels(torch.from_numpy(px)).tolist()}
        json.dump(res, open(os.path.join(out, tag + ".json"), "w"))


def bench(d, threads, texts_file, budget):
    """ms per item of the float32 reference, image and text, batch 1 and 16,
    for each thread count: one JSON line per count."""
    import time
    m = Clip(d, torch.float32)
    texts = [l for l in open(texts_file, encoding="utf-8").read().split("\n") if l]
    ctx = m.tc["max_position_embeddings"]
    ids = torch.zeros((16, ctx), dtype=torch.long)
    for i in range(16):
        t = m.tok.tokenize(texts[i % len(texts)], ctx)
        ids[i, : len(t)] = torch.tensor(t)
    S = m.vc["image_size"]
    px = torch.from_numpy(np.random.default_rng(5).standard_normal((16, 3, S, S)).astype(np.float32))

    def per_item(fn, n):
        """[wall ms, process CPU ms] per item."""
        fn()                       # warm-up
        reps, t0, c0 = 0, time.perf_counter(), time.process_time()
        while True:
            fn()
            reps += 1
            el = time.perf_counter() - t0
            if (el > budget and reps >= 2) or reps >= 50:
                return [el / reps / n * 1000, (time.process_time() - c0) / reps / n * 1000]

    for th in threads:
        torch.set_num_threads(th)
        r = {"threads": th,
             "image1": per_item(lambda: m.image_pixels(px[:1]), 1),
             "image16": per_item(lambda: m.image_pixels(px), 16),
             "text1": per_item(lambda: m.text_ids(ids[:1]), 1),
             "text16": per_item(lambda: m.text_ids(ids), 16)}
        print(json.dumps(r), flush=True)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tokenize")
    t.add_argument("--vocab", required=True)
    g = sub.add_parser("gen")
    g.add_argument("dir")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--dtype", default="f32", choices=["f32", "f16", "bf16"])
    g.add_argument("--text-act", default="quick_gelu")
    g.add_argument("--vision-act", default="quick_gelu")
    g.add_argument("--text", default="36,70,3,3", help="hidden,inter,heads,layers")
    g.add_argument("--vision", default="44,90,4,2,64,16", help="hidden,inter,heads,layers,image,patch")
    g.add_argument("--proj", type=int, default=24)
    g.add_argument("--vocab", default=None, help="OpenAI bpe file to derive vocab.json/merges.txt from")
    g.add_argument("--tokenizer-json", action="store_true", help="write tokenizer.json instead")
    su = sub.add_parser("suite")
    su.add_argument("out")
    su.add_argument("--vocab", required=True)
    su.add_argument("--texts", required=True, help="file, one text per line")
    su.add_argument("--images", type=int, default=3)
    e = sub.add_parser("embed")
    e.add_argument("dir")
    e.add_argument("--text", action="append", default=[])
    e.add_argument("--text-file", help="one text per line")
    e.add_argument("--image", action="append", default=[])
    e.add_argument("--pixels", action="append", default=[], help="raw CHW float32 file")
    e.add_argument("--float32", action="store_true")
    p = sub.add_parser("preprocess", help="IMAGE SIZE OUT, or --outdir D SIZE IMAGE... (D/stem.f32 each)")
    p.add_argument("args", nargs="+")
    p.add_argument("--outdir")
    b = sub.add_parser("bench")
    b.add_argument("dir")
    b.add_argument("--threads", default="1")
    b.add_argument("--texts", required=True)
    b.add_argument("--budget", type=float, default=1.0, help="seconds per measurement")
    vf = sub.add_parser("vocab-files")
    vf.add_argument("dir")
    vf.add_argument("--vocab", required=True)
    vf.add_argument("--tokenizer-json", action="store_true")
    a = ap.parse_args()
    if a.cmd in ("suite", "embed", "bench"):
        global torch
        import torch as t
        torch = t
        torch.set_grad_enabled(False)
    if a.cmd == "tokenize":
        tok = Tokenizer(a.vocab)
        out = sys.stdout
        for line in sys.stdin.read().split("\n"):
            if line:
                out.write(" ".join(map(str, tok.tokenize(line))) + "\n")
    elif a.cmd == "gen":
        gen(a.dir, a.seed, a.dtype, a.text_act, a.vision_act, [int(x) for x in a.text.split(",")],
            [int(x) for x in a.vision.split(",")], a.proj, a.vocab, a.tokenizer_json)
    elif a.cmd == "vocab-files":
        write_vocab_files(a.dir, a.vocab, a.tokenizer_json)
    elif a.cmd == "bench":
        bench(a.dir, [int(x) for x in a.threads.split(",")], a.texts, a.budget)
    elif a.cmd == "suite":
        suite(a.out, a.vocab, a.texts, a.images)
    elif a.cmd == "preprocess":
        if a.outdir:
            size = int(a.args[0])
            for im in a.args[1:]:
                stem = os.path.splitext(os.path.basename(im))[0]
                preprocess(im, size).astype("<f4").tofile(os.path.join(a.outdir, stem + ".f32"))
        else:
            preprocess(a.args[0], int(a.args[1])).astype("<f4").tofile(a.args[2])
    else:
        m = Clip(a.dir, torch.float32 if a.float32 else torch.float64)
        res = {"text": [], "image": []}
        if a.text_file:
            a.text += [l for l in open(a.text_file, encoding="utf-8").read().split("\n") if l]
        if a.text:
            res["text"] = m.text(a.text).tolist()
        S = m.vc["image_size"]
        px = [torch.from_numpy(preprocess(p, S)) for p in a.image]
        px += [torch.from_numpy(np.fromfile(p, "<f4").reshape(3, S, S)) for p in a.pixels]
        if px:
            res["image"] = m.image_pixels(torch.stack(px)).tolist()
        json.dump(res, sys.stdout)


if __name__ == "__main__":
    main()
