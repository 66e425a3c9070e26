#!/usr/bin/env bash
# Send-API load: 500 connections POSTing /send-message (the reference body) for N seconds
# against the release binary on its SQLite default (dry-run delivery, limits lifted), with
# the link API's /healthz at the same concurrency as the baseline of the same run.
# Reports requests/s, p50/p99 latency and non-2xx answers. Needs wrk (apt-get install wrk).
# Usage: scripts/send-load.sh [seconds, default 30] [connections, default 500]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-30}"
CONN="${2:-500}"
cargo build --release -p wa-server-example
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DIR=$(mktemp -d)
ulimit -n 65536 2>/dev/null || true
RUST_LOG=warn target/release/wa-server-example --bind "127.0.0.1:$PORT" --database "sqlite://$DIR/load.db" \
    --rate-limit-json 1000000000 --plan-limit-multiplier 1000000 >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DIR"' EXIT
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do curl -fsS "$BASE/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
KEY=$(curl -fsS -X POST "$BASE/auth/register" -H 'content-type: application/json' \
    -d '{"name":"load","email":"load@example.com"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["apiKey"])')
cat >"$DIR/send.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
wrk.body = '{"to":"14155552671","message":"Hi Sarah! Your order #1234 has shipped.","metadata":{"orderId":"1234"}}'
done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("RESULT %.0f %.1f %.1f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, non2xx, summary.errors.timeout))
end
LUA
cat >"$DIR/get.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.1f %.1f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status, summary.errors.timeout))
end
LUA
run() { wrk -t2 -c"$CONN" -d"${DUR}s" --timeout 10s -s "$2" "$1" | awk '/^RESULT/ {print $2, $3, $4, $5, $6}'; }
read -r brps bp50 bp99 bbad bto < <(run "$BASE/healthz" "$DIR/get.lua")
read -r srps sp50 sp99 sbad sto < <(run "$BASE/send-message" "$DIR/send.lua")
echo "healthz      ($CONN conns): $brps req/s, p50 $bp50 ms, p99 $bp99 ms, non-2xx $bbad, timeouts $bto"
echo "send-message ($CONN conns): $srps req/s, p50 $sp50 ms, p99 $sp99 ms, non-2xx $sbad, timeouts $sto"
python3 -c "print(f'send-message / healthz throughput = {float($srps)/float($brps):.2f}')"
