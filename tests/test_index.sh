#!/usr/bin/env bash
# test_index.sh — `imgdex index` on 300 real photos plus broken files:
# a kill -9 in the middle and a resume, counts, a re-index that does no
# work, renames/copies/deletes/changes, stdout/stderr discipline, show and
# stats.  The database is checked with Python's own sqlite3 module, not
# with imgdex.  The tests share one catalogue and run in order.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
# 300 photos; under the sanitizers (several times slower) 60 go through
# the same paths.  The describer runs without OCR and CLIP: this file tests
# the catalogue's mechanics, and those stages would only add minutes.
if [ "${IMGDEX_SAN:-0}" = 1 ]; then N=${IMGDEX_INDEX_N:-60}; else N=${IMGDEX_INDEX_N:-300}; fi
IDX=(--no-ocr --no-clip)
PHOTOS=$TMP/photos
DB=$TMP/index.db
FLICKR=$DATA/flickr8k/images

# sql DB QUERY -> first column of the first row (integrity_check, counts),
# through SQLite's own shell: an oracle independent of imgdex's code.
sql() { sqlite3 -batch -cmd ".timeout 30000" "$1" "$2" | head -n 1; }
# jfield FILE KEY -> a number or string field of the flat JSON object in FILE
jfield() { grep -o "\"$2\":\(\"[^\"]*\"\|[^,}]*\)" "$1" | head -n 1 | sed 's/^[^:]*://; s/^"//; s/"$//'; }
if ! command -v sqlite3 >/dev/null; then
  echo "SKIP test_index: the sqlite3 shell is missing (scripts/setup installs it)"; exit 0
fi
expect() { # expect WHAT GOT WANT
  if [ "$2" != "$3" ]; then echo "$1: got '$2', expected '$3'"; return 1; fi
}

make_photos() {
  mkdir -p "$PHOTOS/a" "$PHOTOS/b/deeper" "$PHOTOS/.hidden" "$PHOTOS/broken"
  # Few processes: starting one costs ~0.1 s on the CI machines.
  local all=() a=() b=() c=() i
  mapfile -t all < <(ls "$FLICKR" | sort | head -n "$N")
  for ((i = 0; i < ${#all[@]}; i++)); do
    case $((i % 3)) in 0) a+=("$FLICKR/${all[i]}") ;; 1) b+=("$FLICKR/${all[i]}") ;; 2) c+=("$FLICKR/${all[i]}") ;; esac
  done
  cp "${a[@]}" "$PHOTOS/a/" && cp "${b[@]}" "$PHOTOS/b/" && cp "${c[@]}" "$PHOTOS/b/deeper/" || return 1
  FIRST=${all[0]}
  # Never indexed: hidden directories, non-images without an image name.
  cp "$FLICKR/${all[1]}" "$PHOTOS/.hidden/secret.jpg"
  echo "holiday notes" > "$PHOTOS/a/notes.txt"
  # A symlink loop must not hang the walk nor duplicate anything.
  ln -s .. "$PHOTOS/b/deeper/loop"
  # Broken files that look like images: each becomes one error row.
  : > "$PHOTOS/broken/zero.jpg"
  head -c 4096 /dev/urandom > "$PHOTOS/broken/random.jpg"
  head -c 2000 "$FLICKR/$FIRST" > "$PHOTOS/broken/truncated.jpg"
  # A PNG whose header claims 100000x100000 (checked before decoding).
  "$PY" - "$PHOTOS/broken/huge.png" <<'EOF'
import struct, sys, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
EOF
}

# 1. The first index is killed with -9 while it works, then resumed.
t_kill9_then_resume() {
  make_photos || return 1
  # IMGDEX_TEST_SLOW_MS: at least 20 ms per image, so there is a run to kill
  # even when the describer is fast (models not installed).
  IMGDEX_TEST_SLOW_MS=20 "$BIN" --db "$DB" index "$PHOTOS" "${IDX[@]}" --jobs 2 --json >"$TMP/run1.json" 2>"$TMP/run1.err" &
  local pid=$! n=0 t=0
  # Wait until some images are committed (but not all), then kill.
  while [ "$t" -lt 600 ]; do
    n=0
    [ -f "$DB" ] && n=$(sql "$DB" "SELECT count(*) FROM images" 2>/dev/null || echo 0)
    [ "${n:-0}" -ge $((N / 10)) ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1; t=$((t + 1))
  done
  # A reader in another process is served while the writer works.
  local s0=$(date +%s%N)
  "$BIN" --db "$DB" stats --json >"$TMP/stats-during.json" || { echo "stats failed during index"; return 1; }
  local ms=$(( ($(date +%s%N) - s0) / 1000000 ))
  [ "$ms" -lt 5000 ] || { echo "stats took $ms ms while indexing"; return 1; }
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  local before=$(sql "$DB" "SELECT count(*) FROM images")
  echo "killed with $before images committed"
  [ "$before" -lt "$N" ] || { echo "index finished before it could be killed ($before images)"; return 1; }
  expect "integrity after kill" "$(sql "$DB" "PRAGMA integrity_check")" ok || return 1
  "$BIN" --db "$DB" index "$PHOTOS" "${IDX[@]}" --jobs 2 --json >"$TMP/run2.json" 2>"$TMP/run2.err" || { cat "$TMP/run2.err"; return 1; }
  cat "$TMP/run2.json"
  expect "integrity after resume" "$(sql "$DB" "PRAGMA integrity_check")" ok || return 1
  expect "images" "$(sql "$DB" "SELECT count(*) FROM images")" "$N" || return 1
  expect "distinct paths" "$(sql "$DB" "SELECT count(DISTINCT path) FROM images")" "$N" || return 1
  expect "distinct hashes" "$(sql "$DB" "SELECT count(DISTINCT hash) FROM images")" "$N" || return 1
  expect "errors" "$(sql "$DB" "SELECT count(*) FROM errors")" 4 || return 1
  # The resume did the rest, and only the rest.
  local described=$(jfield "$TMP/run2.json" described) unchanged=$(jfield "$TMP/run2.json" unchanged)
  expect "described+unchanged on resume" $((described + unchanged)) "$N" || return 1
  [ "$unchanged" -ge "$before" ] || { echo "resume redid committed images"; return 1; }
  # Every image row has its whole-image region.
  expect "images without region 0" "$(sql "$DB" "SELECT count(*) FROM images WHERE id NOT IN (SELECT image_id FROM regions WHERE idx=0)")" 0
}

t_hidden_and_non_images_skipped() {
  [ -f "$DB" ] || { echo "needs the first index"; return 1; }
  expect "hidden" "$(sql "$DB" "SELECT count(*) FROM images WHERE path LIKE '%/.hidden/%'")" 0 || return 1
  expect "notes" "$(sql "$DB" "SELECT count(*) FROM images WHERE path LIKE '%notes.txt'") $(sql "$DB" "SELECT count(*) FROM errors WHERE path LIKE '%notes.txt'")" "0 0" || return 1
  expect "through the loop" "$(sql "$DB" "SELECT count(*) FROM images WHERE path LIKE '%/loop/%'")" 0
}

t_errors_name_file_and_reason() {
  [ -f "$DB" ] || { echo "needs the first index"; return 1; }
  local f
  for f in zero random truncated huge; do
    expect "error row for $f" "$(sql "$DB" "SELECT count(*) FROM errors WHERE path='$PHOTOS/broken/$f.$( [ $f = huge ] && echo png || echo jpg)' AND reason LIKE '%$f%'")" 1 || return 1
  done
  # One warning line per broken file on stderr, naming it (the second run
  # re-tried those the killed first run had not reached, or none).
  cat "$TMP/run1.err" "$TMP/run2.err" >"$TMP/all.err"
  for f in zero.jpg random.jpg truncated.jpg huge.png; do
    grep -q "warning: .*$f" "$TMP/all.err" || { echo "no warning for $f"; return 1; }
  done
  grep -q "100000" <<<"$(sql "$DB" "SELECT reason FROM errors WHERE path LIKE '%huge.png'")" || { echo "huge.png reason does not give the size"; return 1; }
}

t_stdout_is_only_results() {
  [ -f "$DB" ] || { echo "needs the first index"; return 1; }
  "$BIN" --db "$DB" index "$PHOTOS" "${IDX[@]}" >"$TMP/plain.out" 2>"$TMP/plain.err" || return 1
  expect "stdout lines" "$(wc -l <"$TMP/plain.out")" 1 || return 1
  grep -q "$N images\|described" "$TMP/plain.out" || { cat "$TMP/plain.out"; return 1; }
  # Not a terminal: no progress bar escape codes anywhere.
  if grep -q $'\r' "$TMP/plain.err" "$TMP/plain.out"; then echo "progress bar drawn without a tty"; return 1; fi
  "$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/run2.json"
}

t_reindex_does_no_image_work() {
  [ -f "$DB" ] || { echo "needs the first index"; return 1; }
  local before=$(sql "$DB" "SELECT group_concat(id || indexed_at) FROM images")
  "$BIN" --db "$DB" index "$PHOTOS" "${IDX[@]}" --jobs 2 --json >"$TMP/re.json" 2>"$TMP/re.err" || return 1
  cat "$TMP/re.json"
  expect "described" "$(jfield "$TMP/re.json" described)" 0 || return 1
  expect "errors retried" "$(jfield "$TMP/re.json" errors)" 0 || return 1
  expect "known errors" "$(jfield "$TMP/re.json" known_errors)" 4 || return 1
  expect "unchanged" "$(jfield "$TMP/re.json" unchanged)" "$N" || return 1
  expect "rows untouched" "$(sql "$DB" "SELECT group_concat(id || indexed_at) FROM images")" "$before" || return 1
  [ ! -s "$TMP/re.err" ] || ! grep -q warning "$TMP/re.err" || { echo "warnings on a no-op run:"; cat "$TMP/re.err"; return 1; }
}

t_rename_copy_delete_touch() {
  [ -f "$DB" ] || { echo "needs the first index"; return 1; }
  local files=($(cd "$PHOTOS/a" && ls *.jpg | sort | head -n 4))
  local a=$PHOTOS/a/${files[0]} c=$PHOTOS/a/${files[1]} d=$PHOTOS/a/${files[2]} t=$PHOTOS/a/${files[3]}
  local olda=$(sql "$DB" "SELECT caption || '|' || (SELECT count(*) FROM regions r WHERE r.image_id=images.id) FROM images WHERE path='$a'")
  local oldt=$(sql "$DB" "SELECT id FROM images WHERE path='$t'")
  mkdir -p "$PHOTOS/moved"
  mv "$a" "$PHOTOS/moved/renamed.jpg"
  cp "$c" "$PHOTOS/b/copy of c.jpg"
  rm "$d"
  touch -d '2001-02-03' "$t"
  "$BIN" --db "$DB" index "$PHOTOS" "${IDX[@]}" --jobs 2 --json >"$TMP/mv.json" 2>"$TMP/mv.err" || return 1
  cat "$TMP/mv.json"
  expect "described" "$(jfield "$TMP/mv.json" described)" 0 || return 1
  expect "renamed/copied" "$(jfield "$TMP/mv.json" renamed)" 2 || return 1
  expect "removed" "$(jfield "$TMP/mv.json" removed)" 2 || return 1
  expect "images" "$(sql "$DB" "SELECT count(*) FROM images")" "$N" || return 1
  expect "old path gone" "$(sql "$DB" "SELECT count(*) FROM images WHERE path IN ('$a', '$d')")" 0 || return 1
  expect "renamed keeps its description" "$(sql "$DB" "SELECT caption || '|' || (SELECT count(*) FROM regions r WHERE r.image_id=images.id) FROM images WHERE path='$PHOTOS/moved/renamed.jpg'")" "$olda" || return 1
  expect "copy shares content" "$(sql "$DB" "SELECT count(DISTINCT caption) || ' ' || count(*) FROM images WHERE hash=(SELECT hash FROM images WHERE path='$c')")" "1 2" || return 1
  expect "touched keeps its id" "$(sql "$DB" "SELECT id FROM images WHERE path='$t'")" "$oldt" || return 1
  expect "no orphans" "$(sql "$DB" "SELECT count(*) FROM regions WHERE image_id NOT IN (SELECT id FROM images)")" 0 || return 1
  expect "integrity" "$(sql "$DB" "PRAGMA integrity_check")" ok
}

t_changed_file_is_redescribed_and_error_cleared() {
  [ -f "$DB" ] || { echo "needs the first index"; return 1; }
  local victim=$(cd "$PHOTOS/b" && ls *.jpg | sort | head -n 1)
  local id=$(sql "$DB" "SELECT id FROM images WHERE path='$PHOTOS/b/$victim'")
  # New content nobody has: a mirrored copy, and a fixed "random.jpg".
  "$PY" -c 'import sys; from PIL import Image, ImageOps
ImageOps.mirror(Image.open(sys.argv[1])).save(sys.argv[1], quality=90)
Image.new("RGB", (64, 48), (200, 30, 30)).save(sys.argv[2], "JPEG")' "$PHOTOS/b/$victim" "$PHOTOS/broken/random.jpg"
  "$BIN" --db "$DB" index "$PHOTOS" "${IDX[@]}" --jobs 2 --json >"$TMP/ch.json" 2>"$TMP/ch.err" || return 1
  cat "$TMP/ch.json"
  expect "described" "$(jfield "$TMP/ch.json" described)" 2 || return 1
  expect "same id" "$(sql "$DB" "SELECT id FROM images WHERE path='$PHOTOS/b/$victim'")" "$id" || return 1
  expect "error cleared" "$(sql "$DB" "SELECT count(*) FROM errors WHERE path LIKE '%random.jpg'")" 0 || return 1
  expect "fixed file indexed" "$(sql "$DB" "SELECT width || 'x' || height FROM images WHERE path LIKE '%random.jpg'")" 64x48 || return 1
  # Deleting the broken files forgets their errors too.
  rm "$PHOTOS/broken/zero.jpg"
  "$BIN" --db "$DB" index "$PHOTOS" "${IDX[@]}" --json >"$TMP/ch2.json" 2>/dev/null || return 1
  expect "errors left" "$(sql "$DB" "SELECT count(*) FROM errors")" 2
}

t_show_and_stats() {
  [ -f "$DB" ] || { echo "needs the first index"; return 1; }
  local p=$PHOTOS/moved/renamed.jpg
  local id=$(sql "$DB" "SELECT id FROM images WHERE path='$p'")
  "$BIN" --db "$DB" show "$p" --json >"$TMP/show.json" || return 1
  "$PY" - "$TMP/show.json" "$p" "$id" <<'EOF' || return 1
import json, sys
o = json.load(open(sys.argv[1]))
assert o["path"] == sys.argv[2], o["path"]
assert o["id"] == int(sys.argv[3])
d = o["description"]
assert isinstance(d, dict) and d["width"] > 0, d
EOF
  # By id, and by a relative path, in text form.
  "$BIN" --db "$DB" show "$id" >"$TMP/show.txt" || return 1
  grep -q "^$p" "$TMP/show.txt" || { cat "$TMP/show.txt"; return 1; }
  (cd "$PHOTOS/moved" && "$BIN" --db "$DB" show renamed.jpg) | grep -q "id *$id" || return 1
  "$BIN" --db "$DB" show /no/such.jpg 2>"$TMP/show.err"; expect "show missing exit" $? 2 || return 1
  grep -q "/no/such.jpg" "$TMP/show.err" || return 1
  "$BIN" --db "$DB" stats --json --check >"$TMP/stats.json" || return 1
  expect "stats images" "$(jfield "$TMP/stats.json" images)" "$(sql "$DB" "SELECT count(*) FROM images")" || return 1
  expect "stats errors" "$(jfield "$TMP/stats.json" errors)" "$(sql "$DB" "SELECT count(*) FROM errors")" || return 1
  expect "stats integrity" "$(jfield "$TMP/stats.json" integrity)" ok || return 1
  "$BIN" --db "$DB" stats --errors | grep -q "truncated.jpg"
}

t_max_pixels_and_usage() {
  local dir=$TMP/small db=$TMP/small.db
  mkdir -p "$dir"
  "$PY" -c 'import sys; from PIL import Image
Image.new("RGB", (200, 100), (0, 90, 200)).save(sys.argv[1] + "/wide.png")
Image.new("RGB", (20, 10), (0, 90, 200)).save(sys.argv[1] + "/tiny.png")' "$dir"
  "$BIN" --db "$db" index "$dir" "${IDX[@]}" --max-pixels 5000 --json >"$TMP/mp.json" 2>"$TMP/mp.err" || return 1
  expect "over the limit" "$(jfield "$TMP/mp.json" errors) $(jfield "$TMP/mp.json" described)" "1 1" || return 1
  grep -q "wide.png" "$TMP/mp.err" || return 1
  for c in index stats show; do "$BIN" --db "$db" $c --help | grep -q "usage: imgdex" || { echo "$c --help"; return 1; }; done
  "$BIN" --db "$db" index 2>/dev/null; expect "index without dir" $? 1 || return 1
  "$BIN" --db "$db" index "$dir" --jobs x 2>/dev/null; expect "bad --jobs" $? 1 || return 1
  "$BIN" --db "$db" index "$dir" --frob 2>/dev/null; expect "unknown option" $? 1 || return 1
  "$BIN" --db "$db" index "$TMP/nope" 2>"$TMP/nope.err"; expect "missing dir" $? 2 || return 1
  grep -q "$TMP/nope" "$TMP/nope.err" || return 1
  "$BIN" --db "$TMP/none.db" stats 2>/dev/null; expect "stats without db" $? 2 || return 1
  "$BIN" --db "$db" show 2>/dev/null; expect "show without arg" $? 1
}

t_progress_bar_only_on_a_tty() {
  command -v script >/dev/null || { echo "script(1) missing"; return 1; }
  local dir=$TMP/tty
  mkdir -p "$dir"
  "$PY" -c 'import sys; from PIL import Image
for i in range(4): Image.new("RGB", (40 + i, 30), (10 * i, 90, 200)).save("%s/%d.png" % (sys.argv[1], i))' "$dir"
  # script(1) gives imgdex a terminal; the delay makes sure the bar is drawn.
  IMGDEX_TEST_SLOW_MS=50 script -q -e -c "'$BIN' --db '$TMP/tty.db' index '$dir' --jobs 1 --no-ocr --no-clip" /dev/null >"$TMP/tty.out" || return 1
  grep -q "4/4 .*img/s .*ETA" "$TMP/tty.out" || { cat -A "$TMP/tty.out" | head; return 1; }
  # The summary still ends up on its own line.
  grep -q "4 images found" "$TMP/tty.out"
}

rc=0
if [ -d "$FLICKR" ]; then
  run_all t_kill9_then_resume t_hidden_and_non_images_skipped t_errors_name_file_and_reason \
    t_stdout_is_only_results t_reindex_does_no_image_work t_rename_copy_delete_touch \
    t_changed_file_is_redescribed_and_error_cleared t_show_and_stats || rc=1
else
  skip t_index_flickr "no Flickr8k images under $FLICKR"
fi
run_all t_max_pixels_and_usage t_progress_bar_only_on_a_tty || rc=1
exit $rc
