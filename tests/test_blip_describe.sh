#!/usr/bin/env bash
# test_blip_describe.sh — BLIP in the describer: with a BLIP model installed
# (here a random checkpoint through IMGDEX_BLIP_DIR) `index` stores BLIP's
# caption (3 beams, 5..20 word pieces), `show` prints it, its words are
# searchable, and the describer version names the model; without it nothing
# changes.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
IMG=/usr/share/darknet/data/dog.jpg

t_caption_indexed_and_searchable() {
  "$PY" "$SRC/tests/blip_ref.py" gen "$TMP/ck" --seed 4 >/dev/null || return 1
  mkdir -p "$TMP/photos" && cp "$IMG" "$TMP/photos/" || return 1
  export IMGDEX_BLIP_DIR=$TMP/ck
  unset IMGDEX_CLIP_DIR
  want=$("$BIN" blip caption --beams 3 --min-length 5 "$IMG" | cut -f2) || return 1
  echo "BLIP: $want"
  [ -n "$want" ] || return 1
  "$BIN" --db "$TMP/a.db" index "$TMP/photos" --no-ocr >/dev/null 2>&1 || return 1
  "$BIN" --db "$TMP/a.db" show "$TMP/photos/dog.jpg" --json > "$TMP/show.json" || return 1
  "$PY" - "$TMP/show.json" "$want" <<'PYEOF' || return 1
import json, sys
d = json.load(open(sys.argv[1]))
assert d["description"]["clip_caption"] == sys.argv[2], (d["description"]["clip_caption"], sys.argv[2])
PYEOF
  "$BIN" --db "$TMP/a.db" show "$TMP/photos/dog.jpg" | grep -q "$want" || return 1
  # The longest word of the caption finds the image.
  word=$(echo "$want" | tr ' ' '\n' | grep -E '^[a-z]{5,}$' | awk '{ print length, $0 }' | sort -rn | head -1 | cut -d' ' -f2)
  echo "searching: $word"
  [ -n "$word" ] || return 1
  "$BIN" --db "$TMP/a.db" search "$word" | grep -q "dog.jpg"
}

t_clip_picks_among_blip_beams() {
  local vocab=$DATA/clip/bpe_simple_vocab_16e6.txt.gz
  if [ ! -f "$vocab" ]; then echo "SKIP: $vocab is missing"; return 0; fi
  [ -d "$TMP/ck" ] || "$PY" "$SRC/tests/blip_ref.py" gen "$TMP/ck" --seed 4 >/dev/null || return 1
  "$PY" "$SRC/tests/clip_ref.py" gen "$TMP/clip" --seed 3 --vocab "$vocab" --text 32,48,4,2 --vision 32,48,4,1,64,32 --proj 12 || return 1
  mkdir -p "$TMP/p3" && cp "$IMG" "$TMP/p3/" || return 1
  export IMGDEX_BLIP_DIR=$TMP/ck IMGDEX_CLIP_DIR=$TMP/clip
  "$BIN" blip caption --beams 3 --min-length 5 --candidates "$IMG" | cut -f3 > "$TMP/cands" || return 1
  "$BIN" --db "$TMP/c.db" index "$TMP/p3" --no-ocr >/dev/null 2>&1 || return 1
  "$BIN" --db "$TMP/c.db" show "$TMP/p3/dog.jpg" --json > "$TMP/s3.json" || return 1
  "$PY" - "$TMP/s3.json" "$TMP/cands" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
cands = open(sys.argv[2]).read().splitlines()
assert len(cands) >= 2, cands
assert d["description"]["clip_caption"] in cands, (d["description"]["clip_caption"], cands)
assert "clip:clip" in d["describer"] and "blip:ck" in d["describer"], d["describer"]
PYEOF
}

t_without_blip_unchanged() {
  mkdir -p "$TMP/p2" && cp "$IMG" "$TMP/p2/" || return 1
  ( unset IMGDEX_BLIP_DIR IMGDEX_CLIP_DIR; IMGDEX_MODELS=$SRC/models "$BIN" --db "$TMP/b.db" index "$TMP/p2" --no-ocr >/dev/null 2>&1 ) || return 1
  "$BIN" --db "$TMP/b.db" show "$TMP/p2/dog.jpg" --json > "$TMP/s2.json" || return 1
  "$PY" - "$TMP/s2.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["description"]["clip_caption"] == "", d["description"]["clip_caption"]
assert "blip:missing" in d["describer"] or "blip" not in d["describer"], d.get("stages")
PYEOF
}

if [ ! -x "$PY" ] || ! "$PY" -c 'import torch, numpy' 2>/dev/null; then
  skip test_blip_describe "/usr/bin/python3 with torch and numpy is needed for the checkpoint"; exit 0
fi
if [ ! -f "$IMG" ]; then skip test_blip_describe "$IMG is missing (apt install darknet)"; exit 0; fi
run_all t_caption_indexed_and_searchable t_clip_picks_among_blip_beams t_without_blip_unchanged
