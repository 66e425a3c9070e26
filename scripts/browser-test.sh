#!/usr/bin/env bash
# Browser test of the embedded pages: the real server binary, Debian's chromium driven
# by playwright-core, the downloaded QR decoded with zbarimg. Screenshots and the QR land
# in target/browser/. Usage: scripts/browser-test.sh [path to wa-server-example]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/debug/wa-server-example}"
out="$PWD/target/browser"
mkdir -p "$out"

if [ ! -x /usr/bin/chromium ] || ! command -v zbarimg >/dev/null 2>&1; then
    apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium zbar-tools >/dev/null || true
fi
if [ ! -x /usr/bin/chromium ]; then
    echo "!! SKIPPED: the browser test needs /usr/bin/chromium, which could not be installed" >&2
    exit 0
fi
(cd scripts/browser && npm install --no-audit --no-fund --silent)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
db=$(mktemp -d)
"$bin" --bind "127.0.0.1:$port" --database "sqlite://$db/browser.db" --rate-limit-json 15 \
    >"$out/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$db"' EXIT
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
    sleep 0.1
done

node scripts/browser/test.mjs "http://127.0.0.1:$port" "$out"
decoded=$(zbarimg --quiet --raw "$out/qr.png")
expected=$(cat "$out/link.txt")
if [ "$decoded" != "$expected" ]; then
    echo "browser test: the QR decodes to '$decoded', expected '$expected'" >&2
    exit 1
fi
echo "browser test: the downloaded QR decodes to the link; screenshots: $out/generator.png, $out/generator-429.png, $out/docs.png"
