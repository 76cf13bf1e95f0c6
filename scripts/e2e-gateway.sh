#!/usr/bin/env bash
# End to end: a simulated scenario replayed through `moat serve` (in front of the mock upstream) in its
# own event time; then the gateway's live verdicts are scored like `moat detect`'s, and `moat detect` is run
# on the gateway's own log (what it served) and on the whole simulated log, for comparison.
#   scripts/e2e-gateway.sh [SCENARIO] [SEED] [CONCURRENCY]      (default: smoke 1 32)
# Uses $MOAT_BIN (default: .build/release/moat, built if missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scenario="${1:-smoke}"; seed="${2:-1}"; concurrency="${3:-32}"
moat="${MOAT_BIN:-.build/release/moat}"
[ -x "$moat" ] || swift build -c release >/dev/null
dir="out/e2e-$scenario-$seed"
mkdir -p "$dir"
[ -f "$dir/exchanges.jsonl" ] || "$moat" simulate --scenario "$scenario" --seed "$seed" --out "$dir" >/dev/null
rm -rf "$dir/moat.sqlite"*
"$moat" accounts import "$dir/accounts.jsonl" --store "$dir/moat.sqlite" >/dev/null

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mock_port=$(port); proxy_port=$(port); admin_port=$(port)
cat > "$dir/moat.yaml" <<YAML
listen: {host: 127.0.0.1, port: $proxy_port}
admin: {host: 127.0.0.1, port: $admin_port, token: e2e-admin}
store: $dir/moat.sqlite
upstreams:
  openai: {url: "http://127.0.0.1:$mock_port"}
  anthropic: {url: "http://127.0.0.1:$mock_port"}
trusted_proxies: [127.0.0.1/32]   # moat replay speaks for the recorded clients
tls_fingerprint_header: x-ja4
asn_header: x-client-asn
asn_org_header: x-client-asn-org
country_header: x-client-country
replay: {event_time_header: x-moat-event-time, max_age_days: 3650}
detection_reorder_seconds: 120
limits:
  default_tier: open
  tiers:
    open: {account: {requests_per_minute: 100000000, input_tokens_per_minute: 1000000000000, output_tokens_per_minute: 1000000000000}}
    throttled: {account: {requests_per_minute: 5}}
policy: {campaign: block, suspicious: withhold_reasoning, takedown: true}
YAML
"$moat" mock-upstream --port "$mock_port" --log-level error > "$dir/mock.log" 2>&1 & mock_pid=$!
"$moat" serve --config "$dir/moat.yaml" --log-level warning > "$dir/serve.log" 2>&1 & serve_pid=$!
trap 'kill $serve_pid $mock_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$proxy_port/health" >/dev/null && curl -sf "http://127.0.0.1:$mock_port/health" >/dev/null && break; sleep 0.2; done

echo "== replaying $dir/exchanges.jsonl through moat serve"
"$moat" replay "$dir/exchanges.jsonl" --gateway "http://127.0.0.1:$proxy_port" --admin "http://127.0.0.1:$admin_port" \
  --admin-token e2e-admin --labels "$dir/labels.jsonl" --concurrency "$concurrency" --out "$dir/gateway-report.json"
curl -sf "http://127.0.0.1:$admin_port/metrics" > "$dir/metrics.txt" || true
echo "== the gateway's outcomes (Prometheus moat_requests_total)"
grep '^moat_requests_total' "$dir/metrics.txt" || true
echo "== the gateway's live verdicts, scored"
"$moat" evaluate --labels "$dir/labels.jsonl" --report "$dir/gateway-report.json" --exchanges "$dir/exchanges.jsonl" | sed -n '5,22p'
echo "== moat detect on the exchanges the gateway served and logged (moat export), scored"
"$moat" export --store "$dir/moat.sqlite" > "$dir/gateway-log.jsonl"
echo "   exchanges in the gateway's log: $(wc -l < "$dir/gateway-log.jsonl")"
"$moat" detect "$dir/gateway-log.jsonl" --accounts "$dir/accounts.jsonl" --out "$dir/detect-served-report.json" --quiet
"$moat" evaluate --labels "$dir/labels.jsonl" --report "$dir/detect-served-report.json" --exchanges "$dir/exchanges.jsonl" | sed -n '5,22p'
echo "== moat detect on the whole simulated log (what an unprotected API would have served), scored"
"$moat" detect "$dir/exchanges.jsonl" --accounts "$dir/accounts.jsonl" --out "$dir/detect-report.json" --quiet
"$moat" evaluate --labels "$dir/labels.jsonl" --report "$dir/detect-report.json" --exchanges "$dir/exchanges.jsonl" | sed -n '5,22p'
