#!/usr/bin/env bash
# test_train_cli.sh — `imgdex train` end to end on a few Flickr8k photos:
# it indexes both splits, trains, writes a model that `models list` and
# joint_open accept; a second run describes nothing (the catalogue caches
# the features); usage errors.  Needs the Flickr8k data (skipped loudly).
. "$(dirname "$0")/lib.sh"
F=$DATA/flickr8k

setup() {
  mkdir -p "$TMP/img"
  head -n 12 "$F/train.txt" >"$TMP/train.txt"
  head -n 6 "$F/dev.txt" >"$TMP/dev.txt"
  cat "$TMP/train.txt" "$TMP/dev.txt" | while read -r f; do ln -s "$F/images/$f" "$TMP/img/$f"; done
  echo "missing_photo.jpg" >>"$TMP/dev.txt"
}

train() {
  "$BIN" train --images "$TMP/img" --captions "$F/captions.tsv" --split "$TMP/train.txt" --dev "$TMP/dev.txt" \
    --db "$TMP/t.db" --out "$TMP/m.safetensors" --epochs 3 --dim 16 --hidden 32 --word-dim 16 --batch 4 \
    --tag-floor 3 --tag-hidden 0 --tag-epochs 3 --jobs 2 --no-progress --json "$@"
}

t_train_end_to_end() {
  out=$(train) || return 1
  echo "$out"
  /usr/bin/python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["train_images"] == 12 and j["dev_images"] == 6, j
assert j["train_captions"] == 60 and j["dev_captions"] == 30, j
assert j["missing_images"] == 1 and j["images_without_features"] == 0, j
assert j["described"] == 18, j
assert j["feature_dim"] > 100 and j["words"] > 20 and j["tags"] > 0, j
assert j["epochs_run"] == 3 and 1 <= j["best_epoch"] <= 3 and len(j["epochs"]) == 3, j
d = j["dev"]
assert 0 <= d["recall@1"] <= d["recall@5"] <= d["recall@10"] <= 1, d
assert 1 <= d["median_rank"] <= 6, d
assert j["model_bytes"] > 1000, j
' <<<"$out" || return 1
  list=$(IMGDEX_JOINT=$TMP/m.safetensors "$BIN" models list) || return 1
  grep -E "^flickr8k-joint +tags-embedding +installed" <<<"$list"
}

t_second_run_describes_nothing() {
  out=$(train --seed 2) || return 1
  /usr/bin/python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["described"] == 0, j
' <<<"$out"
}

t_usage_errors() {
  "$BIN" train --images "$TMP/img" --captions "$F/captions.tsv" --split "$TMP/train.txt" --out "$TMP/x" 2>"$TMP/err"
  [ $? -eq 1 ] && grep -q -- "--dev" "$TMP/err" || return 1
  train --epochs 0 2>"$TMP/err"
  [ $? -eq 1 ] && grep -q -- "--epochs needs" "$TMP/err" || return 1
  train --loss cubic 2>"$TMP/err"
  [ $? -eq 1 ] || return 1
  "$BIN" train --images "$TMP/img" --captions "$TMP/none.tsv" --split "$TMP/train.txt" --dev "$TMP/dev.txt" \
    --db "$TMP/t.db" --out "$TMP/y" 2>"$TMP/err"
  [ $? -eq 2 ] && grep -q "none.tsv" "$TMP/err" || return 1
  "$BIN" train --help | grep -q -- "--split"
}

if [ ! -f "$F/train.txt" ]; then
  skip test_train_cli "Flickr8k not found under $DATA (set IMGDEX_DATA)"
  exit 0
fi
setup
run_all t_train_end_to_end t_second_run_describes_nothing t_usage_errors
