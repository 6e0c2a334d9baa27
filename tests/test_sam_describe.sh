#!/usr/bin/env bash
# test_sam_describe.sh — SAM in the describer, end to end, with generated
# checkpoints (tests/sam_ref.py gen --confident: random weights whose
# decoder is sure of itself, so the default thresholds keep masks):
# `index` stores segment regions with masks, each named after the detector
# box holding half of it (checked here from the stored mask and boxes),
# their labels are search terms, `show` prints them (`--masks` draws the
# masks) and `--json` carries the masks; per-stage time is reported; BLIP captions a large segment's
# crop (the same caption `imgdex blip caption` gives that crop); with CLIP,
# segments no box names get CLIP's label; without SAM nothing changes.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
DOG=/usr/share/darknet/data/dog.jpg
EAGLE=/usr/share/darknet/data/eagle.jpg

setup() {
  [ -d "$TMP/sam" ] && return 0
  "$PY" "$SRC/tests/sam_ref.py" gen "$TMP/sam" --seed 5 --confident >/dev/null || return 1
  mkdir -p "$TMP/photos" || return 1
  # A close-up of the dog (its box fills most of the picture) and two
  # smaller photos: quick under the sanitizers.
  "$PY" - "$DOG" "$EAGLE" "$TMP/photos" <<'PYEOF' || return 1
import sys
from PIL import Image
dog, eagle, out = sys.argv[1:]
im = Image.open(dog)
w, h = im.size
im.crop((int(0.12 * w), int(0.33 * h), int(0.44 * w), int(0.97 * h))).save(out + "/dogcrop.png")
im.resize((w // 2, h // 2), Image.BILINEAR).save(out + "/dog.png")
im = Image.open(eagle)
im.resize((im.size[0] // 2, im.size[1] // 2), Image.BILINEAR).save(out + "/eagle.png")
PYEOF
}

# Checks every stored segment of a `show --json` file against the rule and
# the mask format; prints "label idx" of each named one.
check_segments() {
  "$PY" - "$1" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
ds = d["description"]
assert "sam:sam" in d["describer"], d["describer"]
regs = ds["regions"]
objs = [(i, r) for i, r in enumerate(regs) if r["kind"] == "object"]
segs = [(i, r) for i, r in enumerate(regs) if r["kind"] == "segment"]
assert segs, "no segments stored"
for i, r in segs:
    m = r["mask"]
    w, h, runs = m["w"], m["h"], m["runs"]
    assert 1 <= w <= 64 and 1 <= h <= 64 and sum(runs) == w * h, m
    x0, y0, x1, y1 = r["box"]
    assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1, r["box"]
    assert r["colours"], "segment %d has no colours" % i
    # the mask's cells as points of the image; the share in each object box
    pts, at, on = [], 0, False
    for n in runs:
        if on:
            for c in range(at, at + n):
                pts.append((x0 + (x1 - x0) * (c % w + 0.5) / w, y0 + (y1 - y0) * (c // w + 0.5) / h))
        at += n
        on = not on
    assert pts, "segment %d: empty mask" % i
    best, label = 0.0, ""
    for j, o in objs:
        bx0, by0, bx1, by1 = o["box"]
        s = sum(bx0 <= x <= bx1 and by0 <= y <= by1 for x, y in pts) / len(pts)
        if s > best:
            best, label = s, o["label"]
    # a 64-cell grid is coarser than the pixels the describer counted
    if best >= 0.55:
        assert r["label"] == label, (i, r["label"], label, best)
    elif best <= 0.45 and "clip:" not in d["describer"].replace("clip:missing", ""):
        assert r["label"] == "", (i, r["label"], best)
    if r["label"]:
        print(r["label"], i)
PYEOF
}

t_segments_stored_named_and_searchable() {
  setup || return 1
  unset IMGDEX_BLIP_DIR IMGDEX_CLIP_DIR
  export IMGDEX_SAM_DIR=$TMP/sam
  "$BIN" --db "$TMP/a.db" index "$TMP/photos" --no-ocr > "$TMP/index.txt" 2>/dev/null || return 1
  cat "$TMP/index.txt"
  grep -q "^stage time:.* sam [0-9.]* s" "$TMP/index.txt" || return 1
  for f in dogcrop dog eagle; do
    "$BIN" --db "$TMP/a.db" show "$TMP/photos/$f.png" --json > "$TMP/$f.json" || return 1
    check_segments "$TMP/$f.json" > "$TMP/$f.named" || { echo "in $f"; return 1; }
  done
  # the close-up's segment lies in the dog's box
  grep -q "^dog " "$TMP/dogcrop.named" || { cat "$TMP/dogcrop.named"; return 1; }
  # show prints the segments
  "$BIN" --db "$TMP/a.db" show "$TMP/photos/dogcrop.png" | grep -E "^ +[0-9]+ segment +dog .*\[mask\]" || return 1
  # show --masks draws the segment's mask under it: as much of it is '#'
  # as the stored mask's fill says
  "$BIN" --db "$TMP/a.db" show "$TMP/photos/dogcrop.png" --masks > "$TMP/masks.txt" || return 1
  "$PY" - "$TMP/masks.txt" "$TMP/dogcrop.json" <<'PYEOF' || return 1
import json, sys
lines = open(sys.argv[1]).read().splitlines()
ds = json.load(open(sys.argv[2]))["description"]
at = [i for i, l in enumerate(lines) if " segment " in l and "[mask]" in l][0]
seg = int(lines[at].split()[0])
art = []
for l in lines[at + 1:]:
    t = l.strip()
    if t and set(t) <= {"#", "."}:
        art.append(t)
    elif art or not l.startswith("      "):
        break
assert len(art) >= 2 and len({len(a) for a in art}) == 1, art
fill = sum(a.count("#") for a in art) / sum(len(a) for a in art)
want = ds["regions"][seg]["mask"]["fill"]
assert abs(fill - want) < 0.12, (fill, want)
# rows / columns follow the box's shape in pixels, characters twice as tall
x0, y0, x1, y1 = ds["regions"][seg]["box"]
shape = (y1 - y0) * ds["height"] / ((x1 - x0) * ds["width"]) / 2
assert abs(len(art) / len(art[0]) - shape) < 0.1 + 1 / len(art[0]), (len(art), len(art[0]), shape)
PYEOF
  # the label is a search term of that region, and the search finds it
  idx=$(awk '$1 == "dog" { print $2; exit }' "$TMP/dogcrop.named")
  "$PY" - "$TMP/a.db" "$idx" <<'PYEOF' || return 1
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT t.source FROM tok_terms t JOIN images i ON i.id = t.image_id "
                  "WHERE t.term = 'dog' AND t.region = ? AND i.path LIKE '%dogcrop.png'", (int(sys.argv[2]),)).fetchall()
assert rows and rows[0][0] == "label", rows
PYEOF
  "$BIN" --db "$TMP/a.db" search "dog" | grep -q "dogcrop.png" || return 1
  # "one dog": the segment is the dog, not a second one
  "$BIN" --db "$TMP/a.db" search "one dog" --json | "$PY" -c '
import json, sys
r = json.load(sys.stdin)["results"]
top = [x for x in r if x["path"].endswith("dogcrop.png")][0]
ph = top["why"]["phrases"][0]
assert ph["count"]["found"] == 1, ph'
}

t_index_json_stage_times() {
  setup || return 1
  unset IMGDEX_BLIP_DIR IMGDEX_CLIP_DIR
  export IMGDEX_SAM_DIR=$TMP/sam
  "$BIN" --db "$TMP/j.db" index "$TMP/photos" --no-ocr --json 2>/dev/null > "$TMP/j.json" || return 1
  "$PY" - "$TMP/j.json" <<'PYEOF'
import json, sys
j = json.load(open(sys.argv[1]))
st = {s["name"]: s for s in j["stages"]}
assert st["sam"]["runs"] == 3 and st["sam"]["seconds"] > 0, st
assert st["objects"]["runs"] == 3, st
assert "blip" not in st, st
assert sum(s["seconds"] for s in j["stages"]) > 0
PYEOF
}

t_blip_captions_a_segment() {
  setup || return 1
  "$PY" "$SRC/tests/blip_ref.py" gen "$TMP/blip" --seed 4 >/dev/null || return 1
  unset IMGDEX_CLIP_DIR
  export IMGDEX_SAM_DIR=$TMP/sam IMGDEX_BLIP_DIR=$TMP/blip
  mkdir -p "$TMP/p2" && cp "$TMP/photos/dogcrop.png" "$TMP/p2/" || return 1
  "$BIN" --db "$TMP/b.db" index "$TMP/p2" --no-ocr >/dev/null 2>&1 || return 1
  "$BIN" --db "$TMP/b.db" show "$TMP/p2/dogcrop.png" --json > "$TMP/b.json" || return 1
  # The captioned segment's crop, cut as the describer cuts it (a square
  # 1.1 times the box's longer side, about its centre, within the image).
  "$PY" - "$TMP/b.json" "$TMP/p2/dogcrop.png" "$TMP/crop.png" > "$TMP/want_idx" <<'PYEOF' || return 1
import json, math, sys
from PIL import Image
d = json.load(open(sys.argv[1]))["description"]
segs = [(i, r) for i, r in enumerate(d["regions"]) if r["kind"] == "segment" and r.get("caption")]
assert segs, "no segment caption"
i, r = segs[0]
im = Image.open(sys.argv[2]).convert("RGB")
W, H = im.size
x0, y0, x1, y1 = r["box"]
cx, cy = (x0 + x1) / 2 * W, (y0 + y1) / 2 * H
side = max((x1 - x0) * W, (y1 - y0) * H) * 1.1
a, b = max(0, math.floor(cx - side / 2)), max(0, math.floor(cy - side / 2))
c, e = min(W, math.ceil(cx + side / 2)), min(H, math.ceil(cy + side / 2))
im.crop((a, b, c, e)).save(sys.argv[3])
print(i)
PYEOF
  idx=$(cat "$TMP/want_idx")
  want=$("$BIN" blip caption --beams 3 --min-length 5 "$TMP/crop.png" | cut -f2) || return 1
  got=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["description"]["regions"][int(sys.argv[2])]["caption"])' "$TMP/b.json" "$idx")
  echo "segment $idx: '$got' / blip on the crop: '$want'"
  [ -n "$want" ] && [ "$got" = "$want" ] || return 1
  "$BIN" --db "$TMP/b.db" show "$TMP/p2/dogcrop.png" | grep -qF "\"$want\"" || return 1
  # its words are search terms: one that the image's own captions lack
  word=$("$PY" - "$TMP/b.json" "$want" <<'PYEOF'
import json, re, sys
ds = json.load(open(sys.argv[1]))["description"]
own = set(re.findall(r"[a-z0-9]+", (ds["caption"] + " " + ds["clip_caption"]).lower()))
words = [w for w in re.findall(r"[a-z0-9]+", sys.argv[2].lower()) if len(w) >= 5 and w.isalpha() and w not in own]
print(max(words, key=len) if words else "")
PYEOF
)
  if [ -z "$word" ]; then
    # The random SAM's segment covers nearly the whole close-up, so its crop
    # gets the image's own caption; test_tokens covers segment captions.
    echo "NOTE: the segment's caption has no word the image's captions lack; search not checked here"
    return 0
  fi
  echo "searching: $word"
  "$BIN" --db "$TMP/b.db" search "$word" | grep -q "dogcrop.png"
}

t_clip_names_unboxed_segments() {
  local vocab=$DATA/clip/bpe_simple_vocab_16e6.txt.gz
  if [ ! -f "$vocab" ]; then echo "SKIP: $vocab is missing (set IMGDEX_DATA)"; return 0; fi
  setup || return 1
  "$PY" "$SRC/tests/clip_ref.py" gen "$TMP/clip" --seed 3 --vocab "$vocab" --text 32,48,4,2 --vision 32,48,4,1,64,32 --proj 12 >/dev/null || return 1
  unset IMGDEX_BLIP_DIR
  export IMGDEX_SAM_DIR=$TMP/sam IMGDEX_CLIP_DIR=$TMP/clip
  "$BIN" --db "$TMP/c.db" index "$TMP/photos" --no-ocr >/dev/null 2>&1 || return 1
  for f in dogcrop dog eagle; do
    "$BIN" --db "$TMP/c.db" show "$TMP/photos/$f.png" --json > "$TMP/c-$f.json" || return 1
    check_segments "$TMP/c-$f.json" >/dev/null || return 1
    # a segment CLIP named carries CLIP's object tag for it
    "$PY" - "$TMP/c-$f.json" <<'PYEOF' || return 1
import json, sys
ds = json.load(open(sys.argv[1]))["description"]
objs = [r["label"] for r in ds["regions"] if r["kind"] == "object"]
for i, r in enumerate(ds["regions"]):
    if r["kind"] != "segment" or not r["label"] or r["label"] in objs:
        continue
    tags = [t for t in ds["tags"] if t["region"] == i and t["group"] == "object"]
    assert tags and tags[0]["label"] == r["label"] and tags[0]["score"] >= 0.2, (i, r["label"], tags)
    print("CLIP named segment", i, r["label"])
PYEOF
  done
}

t_without_sam_unchanged() {
  setup || return 1
  unset IMGDEX_SAM_DIR IMGDEX_BLIP_DIR IMGDEX_CLIP_DIR
  "$BIN" --db "$TMP/n.db" index "$TMP/photos" --no-ocr > "$TMP/n.txt" 2>/dev/null || return 1
  ! grep -q "stage time" "$TMP/n.txt" || return 1
  "$BIN" --db "$TMP/n.db" show "$TMP/photos/dogcrop.png" --json > "$TMP/n.json" || return 1
  "$PY" - "$TMP/n.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert " sam" not in d["describer"], d["describer"]
assert not [r for r in d["description"]["regions"] if r["kind"] == "segment"]
assert all("caption" not in r for r in d["description"]["regions"])
PYEOF
}

if [ ! -x "$PY" ] || ! "$PY" -c 'import torch, numpy, PIL' 2>/dev/null; then
  skip test_sam_describe "/usr/bin/python3 with torch, numpy and PIL is needed for the checkpoints"; exit 0
fi
if [ ! -f "$DOG" ] || [ ! -f "$EAGLE" ]; then skip test_sam_describe "darknet's sample photos are missing (apt install darknet)"; exit 0; fi
run_all t_segments_stored_named_and_searchable t_index_json_stage_times t_blip_captions_a_segment \
  t_clip_names_unboxed_segments t_without_sam_unchanged
