#!/usr/bin/env bash
# test_blip_cli.sh — `imgdex blip caption|tokenize` and `imgdex models fetch
# blip-base`: captions equal to the reference's, JSON, order, errors; the
# download path through a local Hugging Face look-alike; offline errors.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
IMG=/usr/share/darknet/data/dog.jpg
IMG2=/usr/share/darknet/data/horses.jpg

gen_ck() { [ -d "$TMP/ck" ] || "$PY" "$SRC/tests/blip_ref.py" gen "$TMP/ck" --seed 4 --sep-bias 9 >/dev/null; }

t_caption_matches_reference() {
  gen_ck || return 1
  for beams in 1 3; do
    want=$("$PY" "$SRC/tests/blip_ref.py" caption "$TMP/ck" --image "$IMG" --beams $beams --prompt "a dog" |
           "$PY" -c 'import json,sys; print(json.load(sys.stdin)["text"])') || return 1
    got=$("$BIN" blip caption --model "$TMP/ck" "$IMG" --beams $beams --prompt "a dog" | cut -f2) || return 1
    echo "beams $beams: '$got' vs '$want'"
    [ "$got" = "$want" ] || return 1
  done
}

t_json_in_order() {
  gen_ck || return 1
  "$BIN" blip caption --model "$TMP/ck" "$IMG2" "$IMG" --json --threads 1 > "$TMP/c.json" || return 1
  "$PY" - "$TMP/c.json" "$IMG2" "$IMG" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert [x["image"] for x in d] == sys.argv[2:], d
assert all(isinstance(x["caption"], str) for x in d), d
PYEOF
}

t_tokenize() {
  gen_ck || return 1
  printf 'Dogs, running!\n\n' | "$BIN" blip tokenize --model "$TMP/ck" > "$TMP/got" || return 1
  printf 'Dogs, running!\n\n' | "$PY" "$SRC/tests/blip_ref.py" tokenize "$TMP/ck/vocab.txt" > "$TMP/want" || return 1
  cmp "$TMP/got" "$TMP/want" && [ "$(wc -l < "$TMP/got")" = 2 ] && [ -n "$(head -1 "$TMP/got")" ]
}

t_errors() {
  "$BIN" blip 2>/dev/null; [ $? -eq 1 ] || return 1
  "$BIN" blip frob 2>/dev/null; [ $? -eq 1 ] || return 1
  "$BIN" blip caption --model "$TMP" 2>/dev/null; [ $? -eq 1 ] || return 1
  "$BIN" blip caption --beams 0 x.jpg 2>/dev/null; [ $? -eq 1 ] || return 1
  "$BIN" blip --help | grep -q "blip caption" || return 1
  "$BIN" blip caption --model "$TMP/none" "$IMG" 2>"$TMP/err"; [ $? -eq 2 ] && grep -q "config.json" "$TMP/err" || return 1
  gen_ck || return 1
  "$BIN" blip caption --model "$TMP/ck" "$TMP/missing.jpg" 2>"$TMP/err"; [ $? -eq 2 ] && grep -q "missing.jpg" "$TMP/err"
}

t_no_model_installed() {
  ( unset IMGDEX_BLIP_DIR; IMGDEX_MODELS=$TMP/empty "$BIN" blip caption "$IMG" 2>"$TMP/err" ); [ $? -eq 2 ] || return 1
  grep -q "models fetch blip-base" "$TMP/err"
}

t_listed() {
  "$BIN" models list | grep -q "^blip-base .*captions" && "$BIN" models list | grep -q "^blip-large"
}

t_fetch_offline_leaves_nothing() {
  local m=$TMP/m-off; mkdir -p "$m"
  IMGDEX_MODELS=$m IMGDEX_HF_ENDPOINT=http://127.0.0.1:9 "$BIN" models fetch blip-base 2>"$TMP/err"
  [ $? -eq 2 ] || return 1
  grep -q "offline" "$TMP/err" && grep -q "Salesforce/blip-image-captioning-base" "$TMP/err" || { cat "$TMP/err"; return 1; }
  [ -z "$(ls -A "$m")" ]
}

t_fetch_from_hub_then_caption() {
  gen_ck || return 1
  local hub=$TMP/hub/Salesforce/blip-image-captioning-base m=$TMP/m-hub
  mkdir -p "$hub" "$m" && cp "$TMP/ck/"* "$hub/" || return 1
  rm -f "$TMP/port"
  "$PY" "$SRC/tests/clip_http_server.py" "$TMP/hub" "$TMP/port" "$TMP/requests.log" --lifetime 60 &
  local pid=$!
  for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.1; done
  IMGDEX_MODELS=$m IMGDEX_HF_ENDPOINT=http://127.0.0.1:$(cat "$TMP/port") "$BIN" models fetch blip-base 2>"$TMP/err"
  local rc=$?
  kill $pid 2>/dev/null; wait $pid 2>/dev/null
  [ $rc -eq 0 ] || { cat "$TMP/err"; return 1; }
  cmp "$m/blip-base/model.safetensors" "$hub/model.safetensors" && cmp "$m/blip-base/vocab.txt" "$hub/vocab.txt" || return 1
  IMGDEX_MODELS=$m "$BIN" models list | grep -q "^blip-base .*installed" || return 1
  # Installed, it is the default model.
  a=$( ( unset IMGDEX_BLIP_DIR; IMGDEX_MODELS=$m "$BIN" blip caption "$IMG" ) ) || return 1
  b=$("$BIN" blip caption --model "$TMP/ck" "$IMG") || return 1
  [ "$a" = "$b" ]
}

if [ ! -x "$PY" ] || ! "$PY" -c 'import torch, numpy, PIL' 2>/dev/null; then
  skip test_blip_cli "/usr/bin/python3 with torch, numpy and PIL is needed for the reference"; exit 0
fi
if [ ! -f "$IMG" ]; then skip test_blip_cli "$IMG is missing (apt install darknet)"; exit 0; fi
run_all t_caption_matches_reference t_json_in_order t_tokenize t_errors t_no_model_installed t_listed \
  t_fetch_offline_leaves_nothing t_fetch_from_hub_then_caption
