#!/usr/bin/env bash
# test_clip_fetch.sh — `imgdex models fetch`: offline errors leave nothing
# behind; downloads resume with Range and are verified by size and sha256,
# against a small Hugging Face look-alike served on 127.0.0.1 by
# tests/clip_http_server.py.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
REPO=$TMP/hub/openai/clip-vit-base-patch32
mkdir -p "$REPO"
echo '{"projection_dim": 512}' > "$REPO/config.json"
echo '{"a": 0}' > "$REPO/vocab.json"
printf '#version: 0.2\na b\n' > "$REPO/merges.txt"
head -c 3000000 /dev/urandom > "$REPO/model.safetensors"
WANT=$(sha256sum "$REPO/model.safetensors" | cut -d' ' -f1)
SERVER_PID=

start_server() {   # options for clip_http_server.py
  rm -f "$TMP/port" "$TMP/requests.log"
  "$PY" "$SRC/tests/clip_http_server.py" "$TMP/hub" "$TMP/port" "$TMP/requests.log" --lifetime 60 "$@" &
  SERVER_PID=$!
  trap stop_server EXIT   # each test runs in a subshell: its server ends with it
  for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.1; done
  [ -s "$TMP/port" ] || { echo "server did not start"; return 1; }
  export IMGDEX_HF_ENDPOINT=http://127.0.0.1:$(cat "$TMP/port")
}
stop_server() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=; }
trap 'stop_server; rm -rf "$TMP"' EXIT

t_offline_leaves_nothing() {
  local m=$TMP/m-off; mkdir -p "$m"
  # A closed local port stands for "no route"; the same error path as DNS failure.
  IMGDEX_MODELS=$m IMGDEX_HF_ENDPOINT=http://127.0.0.1:9 "$BIN" models fetch clip-vit-base-patch32 2>"$TMP/err"
  [ $? -eq 2 ] || return 1
  grep -q "offline" "$TMP/err" && grep -q "config.json" "$TMP/err" || { cat "$TMP/err"; return 1; }
  [ -z "$(ls -A "$m")" ] || { ls -R "$m"; return 1; }
}

t_real_host_offline() {
  # This machine has no route to huggingface.co; when one does, skip rather
  # than download 600 MB in a test.
  if getent hosts huggingface.co >/dev/null 2>&1; then echo "SKIP: huggingface.co resolves here"; return 0; fi
  local m=$TMP/m-real; mkdir -p "$m"
  ( unset IMGDEX_HF_ENDPOINT; IMGDEX_MODELS=$m "$BIN" models fetch clip-vit-base-patch32 2>"$TMP/err" ); [ $? -eq 2 ] || return 1
  grep -q "huggingface.co" "$TMP/err" || return 1
  [ -z "$(ls -A "$m")" ]
}

t_unknown_model_is_usage_error() {
  "$BIN" models fetch no-such-model 2>/dev/null; [ $? -eq 1 ]
}

t_download_verify_and_skip() {
  start_server || return 1
  local m=$TMP/m-ok; mkdir -p "$m"
  IMGDEX_MODELS=$m "$BIN" models fetch clip-vit-base-patch32 >"$TMP/out" 2>"$TMP/err" || { cat "$TMP/err"; return 1; }
  local d=$m/clip-vit-base-patch32
  [ "$(sha256sum "$d/model.safetensors" | cut -d' ' -f1)" = "$WANT" ] || return 1
  cmp "$d/merges.txt" "$REPO/merges.txt" && cmp "$d/config.json" "$REPO/config.json" || return 1
  ! ls "$d" | grep -q '\.part$' || return 1
  grep -q "sha256 published" "$TMP/err" || return 1
  # A second run finds everything verified and downloads nothing.
  : > "$TMP/requests.log"
  IMGDEX_MODELS=$m "$BIN" models fetch clip-vit-base-patch32 2>"$TMP/err2" || return 1
  grep -q "present and verified" "$TMP/err2" || return 1
  ! grep -q "^GET" "$TMP/requests.log"
  stop_server
}

t_interrupted_download_resumes_with_range() {
  start_server --cut 1000000 || return 1
  local m=$TMP/m-cut; mkdir -p "$m"
  local d=$m/clip-vit-base-patch32
  IMGDEX_MODELS=$m "$BIN" models fetch clip-vit-base-patch32 2>"$TMP/err"; [ $? -eq 2 ] || { echo "first run should fail"; return 1; }
  [ ! -e "$d/model.safetensors" ] || { echo "a half file was installed"; return 1; }
  local part; part=$(stat -c %s "$d/model.safetensors.part") || return 1
  [ "$part" -gt 0 ] && [ "$part" -le 1000000 ] || { echo "part is $part bytes"; return 1; }
  IMGDEX_MODELS=$m "$BIN" models fetch clip-vit-base-patch32 2>"$TMP/err" || { cat "$TMP/err"; return 1; }
  grep -q "GET /cdn/.*range=bytes=$part-" "$TMP/requests.log" || { cat "$TMP/requests.log"; return 1; }
  [ "$(sha256sum "$d/model.safetensors" | cut -d' ' -f1)" = "$WANT" ] && [ ! -e "$d/model.safetensors.part" ]
  stop_server
}

t_server_without_range_restarts() {
  start_server --no-range || return 1
  local m=$TMP/m-nr d; mkdir -p "$m/clip-vit-base-patch32"; d=$m/clip-vit-base-patch32
  head -c 500000 "$REPO/model.safetensors" > "$d/model.safetensors.part"
  IMGDEX_MODELS=$m "$BIN" models fetch clip-vit-base-patch32 2>"$TMP/err" || { cat "$TMP/err"; return 1; }
  [ "$(sha256sum "$d/model.safetensors" | cut -d' ' -f1)" = "$WANT" ]
  stop_server
}

t_wrong_digest_is_refused() {
  start_server --bad-sha || return 1
  local m=$TMP/m-bad d; mkdir -p "$m"; d=$m/clip-vit-base-patch32
  IMGDEX_MODELS=$m "$BIN" models fetch clip-vit-base-patch32 2>"$TMP/err"; [ $? -eq 2 ] || return 1
  grep -q "sha256" "$TMP/err" || { cat "$TMP/err"; return 1; }
  [ ! -e "$d/model.safetensors" ] && [ ! -e "$d/model.safetensors.part" ]
  stop_server
}

t_corrupt_part_is_replaced() {
  # A .part that is not a prefix of the file fails verification once, is
  # deleted, and the next run downloads cleanly.
  start_server || return 1
  local m=$TMP/m-cor d; mkdir -p "$m/clip-vit-base-patch32"; d=$m/clip-vit-base-patch32
  head -c 100000 /dev/urandom > "$d/model.safetensors.part"
  IMGDEX_MODELS=$m "$BIN" models fetch clip-vit-base-patch32 2>"$TMP/err"; [ $? -eq 2 ] || return 1
  grep -q "sha256" "$TMP/err" && [ ! -e "$d/model.safetensors.part" ] || return 1
  IMGDEX_MODELS=$m "$BIN" models fetch clip-vit-base-patch32 2>"$TMP/err" || return 1
  [ "$(sha256sum "$d/model.safetensors" | cut -d' ' -f1)" = "$WANT" ]
  stop_server
}

if [ ! -x "$PY" ]; then skip test_clip_fetch "/usr/bin/python3 is needed for the local test server"; exit 0; fi
run_all t_offline_leaves_nothing t_real_host_offline t_unknown_model_is_usage_error t_download_verify_and_skip \
  t_interrupted_download_resumes_with_range t_server_without_range_restarts t_wrong_digest_is_refused \
  t_corrupt_part_is_replaced
