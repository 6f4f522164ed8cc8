#!/usr/bin/env bash
# What keeping the keys in a KMS costs at start: our controller (release
# build) started on K key Secrets, plain (tls.key) and then wrapped by the
# KMS v2 test plugin (scripts/kms-plugin over SoftHSM2), time from start to
# /readyz 200 and peak memory (VmHWM), on the local control plane.
#
# Usage:
#   bench/kms-startup.sh [--keys K] [--rounds R] [--no-build] [--out DIR]
#
#   --keys K     key Secrets (default 100), RSA-4096 made with openssl
#   --rounds R   rounds of: start plain, `kubeseal admin keys wrap`, start
#                with --kms-endpoint, `kubeseal admin keys unwrap` (default 3)
#   --no-build   use target/release/{sealed-secrets-controller,kubeseal} as they are
#   --out DIR    where results.md and the logs go (default: a new temporary
#                directory, printed at the end)
#
# The controller watches only its own namespace, where the keys are and no
# SealedSecret is: the start is the key registry's. With the KMS every key
# is opened once (one Decrypt each); no SealedSecret ever needs the KMS.
# Needs: the control plane (scripts/control-plane), `scripts/install-tools
# kms` (the plugin, softhsm2, opensc), openssl, curl. Results go into
# docs/benchmarks.md by hand.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
keys=100
rounds=3
build=1
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
  --keys) keys=$2; shift ;;
  --rounds) rounds=$2; shift ;;
  --no-build) build=0 ;;
  --out) out=$2; shift ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "kms-startup: unknown argument '$1' (try --help)" >&2
    exit 2
    ;;
  esac
  shift
done
log() { printf 'kms-startup: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}
[[ $keys =~ ^[1-9][0-9]*$ ]] || die "--keys wants a positive integer"
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds wants a positive integer"
command -v openssl >/dev/null || die "openssl is needed"
command -v curl >/dev/null || die "curl is needed"

cd "$ROOT"
target=${CARGO_TARGET_DIR:-$ROOT/target}
if [[ $build == 1 ]]; then
  cargo build --release --quiet -p sealed-secrets-controller -p kubeseal
fi
controller=$target/release/sealed-secrets-controller
kubeseal=$target/release/kubeseal
[[ -x $controller && -x $kubeseal ]] || die "no release build in $target/release (drop --no-build)"
scripts/install-tools --check kms || die "run scripts/install-tools kms first"

scripts/control-plane up >/dev/null
cp_dir=${CONTROL_PLANE_DIR:-$ROOT/target/control-plane}
export KUBECONFIG=$cp_dir/kubeconfig
PATH="$(scripts/install-tools --print-bin-dir):$PATH"
out=${out:-$(mktemp -d /tmp/kms-startup.XXXXXX)}
mkdir -p "$out"
work=$(mktemp -d /tmp/kmsb.XXXXXX) # short: a unix socket path holds ~100 bytes
ns=kms-bench-$$
plugin_pid=""
cleanup() {
  [[ -n $plugin_pid ]] && kill "$plugin_pid" 2>/dev/null
  kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

kubectl create namespace "$ns" >/dev/null
log "making $keys RSA-4096 key Secrets in $ns"
make_key() {
  local i=$1
  openssl req -x509 -newkey rsa:4096 -nodes -days 3650 -subj "/CN=bench-$i" \
    -keyout "$work/k$i.pem" -out "$work/c$i.pem" 2>/dev/null
  kubectl -n "$ns" create secret tls "sealed-secrets-key-bench$i" \
    --cert "$work/c$i.pem" --key "$work/k$i.pem" >/dev/null
  kubectl -n "$ns" label secret "sealed-secrets-key-bench$i" \
    sealedsecrets.bitnami.com/sealed-secrets-key=active >/dev/null
  rm -f "$work/k$i.pem"
}
for ((i = 1; i <= keys; i++)); do
  make_key "$i" &
  if ((i % 2 == 0)); then wait; fi
done
wait

scripts/kms-softhsm init "$work/token" >/dev/null
scripts/kms-softhsm run "$work/token" "$work/kms.sock" >"$out/plugin.log" 2>&1 &
plugin_pid=$!
for _ in $(seq 100); do [[ -S $work/kms.sock ]] && break; sleep 0.1; done
[[ -S $work/kms.sock ]] || die "the plugin did not start: $(cat "$out/plugin.log")"
endpoint=unix://$work/kms.sock

# start_once LABEL [FLAG...]: prints "seconds-to-ready peak-KiB".
start_once() {
  local label=$1 port=28480 started now pid hwm
  shift
  started=$(date +%s.%N)
  POD_NAMESPACE=$ns "$controller" --listen-addr=127.0.0.1:$port \
    --listen-metrics-addr=127.0.0.1:$((port + 1)) --all-namespaces=false \
    --additional-namespaces="$ns" "$@" >"$out/$label.log" 2>&1 &
  pid=$!
  for _ in $(seq 1200); do
    if [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz") == 200 ]]; then
      now=$(date +%s.%N)
      hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
      kill "$pid"
      wait "$pid" 2>/dev/null || true
      printf "%.3f %s\n" "$(echo "$now - $started" | bc)" "$hwm"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || die "$label: the controller exited: $(tail -5 "$out/$label.log")"
    sleep 0.05
  done
  kill "$pid"
  die "$label: not ready within 60 s"
}

admin() { "$kubeseal" admin keys "$1" --kms-endpoint "$endpoint" --controller-namespace "$ns" >/dev/null; }

declare -a plain_t plain_m kms_t kms_m
for ((r = 1; r <= rounds; r++)); do
  read -r t m < <(start_once "plain-$r")
  plain_t+=("$t") plain_m+=("$m")
  log "round $r plain: ${t} s, ${m} KiB"
  admin wrap
  read -r t m < <(start_once "kms-$r" --kms-endpoint="$endpoint")
  kms_t+=("$t") kms_m+=("$m")
  log "round $r kms:   ${t} s, ${m} KiB"
  admin unwrap
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
{
  echo "Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'))."
  echo "$keys RSA-4096 key Secrets, $rounds rounds (plain, wrap, with the KMS, unwrap)."
  echo
  echo "| keys | runs: start to /readyz (s) | median | peak RSS (median) |"
  echo "| --- | --- | ---: | ---: |"
  echo "| plain | ${plain_t[*]} | $(median "${plain_t[@]}") s | $(echo "$(median "${plain_m[@]}") / 1024" | bc -l | xargs printf '%.1f') MiB |"
  echo "| wrapped (KMS) | ${kms_t[*]} | $(median "${kms_t[@]}") s | $(echo "$(median "${kms_m[@]}") / 1024" | bc -l | xargs printf '%.1f') MiB |"
} | tee "$out/results.md"
log "results: $out/results.md"
