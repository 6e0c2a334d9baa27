#!/usr/bin/python3
"""blip_ref.py — an independent BLIP captioning reference for imgdex's tests and bench.

Written from the BLIP paper (Li et al. 2022: a ViT image encoder, a BERT
decoder whose every layer cross-attends to the image), the Hugging Face
BlipForConditionalGeneration tensor names and config.json, BERT's published
WordPiece rules and the generation rules of transformers 4.45 (greedy; beam
search with BeamSearchScorer's hypotheses, length normalised by the generated
length; repetition penalty; min length).  Plain PyTorch + NumPy + PIL in
float64, no transformers, no safetensors package, no key/value cache: every
step reruns the whole sequence, so the C cache is checked, not copied.

  blip_ref.py gen DIR [--seed N] [--dtype f32|f16|bf16] [--text h,i,heads,layers]
                 [--vision h,i,heads,layers,image,patch] [--words N] [--untied] [--act gelu]
                                 a random BlipForConditionalGeneration checkpoint + vocab.txt
  blip_ref.py caption DIR (--image PATH | --pixels F32) [--prompt T] [--beams N]
                 [--max-length N] [--min-length N] [--repetition-penalty P]
                 [--save-pixels OUT.f32] [--float32]
                                 JSON: vision embeddings, per-step logits, ids, text
  blip_ref.py suite OUT          the checkpoints and cases tests/test_blip_model.c compares with
  blip_ref.py vocab OUT --texts FILE [--seed N] [--size N]   a WordPiece vocabulary learnt from texts
  blip_ref.py tokenize VOCAB     texts on stdin, one line of ids per text (no [CLS]/[SEP])
  blip_ref.py preprocess IMAGE SIZE OUT.f32     BLIP's preprocessing with PIL, CHW float32
  blip_ref.py bench DIR --threads 1,2 --budget S [--steps N]
                                 seconds per caption: vision + N cached greedy steps, float32
"""
import argparse
import json
import os
import struct
import sys
import time
import unicodedata

import numpy as np

torch = None   # imported by the commands that need it

MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)

# ---------------------------------------------------------------- WordPiece (BERT's rules)


def is_punct(ch):
    o = ord(ch)
    if 33 <= o <= 47 or 58 <= o <= 64 or 91 <= o <= 96 or 123 <= o <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(o):
    return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2A6DF or
            0x2A700 <= o <= 0x2B73F or 0x2B740 <= o <= 0x2B81F or 0x2B820 <= o <= 0x2CEAF or
            0xF900 <= o <= 0xFAFF or 0x2F800 <= o <= 0x2FA1F)


def is_space(ch):
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def is_control(ch):
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch).startswith("C")


def basic_split(text):
    """Clean, space out CJK, lower-case, strip accents, split on space and punctuation."""
    s = []
    for ch in text:
        o = ord(ch)
        if o == 0 or o == 0xFFFD or is_control(ch):
            continue
        if is_space(ch):
            s.append(" ")
        elif is_cjk(o):
            s.append(" " + ch + " ")
        else:
            s.append(ch)
    out = []
    for word in "".join(s).split():
        word = "".join(c for c in unicodedata.normalize("NFD", word.lower()) if unicodedata.category(c) != "Mn")
        cur = ""
        for ch in word:
            if is_punct(ch):
                if cur:
                    out.append(cur)
                out.append(ch)
                cur = ""
            else:
                cur += ch
        if cur:
            out.append(cur)
    return out


class WordPiece:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.tokens = [line.rstrip("\n") for line in f]
        self.ids = {}
        for i, t in enumerate(self.tokens):
            self.ids.setdefault(t, i)
        self.unk = self.ids["[UNK]"]

    def word(self, w):
        if len(w) > 100:
            return [self.unk]
        out, start = [], 0
        while start < len(w):
            end = len(w)
            found = None
            while end > start:
                piece = w[start:end] if start == 0 else "##" + w[start:end]
                if piece in self.ids:
                    found = self.ids[piece]
                    break
                end -= 1
            if found is None:
                return [self.unk]
            out.append(found)
            start = end
        return out

    def encode(self, text):
        ids = []
        for w in basic_split(text):
            ids += self.word(w)
        return ids

    def decode(self, ids, specials):
        toks = [self.tokens[i] for i in ids if i < len(self.tokens) and i not in specials]
        s = " ".join(toks).replace(" ##", "").strip()
        for a, b in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                     (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
            s = s.replace(a, b)
        return s

# ---------------------------------------------------------------- safetensors


def st_read(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    head = json.loads(raw[8:8 + n])
    out = {}
    for name, t in head.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        buf = raw[8 + n + a: 8 + n + b]
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
    head, blobs, off = {}, [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr, np.float32)
        if dtype == "f32":
            data, dt = arr.astype("<f4").tobytes(), "F32"
        elif dtype == "f16":
            data, dt = arr.astype("<f2").tobytes(), "F16"
        else:
            u = arr.view(np.uint32).astype(np.uint64)
            data, dt = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2").tobytes(), "BF16"
        head[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(head).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)

# ---------------------------------------------------------------- the model


def ln(x, W, name, eps):
    return torch.nn.functional.layer_norm(x, x.shape[-1:], W[name + ".weight"], W[name + ".bias"], eps)


def lin(x, W, name):
    return torch.nn.functional.linear(x, W[name + ".weight"], W.get(name + ".bias"))


def act(name, x):
    if name == "gelu":
        return 0.5 * x * (1 + torch.erf(x / np.sqrt(2.0)))
    if name in ("gelu_new", "gelu_pytorch_tanh", "gelu_fast"):
        return 0.5 * x * (1 + torch.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    if name == "quick_gelu":
        return x * torch.sigmoid(1.702 * x)
    if name == "relu":
        return torch.relu(x)
    raise SystemExit("unknown activation " + name)


def attend(q, k, v, heads, causal):
    """q: Tq x D, k, v: Tk x D -> Tq x D."""
    Tq, D = q.shape
    Tk = k.shape[0]
    hd = D // heads
    q = q.view(Tq, heads, hd).transpose(0, 1)
    k = k.view(Tk, heads, hd).transpose(0, 1)
    v = v.view(Tk, heads, hd).transpose(0, 1)
    s = q @ k.transpose(1, 2) / np.sqrt(hd)
    if causal:
        s = s + torch.full((Tq, Tk), float("-inf"), dtype=s.dtype).triu(1)
    return (torch.softmax(s, -1) @ v).transpose(0, 1).reshape(Tq, D)


TEXT_DEFAULTS = dict(vocab_size=30524, hidden_size=768, encoder_hidden_size=768, intermediate_size=3072,
                     num_hidden_layers=12, num_attention_heads=12, max_position_embeddings=512,
                     hidden_act="gelu", layer_norm_eps=1e-12, bos_token_id=30522, pad_token_id=0,
                     sep_token_id=102)
VISION_DEFAULTS = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                       image_size=384, patch_size=16, hidden_act="gelu", layer_norm_eps=1e-5)


class Blip:
    def __init__(self, d, float32=False):
        with open(os.path.join(d, "config.json")) as f:
            c = json.load(f)
        self.t = dict(TEXT_DEFAULTS, **(c.get("text_config") or {}))
        self.v = dict(VISION_DEFAULTS, **(c.get("vision_config") or {}))
        self.W = st_read(os.path.join(d, "model.safetensors"))
        if float32:
            self.W = {k: w.float() for k, w in self.W.items()}
        self.tok = WordPiece(os.path.join(d, "vocab.txt"))

    def vision(self, px):
        """px: 3 x S x S -> T x D, post-layernormed (what the decoder attends to)."""
        W, c = self.W, self.v
        P = c["patch_size"]
        pre = "vision_model."
        x = torch.nn.functional.conv2d(px[None], W[pre + "embeddings.patch_embedding.weight"],
                                       W[pre + "embeddings.patch_embedding.bias"], stride=P)[0]
        D = x.shape[0]
        x = x.reshape(D, -1).t()
        x = torch.cat([W[pre + "embeddings.class_embedding"].reshape(1, D), x], 0)
        x = x + W[pre + "embeddings.position_embedding"].reshape(-1, D)[: x.shape[0]]
        H = c["num_attention_heads"]
        eps = c["layer_norm_eps"]
        for i in range(c["num_hidden_layers"]):
            p = f"{pre}encoder.layers.{i}."
            h = ln(x, W, p + "layer_norm1", eps)
            qkv = lin(h, W, p + "self_attn.qkv")
            q, k, v = qkv[:, :D], qkv[:, D:2 * D], qkv[:, 2 * D:]
            x = x + lin(attend(q, k, v, H, False), W, p + "self_attn.projection")
            h = ln(x, W, p + "layer_norm2", eps)
            x = x + lin(act(c["hidden_act"], lin(h, W, p + "mlp.fc1")), W, p + "mlp.fc2")
        return ln(x, W, pre + "post_layernorm", eps)

    def logits(self, ids, img):
        """Logits of the next token after ids (the whole sequence is rerun)."""
        W, c = self.W, self.t
        pre = "text_decoder.bert."
        eps = c["layer_norm_eps"]
        H = c["num_attention_heads"]
        T = len(ids)
        x = W[pre + "embeddings.word_embeddings.weight"][torch.tensor(ids)]
        x = x + W[pre + "embeddings.position_embeddings.weight"][:T]
        x = ln(x, W, pre + "embeddings.LayerNorm", eps)
        for i in range(c["num_hidden_layers"]):
            p = f"{pre}encoder.layer.{i}."
            a = attend(lin(x, W, p + "attention.self.query"), lin(x, W, p + "attention.self.key"),
                       lin(x, W, p + "attention.self.value"), H, True)
            x = ln(lin(a, W, p + "attention.output.dense") + x, W, p + "attention.output.LayerNorm", eps)
            a = attend(lin(x, W, p + "crossattention.self.query"), lin(img, W, p + "crossattention.self.key"),
                       lin(img, W, p + "crossattention.self.value"), H, False)
            x = ln(lin(a, W, p + "crossattention.output.dense") + x, W, p + "crossattention.output.LayerNorm", eps)
            h = act(c["hidden_act"], lin(x, W, p + "intermediate.dense"))
            x = ln(lin(h, W, p + "output.dense") + x, W, p + "output.LayerNorm", eps)
        h = x[-1:]
        hp = "text_decoder.cls.predictions."
        h = ln(act(c["hidden_act"], lin(h, W, hp + "transform.dense")), W, hp + "transform.LayerNorm", eps)
        dec = W.get(hp + "decoder.weight", W[pre + "embeddings.word_embeddings.weight"])
        bias = W.get(hp + "bias", W.get(hp + "decoder.bias"))
        return (h @ dec.t() + bias)[0]

    def prompt_ids(self, prompt):
        """[DEC] then the prompt's word pieces ([CLS] replaced, the trailing [SEP] dropped)."""
        return [self.t["bos_token_id"]] + (self.tok.encode(prompt) if prompt else [])

    def text(self, ids):
        specials = {self.tok.ids.get(s, -1) for s in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")}
        return self.tok.decode(ids, specials)


def process(scores, ids, a, sep):
    """Repetition penalty on every id present, then min length."""
    if a.repetition_penalty != 1.0:
        u = torch.tensor(sorted(set(ids)))
        s = scores[u]
        scores[u] = torch.where(s < 0, s * a.repetition_penalty, s / a.repetition_penalty)
    if len(ids) < a.min_length:
        scores[sep] = float("-inf")
    return scores


def greedy(m, img, ids, a, steps):
    sep = m.t["sep_token_id"]
    while len(ids) < a.max_length:
        lg = m.logits(ids, img)
        steps.append([lg.tolist()])
        t = int(torch.argmax(process(lg.clone(), ids, a, sep)))
        ids = ids + [t]
        if t == sep:
            break
    return ids


def beam(m, img, prompt, a, steps):
    sep = m.t["sep_token_id"]
    B, P, lp = a.beams, len(prompt), 1.0
    seqs = [list(prompt) for _ in range(B)]
    bscore = torch.tensor([0.0] + [-1e9] * (B - 1), dtype=torch.float64)
    hyps, worst, done = [], 1e9, False

    def add(h, s, glen):
        nonlocal worst
        score = s / glen ** lp
        if len(hyps) < B or score > worst:
            hyps.append((score, h))
            if len(hyps) > B:
                order = sorted((sc, i) for i, (sc, _) in enumerate(hyps))
                del hyps[order[0][1]]
                worst = order[1][0]
            else:
                worst = min(score, worst)

    while True:
        lg = torch.stack([m.logits(s, img) for s in seqs])
        steps.append(lg.tolist())
        V = lg.shape[1]
        sc = torch.log_softmax(lg, -1)
        sc = torch.stack([process(sc[b].clone(), seqs[b], a, sep) for b in range(B)])
        sc = (sc + bscore[:, None]).reshape(-1)
        top, idx = torch.topk(sc, 2 * B)
        cur = len(seqs[0]) + 1
        nxt = []
        for rank in range(2 * B):
            b, t = int(idx[rank]) // V, int(idx[rank]) % V
            if t == sep:
                if rank < B:
                    add(list(seqs[b]), float(top[rank]), cur - P)
            else:
                nxt.append((float(top[rank]), t, b))
            if len(nxt) == B:
                break
        if len(hyps) >= B and worst >= float(top[0]) / (cur - P) ** lp:
            done = True
        seqs = [seqs[b] + [t] for (_, t, b) in nxt]
        bscore = torch.tensor([s for (s, _, _) in nxt], dtype=torch.float64)
        if done or len(seqs[0]) >= a.max_length:
            break
    if not done:
        for b in range(B):
            add(list(seqs[b]), float(bscore[b]), len(seqs[b]) - P)
    best = sorted(hyps, key=lambda h: h[0])[-1][1]
    if len(best) < a.max_length:
        best = best + [sep]
    return best


def preprocess(path, size):
    """BLIP's: RGB, resize to size x size with PIL bicubic, / 255, CLIP's mean and std."""
    from PIL import Image
    im = Image.open(path).convert("RGB").resize((size, size), Image.BICUBIC)
    a = np.asarray(im, np.float32) / 255.0
    a = (a - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
    return a.transpose(2, 0, 1).copy()


def caption(a):
    m = Blip(a.dir, a.float32)
    S = m.v["image_size"]
    if a.image:
        px = preprocess(a.image, S)
    else:
        px = np.fromfile(a.pixels, "<f4").reshape(3, S, S)
    if a.save_pixels:
        px.astype("<f4").tofile(a.save_pixels)
    dt = torch.float32 if a.float32 else torch.float64
    with torch.no_grad():
        img = m.vision(torch.from_numpy(px).to(dt))
        prompt = m.prompt_ids(a.prompt)
        steps = []
        ids = greedy(m, img, prompt, a, steps) if a.beams <= 1 else beam(m, img, prompt, a, steps)
    return {"vision": img.reshape(-1).tolist(), "tokens": img.shape[0], "prompt": prompt, "steps": steps,
            "ids": ids, "text": m.text(ids)}

# ---------------------------------------------------------------- random checkpoints


def gen_vocab(rng, words):
    """A BERT-like vocabulary: [PAD] 0, [unusedN], [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103,
    punctuation, letters and their ## forms, then random words and ## suffixes."""
    toks = ["[PAD]"] + [f"[unused{i}]" for i in range(99)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    toks += list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
    letters = "abcdefghijklmnopqrstuvwxyz0123456789éßø"
    toks += list(letters) + ["##" + c for c in letters]
    seen = set(toks)
    syll = ["a", "an", "ing", "ed", "er", "s", "the", "dog", "man", "wo", "run", "ning", "play", "ball",
            "on", "in", "red", "blue", "grass", "water", "ch", "il", "dr", "en", "sit", "ting", "st"]
    while len(toks) < 104 + 32 + 2 * len(letters) + words:
        w = "".join(rng.choice(syll) for _ in range(rng.integers(1, 4)))
        if rng.random() < 0.35:
            w = "##" + w
        if w not in seen:
            seen.add(w)
            toks.append(w)
    return toks


def vocab_from_texts(out, texts_path, seed, size):
    """A vocabulary learnt crudely from texts: BERT's specials, punctuation, letters
    (whole and ##), the most frequent words, and prefixes / ## suffixes of others
    (so that words are cut into several pieces, or fall to [UNK])."""
    from collections import Counter
    rng = np.random.default_rng(seed)
    with open(texts_path, encoding="utf-8", errors="replace") as f:
        words = Counter(w for line in f for w in basic_split(line))
    toks = ["[PAD]"] + [f"[unused{i}]" for i in range(99)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    toks += list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    # Some letters only as word starts: words with them inside become [UNK].
    toks += list(letters) + ["##" + c for c in letters if c not in "qxz"]
    seen = set(toks)
    ranked = [w for w, _ in words.most_common()]
    for i, w in enumerate(ranked):
        if len(toks) >= size:
            break
        if i < size // 3:
            cand = [w]
        else:
            k = int(rng.integers(1, max(2, len(w))))
            cand = [w[:k], "##" + w[k:]]
        for c in cand:
            if c and c != "##" and c not in seen:
                seen.add(c)
                toks.append(c)
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(toks) + "\n")


def gen(a):
    global torch
    import torch as _t
    torch = _t
    rng = np.random.default_rng(a.seed)
    os.makedirs(a.dir, exist_ok=True)
    th, ti, tH, tL = map(int, a.text.split(","))
    vh, vi, vH, vL, S, P = map(int, a.vision.split(","))
    toks = gen_vocab(rng, a.words if not getattr(a, "vocab_size", 0) else a.vocab_size - 2 - 214)
    with open(os.path.join(a.dir, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(toks) + "\n")
    V = len(toks) + 2        # [DEC] and [ENC] follow the word pieces
    tc = dict(vocab_size=V, hidden_size=th, encoder_hidden_size=vh, intermediate_size=ti, num_hidden_layers=tL,
              num_attention_heads=tH, max_position_embeddings=64, hidden_act=a.act, layer_norm_eps=1e-12,
              bos_token_id=len(toks), eos_token_id=2, pad_token_id=0, sep_token_id=102)
    vc = dict(hidden_size=vh, intermediate_size=vi, num_hidden_layers=vL, num_attention_heads=vH,
              image_size=S, patch_size=P, hidden_act=a.act, layer_norm_eps=1e-5)
    with open(os.path.join(a.dir, "config.json"), "w") as f:
        json.dump({"architectures": ["BlipForConditionalGeneration"], "model_type": "blip",
                   "text_config": tc, "vision_config": vc, "projection_dim": 32}, f, indent=1)
    T = {}

    def r(name, *shape, scale=0.3, centre=0.0):
        T[name] = (centre + scale * rng.standard_normal(shape)).astype(np.float32)

    def lnp(name, d):
        r(name + ".weight", d, scale=0.1, centre=1.0)
        r(name + ".bias", d, scale=0.1)

    def linp(name, o, i):
        r(name + ".weight", o, i, scale=1.0 / np.sqrt(i))
        r(name + ".bias", o, scale=0.1)

    pv = "vision_model."
    r(pv + "embeddings.class_embedding", 1, 1, vh)
    r(pv + "embeddings.patch_embedding.weight", vh, 3, P, P, scale=1.0 / np.sqrt(3 * P * P))
    r(pv + "embeddings.patch_embedding.bias", vh, scale=0.1)
    r(pv + "embeddings.position_embedding", 1, (S // P) ** 2 + 1, vh)
    for i in range(vL):
        p = f"{pv}encoder.layers.{i}."
        linp(p + "self_attn.qkv", 3 * vh, vh)
        linp(p + "self_attn.projection", vh, vh)
        lnp(p + "layer_norm1", vh)
        linp(p + "mlp.fc1", vi, vh)
        linp(p + "mlp.fc2", vh, vi)
        lnp(p + "layer_norm2", vh)
    lnp(pv + "post_layernorm", vh)
    pt = "text_decoder.bert."
    r(pt + "embeddings.word_embeddings.weight", V, th, scale=1.0)
    r(pt + "embeddings.position_embeddings.weight", 64, th, scale=0.5)
    lnp(pt + "embeddings.LayerNorm", th)
    for i in range(tL):
        p = f"{pt}encoder.layer.{i}."
        for s, kv in (("attention", th), ("crossattention", vh)):
            linp(p + s + ".self.query", th, th)
            linp(p + s + ".self.key", th, kv)
            linp(p + s + ".self.value", th, kv)
            linp(p + s + ".output.dense", th, th)
            lnp(p + s + ".output.LayerNorm", th)
        linp(p + "intermediate.dense", ti, th)
        linp(p + "output.dense", th, ti)
        lnp(p + "output.LayerNorm", th)
    hp = "text_decoder.cls.predictions."
    linp(hp + "transform.dense", th, th)
    lnp(hp + "transform.LayerNorm", th)
    r(hp + "bias", V, scale=0.5)
    # Makes [SEP] a likely word, so that captions end before max_length.
    T[hp + "bias"][102] += a.sep_bias
    if a.untied:
        # The head's own weight (and the bias under its other name).
        r(hp + "decoder.weight", V, th, scale=1.0)
        T[hp + "decoder.bias"] = T.pop(hp + "bias")
    # Shuffled, as real files do not list tensors in module order.
    names = list(T)
    rng.shuffle(names)
    st_write(os.path.join(a.dir, "model.safetensors"), {n: T[n] for n in names}, a.dtype)


CHECKPOINTS = {
    # name: gen options
    "f32": dict(dtype="f32", text="40,72,4,2", vision="36,60,3,2,48,16", words=300, untied=False, act="gelu", seed=3,
                sep_bias=9.0),
    "bf16": dict(dtype="bf16", text="48,80,6,3", vision="32,56,4,2,64,16", words=500, untied=True,
                 act="gelu_new", seed=7, sep_bias=0.0),
    "f16": dict(dtype="f16", text="24,40,2,1", vision="20,30,2,3,32,8", words=200, untied=False, act="gelu",
                seed=11, sep_bias=6.0),
}
CASES = [
    # name, checkpoint, prompt, beams, max_length, min_length, repetition_penalty
    ("f32_greedy", "f32", "", 1, 20, 0, 1.0),
    ("f32_prompt_penalty", "f32", "a photography of", 1, 20, 8, 1.3),
    ("f32_beam3", "f32", "", 3, 20, 0, 1.0),
    ("f32_beam4_prompt", "f32", "a dog on the grass", 4, 14, 0, 1.2),
    ("bf16_greedy", "bf16", "", 1, 16, 0, 1.0),
    ("bf16_beam2", "bf16", "the man", 2, 20, 0, 1.0),
    ("f16_beam5", "f16", "", 5, 12, 3, 1.5),
]


def suite(a):
    """Every checkpoint and case the C tests compare with, in one process."""
    from PIL import Image
    os.makedirs(a.out, exist_ok=True)
    yy, xx = np.mgrid[0:70, 0:90]
    im = np.stack([(xx * 3) % 256, (yy * 4) % 256, ((xx + yy) * 2) % 256], -1).astype(np.uint8)
    im[20:40, 30:60] = (200, 30, 40)
    png = os.path.join(a.out, "img.png")
    Image.fromarray(im).save(png)
    for name, o in CHECKPOINTS.items():
        gen(argparse.Namespace(dir=os.path.join(a.out, name), **o))
    done = set()
    for case, ck, prompt, beams, ml, mn, rp in CASES:
        d = os.path.join(a.out, ck)
        ns = argparse.Namespace(dir=d, image=png, pixels=None, prompt=prompt, beams=beams, max_length=ml,
                                min_length=mn, repetition_penalty=rp, float32=False,
                                save_pixels=None if ck in done else os.path.join(a.out, ck + ".pix"))
        done.add(ck)
        with open(os.path.join(a.out, case + ".json"), "w") as f:
            json.dump(caption(ns), f)


def decode_cached(m, img, steps):
    """The bench's fair peer: greedy steps with cached keys and values, as
    Hugging Face decodes (image keys once per layer, one new word per step)."""
    W, c = m.W, m.t
    pre = "text_decoder.bert."
    eps, H = c["layer_norm_eps"], c["num_attention_heads"]
    L = c["num_hidden_layers"]
    ck = [lin(img, W, f"{pre}encoder.layer.{i}.crossattention.self.key") for i in range(L)]
    cv = [lin(img, W, f"{pre}encoder.layer.{i}.crossattention.self.value") for i in range(L)]
    K = [None] * L
    Vc = [None] * L
    ids = m.prompt_ids("")
    hp = "text_decoder.cls.predictions."
    dec = W.get(hp + "decoder.weight", W[pre + "embeddings.word_embeddings.weight"])
    bias = W.get(hp + "bias", W.get(hp + "decoder.bias"))
    for _ in range(steps):
        pos = len(ids) - 1
        x = W[pre + "embeddings.word_embeddings.weight"][ids[-1]][None] + \
            W[pre + "embeddings.position_embeddings.weight"][pos][None]
        x = ln(x, W, pre + "embeddings.LayerNorm", eps)
        for i in range(L):
            p = f"{pre}encoder.layer.{i}."
            k, v = lin(x, W, p + "attention.self.key"), lin(x, W, p + "attention.self.value")
            K[i] = k if K[i] is None else torch.cat([K[i], k])
            Vc[i] = v if Vc[i] is None else torch.cat([Vc[i], v])
            a = attend(lin(x, W, p + "attention.self.query"), K[i], Vc[i], H, False)
            x = ln(lin(a, W, p + "attention.output.dense") + x, W, p + "attention.output.LayerNorm", eps)
            a = attend(lin(x, W, p + "crossattention.self.query"), ck[i], cv[i], H, False)
            x = ln(lin(a, W, p + "crossattention.output.dense") + x, W, p + "crossattention.output.LayerNorm", eps)
            h = act(c["hidden_act"], lin(x, W, p + "intermediate.dense"))
            x = ln(lin(h, W, p + "output.dense") + x, W, p + "output.LayerNorm", eps)
        h = ln(act(c["hidden_act"], lin(x, W, hp + "transform.dense")), W, hp + "transform.LayerNorm", eps)
        ids.append(int(torch.argmax(h @ dec.t() + bias)))
    return ids


def bench(a):
    """Seconds per caption (vision + a.steps cached greedy steps), float32, per thread count."""
    m = Blip(a.dir, True)
    S = m.v["image_size"]
    px = torch.from_numpy(np.random.default_rng(0).standard_normal((3, S, S)).astype(np.float32))
    res = {}
    for th in [int(t) for t in a.threads.split(",")]:
        torch.set_num_threads(th)
        n, tv, tt, c0 = 0, 0.0, 0.0, time.process_time()
        while True:
            with torch.no_grad():
                t0 = time.perf_counter()
                img = m.vision(px)
                t1 = time.perf_counter()
                decode_cached(m, img, a.steps)
                t2 = time.perf_counter()
            n += 1
            tv += t1 - t0
            tt += t2 - t0
            if tt >= a.budget:
                break
        res[str(th)] = {"caption": tt / n, "vision": tv / n, "cpu": (time.process_time() - c0) / n}
    print(json.dumps(res))


def main():
    global torch
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("dir")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--dtype", default="f32", choices=["f32", "f16", "bf16"])
    g.add_argument("--text", default="40,72,4,2", help="hidden,inter,heads,layers")
    g.add_argument("--vision", default="36,60,3,2,48,16", help="hidden,inter,heads,layers,image,patch")
    g.add_argument("--words", type=int, default=300)
    g.add_argument("--untied", action="store_true")
    g.add_argument("--act", default="gelu")
    g.add_argument("--sep-bias", type=float, default=0.0)
    g.add_argument("--vocab-size", type=int, default=0, help="exact decoder vocabulary (words follow)")
    c = sub.add_parser("caption")
    c.add_argument("dir")
    c.add_argument("--image")
    c.add_argument("--pixels")
    c.add_argument("--save-pixels")
    c.add_argument("--prompt", default="")
    c.add_argument("--beams", type=int, default=1)
    c.add_argument("--max-length", type=int, default=20)
    c.add_argument("--min-length", type=int, default=0)
    c.add_argument("--repetition-penalty", type=float, default=1.0)
    c.add_argument("--float32", action="store_true")
    t = sub.add_parser("tokenize")
    t.add_argument("vocab")
    p = sub.add_parser("preprocess")
    p.add_argument("image")
    p.add_argument("size", type=int)
    p.add_argument("out")
    vv = sub.add_parser("vocab")
    vv.add_argument("out")
    vv.add_argument("--texts", required=True)
    vv.add_argument("--seed", type=int, default=1)
    vv.add_argument("--size", type=int, default=3000)
    su = sub.add_parser("suite")
    su.add_argument("out")
    b = sub.add_parser("bench")
    b.add_argument("dir")
    b.add_argument("--threads", default="1")
    b.add_argument("--budget", type=float, default=1.0)
    b.add_argument("--steps", type=int, default=19)
    a = ap.parse_args()
    if a.cmd == "tokenize":
        wp = WordPiece(a.vocab)
        out = sys.stdout
        data = sys.stdin.buffer.read().decode("utf-8", "replace")
        if data.endswith("\n"):
            data = data[:-1]
        for line in data.split("\n"):
            out.write(" ".join(map(str, wp.encode(line))) + "\n")
        return
    if a.cmd == "vocab":
        vocab_from_texts(a.out, a.texts, a.seed, a.size)
        return
    if a.cmd == "preprocess":
        preprocess(a.image, a.size).astype("<f4").tofile(a.out)
        return
    import torch as _t
    torch = _t
    if a.cmd == "gen":
        gen(a)
    elif a.cmd == "caption":
        if not a.image and not a.pixels:
            raise SystemExit("caption needs --image or --pixels")
        json.dump(caption(a), sys.stdout)
    elif a.cmd == "suite":
        suite(a)
    elif a.cmd == "bench":
        bench(a)


if __name__ == "__main__":
    main()
