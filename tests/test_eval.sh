#!/usr/bin/env bash
# test_eval.sh — `imgdex eval` end to end on 50 Flickr8k dev images (250
# captions): counts, metrics recomputed independently from the per-query
# ranks, determinism, reuse of the up-to-date database, better than chance,
# ablations and usage errors.
. "$(dirname "$0")/lib.sh"

F=$DATA/flickr8k
SPLIT=$TMP/split50.txt
# jnum FILE KEY -> a top-level number field of the JSON in FILE
jnum() { grep -o "\"$2\":[^,}]*" "$1" | head -n 1 | cut -d: -f2; }

have_data() { [ -d "$F/images" ] && [ -f "$F/captions.tsv" ] && [ -f "$F/dev.txt" ]; }
# Under the sanitizers (several times slower) the describer skips OCR and
# CLIP; the plain run evaluates the default pipeline.
EXTRA=()
[ "${IMGDEX_SAN:-0}" = 1 ] && EXTRA=(--no-ocr --no-clip)
run_eval() { # run_eval OUT [extra args]
  local out=$1; shift
  "$BIN" eval --images "$F/images" --captions "$F/captions.tsv" --split "$SPLIT" --jobs 2 --no-progress --json \
    "${EXTRA[@]}" "$@" >"$out"
}
eval_db() { grep -o '"db":"[^"]*"' "$TMP/r1.json" | cut -d'"' -f4; }

t_eval_50_images() {
  head -n 50 "$F/dev.txt" >"$SPLIT"
  run_eval "$TMP/r1.json" --per-query "$TMP/pq1.tsv" 2>"$TMP/r1.err" || { cat "$TMP/r1.err"; return 1; }
  cat "$TMP/r1.json"
  local want_q
  want_q=$(awk -F'\t' 'NR==FNR { s[$1]=1; next } ($1 in s) { n++ } END { print n }' "$SPLIT" "$F/captions.tsv")
  [ "$(jnum "$TMP/r1.json" images)" = 50 ] || { echo "images != 50"; return 1; }
  [ "$(jnum "$TMP/r1.json" queries)" = "$want_q" ] || { echo "queries != $want_q"; return 1; }
  [ "$(wc -l <"$TMP/pq1.tsv")" = $((want_q + 1)) ] || { echo "per-query lines"; return 1; }
  # Recompute every metric from the per-query ranks, apart from imgdex.
  # (POSIX awk: the ranks come in sorted, for the median.)
  tail -n +2 "$TMP/pq1.tsv" | sort -t$'\t' -k2,2g | awk -F'\t' -v j="$(cat "$TMP/r1.json")" '{
      n++; r = $2; if (r <= 1) a++; if (r <= 5) b++; if (r <= 10) c++; mrr += 1 / r; ranks[n] = r }
    function num(k,   m) { match(j, "\"" k "\":[^,}]*"); m = substr(j, RSTART, RLENGTH); sub(/^[^:]*:/, "", m); return m + 0 }
    function near(x, y) { return (x - y < 1e-6 && y - x < 1e-6) }
    END {
      med = (n % 2) ? ranks[(n + 1) / 2] : (ranks[n / 2] + ranks[n / 2 + 1]) / 2
      ok = near(a / n, num("recall@1")) && near(b / n, num("recall@5")) && near(c / n, num("recall@10")) &&
           near(mrr / n, num("mrr")) && near(med, num("median_rank"))
      if (!ok) { printf "recomputed r1 %g r5 %g r10 %g mrr %g median %g\n", a/n, b/n, c/n, mrr/n, med; exit 1 }
    }' || return 1
  # Recall is monotone and every rank lies in 1..50.
  awk -F'\t' 'NR > 1 && ($2 < 1 || $2 > 50) { exit 1 }' "$TMP/pq1.tsv" || { echo "rank out of range"; return 1; }
  awk -v a="$(jnum "$TMP/r1.json" recall@1)" -v b="$(jnum "$TMP/r1.json" recall@5)" \
      -v c="$(jnum "$TMP/r1.json" recall@10)" 'BEGIN { exit !(a <= b && b <= c) }' || { echo "recall not monotone"; return 1; }
}

t_eval_beats_chance() {
  [ -f "$TMP/r1.json" ] || { echo "needs t_eval_50_images"; return 1; }
  # Chance on 50 images: R@10 = 10/50 = 0.2, MRR = H(50)/50 = 0.09.
  awk -v r10="$(jnum "$TMP/r1.json" recall@10)" -v mrr="$(jnum "$TMP/r1.json" mrr)" \
    'BEGIN { if (!(r10 > 0.2 && mrr > 0.09)) { print "no better than chance: r10 " r10 " mrr " mrr; exit 1 } }'
}

t_eval_deterministic_and_reuses_db() {
  [ -f "$TMP/r1.json" ] || { echo "needs t_eval_50_images"; return 1; }
  run_eval "$TMP/r2.json" --per-query "$TMP/pq2.tsv" 2>/dev/null || return 1
  [ "$(grep -o '"index":{"described":[0-9]*' "$TMP/r2.json")" = '"index":{"described":0' ] ||
    { echo "second run described images again"; cat "$TMP/r2.json"; return 1; }
  local k
  for k in recall@1 recall@5 recall@10 median_rank mrr queries; do
    [ "$(jnum "$TMP/r1.json" $k)" = "$(jnum "$TMP/r2.json" $k)" ] || { echo "$k differs between runs"; return 1; }
  done
  cut -f1,2,4,5 "$TMP/pq1.tsv" >"$TMP/a" && cut -f1,2,4,5 "$TMP/pq2.tsv" >"$TMP/b" && cmp -s "$TMP/a" "$TMP/b" ||
    { echo "per-query ranks differ"; return 1; }
}

t_eval_limit_and_ablation() {
  [ -f "$TMP/r1.json" ] || { echo "needs t_eval_50_images"; return 1; }
  # The 50-image database serves a 10-image run: the other 40 are ignored.
  run_eval "$TMP/l.json" --limit 10 --db "$(eval_db)" --per-query "$TMP/pql.tsv" 2>/dev/null || return 1
  [ "$(jnum "$TMP/l.json" images)" = 10 ] && [ "$(jnum "$TMP/l.json" queries)" -ge 10 ] || { cat "$TMP/l.json"; return 1; }
  grep -q '"index":{"described":0' "$TMP/l.json" || { echo "--limit re-described"; return 1; }
  awk -F'\t' 'NR > 1 && ($2 < 1 || $2 > 10) { exit 1 }' "$TMP/pql.tsv" || { echo "a rank counts images outside the split"; return 1; }
  run_eval "$TMP/w.json" --without wordnet,relations 2>/dev/null || return 1
  grep -q '"without":"wordnet,relations"' "$TMP/w.json" || return 1
  [ "$(jnum "$TMP/w.json" images)" = 50 ]
}

t_eval_usage() {
  "$BIN" eval --help | grep -q "usage: imgdex eval" || return 1
  "$BIN" eval --images /tmp 2>/dev/null; [ $? -eq 1 ] || { echo "missing --captions"; return 1; }
  "$BIN" eval --images /tmp --captions 2>/dev/null; [ $? -eq 1 ] || { echo "--captions without value"; return 1; }
  "$BIN" eval --images /tmp --captions x --limit 0 2>/dev/null; [ $? -eq 1 ] || { echo "--limit 0"; return 1; }
  "$BIN" eval --images "$TMP" --captions "$TMP/none.tsv" 2>"$TMP/u.err"; [ $? -eq 2 ] || return 1
  grep -q "none.tsv" "$TMP/u.err"
}

# Colours alone cannot beat chance: that needs the object detector.
detector_installed() { ! "$BIN" --db "$(eval_db)" stats --json | grep -q 'objects:\(missing\|needs\)'; }

rc=0
if have_data; then
  run_all t_eval_50_images || rc=1
  if [ -f "$TMP/r1.json" ] && ! detector_installed; then
    skip t_eval_beats_chance "the object detector is not installed (scripts/setup fetches it)"
  else
    run_all t_eval_beats_chance || rc=1
  fi
  run_all t_eval_deterministic_and_reuses_db t_eval_limit_and_ablation || rc=1
else
  for t in t_eval_50_images t_eval_beats_chance t_eval_deterministic_and_reuses_db t_eval_limit_and_ablation; do
    skip $t "no Flickr8k under $F"
  done
fi
run_all t_eval_usage || rc=1
exit $rc
