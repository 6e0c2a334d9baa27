#!/usr/bin/env bash
# test_eval_dev.sh — locks in the ranking tuned on the Flickr8k dev split
# (issue #6): `imgdex eval` on a fixed sample of 50 dev images (every 20th
# line of dev.txt from the 7th, 250 captions, indexed from scratch) must
# reach recall and MRR floors.  The floors sit between what the ranking
# reached before tuning and after (both measured with this script and
# written in docs/eval.md), so undoing the tuning fails here.
. "$(dirname "$0")/lib.sh"

F=$DATA/flickr8k
SPLIT=$TMP/dev-sample.txt
jnum() { grep -o "\"$2\":[^,}]*" "$1" | head -n 1 | cut -d: -f2; }
have_data() { [ -d "$F/images" ] && [ -f "$F/captions.tsv" ] && [ -f "$F/dev.txt" ]; }
# Under the sanitizers the describer skips OCR and CLIP (as test_eval.sh).
EXTRA=()
[ "${IMGDEX_SAN:-0}" = 1 ] && EXTRA=(--no-ocr --no-clip)

t_eval_dev_sample_floors() {
  awk 'NR % 20 == 7' "$F/dev.txt" >"$SPLIT"
  [ "$(wc -l <"$SPLIT")" = 50 ] || { echo "dev.txt has changed"; return 1; }
  "$BIN" eval --images "$F/images" --captions "$F/captions.tsv" --split "$SPLIT" --jobs 2 --no-progress --json \
    --db "$TMP/dev.db" "${EXTRA[@]}" >"$TMP/r.json" 2>"$TMP/r.err" || { cat "$TMP/r.err"; return 1; }
  cat "$TMP/r.json"
  [ "$(jnum "$TMP/r.json" images)" = 50 ] && [ "$(jnum "$TMP/r.json" queries)" = 250 ] || { echo "counts"; return 1; }
  # Measured on 2026-11-28 (no CLIP), plain build, with the detector running
  # these photos at 384:
  #   before tuning: R@5 0.360, R@10 0.476, MRR 0.279, median 12;
  #   after:         R@5 0.504, R@10 0.644, MRR 0.369, median 5.
  # At 352, as shipped (the describe speed target; on all 5000 dev captions
  # MRR 0.079 against 0.081 at 384): R@5 0.432, R@10 0.560, MRR 0.334,
  # median 7.  The floors sit between the untuned ranking and that.
  awk -v r5="$(jnum "$TMP/r.json" recall@5)" -v r10="$(jnum "$TMP/r.json" recall@10)" \
      -v mrr="$(jnum "$TMP/r.json" mrr)" -v med="$(jnum "$TMP/r.json" median_rank)" 'BEGIN {
    ok = r5 >= 0.40 && r10 >= 0.52 && mrr >= 0.31 && med <= 9
    if (!ok) { printf "below the tuned floors: r5 %s r10 %s mrr %s median %s\n", r5, r10, mrr, med; exit 1 } }'
}

if have_data; then
  run_all t_eval_dev_sample_floors
else
  skip t_eval_dev_sample_floors "no Flickr8k under $F"
fi
