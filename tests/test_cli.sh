#!/usr/bin/env bash
# test_cli.sh — the command-line contract: exit codes, help, version.
. "$(dirname "$0")/lib.sh"

t_version() { out=$("$BIN" --version) && [[ "$out" == imgdex\ * ]]; }
t_unknown_command_is_usage_error() { "$BIN" frobnicate 2>/dev/null; [ $? -eq 1 ]; }
t_no_command_is_usage_error() { "$BIN" 2>/dev/null; [ $? -eq 1 ]; }
t_help_lists_commands() { out=$("$BIN" --help) && for c in index search show stats models serve eval; do grep -q "^  $c" <<<"$out" || return 1; done; }
t_db_needs_value() { "$BIN" --db 2>/dev/null; [ $? -eq 1 ]; }

run_all t_version t_unknown_command_is_usage_error t_no_command_is_usage_error t_help_lists_commands t_db_needs_value
