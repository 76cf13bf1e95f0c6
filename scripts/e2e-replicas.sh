#!/usr/bin/env bash
# End to end, replicated (issue 10): one simulated scenario replayed twice in its own event time,
#   1. through one `moat serve` on its embedded SQLite store;
#   2. through two `moat serve` replicas sharing one PostgreSQL store, behind nginx (round robin), where
#      the detection leader (advisory lock) runs the engine on the combined log;
# then each run's live report (the leader's, once it has ingested every logged exchange) is scored with
# `moat evaluate`, and the two are compared: the detection figures side by side, and account by account
# (verdicts, campaign partition, flagged_at).
#
#   scripts/e2e-replicas.sh [SCENARIO] [SEED] [CONCURRENCY]      (default: standard 1 32)
#
# A replay runs thousands of times faster than the log's event time, so delays that are nothing live (a
# replica ships its log to PostgreSQL every few hundred milliseconds; a verdict reaches the other replica
# within a second) become hours of event time. So by default both runs are detection-only (POLICY=allow:
# every exchange is served and logged, as in the log) and the engine's reorder window (REORDER seconds of
# event time, default 7200) absorbs the shipping lag: the comparison is then of detection on the combined log.
# POLICY=block enforces verdicts as in production; what each run serves then depends on replay speed.
#
# Uses $MOAT_BIN (default .build/release/moat, built if missing). Needs PostgreSQL's server and nginx
# (Debian's postgresql and nginx; apt-get installed if missing, as root). Writes out/e2e-replicas-SCENARIO-SEED/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scenario="${1:-standard}"; seed="${2:-1}"; concurrency="${3:-32}"
policy_mode="${POLICY:-allow}"; reorder="${REORDER:-7200}"
case "$policy_mode" in
  allow) policy="{campaign: allow, suspicious: allow}" ;;
  block) policy="{campaign: block, suspicious: withhold_reasoning, takedown: true}" ;;
  *) echo "POLICY is allow or block" >&2; exit 2 ;;
esac
moat="${MOAT_BIN:-.build/release/moat}"
[ -x "$moat" ] || swift build -c release --product moat >/dev/null
log() { printf '%s\n' "$*" >&2; }

need() {  # a Debian package's binary: its directory, installing the package if it is missing
  local found
  found=$(command -v "$1" 2>/dev/null || ls $2 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$found" ]; then
    [ "$(id -u)" -eq 0 ] || { log "need $3 (apt-get install $3)"; exit 1; }
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$3" >/dev/null
    found=$(command -v "$1" 2>/dev/null || ls $2 | sort -V | tail -1)
  fi
  dirname "$(readlink -f "$found")"
}
pgbin=$(need initdb "/usr/lib/postgresql/*/bin/initdb" postgresql)
nginxbin=$(need nginx "/usr/sbin/nginx" nginx)/nginx

dir="out/e2e-replicas-$scenario-$seed"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
[ -f "$dir/exchanges.jsonl" ] || "$moat" simulate --scenario "$scenario" --seed "$seed" --out "$dir" >/dev/null
total=$(wc -l < "$dir/exchanges.jsonl")
log "== $scenario seed $seed: $total exchanges; policy $policy_mode, reorder window $reorder s, concurrency $concurrency"

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
pgdir=""
as=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$pgdir" ]; then
    "${as[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$pgdir"
  fi
}
trap cleanup EXIT

config() {  # file store proxy_port admin_port mock_port [replica name]
  { [ -z "${6:-}" ] || printf 'local_store: "%s"\nreplica_name: %s\n' "$dir/$6.sqlite" "$6"
  cat <<YAML
listen: {host: 127.0.0.1, port: $3}
admin: {host: 127.0.0.1, port: $4, token: e2e-admin}
store: $2
upstreams:
  openai: {url: "http://127.0.0.1:$5"}
  anthropic: {url: "http://127.0.0.1:$5"}
trusted_proxies: [127.0.0.1/32]   # moat replay (and nginx) speak for the recorded clients
tls_fingerprint_header: x-ja4
asn_header: x-client-asn
asn_org_header: x-client-asn-org
country_header: x-client-country
replay: {event_time_header: x-moat-event-time, max_age_days: 3650}
detection_reorder_seconds: $reorder
limits:
  default_tier: open
  tiers:
    open: {account: {requests_per_minute: 100000000, input_tokens_per_minute: 1000000000000, output_tokens_per_minute: 1000000000000}}
    throttled: {account: {requests_per_minute: 5}}
policy: $policy
YAML
  } > "$1"
}

wait_health() { for _ in $(seq 300); do curl -sf "http://127.0.0.1:$1/health" >/dev/null && return 0; sleep 0.2; done; log "port $1 never answered"; exit 1; }

detection() {  # admin_port -> "role ingested"
  curl -s "http://127.0.0.1:$1/health" | python3 -c '
import json, sys
d = json.load(sys.stdin).get("detection", {})
print(d.get("role", "?"), d.get("ingested", -1))'
}

settle() {  # admin_port logged: waits until the engine has ingested every logged exchange
  local role ingested
  for _ in $(seq 1200); do
    read -r role ingested < <(detection "$1")
    [ "$ingested" -ge "$2" ] && { log "   detection ($role) ingested $ingested of $2 logged"; return 0; }
    sleep 0.5
  done
  log "detection ingested only $ingested of $2 logged exchanges"; exit 1
}

replay() {  # name gateway_url admin_port store (its accounts imported)
  local name=$1 started
  started=$(date +%s.%N)
  "$moat" replay "$dir/exchanges.jsonl" --gateway "$2" --admin "http://127.0.0.1:$3" --admin-token e2e-admin \
    --labels "$dir/labels.jsonl" --concurrency "$concurrency" --out "$dir/$name-replay-report.json" > "$dir/$name-replay.txt"
  log "   replayed in $(python3 -c "import time; print(round(time.time() - $started, 1))") s"
  "$moat" export --store "$4" > "$dir/$name-log.jsonl"
  local logged; logged=$(wc -l < "$dir/$name-log.jsonl")
  settle "$3" "$logged"
  curl -sf -H "authorization: Bearer e2e-admin" "http://127.0.0.1:$3/admin/report" > "$dir/$name-report.json"
  "$moat" evaluate --labels "$dir/labels.jsonl" --report "$dir/$name-report.json" --exchanges "$dir/exchanges.jsonl" --json \
    > "$dir/$name-evaluation.json"
}

mock_port=$(port)
"$moat" mock-upstream --port "$mock_port" --log-level error > "$dir/mock.log" 2>&1 & pids+=($!)
wait_health "$mock_port"

log "== 1. one gateway, SQLite"
rm -rf "$dir/single.sqlite"*
p1=$(port); a1=$(port)
config "$dir/single.yaml" "$dir/single.sqlite" "$p1" "$a1" "$mock_port"
# Accounts first: a gateway reads sign-up identities when it starts (later imports arrive by a periodic sync).
"$moat" accounts import "$dir/accounts.jsonl" --store "$dir/single.sqlite" >/dev/null
"$moat" serve --config "$dir/single.yaml" --log-level warning > "$dir/single-serve.log" 2>&1 & single=$!; pids+=($single)
wait_health "$p1"
replay single "http://127.0.0.1:$p1" "$a1" "$dir/single.sqlite"
kill "$single"; wait "$single" 2>/dev/null || true

log "== 2. two replicas on PostgreSQL behind nginx"
pgdir=$(mktemp -d /tmp/moat-e2e-pg.XXXXXX)
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$pgdir"; as=(runuser -u postgres --); fi
pgport=$(port)
"${as[@]}" "$pgbin/initdb" -D "$pgdir/data" -U moat --auth=trust -E UTF8 --no-sync >/dev/null
"${as[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w \
  -o "-p $pgport -k $pgdir -c listen_addresses=127.0.0.1 -c max_connections=100 -c fsync=off" start >/dev/null
"$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U moat moat
url="postgres://moat@127.0.0.1:$pgport/moat"
"$moat" accounts import "$dir/accounts.jsonl" --store "$url" >/dev/null
pa=$(port); aa=$(port); pb=$(port); ab=$(port); pn=$(port)
rm -rf "$dir"/replica-[ab].sqlite*
config "$dir/replica-a.yaml" "$url" "$pa" "$aa" "$mock_port" replica-a
config "$dir/replica-b.yaml" "$url" "$pb" "$ab" "$mock_port" replica-b
# A starts first and takes the detection lead; B follows the verdicts.
"$moat" serve --config "$dir/replica-a.yaml" --log-level warning > "$dir/replica-a.log" 2>&1 & pids+=($!)
wait_health "$pa"
"$moat" serve --config "$dir/replica-b.yaml" --log-level warning > "$dir/replica-b.log" 2>&1 & pids+=($!)
wait_health "$pb"
mkdir -p "$dir/nginx/logs"
cat > "$dir/nginx/nginx.conf" <<CONF
$( [ "$(id -u)" -eq 0 ] && echo "user root;" )
daemon off;
worker_processes 1;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/nginx/body;
    proxy_temp_path $dir/nginx/proxy;
    fastcgi_temp_path $dir/nginx/fastcgi;
    uwsgi_temp_path $dir/nginx/uwsgi;
    scgi_temp_path $dir/nginx/scgi;
    client_max_body_size 16m;
    upstream moat {
        server 127.0.0.1:$pa;
        server 127.0.0.1:$pb;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$pn;
        location / {
            proxy_pass http://moat;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_buffering off;
            proxy_next_upstream off;
        }
    }
}
CONF
"$nginxbin" -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/logs/error.log" & pids+=($!)
wait_health "$pn"
read -r role_a _ < <(detection "$aa"); read -r role_b _ < <(detection "$ab")
log "   replica A: $role_a, replica B: $role_b"
leader=$aa; [ "$role_b" = leader ] && leader=$ab
replay replicas "http://127.0.0.1:$pn" "$leader" "$url"
served_a=$(curl -sf "http://127.0.0.1:$aa/metrics" | awk '/^moat_requests_total/ {s += $NF} END {print s + 0}')
served_b=$(curl -sf "http://127.0.0.1:$ab/metrics" | awk '/^moat_requests_total/ {s += $NF} END {print s + 0}')
log "   requests per replica (moat_requests_total): A $served_a, B $served_b"

python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
ev = {n: json.load(open(f"{d}/{n}-evaluation.json")) for n in ("single", "replicas")}
rep = {n: json.load(open(f"{d}/{n}-report.json")) for n in ("single", "replicas")}
logged = {n: sum(1 for _ in open(f"{d}/{n}-log.jsonl")) for n in ("single", "replicas")}
def pct(x): return "-" if x is None else f"{100 * x:.2f}%"
print(f"{'':28} {'one gateway':>14} {'two replicas':>14}")
print(f"{'exchanges logged':28} {logged['single']:>14} {logged['replicas']:>14}")
o = {n: ev[n]["overall"] for n in ev}
for key, name in (("account_recall", "recall"), ("benign_false_positive_rate", "benign FPR"), ("leakage", "leakage")):
    print(f"{name:28} {pct(o['single'][key]):>14} {pct(o['replicas'][key]):>14}")
print(f"{'flagged benign accounts':28} {o['single']['flagged_benign_accounts']:>14} {o['replicas']['flagged_benign_accounts']:>14}")
camps = {n: {c["campaign"]: c for c in ev[n]["campaigns"]} for n in ev}
for name in sorted(camps["single"]):
    s, r = camps["single"][name], camps["replicas"].get(name, {})
    def f(c): return f"{pct(c.get('completeness'))}/{pct(c.get('purity'))} {c.get('time_to_detect_hours') or 0:.1f}h"
    print(f"{'  ' + name + ' compl/purity ttd':28} {f(s):>14} {f(r):>14}")
acc = {n: {a["account_id"]: a for a in rep[n]["accounts"]} for n in rep}
same_verdict = sum(1 for a in acc["single"] if a in acc["replicas"] and acc["single"][a]["verdict"] == acc["replicas"][a]["verdict"])
only = {n: sorted(set(acc[n]) - set(acc[m])) for n, m in (("single", "replicas"), ("replicas", "single"))}
def partition(r):
    return sorted(sorted(c["accounts"]) for c in r["campaigns"])
same_partition = partition(rep["single"]) == partition(rep["replicas"])
flagged_diff = sum(1 for a in acc["single"] if a in acc["replicas"] and acc["single"][a].get("flagged_at") != acc["replicas"][a].get("flagged_at"))
summary = {"bench": "e2e-replicas", "logged": logged, "overall": o, "accounts": {n: len(acc[n]) for n in acc},
           "same_verdict": same_verdict, "only_single": only["single"][:20], "only_replicas": only["replicas"][:20],
           "same_campaign_partition": same_partition, "flagged_at_differs": flagged_diff}
print(f"flagged accounts: one gateway {len(acc['single'])}, two replicas {len(acc['replicas'])}; same verdict {same_verdict}; "
      f"only one gateway {len(only['single'])}, only replicas {len(only['replicas'])}; same campaign partition: {same_partition}; "
      f"flagged_at differs for {flagged_diff}")
print(json.dumps(summary, separators=(",", ":")))
PY
