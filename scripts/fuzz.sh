#!/usr/bin/env bash
# Bounded libFuzzer runs of every parser (cargo-fuzz, nightly), seeded from the crates'
# test fixtures. Usage: scripts/fuzz.sh [seconds per target, default 20] [target…]
# A crash fails the script and leaves its input under fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-20}"
shift || true

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    rustup toolchain install nightly --profile minimal || true
fi
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    # libFuzzer needs nightly; without it (and without a way to download it) say so loudly.
    echo "!! SKIPPED: the fuzz targets need a nightly toolchain, which is not installed and could not be installed" >&2
    exit 0
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# Seeds: every "input" string of the fixtures, one file each.
python3 - <<'PY'
import json, os, hashlib
def seed(target, text):
    d = f"fuzz/corpus/{target}"
    os.makedirs(d, exist_ok=True)
    data = text.encode() if isinstance(text, str) else text
    with open(f"{d}/seed-{hashlib.sha1(data).hexdigest()[:16]}", "wb") as f:
        f.write(data)
def inputs(path):
    for item in json.load(open(path)):
        if isinstance(item, dict) and isinstance(item.get("input"), str):
            yield item["input"]
for t in inputs("wa-validate/tests/data/phones.json"):
    seed("phone", t)
for f in ["usernames", "keys", "jids", "bsuids", "recipients"]:
    for t in inputs(f"wa-validate/tests/data/{f}.json"):
        seed("identifiers", t)
for t in inputs("wa-links/tests/data/parse.json"):
    seed("link_parse", t)
for t in ["hi", "%25 ?text=a&b=c #x", "Olá 👋", "50% off?text=x"]:
    seed("link_round_trip", t)
for t in ["#25d366", "fff", "#0008", "075e5482", "transparent", "#GGGGGG"]:
    seed("color", t)
for t in ["https://wa.me/14155552671?text=hi", "x" * 200]:
    seed("qr_encode", t)
for t in [">>ABC123<<", "Código: >>a1b2c3<<\nTap send", ">><<"]:
    seed("verify_codes", t)
for root, _, files in os.walk("wa-send/tests"):
    for name in files:
        if name.endswith(".json") and ("webhook" in root or "webhook" in name or "meta" in name):
            seed("meta_webhook", open(os.path.join(root, name), "rb").read())
seed("meta_webhook", b'{"object":"whatsapp_business_account","entry":[]}')
seed("ip_classifier", bytes(range(16)))
PY

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list --fuzz-dir fuzz)
fi
cargo +nightly fuzz build --fuzz-dir fuzz "${targets[@]:0:1}" >/dev/null 2>&1 || true
for t in "${targets[@]}"; do
    echo "== fuzz $t (${secs}s)"
    cargo +nightly fuzz run --fuzz-dir fuzz "$t" "fuzz/corpus/$t" -- \
        -max_total_time="$secs" -max_len=4096 -print_final_stats=1 2>&1 |
        grep -E "stat::number_of_executed_units|Done|SUMMARY|panicked|ERROR" || true
    if [ -n "$(ls -A "fuzz/artifacts/$t" 2>/dev/null)" ]; then
        echo "fuzz $t found a failing input: fuzz/artifacts/$t" >&2
        exit 1
    fi
done
echo "== fuzz ok"
