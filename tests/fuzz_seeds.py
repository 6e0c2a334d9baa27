#!/usr/bin/python3
"""fuzz_seeds.py OUT_DIR — seed corpora for the libFuzzer targets (tests/fuzz_*.c):
OUT_DIR/fuzz_<target>-corpus/ for image, tfjs, safetensors, bpe, http, json, query.
Small real files made here (PIL for the images), never committed.
Tooling only: /usr/bin/python3 with PIL; imgdex never runs Python."""
import base64, io, json, os, struct, sys, zlib

out = sys.argv[1]


def put(target, name, data):
    d = os.path.join(out, "fuzz_" + target + "-corpus")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8", "surrogateescape"))


# ---- images: every format, small, some with EXIF ------------------------
from PIL import Image

img = Image.new("RGB", (23, 17))
for y in range(17):
    for x in range(23):
        img.putpixel((x, y), (x * 11 % 256, y * 15 % 256, (x * y) % 256))


def save(name, im, fmt, **kw):
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    put("image", name, b.getvalue())


exif = Image.Exif()
exif[0x0112] = 6                      # orientation
exif[0x010F] = "Canon"
exif[0x0110] = "Canon EOS 5D"
exif[0x0132] = "2013:05:20 10:11:12"
save("base.jpg", img, "JPEG", quality=80)
save("exif.jpg", img, "JPEG", quality=80, exif=exif.tobytes())
save("prog.jpg", img, "JPEG", quality=60, progressive=True)
save("gray.jpg", img.convert("L"), "JPEG")
save("rgb.png", img, "PNG")
save("rgba.png", img.convert("RGBA"), "PNG")
save("pal.png", img.convert("P"), "PNG")
save("gray16.png", img.convert("L").convert("I"), "PNG")
save("a.gif", img.convert("P"), "GIF")
save("a.bmp", img, "BMP")
save("pal.bmp", img.convert("P"), "BMP")
save("a.ppm", img, "PPM")
save("a.pgm", img.convert("L"), "PPM")
try:
    save("lossy.webp", img, "WEBP", quality=50)
    save("lossless.webp", img, "WEBP", lossless=True)
except (OSError, KeyError):
    pass
put("image", "p1.pbm", "P1\n4 2\n0 1 0 1\n1 0 1 0\n")
put("image", "p3.ppm", "P3\n2 1\n255\n255 0 0 0 255 0\n")
put("image", "exif-raw", b"Exif\0\0" + exif.tobytes())


def bmp_rle8(w, h, data, bpp=8, comp=1):
    pal = b"".join(bytes((i, i, 255 - i, 0)) for i in range(256))
    off = 14 + 40 + len(pal)
    hdr = struct.pack("<IiiHHIIiiII", 40, w, h, 1, bpp, comp, len(data), 2835, 2835, 256, 0)
    return b"BM" + struct.pack("<IHHI", off + len(data), 0, 0, off) + hdr + pal + data


put("image", "rle8.bmp", bmp_rle8(8, 4, bytes([4, 1, 2, 7, 0, 3, 9, 8, 7, 0, 0, 0, 2, 3, 1, 0, 0, 3, 200, 0, 1])))
put("image", "rle4.bmp", bmp_rle8(8, 2, bytes([4, 0x12, 0, 0, 0, 4, 0x12, 0x34, 0, 1]), bpp=4, comp=2))

# ---- safetensors ---------------------------------------------------------
def safetensors(tensors):
    header, blob = {}, b""
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + blob


put("safetensors", "f32", safetensors([("w", "F32", [2, 3], struct.pack("<6f", *range(6)))]))
put("safetensors", "mixed", safetensors([("a", "F16", [4], struct.pack("<4H", 0x3C00, 0xBC00, 0x7C00, 1)),
                                         ("b", "BF16", [2, 1], struct.pack("<2H", 0x3F80, 0xC000)),
                                         ("i", "I64", [1], struct.pack("<q", 7))]))
put("safetensors", "empty", safetensors([]))

# ---- tfjs: the loader test's tiny graph ------------------------------------
model = {"format": "graph-model", "modelTopology": {"node": [
    {"name": "x", "op": "Placeholder", "attr": {"dtype": {"type": "DT_FLOAT"},
     "shape": {"shape": {"dim": [{"size": "-1"}, {"size": "2"}, {"size": "2"}, {"size": "1"}]}}}},
    {"name": "w", "op": "Const"}, {"name": "b", "op": "Const"}, {"name": "k", "op": "Const"},
    {"name": "shape", "op": "Const"},
    {"name": "conv", "op": "_FusedConv2D", "input": ["x", "w", "b"], "attr": {
        "strides": {"list": {"i": ["1", "1", "1", "1"]}}, "padding": {"s": "VkFMSUQ="},
        "data_format": {"s": "TkhXQw=="}, "num_args": {"i": "1"},
        "fused_ops": {"list": {"s": ["Qmlhc0FkZA==", "UmVsdQ=="]}}}},
    {"name": "r", "op": "Reshape", "input": ["conv", "shape"]},
    {"name": "top", "op": "TopKV2", "input": ["r", "k"], "attr": {"sorted": {"b": True}}},
    {"name": "values", "op": "Identity", "input": ["top"]},
    {"name": "indices", "op": "Cast", "input": ["top:1", "^x"],
     "attr": {"SrcT": {"type": "DT_INT32"}, "DstT": {"type": "DT_FLOAT"}}}]},
    "weightsManifest": [{"paths": ["w.bin"], "weights": [
        {"name": "w", "shape": [1, 1, 1, 2], "dtype": "float32",
         "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1}},
        {"name": "b", "shape": [2], "dtype": "float32",
         "quantization": {"dtype": "float16", "original_dtype": "float32"}},
        {"name": "k", "shape": [], "dtype": "int32"},
        {"name": "shape", "shape": [2], "dtype": "int32"}]}]}
weights = bytes([2, 6, 0x00, 0x3C, 0x00, 0xB8, 2, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0])
put("tfjs", "graph", json.dumps(model).encode() + b"\n==shard==\n" + weights)
m2 = json.loads(json.dumps(model))
m2["modelTopology"]["node"][5]["op"] = "Conv2D"
put("tfjs", "conv", json.dumps(m2).encode() + b"\n==shard==\n" + weights)
# with a signature, as the human-models files have: inputs and outputs by
# key and "name", an output naming a second slot
m3 = json.loads(json.dumps(model))
m3["signature"] = {"inputs": {"x:0": {"name": "x:0", "dtype": "DT_FLOAT"}},
                   "outputs": {"scores": {"name": "values"}, "ids": {"name": "top:1"}}}
put("tfjs", "signature", json.dumps(m3).encode() + b"\n==shard==\n" + weights)

# every op folded at load time: the loader runs a node whose inputs are all
# constants, so these reach broadcasting, MatMul, Gather, StridedSlice,
# Concat, Pack, ArgMax, Pad, Tile, pooling and the transposed convolution
# from the loader alone (the graph above reaches few of them)
def b64(s):
    return base64.b64encode(s.encode()).decode()


def ints(*v):
    return {"list": {"i": [str(x) for x in v]}}


consts = [("a", "float32", [2, 1], [1, 2]), ("b", "float32", [1, 3], [1, 2, 3]),
          ("perm", "int32", [2], [1, 0]), ("idx", "int32", [2], [1, 0]), ("ax0", "int32", [], [0]),
          ("ax1", "int32", [], [1]), ("beg", "int32", [2], [0, 0]), ("end", "int32", [2], [2, 3]),
          ("str", "int32", [2], [1, 2]), ("img", "float32", [1, 2, 2, 1], [1, 2, 3, 4]),
          ("kw", "float32", [1, 1, 1, 1], [2]), ("osh", "int32", [4], [1, 2, 2, 1]),
          ("pads", "int32", [2, 2], [0, 1, 1, 0]), ("reps", "int32", [2], [1, 2])]
conv_attr = {"strides": ints(1, 1, 1, 1), "padding": {"s": b64("VALID")}}
ops_nodes = [{"name": "x", "op": "Placeholder", "attr": {"dtype": {"type": "DT_FLOAT"},
              "shape": {"shape": {"dim": [{"size": "1"}, {"size": "2"}, {"size": "2"}, {"size": "1"}]}}}}]
ops_nodes += [{"name": n, "op": "Const"} for n, _, _, _ in consts]
ops_nodes += [
    {"name": "add", "op": "AddV2", "input": ["a", "b"]},
    {"name": "mm", "op": "MatMul", "input": ["a", "b"]},
    {"name": "tr", "op": "Transpose", "input": ["add", "perm"]},
    {"name": "ga", "op": "GatherV2", "input": ["add", "idx", "ax1"]},
    {"name": "ss", "op": "StridedSlice", "input": ["mm", "beg", "end", "str"]},
    {"name": "cat", "op": "ConcatV2", "input": ["ga", "ss", "ax0"]},
    {"name": "pk", "op": "Pack", "input": ["ga", "ss"], "attr": {"axis": {"i": "0"}}},
    {"name": "am", "op": "ArgMax", "input": ["cat", "ax1"]},
    {"name": "pd", "op": "Pad", "input": ["ga", "pads"]},
    {"name": "tl", "op": "Tile", "input": ["ss", "reps"]},
    {"name": "sm", "op": "Sum", "input": ["tr", "ax0"]},
    {"name": "mp", "op": "MaxPool", "input": ["img"], "attr": dict(conv_attr, ksize=ints(1, 2, 2, 1))},
    {"name": "tc", "op": "Conv2DBackpropInput", "input": ["osh", "kw", "img"], "attr": conv_attr},
    {"name": "out", "op": "AddV2", "input": ["x", "tc"]}]
ops_blob = b""
for n, dt, shape, vals in consts:
    ops_blob += struct.pack("<%d%s" % (len(vals), "f" if dt == "float32" else "i"), *vals)
ops_model = {"format": "graph-model", "modelTopology": {"node": ops_nodes},
             "weightsManifest": [{"paths": ["w.bin"], "weights": [
                 {"name": n, "shape": shape, "dtype": dt} for n, dt, shape, _ in consts]}]}
put("tfjs", "ops", json.dumps(ops_model).encode() + b"\n==shard==\n" + ops_blob)

# ---- BPE vocabularies --------------------------------------------------------
vocab = {"a": 0, "b": 1, "o": 2, "d": 3, "g": 4, "do": 5, "dog</w>": 6, "a</w>": 7, "<|startoftext|>": 8,
         "<|endoftext|>": 9, "\u0120": 10}
merges = "#version: 0.2\nd o\ndo g</w>\n"
put("bpe", "hf", b"\x00" + json.dumps(vocab).encode() + b"\n==merges==\n" + merges.encode())
put("bpe", "tokenizer", b"\x01" + json.dumps({"model": {"type": "BPE", "vocab": vocab,
                                                         "merges": ["d o", ["do", "g</w>"]]}}).encode())
put("bpe", "openai", b"\x02" + b"\"bpe_simple_vocab_16e6.txt#version: 0.2\nd o\ndo g</w>\nc a\nca t</w>\n")

# ---- HTTP: target, then header lines ---------------------------------------------
for i, t in enumerate(["/api/health", "/api/search?q=a+dog+on+a+sofa&k=5", "/api/search?q=%22STOP%22+date:2013",
                       "/api/images/1", "/thumb/1?size=64", "/file/1", "/api/stats", "/", "/app.js",
                       "/file/1\nIf-None-Match: *", "/thumb/1\nRange: bytes=0-10\nAccept: */*",
                       "/api/search?q=caf%E9&k=99999", "/file/..%2f..%2fetc%2fpasswd", "/api/images/999"]):
    put("http", "req%02d" % i, t)

# ---- JSON output: query, path, caption, label, OCR word (NUL-separated) ----------
put("json", "plain", b"a dog\0/photos/dog.jpg\0a dog on a sofa\0dog\0STOP")
put("json", "bytes", b"caf\xe9 \xff\0/p/\xc3\xa9\xed\xa0\x80.jpg\0\"quoted\"\\\n\0\x01\x1f\0\xf4\x90\x80\x80")

# ---- the query parser --------------------------------------------------------------
for i, q in enumerate(["two dogs to the left of a red car", "horses without people date:2013",
                       "\"STOP\" sign -car width>1000", "a man in a blue shirt next to a white horse",
                       "a dog between a person and a horse in the top right"]):
    put("query", "q%d" % i, q)
