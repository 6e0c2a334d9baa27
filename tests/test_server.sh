#!/usr/bin/env bash
# test_server.sh — `imgdex serve` as a command: starts on a free port and
# says where, answers, stops cleanly on SIGTERM; usage and runtime errors
# have their exit codes.
. "$(dirname "$0")/lib.sh"

start() {   # start [ARGS...]: server in the background; sets PID and URL
  "$BIN" --db "$TMP/s.db" serve --port 0 --cache "$TMP/thumbs" "$@" 2>"$TMP/serve.err" &
  PID=$!
  for _ in $(seq 100); do
    URL=$(grep -o 'http://[^ ]*' "$TMP/serve.err" | head -1)
    [ -n "$URL" ] && return 0
    sleep 0.1
  done
  cat "$TMP/serve.err"; return 1
}

t_serves_and_stops_on_sigterm() {
  start || return 1
  [[ "$URL" == http://127.0.0.1:* ]] || return 1
  out=$(curl -s --noproxy '*' "${URL}api/health") || return 1
  grep -q '"status":"ok"' <<<"$out" || return 1
  code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "${URL}") || return 1
  [ "$code" = 200 ] || return 1
  kill -TERM "$PID"
  for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  ! kill -0 "$PID" 2>/dev/null || { kill -9 "$PID"; return 1; }
  wait "$PID"
}

t_help() { "$BIN" serve --help | grep -q -- '--port'; }
t_bad_port_is_usage_error() { "$BIN" --db "$TMP/s.db" serve --port abc 2>/dev/null; [ $? -eq 1 ]; }
t_unknown_option_is_usage_error() { "$BIN" --db "$TMP/s.db" serve --frob 2>/dev/null; [ $? -eq 1 ]; }

t_port_in_use_is_runtime_error() {
  start || return 1
  port=${URL##*:}; port=${port%/}
  timeout 10 "$BIN" --db "$TMP/s.db" serve --port "$port" 2>"$TMP/second.err"
  rc=$?
  kill -TERM "$PID"; wait "$PID"
  [ $rc -eq 2 ] && grep -q "$port" "$TMP/second.err"
}

t_bad_host_is_runtime_error() { "$BIN" --db "$TMP/s.db" serve --host no.such.host.invalid --port 0 2>/dev/null; [ $? -eq 2 ]; }

run_all t_serves_and_stops_on_sigterm t_help t_bad_port_is_usage_error t_unknown_option_is_usage_error \
  t_port_in_use_is_runtime_error t_bad_host_is_runtime_error
