#!/usr/bin/python3
"""sam_ref.py — an independent Segment Anything reference for imgdex's tests and bench.

Written from the paper (Kirillov et al. 2023, "Segment Anything"; the ViTDet
backbone of Li et al. 2022 for windowed attention and decomposed relative
positions) and Hugging Face's SamModel tensor names and config.json, in
plain PyTorch + NumPy + PIL (no transformers, no segment_anything).  Every
computation is float64 so that the C engine is compared against something
more exact than itself.

  sam_ref.py gen DIR --seed N [--dtype f32|f16|bf16] [--size tiny|base] [--confident]
                                   a random SamModel checkpoint (config.json + model.safetensors)
  sam_ref.py preprocess IMAGE OUT.f32 [--size S]
                                   SAM's preprocessing with PIL: CHW float32, S x S; prints "h w"
                                   of the resized image before padding
  sam_ref.py run DIR PIXELS.f32 PROMPTS.json OUT.json
                                   image embeddings, then low-res masks and IoU predictions of
                                   each prompt {"points": [[x, y], ...], "labels": [...],
                                   "box": [x0, y0, x1, y1]} (coordinates in the model's input frame)
  sam_ref.py amg DIR IMAGE [--points-per-side N] [--pred-iou-thresh T] [--stability-thresh T]
                 [--nms T] [--min-area A]
                                   automatic mask generation as JSON
  sam_ref.py image OUT.png W H --seed N
                                   a synthetic test photo: noise with a few flat shapes
  sam_ref.py bench DIR --threads N [--runs R]
                                   wall and CPU seconds per image encoding (random pixels)
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clip_ref  # noqa: E402  (imgdex's own safetensors reader/writer)

torch = None
F = None


def need_torch():
    global torch, F
    if torch is None:
        import torch as t
        import torch.nn.functional as f
        torch, F = t, f
        clip_ref.torch = t

# ---------------------------------------------------------------- config


def config(d):
    """config.json with Hugging Face's SamConfig defaults for what is absent."""
    j = json.load(open(os.path.join(d, "config.json")))
    v, p, m = j.get("vision_config", {}), j.get("prompt_encoder_config", {}), j.get("mask_decoder_config", {})
    vc = dict(hidden=v.get("hidden_size", 768), out=v.get("output_channels", 256),
              layers=v.get("num_hidden_layers", 12), heads=v.get("num_attention_heads", 12),
              channels=v.get("num_channels", 3), image=v.get("image_size", 1024),
              patch=v.get("patch_size", 16), eps=v.get("layer_norm_eps", 1e-6),
              qkv_bias=v.get("qkv_bias", True), abs_pos=v.get("use_abs_pos", True),
              rel_pos=v.get("use_rel_pos", True), window=v.get("window_size", 14),
              global_idx=v.get("global_attn_indexes", [2, 5, 8, 11]),
              pos_feats=v.get("num_pos_feats", 128), act=v.get("hidden_act", "gelu"))
    mlp = v.get("mlp_dim")
    vc["mlp"] = mlp if mlp else int(vc["hidden"] * v.get("mlp_ratio", 4.0))
    pc = dict(hidden=p.get("hidden_size", 256), image=p.get("image_size", 1024),
              patch=p.get("patch_size", 16), mask_ch=p.get("mask_input_channels", 16),
              npe=p.get("num_point_embeddings", 4))
    mc = dict(hidden=m.get("hidden_size", 256), act=m.get("hidden_act", "relu"),
              mlp=m.get("mlp_dim", 2048), layers=m.get("num_hidden_layers", 2),
              heads=m.get("num_attention_heads", 8), down=m.get("attention_downsample_rate", 2),
              nmulti=m.get("num_multimask_outputs", 3), iou_depth=m.get("iou_head_depth", 3),
              iou_hidden=m.get("iou_head_hidden_dim", 256), eps=m.get("layer_norm_eps", 1e-6))
    return vc, pc, mc


def act(name, x):
    if name == "gelu":
        return F.gelu(x)
    if name == "relu":
        return torch.relu(x)
    raise SystemExit("unsupported activation " + name)

# ---------------------------------------------------------------- the model


class Sam:
    def __init__(self, d):
        need_torch()
        self.vc, self.pc, self.mc = config(d)
        self.W = clip_ref.st_read(os.path.join(d, "model.safetensors"))
        if "shared_image_embedding.positional_embedding" not in self.W:
            self.W["shared_image_embedding.positional_embedding"] = \
                self.W["prompt_encoder.shared_embedding.positional_embedding"]

    def w(self, name):
        return self.W[name]

    def lin(self, x, pre):
        b = self.W.get(pre + ".bias")
        y = x @ self.W[pre + ".weight"].T
        return y + b if b is not None else y

    def ln(self, x, pre, eps):
        return F.layer_norm(x, x.shape[-1:], self.W[pre + ".weight"], self.W[pre + ".bias"], eps)

    def ln_channels(self, x, pre, eps=1e-6):
        """Layer norm over the channels of a C x H x W map."""
        u = x.mean(0, keepdim=True)
        s = ((x - u) ** 2).mean(0, keepdim=True)
        x = (x - u) / torch.sqrt(s + eps)
        return self.W[pre + ".weight"][:, None, None] * x + self.W[pre + ".bias"][:, None, None]

    # ---- image encoder: ViT with windowed/global attention, then the neck

    def rel_table(self, table, n):
        """Row i, column j: the embedding of offset i - j (sizes equal, so no interpolation)."""
        if table.shape[0] != 2 * n - 1:
            raise SystemExit("relative position table of %d rows for a %d side" % (table.shape[0], n))
        idx = torch.arange(n)[:, None] - torch.arange(n)[None, :] + (n - 1)
        return table[idx]

    def vit_attention(self, x, pre):
        n, hh, ww, D = x.shape
        H = self.vc["heads"]
        hd = D // H
        qkv = self.lin(x.reshape(n, hh * ww, D), pre + ".qkv").reshape(n, hh * ww, 3, H, hd)
        q, k, v = (qkv[:, :, i].permute(0, 2, 1, 3) for i in range(3))   # n, H, T, hd
        a = (q * hd ** -0.5) @ k.transpose(-1, -2)
        if self.vc["rel_pos"]:
            Rh = self.rel_table(self.W[pre + ".rel_pos_h"], hh)
            Rw = self.rel_table(self.W[pre + ".rel_pos_w"], ww)
            rq = q.reshape(n, H, hh, ww, hd)
            bh = torch.einsum("nayxc,ykc->nayxk", rq, Rh)
            bw = torch.einsum("nayxc,xkc->nayxk", rq, Rw)
            a = (a.reshape(n, H, hh, ww, hh, ww) + bh[..., :, None] + bw[..., None, :]).reshape(n, H, hh * ww, hh * ww)
        a = torch.softmax(a, -1)
        o = (a @ v).permute(0, 2, 1, 3).reshape(n, hh, ww, D)
        return self.lin(o, pre + ".proj")

    def image_embeddings(self, px):
        vc = self.vc
        P = vc["patch"]
        x = F.conv2d(px[None], self.w("vision_encoder.patch_embed.projection.weight"),
                     self.w("vision_encoder.patch_embed.projection.bias"), stride=P)[0].permute(1, 2, 0)
        if vc["abs_pos"]:
            x = x + self.w("vision_encoder.pos_embed")[0]
        G = x.shape[0]
        for i in range(vc["layers"]):
            pre = "vision_encoder.layers.%d" % i
            h = self.ln(x, pre + ".layer_norm1", vc["eps"])
            win = 0 if i in vc["global_idx"] else vc["window"]
            if win:
                Gp = (G + win - 1) // win * win
                hp = torch.zeros(Gp, Gp, h.shape[-1], dtype=h.dtype)
                hp[:G, :G] = h        # the padding joins attention as zero tokens
                nw = Gp // win
                wins = hp.reshape(nw, win, nw, win, -1).permute(0, 2, 1, 3, 4).reshape(nw * nw, win, win, -1)
                o = self.vit_attention(wins, pre + ".attn")
                o = o.reshape(nw, nw, win, win, -1).permute(0, 2, 1, 3, 4).reshape(Gp, Gp, -1)[:G, :G]
            else:
                o = self.vit_attention(h[None], pre + ".attn")[0]
            x = x + o
            h = self.ln(x, pre + ".layer_norm2", vc["eps"])
            h = self.lin(act(vc["act"], self.lin(h, pre + ".mlp.lin1")), pre + ".mlp.lin2")
            x = x + h
        y = x.permute(2, 0, 1)
        y = F.conv2d(y[None], self.w("vision_encoder.neck.conv1.weight"))[0]
        y = self.ln_channels(y, "vision_encoder.neck.layer_norm1")
        y = F.conv2d(y[None], self.w("vision_encoder.neck.conv2.weight"), padding=1)[0]
        return self.ln_channels(y, "vision_encoder.neck.layer_norm2")

    # ---- prompt encoder: random Fourier features of coordinates

    def fourier(self, xy):
        """xy in [0, 1], last dim 2 -> sin and cos of 2 pi (2 xy - 1) G."""
        c = (2 * xy - 1) @ self.w("shared_image_embedding.positional_embedding")
        c = 2 * math.pi * c
        return torch.cat([torch.sin(c), torch.cos(c)], -1)

    def dense_pe(self, g):
        t = (torch.arange(g, dtype=torch.float64) + 0.5) / g
        xy = torch.stack([t[None, :].expand(g, g), t[:, None].expand(g, g)], -1)
        return self.fourier(xy).permute(2, 0, 1)    # C x g x g

    def sparse(self, prompt):
        S = self.pc["image"]
        pts = [list(p) for p in prompt.get("points", [])]
        labels = list(prompt.get("labels", []))
        box = prompt.get("box")
        toks = []
        if pts:
            if box is None:     # a "not a point" pads single-point prompts
                pts.append([-0.5, -0.5])
                labels.append(-1)
            e = self.fourier((torch.tensor(pts, dtype=torch.float64) + 0.5) / S)
            for i, lab in enumerate(labels):
                if lab == -1:
                    toks.append(self.w("prompt_encoder.not_a_point_embed.weight")[0])
                else:
                    toks.append(e[i] + self.w("prompt_encoder.point_embed.%d.weight" % lab)[0])
        if box is not None:
            c = (torch.tensor(box, dtype=torch.float64).reshape(2, 2) + 0.5) / S
            e = self.fourier(c)
            toks.append(e[0] + self.w("prompt_encoder.point_embed.2.weight")[0])
            toks.append(e[1] + self.w("prompt_encoder.point_embed.3.weight")[0])
        return torch.stack(toks) if toks else torch.zeros(0, self.pc["hidden"], dtype=torch.float64)

    # ---- mask decoder: two-way transformer, upscaling, hypernetworks, IoU head

    def attn(self, q, k, v, pre):
        H = self.mc["heads"]
        q, k, v = self.lin(q, pre + ".q_proj"), self.lin(k, pre + ".k_proj"), self.lin(v, pre + ".v_proj")
        di = q.shape[-1]
        hd = di // H
        q = q.reshape(-1, H, hd).transpose(0, 1)
        k = k.reshape(-1, H, hd).transpose(0, 1)
        v = v.reshape(-1, H, hd).transpose(0, 1)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd), -1)
        return self.lin((a @ v).transpose(0, 1).reshape(-1, di), pre + ".out_proj")

    def mlp3(self, x, pre, n):
        x = torch.relu(self.lin(x, pre + ".proj_in"))
        for i in range(n - 2):
            x = torch.relu(self.lin(x, pre + ".layers.%d" % i))
        return self.lin(x, pre + ".proj_out")

    def decode(self, emb, prompt):
        """All mask tokens' low-res masks (K x 4g x 4g) and IoU predictions (K)."""
        mc = self.mc
        eps = mc["eps"]
        C, g, _ = emb.shape
        tokens = torch.cat([self.w("mask_decoder.iou_token.weight"), self.w("mask_decoder.mask_tokens.weight"),
                            self.sparse(prompt)], 0)
        keys = (emb + self.w("prompt_encoder.no_mask_embed.weight")[0][:, None, None]).reshape(C, -1).T
        kpe = self.dense_pe(g).reshape(C, -1).T
        q = tokens
        T = "mask_decoder.transformer"
        for i in range(mc["layers"]):
            pre = "%s.layers.%d" % (T, i)
            if i == 0:
                q = self.attn(q, q, q, pre + ".self_attn")
            else:
                qq = q + tokens
                q = q + self.attn(qq, qq, q, pre + ".self_attn")
            q = self.ln(q, pre + ".layer_norm1", eps)
            q = q + self.attn(q + tokens, keys + kpe, keys, pre + ".cross_attn_token_to_image")
            q = self.ln(q, pre + ".layer_norm2", eps)
            q = q + self.lin(act(mc["act"], self.lin(q, pre + ".mlp.lin1")), pre + ".mlp.lin2")
            q = self.ln(q, pre + ".layer_norm3", eps)
            keys = keys + self.attn(keys + kpe, q + tokens, q, pre + ".cross_attn_image_to_token")
            keys = self.ln(keys, pre + ".layer_norm4", eps)
        q = q + self.attn(q + tokens, keys + kpe, keys, T + ".final_attn_token_to_image")
        q = self.ln(q, T + ".layer_norm_final_attn", 1e-5)    # a plain nn.LayerNorm in the reference
        K = mc["nmulti"] + 1
        src = keys.T.reshape(C, g, g)
        up = F.conv_transpose2d(src[None], self.w("mask_decoder.upscale_conv1.weight"),
                                self.w("mask_decoder.upscale_conv1.bias"), stride=2)[0]
        up = F.gelu(self.ln_channels(up, "mask_decoder.upscale_layer_norm"))
        up = F.gelu(F.conv_transpose2d(up[None], self.w("mask_decoder.upscale_conv2.weight"),
                                       self.w("mask_decoder.upscale_conv2.bias"), stride=2)[0])
        hyper = torch.stack([self.mlp3(q[1 + i], "mask_decoder.output_hypernetworks_mlps.%d" % i, 3)
                             for i in range(K)])
        c2, h2, w2 = up.shape
        masks = (hyper @ up.reshape(c2, -1)).reshape(K, h2, w2)
        iou = self.mlp3(q[0], "mask_decoder.iou_prediction_head", mc["iou_depth"])
        return masks, iou

# ---------------------------------------------------------------- preprocessing


MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])


def resized_shape(h, w, S):
    s = S / max(h, w)
    return int(h * s + 0.5), int(w * s + 0.5)


def preprocess(path, S):
    from PIL import Image
    im = Image.open(path).convert("RGB")
    nh, nw = resized_shape(im.height, im.width, S)
    if (nw, nh) != im.size:
        im = im.resize((nw, nh), Image.BILINEAR)
    a = (np.asarray(im, np.float64) / 255.0 - MEAN) / STD
    out = np.zeros((3, S, S), np.float32)
    out[:, :nh, :nw] = a.transpose(2, 0, 1)
    return out, nh, nw, im

# ---------------------------------------------------------------- automatic mask generation


def upsample(m, h, w):
    """Bilinear, half-pixel centres, no antialiasing (F.interpolate(align_corners=False))."""
    return F.interpolate(m[None], (h, w), mode="bilinear", align_corners=False)[0]


def mask_box(m):
    ys, xs = np.nonzero(m)
    if len(xs) == 0:
        return [0, 0, 0, 0]
    return [int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())]


def rle(m):
    """Counts of alternating runs in column-major order, starting with zeros."""
    flat = m.T.reshape(-1).astype(np.int8)
    counts, cur, run = [], 0, 0
    for v in flat:
        if v == cur:
            run += 1
        else:
            counts.append(run)
            cur, run = v, 1
    counts.append(run)
    return counts


def box_iou(a, b):
    f = np.float32
    ix = max(f(0), f(min(a[2], b[2]) - max(a[0], b[0])))
    iy = max(f(0), f(min(a[3], b[3]) - max(a[1], b[1])))
    inter = f(ix * iy)
    ua = f((a[2] - a[0]) * (a[3] - a[1])) + f((b[2] - b[0]) * (b[3] - b[1])) - inter
    return inter / ua if ua > 0 else f(0)


def nms(boxes, scores, thresh):
    """Indices kept, best score first; equal scores keep their input order."""
    order = sorted(range(len(boxes)), key=lambda i: -scores[i])
    keep, dead = [], set()
    for n, i in enumerate(order):
        if i in dead:
            continue
        keep.append(i)
        for j in order[n + 1:]:
            if j not in dead and box_iou(boxes[i], boxes[j]) > thresh:
                dead.add(j)
    return keep


def components(m):
    """8-connected labels, numbered in raster order of their first pixel; sizes."""
    h, w = m.shape
    lab = np.zeros((h, w), np.int64)
    sizes = [0]
    for y in range(h):
        for x in range(w):
            if m[y, x] and not lab[y, x]:
                n = len(sizes)
                sizes.append(0)
                stack = [(y, x)]
                lab[y, x] = n
                while stack:
                    cy, cx = stack.pop()
                    sizes[n] += 1
                    for dy in (-1, 0, 1):
                        for dx in (-1, 0, 1):
                            yy, xx = cy + dy, cx + dx
                            if 0 <= yy < h and 0 <= xx < w and m[yy, xx] and not lab[yy, xx]:
                                lab[yy, xx] = n
                                stack.append((yy, xx))
    return lab, sizes


def remove_small(m, area, holes):
    """Fill holes (holes=True) or drop islands smaller than area; (mask, changed)."""
    work = ~m if holes else m
    lab, sizes = components(work)
    small = [i for i in range(1, len(sizes)) if sizes[i] < area]
    if not small:
        return m, False
    if holes:
        keep = [0] + small          # background of `work` is the mask itself
    else:
        keep = [i for i in range(1, len(sizes)) if i not in small]
        if not keep:                # everything is small: keep the largest
            keep = [int(np.argmax(sizes[1:])) + 1]
    return np.isin(lab, keep), True


def amg(d, image, pps, iou_t, stab_t, nms_t, min_area):
    model = Sam(d)
    S = model.pc["image"]
    px, nh, nw, _ = preprocess(image, S)
    from PIL import Image
    W, H = Image.open(image).size
    emb = model.image_embeddings(torch.from_numpy(px.astype(np.float64)))
    off = 1 / (2 * pps)
    side = np.linspace(off, 1 - off, pps)
    grid = [(side[i] * W, side[j] * H) for j in range(pps) for i in range(pps)]
    found = []
    offset = 1.0
    for (x, y) in grid:
        p = {"points": [[x * nw / W, y * nh / H]], "labels": [1]}
        masks, iou = model.decode(emb, p)
        masks, iou = masks[1:], iou[1:]
        up = upsample(masks, S, S)[:, :nh, :nw]
        up = upsample(up, H, W)
        for k in range(masks.shape[0]):
            score = float(iou[k])
            if iou_t > 0 and not score > iou_t:
                continue
            inter = int((up[k] > offset).sum())
            union = int((up[k] > -offset).sum())
            stab = inter / union if union else float("nan")
            if stab_t > 0 and not stab >= stab_t:
                continue
            m = (up[k] > 0).numpy()
            found.append(dict(mask=m, box=mask_box(m), iou=score, stab=stab, point=[x, y]))
    keep = nms([f["box"] for f in found], [np.float32(f["iou"]) for f in found], nms_t)
    found = [found[i] for i in keep]
    if min_area > 0:
        scores = []
        for f in found:
            m, ch1 = remove_small(f["mask"], min_area, True)
            m, ch2 = remove_small(m, min_area, False)
            f["mask"] = m
            scores.append(0.0 if (ch1 or ch2) else 1.0)
            f["box"] = mask_box(m)
        keep = nms([f["box"] for f in found], scores, nms_t)
        found = [found[i] for i in keep]
    out = []
    for f in found:
        b = f["box"]
        out.append(dict(size=[H, W], counts=rle(f["mask"]), area=int(f["mask"].sum()),
                        bbox=[b[0], b[1], b[2] - b[0], b[3] - b[1]], predicted_iou=f["iou"],
                        stability_score=f["stab"], point=f["point"]))
    return out

# ---------------------------------------------------------------- random checkpoints


SIZES = {
    # small, odd where it matters: 3 x 3 windows over an 8 x 8 grid (padding),
    # one global layer, 2-token downsampled cross attention
    "tiny": dict(vision_config=dict(hidden_size=24, output_channels=16, num_hidden_layers=3,
                                    num_attention_heads=2, image_size=64, patch_size=8, mlp_dim=40,
                                    window_size=3, global_attn_indexes=[1], num_pos_feats=8,
                                    layer_norm_eps=1e-6, hidden_act="gelu"),
                 prompt_encoder_config=dict(hidden_size=16, image_size=64, patch_size=8,
                                            image_embedding_size=8, mask_input_channels=4),
                 mask_decoder_config=dict(hidden_size=16, mlp_dim=24, num_hidden_layers=2,
                                          num_attention_heads=2, iou_head_hidden_dim=12,
                                          iou_head_depth=3, layer_norm_eps=1e-6)),
    "base": dict(vision_config=dict(hidden_size=768, output_channels=256, num_hidden_layers=12,
                                    num_attention_heads=12, image_size=1024, patch_size=16, mlp_dim=3072,
                                    window_size=14, global_attn_indexes=[2, 5, 8, 11], num_pos_feats=128),
                 prompt_encoder_config=dict(hidden_size=256, image_size=1024, patch_size=16,
                                            image_embedding_size=64, mask_input_channels=16),
                 mask_decoder_config=dict(hidden_size=256, mlp_dim=2048, num_hidden_layers=2,
                                          num_attention_heads=8, iou_head_hidden_dim=256, iou_head_depth=3)),
}


def gen(d, seed, dtype, size, confident=False):
    os.makedirs(d, exist_ok=True)
    cfg = dict(SIZES[size])
    cfg["model_type"] = "sam"
    cfg["architectures"] = ["SamModel"]
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    vc, pc, mc = config(d)
    rng = np.random.default_rng(seed)
    W = {}

    def lin(name, o, i, bias=True):
        W[name + ".weight"] = rng.normal(0, 1 / math.sqrt(i), (o, i))
        if bias:
            W[name + ".bias"] = rng.normal(0, 0.1, (o,))

    def norm(name, n):
        W[name + ".weight"] = 1 + rng.normal(0, 0.2, (n,))
        W[name + ".bias"] = rng.normal(0, 0.2, (n,))

    D, P, C = vc["hidden"], vc["patch"], vc["out"]
    g = vc["image"] // P
    hd = D // vc["heads"]
    W["vision_encoder.patch_embed.projection.weight"] = rng.normal(0, 1 / math.sqrt(3 * P * P), (D, 3, P, P))
    W["vision_encoder.patch_embed.projection.bias"] = rng.normal(0, 0.1, (D,))
    W["vision_encoder.pos_embed"] = rng.normal(0, 0.5, (1, g, g, D))
    for i in range(vc["layers"]):
        pre = "vision_encoder.layers.%d" % i
        side = g if i in vc["global_idx"] else vc["window"]
        norm(pre + ".layer_norm1", D)
        lin(pre + ".attn.qkv", 3 * D, D)
        lin(pre + ".attn.proj", D, D)
        W[pre + ".attn.rel_pos_h"] = rng.normal(0, 0.5, (2 * side - 1, hd))
        W[pre + ".attn.rel_pos_w"] = rng.normal(0, 0.5, (2 * side - 1, hd))
        norm(pre + ".layer_norm2", D)
        lin(pre + ".mlp.lin1", vc["mlp"], D)
        lin(pre + ".mlp.lin2", D, vc["mlp"])
    W["vision_encoder.neck.conv1.weight"] = rng.normal(0, 1 / math.sqrt(D), (C, D, 1, 1))
    norm("vision_encoder.neck.layer_norm1", C)
    W["vision_encoder.neck.conv2.weight"] = rng.normal(0, 1 / math.sqrt(9 * C), (C, C, 3, 3))
    norm("vision_encoder.neck.layer_norm2", C)

    Hp = pc["hidden"]
    W["shared_image_embedding.positional_embedding"] = rng.normal(0, 1.0, (2, vc["pos_feats"]))
    mi = pc["mask_ch"]
    W["prompt_encoder.mask_embed.conv1.weight"] = rng.normal(0, 0.5, (mi // 4, 1, 2, 2))
    W["prompt_encoder.mask_embed.conv1.bias"] = rng.normal(0, 0.1, (mi // 4,))
    W["prompt_encoder.mask_embed.conv2.weight"] = rng.normal(0, 0.5, (mi, mi // 4, 2, 2))
    W["prompt_encoder.mask_embed.conv2.bias"] = rng.normal(0, 0.1, (mi,))
    W["prompt_encoder.mask_embed.conv3.weight"] = rng.normal(0, 0.5, (Hp, mi, 1, 1))
    W["prompt_encoder.mask_embed.conv3.bias"] = rng.normal(0, 0.1, (Hp,))
    norm("prompt_encoder.mask_embed.layer_norm1", mi // 4)
    norm("prompt_encoder.mask_embed.layer_norm2", mi // 4)
    W["prompt_encoder.no_mask_embed.weight"] = rng.normal(0, 0.5, (1, Hp))
    for i in range(pc["npe"]):
        W["prompt_encoder.point_embed.%d.weight" % i] = rng.normal(0, 0.5, (1, Hp))
    W["prompt_encoder.not_a_point_embed.weight"] = rng.normal(0, 0.5, (1, Hp))

    M = mc["hidden"]
    K = mc["nmulti"] + 1
    W["mask_decoder.iou_token.weight"] = rng.normal(0, 0.5, (1, M))
    W["mask_decoder.mask_tokens.weight"] = rng.normal(0, 0.5, (K, M))

    def attention(pre, down):
        di = M // down
        lin(pre + ".q_proj", di, M)
        lin(pre + ".k_proj", di, M)
        lin(pre + ".v_proj", di, M)
        lin(pre + ".out_proj", M, di)

    T = "mask_decoder.transformer"
    for i in range(mc["layers"]):
        pre = "%s.layers.%d" % (T, i)
        attention(pre + ".self_attn", 1)
        norm(pre + ".layer_norm1", M)
        attention(pre + ".cross_attn_token_to_image", mc["down"])
        norm(pre + ".layer_norm2", M)
        lin(pre + ".mlp.lin1", mc["mlp"], M)
        lin(pre + ".mlp.lin2", M, mc["mlp"])
        norm(pre + ".layer_norm3", M)
        norm(pre + ".layer_norm4", M)
        attention(pre + ".cross_attn_image_to_token", mc["down"])
    attention(T + ".final_attn_token_to_image", mc["down"])
    norm(T + ".layer_norm_final_attn", M)
    W["mask_decoder.upscale_conv1.weight"] = rng.normal(0, 1 / math.sqrt(M), (M, M // 4, 2, 2))
    W["mask_decoder.upscale_conv1.bias"] = rng.normal(0, 0.1, (M // 4,))
    W["mask_decoder.upscale_conv2.weight"] = rng.normal(0, 1 / math.sqrt(M / 4), (M // 4, M // 8, 2, 2))
    W["mask_decoder.upscale_conv2.bias"] = rng.normal(0, 0.1, (M // 8,))
    norm("mask_decoder.upscale_layer_norm", M // 4)
    for k in range(K):
        pre = "mask_decoder.output_hypernetworks_mlps.%d" % k
        lin(pre + ".proj_in", M, M)
        lin(pre + ".layers.0", M, M)
        lin(pre + ".proj_out", M // 8, M)
        W[pre + ".proj_out.weight"] *= 12      # logits of a few units: masks with edges and stable cores
    ih = mc["iou_hidden"]
    lin("mask_decoder.iou_prediction_head.proj_in", ih, M)
    for i in range(mc["iou_depth"] - 2):
        lin("mask_decoder.iou_prediction_head.layers.%d" % i, ih, ih)
    lin("mask_decoder.iou_prediction_head.proj_out", K, ih)
    if confident:
        # a decoder sure of itself: predicted IoUs near 3 and logits far from
        # the stability band, so the default thresholds keep masks (for
        # tests of what is done with masks, not of their quality)
        W["mask_decoder.iou_prediction_head.proj_out.weight"] *= 0.1
        W["mask_decoder.iou_prediction_head.proj_out.bias"] += 3
        for k in range(K):
            W["mask_decoder.output_hypernetworks_mlps.%d.proj_out.weight" % k] *= 8
    clip_ref.st_write(os.path.join(d, "model.safetensors"), W, dtype)

# ---------------------------------------------------------------- commands


def cmd_run(d, pixels, prompts, out):
    model = Sam(d)
    S = model.pc["image"]
    px = np.fromfile(pixels, "<f4").reshape(3, S, S).astype(np.float64)
    emb = model.image_embeddings(torch.from_numpy(px))
    res = {"embeddings": emb.reshape(-1).tolist(), "shape": list(emb.shape), "prompts": []}
    for p in json.load(open(prompts)):
        masks, iou = model.decode(emb, p)
        res["prompts"].append({"masks": masks.reshape(-1).tolist(), "mask_shape": list(masks.shape),
                               "iou": iou.tolist()})
    with open(out, "w") as f:
        json.dump(res, f)


def cmd_bench(d, threads, runs):
    need_torch()
    torch.set_num_threads(threads)
    model = Sam(d)
    # float32, as a user would run it: the reference in its fastest honest form
    model.W = {k: v.float() for k, v in model.W.items()}
    S = model.pc["image"]
    px = torch.from_numpy(np.random.default_rng(1).normal(0, 1, (3, S, S)).astype(np.float32))
    with torch.no_grad():
        model.image_embeddings(px)       # warm-up
        best, cpu = 1e9, 1e9
        for _ in range(runs):
            t, c = time.time(), time.process_time()
            model.image_embeddings(px)
            best, cpu = min(best, time.time() - t), min(cpu, time.process_time() - c)
    print("%.4f %.4f" % (best, cpu))


def test_image(out, w, h, seed):
    from PIL import Image, ImageDraw
    rng = np.random.default_rng(seed)
    a = (rng.random((h, w, 3)) * 60 + 90).astype(np.uint8)
    im = Image.fromarray(a)
    dr = ImageDraw.Draw(im)
    for _ in range(4):
        x0, y0 = int(rng.integers(0, w - 8)), int(rng.integers(0, h - 8))
        x1, y1 = int(rng.integers(x0 + 4, w)), int(rng.integers(y0 + 4, h))
        col = tuple(int(c) for c in rng.integers(0, 256, 3))
        (dr.ellipse if rng.random() < 0.5 else dr.rectangle)([x0, y0, x1, y1], fill=col)
    im.save(out)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("dir")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--dtype", default="f32", choices=["f32", "f16", "bf16"])
    g.add_argument("--size", default="tiny", choices=sorted(SIZES))
    g.add_argument("--confident", action="store_true")
    p = sub.add_parser("preprocess")
    p.add_argument("image")
    p.add_argument("out")
    p.add_argument("--size", type=int, default=1024)
    r = sub.add_parser("run")
    r.add_argument("dir")
    r.add_argument("pixels")
    r.add_argument("prompts")
    r.add_argument("out")
    a = sub.add_parser("amg")
    a.add_argument("dir")
    a.add_argument("image")
    a.add_argument("--points-per-side", type=int, default=32)
    a.add_argument("--pred-iou-thresh", type=float, default=0.88)
    a.add_argument("--stability-thresh", type=float, default=0.95)
    a.add_argument("--nms", type=float, default=0.7)
    a.add_argument("--min-area", type=int, default=0)
    t = sub.add_parser("image")
    t.add_argument("out")
    t.add_argument("w", type=int)
    t.add_argument("h", type=int)
    t.add_argument("--seed", type=int, default=0)
    b = sub.add_parser("bench")
    b.add_argument("dir")
    b.add_argument("--threads", type=int, default=1)
    b.add_argument("--runs", type=int, default=2)
    o = ap.parse_args()
    if o.cmd == "gen":
        gen(o.dir, o.seed, o.dtype, o.size, o.confident)
    elif o.cmd == "preprocess":
        px, nh, nw, _ = preprocess(o.image, o.size)
        px.tofile(o.out)
        print(nh, nw)
    elif o.cmd == "run":
        need_torch()
        with torch.no_grad():
            cmd_run(o.dir, o.pixels, o.prompts, o.out)
    elif o.cmd == "amg":
        need_torch()
        with torch.no_grad():
            res = amg(o.dir, o.image, o.points_per_side, o.pred_iou_thresh, o.stability_thresh, o.nms,
                      o.min_area)
        json.dump(res, sys.stdout)
    elif o.cmd == "image":
        test_image(o.out, o.w, o.h, o.seed)
    elif o.cmd == "bench":
        cmd_bench(o.dir, o.threads, o.runs)


if __name__ == "__main__":
    main()
