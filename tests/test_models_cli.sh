#!/usr/bin/env bash
# test_models_cli.sh — `imgdex models list`: every registry entry with its
# task, installed/missing, size and licence; usage errors.
. "$(dirname "$0")/lib.sh"
MODELS=${IMGDEX_MODELS:-$SRC/models}

t_list_installed() {
  [ -f "$MODELS/centernet.bin" ] || { echo "no $MODELS/centernet.bin"; return 1; }
  out=$(IMGDEX_MODELS=$MODELS "$BIN" models list) || return 1
  echo "$out"
  # The size printed is the files' real size (json + bin), in MB.
  want=$(( ($(stat -c %s "$MODELS/centernet.json") + $(stat -c %s "$MODELS/centernet.bin")) / 100000 ))
  want="$((want / 10)).$((want % 10)) MB"
  grep -E "^centernet +objects +installed +$want +MIT" <<<"$out" || return 1
  for m in blazeface selfie gear emotion; do grep -E "^$m .* installed .* MIT" <<<"$out" || return 1; done
  grep -q "models directory: $MODELS" <<<"$out"
}

t_list_missing() {
  mkdir -p "$TMP/empty"
  out=$(IMGDEX_MODELS=$TMP/empty "$BIN" models list) || return 1
  echo "$out"
  for m in centernet blazeface selfie gear emotion clip-vit-base-patch32; do
    grep -E "^$m +[a-z-]+ +missing +- " <<<"$out" || return 1
  done
  # imgdex's own model ships in the source tree, not the models directory
  ! grep -v '^flickr8k-joint ' <<<"$out" | grep -q installed
}

t_list_joint() {
  out=$(IMGDEX_JOINT=$TMP/none.safetensors "$BIN" models list) || return 1
  grep -E "^flickr8k-joint +tags-embedding +missing +- +trained on Flickr8k: research use" <<<"$out" || return 1
  printf 'x%.0s' $(seq 1 2500) >"$TMP/j.safetensors"
  out=$(IMGDEX_JOINT=$TMP/j.safetensors "$BIN" models list) || return 1
  grep -E "^flickr8k-joint +tags-embedding +installed +2 kB +trained on Flickr8k" <<<"$out"
}

t_list_json() {
  out=$(IMGDEX_MODELS=$TMP/empty "$BIN" models list --json) || return 1
  /usr/bin/python3 -c '
import json, sys
m = {e["name"]: e for e in json.load(sys.stdin)}
assert m["centernet"]["task"] == "objects" and m["centernet"]["installed"] is False, m["centernet"]
assert m["selfie"]["task"] == "person-mask", m["selfie"]
' <<<"$out"
}

t_usage_errors() {
  "$BIN" models 2>/dev/null; [ $? -eq 1 ] || return 1
  "$BIN" models frobnicate 2>/dev/null; [ $? -eq 1 ] || return 1
  "$BIN" models list --bogus 2>/dev/null; [ $? -eq 1 ] || return 1
  "$BIN" models --help | grep -q "list"
}

run_all t_list_installed t_list_missing t_list_joint t_list_json t_usage_errors
