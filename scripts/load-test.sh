#!/usr/bin/env bash
# Load test: /api/v1/phone-link against the trivial /healthz handler of the same server,
# same run, same middleware stack (CORS, request id, tracing), limits raised.
# Needs wrk (Debian: apt-get install wrk). Usage: scripts/load-test.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-10}"
cargo build --release -p wa-server-example
PORT=18099
RUST_LOG=warn target/release/wa-server-example --bind "127.0.0.1:$PORT" \
    --rate-limit-json 1000000000 --rate-limit-qr 1000000000 >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
run() { wrk -t2 -c64 -d"${DUR}s" "$1" | awk '/Requests\/sec/ {print $2}'; }
base=$(run "http://127.0.0.1:$PORT/healthz")
link=$(run "http://127.0.0.1:$PORT/api/v1/phone-link?phone=%2B1%20415%20555%202671&text=Hello%20there")
echo "healthz (baseline): $base req/s"
echo "phone-link:         $link req/s"
python3 -c "print(f'phone-link / baseline = {float($link)/float($base):.2f}')"
