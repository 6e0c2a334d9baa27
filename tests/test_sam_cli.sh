#!/usr/bin/env bash
# test_sam_cli.sh — `imgdex sam segment` and `imgdex models fetch sam-vit-base`:
# usage errors, clear errors for missing models and files, JSON output that
# agrees with the text output, on a random checkpoint from tests/sam_ref.py.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
HAVE_TORCH=0
if "$PY" -c 'import torch, numpy, PIL' >/dev/null 2>&1 &&
   "$PY" "$SRC/tests/sam_ref.py" gen "$TMP/tiny" --seed 1 &&
   "$PY" "$SRC/tests/sam_ref.py" image "$TMP/photo.png" 48 40 --seed 3; then
  HAVE_TORCH=1
fi

t_usage_errors() {
  "$BIN" sam 2>/dev/null; [ $? -eq 1 ] || return 1
  "$BIN" sam segment 2>/dev/null; [ $? -eq 1 ] || return 1
  "$BIN" sam segment x.png --points-per-side 0 2>"$TMP/err"; [ $? -eq 1 ] || return 1
  grep -q "points-per-side" "$TMP/err" || return 1
  "$BIN" sam segment x.png --bogus 2>/dev/null; [ $? -eq 1 ] || return 1
  "$BIN" sam --help | grep -q "points-per-side"
}

t_missing_model_is_clear() {
  printf 'P3\n1 1\n255\n0 0 0\n' > "$TMP/one.ppm"
  ( unset IMGDEX_SAM_DIR; IMGDEX_MODELS=$TMP/empty "$BIN" sam segment "$TMP/one.ppm" 2>"$TMP/err" ); [ $? -eq 2 ] || return 1
  grep -q "models fetch sam-vit-base" "$TMP/err" || { cat "$TMP/err"; return 1; }
  "$BIN" sam segment --model "$TMP/nowhere" "$TMP/one.ppm" 2>"$TMP/err"; [ $? -eq 2 ] || return 1
  grep -q "nowhere/config.json" "$TMP/err" || return 1
  "$BIN" sam segment --model "$TMP/nowhere" "$TMP/missing.png" 2>"$TMP/err"; [ $? -eq 2 ] || return 1
  grep -q "missing.png" "$TMP/err"
}

t_fetch_offline_is_clear() {
  local m=$TMP/m-off; mkdir -p "$m"
  IMGDEX_MODELS=$m IMGDEX_HF_ENDPOINT=http://127.0.0.1:9 "$BIN" models fetch sam-vit-base 2>"$TMP/err"
  [ $? -eq 2 ] || return 1
  grep -q "offline" "$TMP/err" && grep -q "facebook/sam-vit-base/resolve/main/config.json" "$TMP/err" || { cat "$TMP/err"; return 1; }
  [ -z "$(ls -A "$m")" ] || return 1
  "$BIN" models list | grep -q "^sam-vit-base .*segments .*missing"
}

t_segment_text_and_json_agree() {
  [ $HAVE_TORCH = 1 ] || { skip t_segment_text_and_json_agree "needs /usr/bin/python3 with torch for the checkpoint"; return 0; }
  local opts="--points-per-side 5 --pred-iou-thresh 0 --stability-thresh 0.2 --nms 1"
  "$BIN" sam segment --model "$TMP/tiny" "$TMP/photo.png" $opts --threads 1 > "$TMP/out.txt" || return 1
  "$BIN" sam segment --model "$TMP/tiny" "$TMP/photo.png" $opts --json > "$TMP/out.json" || return 1
  "$PY" - "$TMP/out.txt" "$TMP/out.json" <<'PYEOF'
import json, sys
lines = [l.split() for l in open(sys.argv[1]) if not l.startswith("#")]
j = json.load(open(sys.argv[2]))
assert j["width"] == 48 and j["height"] == 40 and j["model"] == "tiny", j
ms = j["masks"]
assert len(ms) == len(lines) >= 10, (len(ms), len(lines))
prev = 2.0
for l, m in zip(lines, ms):
    counts = m["segmentation"]["counts"]
    assert sum(counts) == 48 * 40
    assert sum(counts[1::2]) == m["area"] == int(l[6])
    assert [int(v) for v in l[8:12]] == m["bbox"]
    assert [int(v) for v in l[13:]] == counts
    assert abs(float(l[2]) - m["predicted_iou"]) < 1e-4 and m["predicted_iou"] <= prev
    prev = m["predicted_iou"]
PYEOF
}

run_all t_usage_errors t_missing_model_is_clear t_fetch_offline_is_clear t_segment_text_and_json_agree
