#!/usr/bin/env bash
# test_clip_cli.sh — `imgdex clip tokenize|embed`: ids, JSON, order, errors.
. "$(dirname "$0")/lib.sh"
VOCAB=$DATA/clip/bpe_simple_vocab_16e6.txt.gz
PY=/usr/bin/python3

t_tokenize_examples() {
  out=$("$BIN" clip tokenize --vocab "$VOCAB" "a photo of a cat" "a diagram" "Two dogs playing in the snow!") || return 1
  [ "$out" = "49406 320 1125 539 320 2368 49407
49406 320 22697 49407
49406 1237 3255 1629 530 518 2583 256 49407" ]
}

t_tokenize_stdin() {
  out=$(printf 'a diagram\n\nA DIAGRAM\n' | "$BIN" clip tokenize --vocab "$VOCAB") || return 1
  [ "$out" = "49406 320 22697 49407
49406 49407
49406 320 22697 49407" ]
}

t_tokenize_bad_vocab() {
  "$BIN" clip tokenize --vocab "$TMP/nope.gz" x 2>"$TMP/err"; [ $? -eq 2 ] && grep -q "nope.gz" "$TMP/err"
}

t_usage_errors() {
  "$BIN" clip 2>/dev/null; [ $? -eq 1 ] || return 1
  "$BIN" clip frob 2>/dev/null; [ $? -eq 1 ] || return 1
  "$BIN" clip embed --model "$TMP" 2>/dev/null; [ $? -eq 1 ] || return 1
  "$BIN" clip tokenize --bogus 2>/dev/null; [ $? -eq 1 ] || return 1
  "$BIN" clip --help | grep -q "clip embed"
}

t_embed_missing_model() {
  "$BIN" clip embed --model "$TMP/none" --text hi 2>"$TMP/err"; [ $? -eq 2 ] && grep -q "config.json" "$TMP/err"
}

t_embed_json_in_order() {
  "$PY" "$SRC/tests/clip_ref.py" gen "$TMP/ck" --seed 9 --vocab "$VOCAB" --text 32,48,4,2 --vision 32,48,4,1,64,32 --proj 12 || return 1
  "$BIN" clip embed --model "$TMP/ck" --text "a dog" --image /usr/share/darknet/data/dog.jpg --text 'say "hi"' --json > "$TMP/e.json" || return 1
  "$PY" - "$TMP/e.json" <<'PYEOF' || return 1
import json, math, sys
j = json.load(open(sys.argv[1]))
e = j["embeddings"]
assert j["dim"] == 12 and j["model"] == "ck" and abs(j["logit_scale"] - 100) < 0.01
assert [list(x.keys())[0] for x in e] == ["text", "image", "text"]
assert e[0]["text"] == "a dog" and e[2]["text"] == 'say "hi"'
for x in e:
    assert len(x["embedding"]) == 12 and abs(math.sqrt(sum(v * v for v in x["embedding"])) - 1) < 1e-5
PYEOF
  # Plain output: one line of 12 numbers per input.
  n=$("$BIN" clip embed --model "$TMP/ck" --text a --text b | awk '{print NF}' | sort -u)
  [ "$n" = "12" ]
}

t_embed_bad_image() {
  [ -d "$TMP/ck" ] || return 0
  echo "not an image" > "$TMP/x.jpg"
  "$BIN" clip embed --model "$TMP/ck" --image "$TMP/x.jpg" 2>"$TMP/err"; [ $? -eq 2 ] && grep -q "x.jpg" "$TMP/err"
}

if [ ! -r "$VOCAB" ]; then skip test_clip_cli "$VOCAB is missing"; exit 0; fi
tests=(t_tokenize_examples t_tokenize_stdin t_tokenize_bad_vocab t_usage_errors t_embed_missing_model)
if [ -x "$PY" ] && "$PY" -c 'import numpy' 2>/dev/null && [ -r /usr/share/darknet/data/dog.jpg ]; then
  tests+=(t_embed_json_in_order t_embed_bad_image)
else
  skip t_embed_json_in_order "needs /usr/bin/python3 with numpy and the darknet photos"
fi
run_all "${tests[@]}"
