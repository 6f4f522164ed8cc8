#!/usr/bin/env bash
# High availability on the local cluster's node: how long unsealing stops
# when the leader goes, and what the standby replica costs.
#
# Usage:
#   bench/ha-failover.sh [--runs N] [--idle SECONDS]
#
#   --runs N        failovers of each kind (default 10)
#   --idle SECONDS  idle window for the cost of each replica (default 60)
#
# Needs the local cluster with the controller image loaded (as scripts/test-all
# leaves it: scripts/control-plane up; scripts/build-image controller;
# scripts/control-plane load-image ...). Installs manifests/ (two replicas, one
# leader) in kube-system, removes it at the end, and prints a Markdown report.
#
# Each failover: seal a Secret, remove the leader, apply the SealedSecret at
# once, and time until its Secret exists (polled every 50 ms):
#   - delete: `kubectl delete pod --grace-period=0 --force` (the kubelet still
#     sends SIGTERM, so the leader releases its Lease);
#   - crash:  SIGKILL to the leader's process from the host (no release: the
#     standby waits out the lease duration, 15 s).
# Cost: CPU seconds (utime+stime from /proc) and RSS of each replica's
# process over the idle window, leader against standby.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=10
idle=60
while [[ $# -gt 0 ]]; do
  case "$1" in
  --runs) runs=$2; shift 2 ;;
  --idle) idle=$2; shift 2 ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "ha-failover: unknown argument $1 (see --help)" >&2; exit 1 ;;
  esac
done

cd "$ROOT"
eval "$(scripts/control-plane env)"
K() { kubectl "$@"; }
KS() { kubectl -n kube-system "$@"; }
kubeseal_bin=$(cargo metadata --format-version 1 --no-deps --offline |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release/kubeseal
[[ -x $kubeseal_bin ]] || cargo build --quiet --release -p kubeseal
scripts/control-plane images | grep -q sealed-secrets-rs/controller ||
  { echo "ha-failover: no controller image in the node: scripts/build-image controller && scripts/control-plane load-image ..." >&2; exit 1; }

cleanup() {
  KS delete deployment sealed-secrets-controller --ignore-not-found --wait=true >/dev/null 2>&1 || true
  K delete namespace bench-ha --ignore-not-found --wait=false >/dev/null 2>&1 || true
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
ready_replicas() { KS get deployment sealed-secrets-controller -o 'jsonpath={.status.readyReplicas}' 2>/dev/null; }
wait_two_ready() {
  local i
  for ((i = 0; i < 600; i++)); do
    [[ "$(ready_replicas)" == 2 && $(KS get pods -l name=sealed-secrets-controller --no-headers 2>/dev/null | wc -l) == 2 ]] && return 0
    sleep 0.2
  done
  echo "ha-failover: replicas not Ready" >&2
  return 1
}
leader_pod() {
  local holder
  holder=$(KS get lease sealed-secrets-controller -o 'jsonpath={.spec.holderIdentity}' 2>/dev/null)
  [[ -n $holder ]] && echo "${holder%_*}"
}
wait_leader() {
  local i l
  for ((i = 0; i < 300; i++)); do
    l=$(leader_pod) && KS get pod "$l" >/dev/null 2>&1 && { echo "$l"; return 0; }
    sleep 0.2
  done
  return 1
}
pid_of_pod() { # the container's process, found on the host by the Pod's cgroup
  local uid p
  uid=$(KS get pod "$1" -o 'jsonpath={.metadata.uid}')
  for p in /proc/[0-9]*; do
    grep -q "pod$uid" "$p/cgroup" 2>/dev/null || continue
    [[ $(cat "$p/comm" 2>/dev/null) == pause ]] && continue
    echo "${p#/proc/}"
    return 0
  done
  return 1
}

KS delete deployment sealed-secrets-controller --ignore-not-found --wait=true >/dev/null
K apply --server-side --force-conflicts -k manifests/ >/dev/null
# (an earlier run's namespace may still be going away)
K wait --for=delete namespace/bench-ha --timeout=180s >/dev/null 2>&1 || true
K create namespace bench-ha >/dev/null
wait_two_ready
wait_leader >/dev/null

declare -A times
for kind in delete crash; do
  times[$kind]=""
  for ((i = 1; i <= runs; i++)); do
    wait_two_ready
    leader=$(wait_leader)
    name="$kind-$i"
    sealed=$(printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: bench-ha}\nstringData: {k: v}\n' "$name" |
      "$kubeseal_bin" -o yaml)
    if [[ $kind == delete ]]; then
      start=$(now_ms)
      KS delete pod "$leader" --grace-period=0 --force >/dev/null 2>&1
    else
      pid=$(pid_of_pod "$leader")
      start=$(now_ms)
      kill -KILL "$pid"
    fi
    echo "$sealed" | K apply -f - >/dev/null
    until K -n bench-ha get secret "$name" >/dev/null 2>&1; do sleep 0.05; done
    elapsed=$(($(now_ms) - start))
    times[$kind]+="$elapsed "
    # A killed container restarts with the kubelet's growing back-off: start
    # the next run from a fresh Pod instead.
    [[ $kind == crash ]] && KS delete pod "$leader" --wait=false >/dev/null 2>&1
    printf 'ha-failover: %s %d: %d ms\n' "$kind" "$i" "$elapsed" >&2
  done
done

# Cost of each replica over an idle window.
wait_two_ready
leader=$(wait_leader)
sleep 10
declare -A cpu0 pids
for pod in $(KS get pods -l name=sealed-secrets-controller -o 'jsonpath={.items[*].metadata.name}'); do
  pids[$pod]=$(pid_of_pod "$pod")
  cpu0[$pod]=$(awk '{print $14 + $15}' "/proc/${pids[$pod]}/stat")
done
sleep "$idle"
ticks=$(getconf CLK_TCK)
cost=""
for pod in "${!pids[@]}"; do
  cpu1=$(awk '{print $14 + $15}' "/proc/${pids[$pod]}/stat")
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/${pids[$pod]}/status")
  role=standby
  [[ $pod == "$leader" ]] && role=leader
  cost+=$(python3 -c "
cpu = ($cpu1 - ${cpu0[$pod]}) / $ticks
print(f'| {\"$role\"} | {cpu:.2f} s | {100 * cpu / $idle:.2f} % | {$rss / 1024:.1f} MiB |')")$'\n'
done

python3 - "${times[delete]}" "${times[crash]}" "$runs" <<EOF
import statistics, sys
def row(label, text):
    ms = sorted(int(t) for t in text.split())
    return f"| {label} | {statistics.median(ms) / 1000:.2f} s | {ms[0] / 1000:.2f} s | {ms[-1] / 1000:.2f} s | {len(ms)} |"
print("| leader removed by | median | min | max | runs |")
print("|---|---|---|---|---|")
print(row("kubectl delete --grace-period=0 --force (Lease released on SIGTERM)", sys.argv[1]))
print(row("SIGKILL of its process (no release: lease duration 15 s)", sys.argv[2]))
print()
print("| replica | CPU over ${idle} s idle | CPU share | RSS |")
print("|---|---|---|---|")
print("""${cost%$'\n'}""")
EOF
