#!/usr/bin/env bash
# Cold-start sync benchmark of the controller: how long from starting a
# controller until N SealedSecrets, applied beforehand, are all Synced=True,
# and the controller's peak resident memory (VmHWM) by then; ours (release
# build) against the reference Go controller, on the local control plane
# (scripts/control-plane), one after the other, never at once.
#
# Usage:
#   bench/controller-sync.sh [-n N] [--keys K] [--impl LIST] [--timeout SECONDS]
#                            [--no-build] [--keep] [--out DIR]
#
#   -n N           SealedSecrets (default 1000), 3 items each
#   --keys K       sealing keys in the registry (default 4): K key Secrets are
#                  created in the controller's namespace before it starts, and
#                  each SealedSecret is sealed with a random one of their certs
#   --impl LIST    comma-separated runs, in order (default ours,reference):
#                    ours                   target/release/sealed-secrets-controller
#                    reference              the reference controller, default flags
#                                           (client-side rate limit 5 QPS, burst 10)
#                    reference-unthrottled  the reference with --kubeclient-qps=-1
#                                           (its rate limiter off; ours has none)
#   --timeout S    per run, for all N to be synced (default 3600)
#   --no-build     use the existing release binaries as they are
#   --restart      after all are synced, restart the controller and time
#                  until it is ready again (ours: /readyz; the reference:
#                  /healthz), then count RSA operations (ours:
#                  rsa_decryptions_total; a synced restart should do none)
#   --idle S       after the restart, S seconds idle: CPU share and RSS
#                  (default 0: no idle phase; needs --restart)
#   --keep         keep each run's namespace (default: deleted, and waited for,
#                  before the next run so it does not load the API server)
#   --out DIR      where to write results.md and the logs (default: a new
#                  temporary directory, printed at the end)
#
# Environment: the CONTROL_PLANE_* variables of scripts/control-plane select
# the control plane (it is brought up if needed); REF_CONTROLLER overrides the
# reference binary (default: `scripts/install-tools --print-ref-dir`/controller),
# OURS_CONTROLLER ours (default: target/release/sealed-secrets-controller; to
# compare builds or run ours under a profiler).
#
# Each run gets a fresh namespace that is both the key namespace (POD_NAMESPACE)
# and the only watched one (--all-namespaces=false), so the controller starts
# cold: K keys, N SealedSecrets, no Secrets for them. The SealedSecrets are
# sealed offline with our kubeseal (--cert) and created with
# `kubectl apply --server-side` before the controller starts. "Synced" is
# counted from a `kubectl get sealedsecrets --watch` stream (no polling load
# on the API server; if the API server drops the watch, it is reopened and the
# namespace listed once); time runs from just before the controller process is
# started. Peak RSS is VmHWM from /proc/PID/status when the last one is synced;
# CPU is user+system time from /proc/PID/stat at the same moment; the peak
# thread count is sampled every 0.2 s.
#
# The reference controller only supports in-cluster configuration, so it runs
# as in a Pod: a ServiceAccount with a RoleBinding to cluster-admin in the run's
# namespace, a token from `kubectl create token`, and a private mount namespace
# (unshare --mount) with those files under
# /var/run/secrets/kubernetes.io/serviceaccount; KUBERNETES_SERVICE_HOST/PORT
# point at the API server on loopback. Everything listens on 127.0.0.1.
#
# Needs root (unshare, mount), openssl, python3 (free ports), awk, curl, setsid.
# API requests are the API server's apiserver_request_total summed over all
# series, before and after each phase (the bench's own kubectl calls are in
# it too: a handful per phase).
# Outputs in --out: results.md, results.json (for bench/controller-scale.sh), per run <impl>.log (controller log),
# <impl>.metrics (its /metrics when all were synced), <impl>.watch (the
# raw watch stream the count was made from) and <impl>.api-requests (the cold
# start's API requests by verb and resource). The CPU time of kube-apiserver
# and etcd over the cold start is reported too: they share the cores.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET_TIME_RATIO=5
TARGET_MEMORY_RATIO=3

n=1000
keys=4
impls=ours,reference
timeout_s=3600
build=1
keep=0
restart=0
idle=0
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
  -n) n=$2; shift ;;
  --keys) keys=$2; shift ;;
  --impl) impls=$2; shift ;;
  --timeout) timeout_s=$2; shift ;;
  --no-build) build=0 ;;
  --keep) keep=1 ;;
  --restart) restart=1 ;;
  --idle) idle=$2; shift ;;
  --out) out=$2; shift ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "controller-sync: unknown argument '$1' (try --help)" >&2
    exit 2
    ;;
  esac
  shift
done
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "controller-sync: -n wants a positive integer" >&2; exit 2; }
[[ $keys =~ ^[1-9][0-9]*$ ]] || { echo "controller-sync: --keys wants a positive integer" >&2; exit 2; }
IFS=, read -r -a runs <<<"$impls"
declare -A seen_impl
for impl in "${runs[@]}"; do
  case $impl in
  ours | reference | reference-unthrottled) ;;
  *) echo "controller-sync: unknown implementation '$impl' in --impl (ours, reference, reference-unthrottled)" >&2; exit 2 ;;
  esac
  [[ -z ${seen_impl[$impl]:-} ]] || { echo "controller-sync: '$impl' twice in --impl: run the script again to repeat a run" >&2; exit 2; }
  seen_impl[$impl]=1
done

log() { printf 'controller-sync: %s\n' "$*" >&2; }
die() {
  printf 'controller-sync: error: %s\n' "$*" >&2
  exit 1
}
now() { date +%s.%N; }

for tool in openssl python3 awk unshare mount curl setsid; do
  command -v "$tool" >/dev/null || die "$tool is needed"
done
[[ $(id -u) -eq 0 ]] || die "needs root (unshare --mount for the reference controller)"

# ------------------------------------------------------------------ binaries
target_dir=${CARGO_TARGET_DIR:-$ROOT/target}
OURS=${OURS_CONTROLLER:-$target_dir/release/sealed-secrets-controller}
KUBESEAL=$target_dir/release/kubeseal
if [[ $build -eq 1 ]]; then
  log "building our controller and kubeseal (release)"
  (cd "$ROOT" && cargo build --release -q -p sealed-secrets-controller -p kubeseal)
fi
[[ -x $OURS && -x $KUBESEAL ]] || die "missing $OURS or $KUBESEAL: cargo build --release -p sealed-secrets-controller -p kubeseal"
if [[ ,$impls, == *,reference* ]]; then
  if [[ -z ${REF_CONTROLLER:-} ]]; then
    REF_CONTROLLER=$("$ROOT/scripts/install-tools" --print-ref-dir)/controller
    [[ -x $REF_CONTROLLER ]] || "$ROOT/scripts/install-tools" ref
  fi
  [[ -x $REF_CONTROLLER ]] || die "reference controller not found at '$REF_CONTROLLER' (set REF_CONTROLLER)"
fi

# ------------------------------------------------------------------ control plane
"$ROOT/scripts/control-plane" up >/dev/null
eval "$("$ROOT/scripts/control-plane" env)"
export KUBECONFIG
command -v kubectl >/dev/null || die "kubectl not on PATH after scripts/control-plane env"
server=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')
api_hostport=${server#https://}
api_hostport=${api_hostport%/}
api_host=${api_hostport%:*}
api_port=${api_hostport##*:}
kubectl apply --server-side --force-conflicts -f "$ROOT/manifests/crd.yaml" >/dev/null
kubectl wait --for=condition=Established --timeout=60s crd/sealedsecrets.bitnami.com >/dev/null

work=$(mktemp -d -t controller-sync.XXXXXX)
out=${out:-$(mktemp -d -t controller-sync-results.XXXXXX)}
mkdir -p "$out"
pid=""
watcher=""
namespaces=()
cleanup() {
  if [[ -n $watcher ]]; then kill -TERM -- "-$watcher" 2>/dev/null || true; fi
  if [[ -n $pid ]]; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [[ $keep -eq 0 ]]; then
    for ns in "${namespaces[@]}"; do
      kubectl delete namespace "$ns" --wait=false --ignore-not-found >/dev/null 2>&1 || true
    done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# mawk reads pipes in large blocks unless told otherwise; gawk reads lines.
awk_line_buffered=()
if awk -W version 2>/dev/null | grep -q mawk; then
  awk_line_buffered=(-W interactive)
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ------------------------------------------------------------------ keys
log "generating $keys RSA-4096 sealing keys"
for ((k = 0; k < keys; k++)); do
  openssl req -x509 -newkey rsa:4096 -nodes -days 3650 -subj "/O=controller-sync-bench-$k" \
    -keyout "$work/key-$k.pkcs8" -out "$work/cert-$k.pem" 2>/dev/null
  # PKCS#1, as both controllers write their own keys.
  openssl rsa -in "$work/key-$k.pkcs8" -traditional -out "$work/key-$k.pem" 2>/dev/null
done

# N Secrets, 3 items each, spread over the K certificates at random; one
# multi-document file per certificate, sealed by one kubeseal call.
generate_sealed() { # namespace -> $work/sealed-<ns>/*.yaml
  local ns=$1 dir=$work/sealed-$1
  mkdir -p "$dir"
  awk -v n="$n" -v k="$keys" -v ns="$ns" -v dir="$dir" -v seed="$RANDOM" 'BEGIN {
    srand(seed)
    for (i = 0; i < n; i++) {
      g = int(rand() * k)
      f = dir "/plain-" g ".yaml"
      printf "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s%05d\n  namespace: %s\n  labels: {app: bench}\ntype: Opaque\nstringData:\n", i, ns > f
      printf "  username: user-%d\n  password: p-%d-%08x\n  token: t-%08x%08x\n", i, i, int(rand() * 2^31), int(rand() * 2^31), int(rand() * 2^31) > f
    }
  }'
  local g
  for ((g = 0; g < keys; g++)); do
    [[ -f $dir/plain-$g.yaml ]] || continue
    env -u KUBECONFIG HOME="$work" "$KUBESEAL" --cert "$work/cert-$g.pem" -o yaml \
      -f "$dir/plain-$g.yaml" >"$dir/sealed-$g.yaml"
    rm "$dir/plain-$g.yaml"
  done
  local count
  count=$(cat "$dir"/sealed-*.yaml | grep -c '^kind: SealedSecret$')
  [[ $count -eq $n ]] || die "sealed $count SealedSecrets, expected $n"
}

# The in-cluster view of the reference: ServiceAccount files in $1/sa.
in_cluster_files() { # namespace dir
  local ns=$1 dir=$2/sa
  mkdir -p "$dir"
  kubectl -n "$ns" create serviceaccount sealed-secrets-controller >/dev/null
  kubectl -n "$ns" create rolebinding sealed-secrets-controller --clusterrole=cluster-admin \
    --serviceaccount="$ns:sealed-secrets-controller" >/dev/null
  kubectl -n "$ns" create token sealed-secrets-controller --duration=6h >"$dir/token"
  local i
  for ((i = 0; i < 120; i++)); do
    kubectl -n "$ns" get configmap kube-root-ca.crt -o jsonpath='{.data.ca\.crt}' >"$dir/ca.crt" 2>/dev/null &&
      [[ -s $dir/ca.crt ]] && break
    sleep 0.5
  done
  [[ -s $dir/ca.crt ]] || die "no kube-root-ca.crt in $ns"
  printf '%s' "$ns" >"$dir/namespace"
}

# Starts the controller of run() (its impl, ns, args, rundir) with its log in
# $1; sets pid.
launch() {
  local logf=$1
  case $impl in
  ours)
    env KUBECONFIG="$KUBECONFIG" POD_NAMESPACE="$ns" NO_COLOR=1 "$OURS" "${args[@]}" >>"$logf" 2>&1 &
    pid=$!
    ;;
  reference | reference-unthrottled)
    local extra=()
    [[ $impl == reference-unthrottled ]] && extra=(--kubeclient-qps=-1)
    # shellcheck disable=SC2016 # expanded by the inner shell
    env -u KUBECONFIG SSRS_SA_DIR="$rundir/sa" KUBERNETES_SERVICE_HOST="$api_host" \
      KUBERNETES_SERVICE_PORT="$api_port" POD_NAMESPACE="$ns" \
      unshare --mount --propagation private sh -euc '
        run=$(readlink -f /var/run)
        mount -t tmpfs -o mode=0755 controller-sync "$run"
        mkdir -p "$run/secrets/kubernetes.io/serviceaccount"
        mount --bind -o ro "$SSRS_SA_DIR" "$run/secrets/kubernetes.io/serviceaccount"
        exec "$0" "$@"' "$REF_CONTROLLER" "${args[@]}" "${extra[@]}" >>"$logf" 2>&1 &
    pid=$!
    ;;
  *) die "unknown implementation '$impl' (ours, reference, reference-unthrottled)" ;;
  esac
}

stop_controller() {
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}

# After a cold start: restart, time to ready, RSA operations, then idle.
restart_and_idle() { # http_port metrics_port
  local http_port=$1 metrics_port=$2 api1 t1 ready_path=/healthz
  [[ $impl == ours ]] && ready_path=/readyz
  stop_controller
  api1=$(api_requests)
  t1=$(now)
  launch "$out/$impl.restart.log"
  local i
  for ((i = 0; i < 6000; i++)); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$http_port$ready_path") == 200 ]] && break
    kill -0 "$pid" 2>/dev/null || die "[$impl] the controller exited on restart; see $out/$impl.restart.log"
    sleep 0.05
  done
  result_restart[$impl]=$(awk -v a="$t1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
  # Let it go through everything it lists before counting.
  sleep 20
  result_restart_rsa[$impl]=$(rsa_operations "$metrics_port" "$impl")
  log "[$impl] restart: ready after ${result_restart[$impl]} s; RSA operations since: ${result_restart_rsa[$impl]}"
  if ((idle > 0)); then
    local c0 c1 cp0 cp1 idle_api0
    c0=$(cpu_seconds "$pid")
    cp0=$(control_plane_cpu)
    idle_api0=$(api_requests)
    api_requests_by_verb >"$out/$impl.idle-api-before"
    sleep "$idle"
    c1=$(cpu_seconds "$pid")
    cp1=$(control_plane_cpu)
    api_requests_by_verb >"$out/$impl.idle-api-after"
    result_idle_cpu[$impl]=$(awk -v a="$c0" -v b="$c1" -v s="$idle" 'BEGIN { printf "%.2f", 100 * (b - a) / s }')
    result_idle_rss[$impl]=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")
    # The idle cost of the resync (ours: --resync-period): API requests per
    # hour (all clients: kube-controller-manager's own are in it too), the API
    # server and etcd's CPU, and how often everything was reconciled.
    result_idle_api_hour[$impl]=$(awk -v a="$idle_api0" -v b="$(api_requests)" -v s="$idle" 'BEGIN { printf "%d", (b - a) * 3600 / s }')
    result_idle_cp_cpu[$impl]=$(awk -v a="$cp0" -v b="$cp1" -v s="$idle" 'BEGIN { printf "%.2f", 100 * (b - a) / s }')
    api_requests_diff "$out/$impl.idle-api-before" "$out/$impl.idle-api-after" >"$out/$impl.idle-api-requests"
    if [[ $impl == ours ]]; then
      curl -s --max-time 10 "http://127.0.0.1:$metrics_port/metrics" |
        grep '^sealed_secrets_controller_resyncs_total' >"$out/$impl.idle-resyncs" || true
    fi
    log "[$impl] idle ${idle} s: CPU ${result_idle_cpu[$impl]} % of a core, RSS ${result_idle_rss[$impl]} MiB; API requests ${result_idle_api_hour[$impl]}/h (per verb and resource: $out/$impl.idle-api-requests); API server + etcd CPU ${result_idle_cp_cpu[$impl]} % of a core"
  fi
  result_restart_api[$impl]=$(($(api_requests) - api1))
}

# ------------------------------------------------------------------ one run
declare -A result_time result_hwm result_cpu result_status result_threads
declare -A result_rsa result_api result_cp_cpu result_restart result_restart_rsa result_restart_api result_idle_cpu result_idle_rss result_idle_api_hour result_idle_cp_cpu

api_requests() {
  kubectl get --raw /metrics 2>/dev/null | awk '/^apiserver_request_total[{ ]/ { s += $NF } END { printf "%d", s }'
}

# The same, per verb and resource ("verb resource count" lines).
api_requests_by_verb() {
  kubectl get --raw /metrics 2>/dev/null | awk '/^apiserver_request_total[{]/ {
      verb = resource = subresource = ""
      if (match($0, /verb="[^"]*"/)) verb = substr($0, RSTART + 6, RLENGTH - 7)
      if (match($0, /[{,]resource="[^"]*"/)) resource = substr($0, RSTART + 11, RLENGTH - 12)
      if (match($0, /subresource="[^"]*"/)) subresource = "/" substr($0, RSTART + 13, RLENGTH - 14)
      s[verb " " resource subresource] += $NF
    }
    END { for (k in s) print k, s[k] }'
}

# Requests between two api_requests_by_verb snapshots, most first.
api_requests_diff() { # before after
  awk 'NR == FNR { before[$1 " " $2] = $3; next }
       { d = $3 - before[$1 " " $2]; if (d > 0) printf "%8d %s %s\n", d, $1, $2 }' "$1" "$2" | sort -rn
}

# CPU seconds of the control plane's kube-apiserver and etcd, which share the
# cores with the controller.
control_plane_cpu() {
  local state total=0 c comp
  state=$(dirname "$KUBECONFIG")
  for comp in kube-apiserver etcd; do
    [[ -r $state/$comp.pid ]] || continue
    c=$(cpu_seconds "$(<"$state/$comp.pid")" 2>/dev/null) || continue
    total=$(awk -v a="$total" -v b="$c" 'BEGIN { printf "%.2f", a + b }')
  done
  echo "$total"
}

# ours: its own count of RSA private-key operations; the reference has none.
rsa_operations() { # metrics_port impl
  [[ $2 == ours ]] || { echo "n/a"; return; }
  curl -s --max-time 10 "http://127.0.0.1:$1/metrics" |
    awk '/^sealed_secrets_controller_rsa_decryptions_total / { printf "%d", $2 }'
}

cpu_seconds() { # pid
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat"
}
run() {
  local impl=$1
  local ns
  ns=cs-${impl%%-*}-$(printf '%04x%04x' $RANDOM $RANDOM)
  namespaces+=("$ns")
  local rundir=$work/run-$impl
  mkdir -p "$rundir"
  log "[$impl] namespace $ns: $keys keys, sealing $n SealedSecrets"
  kubectl create namespace "$ns" >/dev/null
  local k
  for ((k = 0; k < keys; k++)); do
    kubectl -n "$ns" create secret tls "sealed-secrets-key-bench$k" \
      --cert="$work/cert-$k.pem" --key="$work/key-$k.pem" >/dev/null
    kubectl -n "$ns" label secret "sealed-secrets-key-bench$k" \
      sealedsecrets.bitnami.com/sealed-secrets-key=active >/dev/null
  done
  generate_sealed "$ns"
  local t_apply
  t_apply=$(now)
  kubectl apply --server-side -f "$work/sealed-$ns/" >/dev/null
  log "[$impl] applied $n SealedSecrets in $(awk -v a="$t_apply" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s"
  [[ $impl == reference* ]] && in_cluster_files "$ns" "$rundir"

  # Nothing else may be processing this namespace (e.g. a controller watching
  # all namespaces): the measure would be meaningless.
  sleep 3
  local touched
  touched=$(kubectl -n "$ns" get secrets --no-headers 2>/dev/null | grep -vc '^sealed-secrets-key-bench' || true)
  [[ $touched -eq 0 ]] || die "[$impl] $touched Secrets appeared in $ns before the controller started: another controller is watching it"
  touched=$(kubectl -n "$ns" get sealedsecrets -o jsonpath='{range .items[*]}{.status.conditions[0].type}{"\n"}{end}' | grep -c . || true)
  [[ $touched -eq 0 ]] || die "[$impl] $touched SealedSecrets in $ns got a status before the controller started: another controller is watching it"

  local http_port metrics_port
  http_port=$(free_port)
  metrics_port=$(free_port)
  local args=(--listen-addr="127.0.0.1:$http_port" --listen-metrics-addr="127.0.0.1:$metrics_port"
    --all-namespaces=false)
  local logf=$out/$impl.log

  # Counting: one `kubectl get --watch` stream, which prints the initial list as
  # a blank line and then "NAME STATUS" per change; awk counts the names seen
  # with Synced=True (in a cold run nothing goes back to False) and prints
  # "done" when all N have been. On a loaded machine the API server closes
  # watchers that fall behind ("Forcing ... watcher close due to
  # unresponsiveness"); the stream is then reopened, and awk re-lists once
  # the new watch is up, so no change is lost in between.
  local fifo=$rundir/synced
  mkfifo "$fifo"
  local deadline
  deadline=$(awk -v t="$(now)" -v d="$timeout_s" 'BEGIN { printf "%d", t + d }')
  local line_jsonpath='{.metadata.name}{" "}{.status.conditions[?(@.type=="Synced")].status}{"\n"}'
  # In its own process group (setsid), so that stopping it stops kubectl too.
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid bash -c '
    deadline=$1 ns=$2 jsonpath=$3
    while (($(date +%s) < deadline)); do
      timeout --foreground $((deadline - $(date +%s) + 1)) \
        kubectl -n "$ns" get sealedsecrets --watch --request-timeout=0 -o "jsonpath=$jsonpath" || true
      echo "--restart--"
    done | tee "$4"' watcher "$deadline" "$ns" "$line_jsonpath" "$out/$impl.watch" \
    2>"$out/$impl.watch.err" >"$fifo" &
  watcher=$!
  exec 3<"$fifo"
  # The initial listing is printed before the watch request: once it is
  # there, the watch is (about to be) established.
  IFS= read -r -t 60 _ <&3 || die "[$impl] the watch on $ns did not start"
  sleep 0.5

  local t0 api0 cp0
  api0=$(api_requests)
  api_requests_by_verb >"$rundir/api-before"
  cp0=$(control_plane_cpu)
  t0=$(now)
  launch "$logf"
  # Peak thread count, sampled every 0.2 s (VmHWM keeps the peak RSS itself).
  local threads_file=$rundir/threads
  echo 0 >"$threads_file"
  (
    max=0
    while [[ -r /proc/$pid/status ]]; do
      while read -r key value _; do
        if [[ $key == Threads: ]] && ((value > max)); then
          max=$value
          echo "$max" >"$threads_file"
        fi
      done <"/proc/$pid/status" 2>/dev/null || break
      sleep 0.2
    done
  ) &
  local sampler=$!

  local progress=$rundir/progress
  echo 0 >"$progress"
  exec 4< <(
    RELIST="kubectl -n $ns get sealedsecrets -o 'jsonpath={range .items[*]}$line_jsonpath{end}'" \
      awk "${awk_line_buffered[@]}" -v n="$n" -v progress="$progress" '
        function seen(name, status) {
          if (name != "" && status == "True" && !(name in ok)) { ok[name] = 1; count++ }
        }
        $0 == "--restart--" {
          restarts++
          system("sleep 2")
          relist = ENVIRON["RELIST"]
          while ((relist | getline line) > 0) { split(line, f, " "); seen(f[1], f[2]) }
          close(relist)
        }
        { seen($1, $2) }
        count >= n { print "done " restarts + 0; fflush(); exit }
        NR % 20 == 0 { print count > progress; close(progress) }
      ' <&3
  )
  local counter=$!

  local done_at="" line rc restarts=0 synced
  while :; do
    rc=0
    IFS= read -r -t 10 line <&4 || rc=$?
    if ((rc == 0)); then
      if [[ $line == done* ]]; then
        done_at=$(now)
        restarts=${line#done }
      fi
      break
    fi
    ((rc > 128)) || break # end of the stream: the deadline passed
    synced=$(<"$progress")
    log "[$impl] ${synced:-0}/$n synced after $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s"
    if ! kill -0 "$pid" 2>/dev/null; then
      log "[$impl] the controller exited; see $logf"
      break
    fi
  done
  synced=$(<"$progress")
  [[ -n $done_at ]] && synced=$n
  # The controller's own counters at that moment (e.g. how many unseal attempts it made).
  curl -s --max-time 10 "http://127.0.0.1:$metrics_port/metrics" >"$out/$impl.metrics" 2>/dev/null || true
  result_rsa[$impl]=$(rsa_operations "$metrics_port" "$impl")
  result_api[$impl]=$(($(api_requests) - api0))
  result_cp_cpu[$impl]=$(awk -v a="$cp0" -v b="$(control_plane_cpu)" 'BEGIN { printf "%.1f", b - a }')
  api_requests_by_verb >"$rundir/api-after"
  api_requests_diff "$rundir/api-before" "$rundir/api-after" >"$out/$impl.api-requests"
  log "[$impl] API requests of the cold start by verb and resource (top 8; all in $out/$impl.api-requests):"
  head -8 "$out/$impl.api-requests" >&2
  local hwm="" cpu=""
  if [[ -r /proc/$pid/status ]]; then
    hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
    # utime + stime, in clock ticks (fields 14 and 15 after the "(comm)" field)
    cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$pid/stat")
    log "[$impl] pid $pid is $(readlink "/proc/$pid/exe")"
    # Where the resident memory sits (binary pages, heap, stacks) at that moment.
    cat "/proc/$pid/smaps_rollup" >"$out/$impl.smaps_rollup" 2>/dev/null || true
    cat "/proc/$pid/smaps" >"$out/$impl.smaps" 2>/dev/null || true
  fi
  kill -TERM -- "-$watcher" 2>/dev/null || true
  kill "$counter" 2>/dev/null || true
  exec 3<&- 4<&-
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  result_threads[$impl]=$(<"$threads_file")
  wait "$watcher" 2>/dev/null || true
  watcher=""

  if [[ -n $done_at ]]; then
    result_time[$impl]=$(awk -v a="$t0" -v b="$done_at" 'BEGIN { printf "%.2f", b - a }')
    result_status[$impl]=ok
    log "[$impl] all $n Synced=True after ${result_time[$impl]} s; VmHWM ${hwm} kB; CPU ${cpu} s; threads (peak) ${result_threads[$impl]}; watch reopened $restarts times"
  else
    result_time[$impl]=""
    result_status[$impl]="not all synced ($synced/$n) within ${timeout_s} s"
    log "[$impl] ${result_status[$impl]}; see $logf"
  fi
  result_hwm[$impl]=$hwm
  result_cpu[$impl]=$cpu

  # Checks: N Secrets created, no key added.
  local secrets keycount
  secrets=$(kubectl -n "$ns" get secrets -l app=bench --no-headers 2>/dev/null | wc -l)
  keycount=$(kubectl -n "$ns" get secrets -l sealedsecrets.bitnami.com/sealed-secrets-key --no-headers | wc -l)
  log "[$impl] $secrets Secrets with label app=bench; $keycount key Secrets"
  [[ $keycount -eq $keys ]] || result_status[$impl]+=" (key Secrets: $keycount, expected $keys)"

  if [[ $restart -eq 1 && -n $done_at ]]; then
    restart_and_idle "$http_port" "$metrics_port"
  fi
  stop_controller
  if [[ $keep -eq 0 ]]; then
    log "[$impl] deleting namespace $ns (waiting, so the next run starts on a quiet API server)"
    kubectl delete namespace "$ns" --timeout=600s >/dev/null 2>&1 || log "[$impl] namespace $ns not gone yet"
  fi
}

for impl in "${runs[@]}"; do
  run "$impl"
done

# ------------------------------------------------------------------ report
cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/^MemTotal:/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
{
  echo "Machine: $(nproc) CPUs ($cpu_model), $mem RAM, Linux $(uname -r)."
  echo "N = $n SealedSecrets (3 items each), $keys keys in the registry."
  echo
  echo "| controller | N | keys | time to all Synced | peak RSS (VmHWM) | CPU (user+sys) | threads (peak) | time vs ours | memory vs ours |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for impl in "${runs[@]}"; do
    t=${result_time[$impl]}
    h=${result_hwm[$impl]}
    c=${result_cpu[$impl]}
    awk -v impl="$impl" -v n="$n" -v k="$keys" -v t="$t" -v h="$h" -v c="$c" -v th="${result_threads[$impl]}" \
      -v ot="${result_time[ours]:-}" -v oh="${result_hwm[ours]:-}" -v st="${result_status[$impl]}" 'BEGIN {
        time = (t == "" ? "not reached: " st : sprintf("%.2f s", t))
        rss = (h == "" ? "?" : sprintf("%.1f MiB", h / 1024))
        cpu = (c == "" ? "?" : sprintf("%.2f s", c))
        tr = (t != "" && ot != "" && ot > 0 ? sprintf("%.1fx", t / ot) : "-")
        mr = (h != "" && oh != "" && oh > 0 ? sprintf("%.1fx", h / oh) : "-")
        printf "| %s | %d | %d | %s | %s | %s | %s | %s | %s |\n", impl, n, k, time, rss, cpu, th, tr, mr
      }'
  done
  echo
  for impl in "${runs[@]}"; do
    [[ $impl == reference* && -n ${result_time[ours]:-} && -n ${result_time[$impl]:-} ]] || continue
    awk -v impl="$impl" -v ot="${result_time[ours]}" -v rt="${result_time[$impl]}" \
      -v oh="${result_hwm[ours]}" -v rh="${result_hwm[$impl]}" \
      -v tt="$TARGET_TIME_RATIO" -v tm="$TARGET_MEMORY_RATIO" 'BEGIN {
        printf "vs %s: time %s (ours <= 1/%d: %.1fx), memory %s (ours <= 1/%d: %.1fx)\n", impl,
          (rt / ot >= tt ? "met" : "NOT met"), tt, rt / ot, (rh / oh >= tm ? "met" : "NOT met"), tm, rh / oh
      }'
  done
  echo
  echo "| controller | N | RSA operations (cold start) | API requests (cold start) | API server + etcd CPU (cold start) | restart: ready after | RSA operations (restart) | API requests (restart + idle) | idle CPU (% of a core) | idle RSS | idle API requests per hour | idle API server + etcd CPU |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for impl in "${runs[@]}"; do
    printf '| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$impl" "$n" "${result_rsa[$impl]:-?}" "${result_api[$impl]:-?}" \
      "${result_cp_cpu[$impl]:+${result_cp_cpu[$impl]} s}" \
      "${result_restart[$impl]:+${result_restart[$impl]} s}" "${result_restart_rsa[$impl]:-}" "${result_restart_api[$impl]:-}" \
      "${result_idle_cpu[$impl]:+${result_idle_cpu[$impl]} %}" "${result_idle_rss[$impl]:+${result_idle_rss[$impl]} MiB}" \
      "${result_idle_api_hour[$impl]:-}" "${result_idle_cp_cpu[$impl]:+${result_idle_cp_cpu[$impl]} %}"
  done
} | tee "$out/results.md"
{
  echo "["
  sep=""
  for impl in "${runs[@]}"; do
    printf '%s{"impl":"%s","n":%d,"keys":%d,"status":"%s","time":"%s","hwm_kib":"%s","cpu":"%s","rsa":"%s","api":"%s","restart":"%s","restart_rsa":"%s","restart_api":"%s","idle_cpu":"%s","idle_rss_mib":"%s","idle_s":%d,"control_plane_cpu":"%s","idle_api_per_hour":"%s","idle_control_plane_cpu":"%s"}\n' \
      "$sep" "$impl" "$n" "$keys" "${result_status[$impl]}" "${result_time[$impl]}" "${result_hwm[$impl]}" "${result_cpu[$impl]}" \
      "${result_rsa[$impl]:-}" "${result_api[$impl]:-}" "${result_restart[$impl]:-}" "${result_restart_rsa[$impl]:-}" \
      "${result_restart_api[$impl]:-}" "${result_idle_cpu[$impl]:-}" "${result_idle_rss[$impl]:-}" "$idle" "${result_cp_cpu[$impl]:-}" \
      "${result_idle_api_hour[$impl]:-}" "${result_idle_cp_cpu[$impl]:-}"
    sep=","
  done
  echo "]"
} >"$out/results.json"
log "results: $out/results.md, $out/results.json; controller logs: $out/*.log"
