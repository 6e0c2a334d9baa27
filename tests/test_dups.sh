#!/usr/bin/env bash
# test_dups.sh — `imgdex duplicates`, `show`'s duplicates and
# /api/duplicates on a real catalogue: two Flickr8k photos with their nine
# transformed copies each (scripts/gen-dups) and two unrelated photos.
# Every copy must land in its original's group, the unrelated photos in
# none, the original must be the suggested keeper, and nothing is deleted.
. "$(dirname "$0")/lib.sh"

SET=$TMP/set
DB=$TMP/d.db

setup() {
  [ -d "$DATA/flickr8k/images" ] || { skip dups "no Flickr8k under $DATA (set IMGDEX_DATA)"; exit 0; }
  IMGDEX_FLICKR8K=$DATA/flickr8k "$SRC/scripts/gen-dups" --split dev --count 2 --unrelated 2 --seed 7 \
    --out "$SET" >"$TMP/gen.log" 2>&1 || { skip dups "scripts/gen-dups failed: $(tail -1 "$TMP/gen.log")"; exit 0; }
  # The original is the oldest file: with equal resolutions, it is the keeper.
  awk -F'\t' '$3 == "original" {print $1}' "$SET/manifest.tsv" | while read -r f; do
    touch -d '2001-01-01' "$SET/$f"
  done
  "$BIN" --db "$DB" index "$SET" --no-ocr --no-clip --jobs 2 >"$TMP/index.log" 2>&1 ||
    { echo "FAIL dups_index: $(tail -2 "$TMP/index.log" | tr '\n' ' ')"; exit 1; }
  ls "$SET" | sort >"$TMP/files.before"
}

# Members of each group as "keeper-file member-file..." lines, basenames.
groups() {
  "$BIN" --db "$DB" duplicates --json "$@" | /usr/bin/python3 -c '
import json, os, sys
d = json.load(sys.stdin)
for g in d["groups"]:
    ms = g["members"]
    assert ms[0]["keeper"] and ms[0]["id"] == g["keeper"]
    for m in ms[1:]:
        assert not m["keeper"] and m["distance"] <= (d["max_distance"] if m["relation"] != "near" else 128)
        assert m["reason"] and m["relation"] in ("same", "crop", "contains", "near")
    print(" ".join(os.path.basename(m["path"]) for m in ms))'
}

t_copies_grouped_with_their_original() {
  groups >"$TMP/groups" || return 1
  cat "$TMP/groups"
  [ "$(wc -l <"$TMP/groups")" -eq 2 ] || return 1
  awk -F'\t' '$3 == "original" {print $1}' "$SET/manifest.tsv" | while read -r orig; do
    stem=${orig%.jpg}
    line=$(grep "^$orig " "$TMP/groups") || { echo "no group kept by $orig"; return 1; }
    for f in $(awk -F'\t' -v o="$orig" '$2 == o {print $1}' "$SET/manifest.tsv"); do
      grep -qw -- "$f" <<<"$line" || { echo "$f not with $orig"; return 1; }
    done
    [ "$(wc -w <<<"$line")" -eq 10 ] || { echo "group of $orig: $line"; return 1; }
    [[ "$line" != *unrelated* ]] || return 1
    for w in $line; do [[ "$w" == "$stem"* ]] || { echo "$w in $orig's group"; return 1; }; done
  done
}

t_unrelated_photos_in_no_group() {
  for f in $(awk -F'\t' '$3 == "unrelated" {print $1}' "$SET/manifest.tsv"); do
    groups | grep -qw -- "$f" && { echo "$f grouped"; return 1; }
  done
  return 0
}

t_text_output_names_keeper_and_reasons() {
  out=$("$BIN" --db "$DB" duplicates) || return 1
  grep -q '^group 1: 10 images' <<<"$out" || return 1
  [ "$(grep -c '^  keep ' <<<"$out")" -eq 2 ] || return 1
  grep -q 'a crop of the keeper, fingerprint' <<<"$out" || return 1
  grep -q '^2 groups, 20 images in them, of 22 fingerprinted' <<<"$out"
}

t_near_is_a_superset() {
  groups >"$TMP/exact" && groups --near >"$TMP/near" || return 1
  for w in $(cat "$TMP/exact"); do grep -qw -- "$w" "$TMP/near" || return 1; done
}

t_show_lists_duplicates() {
  crop=$(awk -F'\t' '$3 == "crop90" {print $1; exit}' "$SET/manifest.tsv")
  out=$("$BIN" --db "$DB" show "$SET/$crop") || return 1
  [ "$(grep -c '^duplicate ' <<<"$out")" -eq 9 ] || { echo "$out" | grep duplicate; return 1; }
  grep -q 'this one is a crop of it.*suggested keeper' <<<"$out" || return 1
  n=$("$BIN" --db "$DB" show "$SET/$crop" --json | /usr/bin/python3 -c \
    'import json,sys; d=json.load(sys.stdin)["duplicates"]; print(len(d["members"]))') || return 1
  [ "$n" -eq 10 ]
}

t_old_catalogue_gets_fingerprints_without_redescribing() {
  cp "$DB" "$TMP/old.db" && rm -f "$TMP/old.db-wal" "$TMP/old.db-shm"
  sqlite3 "$TMP/old.db" 'DELETE FROM fingerprints' || return 1
  out=$("$BIN" --db "$TMP/old.db" duplicates 2>&1) || return 1
  grep -q '^0 groups' <<<"$out" && grep -q '22 catalogued images have no fingerprint yet' <<<"$out" || return 1
  out=$("$BIN" --db "$TMP/old.db" index "$SET" --no-ocr --no-clip) || return 1
  grep -q ' 0 described, 0 unchanged' <<<"$out" && grep -q '^22 up-to-date images fingerprinted' <<<"$out" || {
    echo "$out"; return 1; }
  [ "$("$BIN" --db "$TMP/old.db" duplicates --json | /usr/bin/python3 -c \
    'import json,sys; print(len(json.load(sys.stdin)["groups"]))')" -eq 2 ]
}

t_api_duplicates() {
  "$BIN" --db "$DB" serve --port 0 --cache "$TMP/thumbs" 2>"$TMP/serve.err" &
  pid=$!
  for _ in $(seq 100); do
    url=$(grep -o 'http://[^ ]*' "$TMP/serve.err" | head -1)
    [ -n "$url" ] && break
    sleep 0.1
  done
  n=$(curl -s --noproxy '*' "${url}api/duplicates" | /usr/bin/python3 -c \
    'import json,sys; print(sum(len(g["members"]) for g in json.load(sys.stdin)["groups"]))')
  nn=$(curl -s --noproxy '*' "${url}api/duplicates?near=1" | /usr/bin/python3 -c \
    'import json,sys; print(len(json.load(sys.stdin)["groups"]))')
  kill -TERM "$pid"; wait "$pid"
  [ "$n" = 20 ] && [ "$nn" -ge 2 ]
}

t_usage() {
  "$BIN" duplicates --help | grep -q -- '--near' || return 1
  "$BIN" --db "$DB" duplicates --frob 2>/dev/null; [ $? -eq 1 ] || return 1
  "$BIN" --db "$TMP/none.db" duplicates 2>"$TMP/err"; [ $? -eq 2 ] && grep -q 'none.db' "$TMP/err"
}

t_nothing_deleted() {
  ls "$SET" | sort | diff - "$TMP/files.before"
}

setup
run_all t_copies_grouped_with_their_original t_unrelated_photos_in_no_group t_text_output_names_keeper_and_reasons \
  t_near_is_a_superset t_show_lists_duplicates t_old_catalogue_gets_fingerprints_without_redescribing \
  t_api_duplicates t_usage t_nothing_deleted
