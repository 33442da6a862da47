#!/usr/bin/env bash
# Fuzz the live API: start `fcr-planner serve` on loopback against a fresh SQLite database with an admin key,
# run schemathesis (every check, bounded examples, schemathesis.toml) against its OpenAPI schema, stop it.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/.venv/bin
WORK=$(mktemp -d /tmp/fcr-fuzz.XXXXXX)
PORT=$("$BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DATABASE_URL="sqlite:///$WORK/fuzz.db" FCR_LOG_LEVEL=warning
"$BIN/fcr-planner" migrate >/dev/null
KEY=$("$BIN/fcr-planner" create-key --role admin --name fuzzer | grep -o 'fcr_[A-Za-z0-9_-]*' | head -n 1)
"$BIN/fcr-planner" serve --port "$PORT" >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
cd "$WORK"
status=0
"$BIN/schemathesis" --config-file "$ROOT/schemathesis.toml" run "http://127.0.0.1:$PORT/openapi.json" \
  --checks all --exclude-checks use_after_free --wait-for-schema 30 -H "Authorization: Bearer $KEY" --no-color || status=$?
if grep -q "Traceback" "$WORK/server.log"; then
  echo "server log has tracebacks:"; grep -B2 -A20 "Traceback" "$WORK/server.log" | head -80
  status=1
fi
exit $status
