#!/usr/bin/env bash
# test_index_features.sh — feature vectors through `imgdex index`: every
# described photo gets one (checked in the database with the sqlite3 shell,
# not with imgdex), a second run re-describes nothing, a catalogue written by
# the previous describer (describe/2, no features) is re-described exactly
# once and gains them, a symlinked photo is indexed, and `show` says the
# features are there (kind, dim) without printing the numbers.
. "$(dirname "$0")/lib.sh"

N=${IMGDEX_INDEX_N:-6}
PHOTOS=$TMP/photos
DB=$TMP/feat.db
FLICKR=$DATA/flickr8k/images
sql() { sqlite3 -batch -cmd ".timeout 30000" "$1" "$2" | head -n 1; }
expect() { if [ "$2" != "$3" ]; then echo "$1: got '$2', expected '$3'"; return 1; fi; }

if ! command -v sqlite3 >/dev/null; then echo "SKIP test_index_features: no sqlite3 shell"; exit 0; fi
if [ ! -d "$FLICKR" ]; then echo "SKIP test_index_features: no Flickr8k images in $FLICKR"; exit 0; fi
if [ ! -e "$SRC/models/centernet.json" ] && [ -z "${IMGDEX_MODELS:-}" ]; then
  echo "SKIP test_index_features: the detector is not installed (scripts/setup)"; exit 0
fi

setup() {
  mkdir -p "$PHOTOS"
  local all=() i
  mapfile -t all < <(ls "$FLICKR" | sort | head -n "$N")
  for ((i = 0; i < ${#all[@]} - 1; i++)); do cp "$FLICKR/${all[i]}" "$PHOTOS/"; done
  ln -s "$FLICKR/${all[-1]}" "$PHOTOS/linked.jpg"
}

every_photo_gets_features() {
  setup || return 1
  "$BIN" --db "$DB" index "$PHOTOS" --no-ocr --no-clip --jobs 1 2>"$TMP/err1" >"$TMP/out1" || return 1
  expect images "$(sql "$DB" "SELECT count(*) FROM images")" "$N" || return 1
  expect "with features" "$(sql "$DB" "SELECT count(*) FROM features f JOIN images i ON i.id=f.image_id")" "$N" || return 1
  KIND=$(sql "$DB" "SELECT group_concat(DISTINCT kind) FROM features")
  [[ "$KIND" =~ ^features/[0-9]+$ ]] || { echo "kinds: $KIND"; return 1; }
  # the describer version names the kind, so a new layout re-describes
  expect "versions naming it" "$(sql "$DB" "SELECT count(*) FROM images WHERE describer LIKE '% features:$KIND %'")" "$N"
  # dim halves, two bytes each
  expect "bad rows" "$(sql "$DB" "SELECT count(*) FROM features WHERE length(vec) != 2*dim OR dim < 1000")" 0 || return 1
  expect linked "$(sql "$DB" "SELECT count(*) FROM images i JOIN features f ON f.image_id=i.id WHERE path LIKE '%/linked.jpg'")" 1
}

second_run_does_nothing() {
  "$BIN" --db "$DB" index "$PHOTOS" --no-ocr --no-clip --jobs 1 2>/dev/null >"$TMP/out2" || return 1
  grep -q "0 described, $N unchanged" "$TMP/out2" || { cat "$TMP/out2"; return 1; }
}

old_catalogue_redescribed_once() {
  # What a describe/2 catalogue looks like to the indexer: its version, no vectors.
  local kind
  kind=$(sql "$DB" "SELECT kind FROM features LIMIT 1")
  sqlite3 "$DB" "UPDATE images SET describer=replace(replace(describer, 'describe/3', 'describe/2'), ' features:$kind', '');
                 DELETE FROM features;" || return 1
  expect emptied "$(sql "$DB" "SELECT count(*) FROM features")" 0 || return 1
  "$BIN" --db "$DB" index "$PHOTOS" --no-ocr --no-clip --jobs 1 2>/dev/null >"$TMP/out3" || return 1
  grep -q "$N described" "$TMP/out3" || { cat "$TMP/out3"; return 1; }
  expect "with features" "$(sql "$DB" "SELECT count(*) FROM features")" "$N" || return 1
  "$BIN" --db "$DB" index "$PHOTOS" --no-ocr --no-clip --jobs 1 2>/dev/null >"$TMP/out4" || return 1
  grep -q "0 described" "$TMP/out4" || { cat "$TMP/out4"; return 1; }
}

show_names_kind_and_dim() {
  local id dim kind
  id=$(sql "$DB" "SELECT min(image_id) FROM features")
  dim=$(sql "$DB" "SELECT dim FROM features WHERE image_id=$id")
  kind=$(sql "$DB" "SELECT kind FROM features WHERE image_id=$id")
  "$BIN" --db "$DB" show "$id" >"$TMP/show" || return 1
  grep -q "^features  *$kind, $dim dimensions" "$TMP/show" || { cat "$TMP/show"; return 1; }
  "$BIN" --db "$DB" show "$id" --json >"$TMP/show.json" || return 1
  /usr/bin/python3 - "$TMP/show.json" "$dim" "$kind" <<'PY' || return 1
import json, sys
d = json.load(open(sys.argv[1]))["description"]["features"]
assert d == {"kind": sys.argv[3], "dim": int(sys.argv[2])}, d
PY
}

run_all every_photo_gets_features second_run_does_nothing old_catalogue_redescribed_once show_names_kind_and_dim
