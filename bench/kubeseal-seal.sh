#!/usr/bin/env bash
# Times one whole `kubeseal` process sealing a 3-item Secret offline (--cert),
# ours (target/release/kubeseal) against the reference Go kubeseal, with
# hyperfine, and prints how many times faster ours is.
#
# Usage:
#   bench/kubeseal-seal.sh [--runs N] [--warmup N] [--no-build] [--no-jitter] [--out DIR]
#
#   --runs N      timed runs per command (default 50)
#   --warmup N    untimed runs first, to warm the page cache (default 5)
#   --no-build    use the existing binary as is
#   --no-jitter   build ours with AWS_LC_SYS_NO_JITTER_ENTROPY=1 into
#                 target/bench-no-jitter (aws-lc's CPU-jitter entropy source
#                 costs ~25 ms once per process: see docs/benchmarks.md)
#   --out DIR     where to write results.md / results.json (default: a new
#                 temporary directory, printed at the end)
#
# Environment:
#   REF_KUBESEAL  the reference kubeseal (default: from
#                 `scripts/install-tools --print-ref-dir`, which builds it)
#   OURS          our kubeseal (default: target/release/kubeseal)
#
# Both commands run with HOME set to an empty directory and KUBECONFIG unset,
# so neither reads a kubeconfig, and without a shell (hyperfine -N). Output goes
# to /dev/null. Target: ours at most 1/5 of the reference's wall time.
#
# hyperfine comes from apt (`apt-get install -y hyperfine`); when it is missing
# and this runs as root, the script installs it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CERT="$ROOT/crypto/tests/fixtures/cert-4096.pem"
TARGET_RATIO=5

runs=50
warmup=5
build=1
no_jitter=0
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
  --runs) runs=$2; shift ;;
  --warmup) warmup=$2; shift ;;
  --no-build) build=0 ;;
  --no-jitter) no_jitter=1 ;;
  --out) out=$2; shift ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "kubeseal-seal: unknown argument '$1' (try --help)" >&2
    exit 2
    ;;
  esac
  shift
done

log() { printf 'kubeseal-seal: %s\n' "$*" >&2; }
die() {
  printf 'kubeseal-seal: error: %s\n' "$*" >&2
  exit 1
}

# ------------------------------------------------------------------ tools
if ! command -v hyperfine >/dev/null; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing hyperfine with apt-get"
    apt-get install -y hyperfine >/dev/null 2>&1 ||
      { apt-get update >/dev/null && apt-get install -y hyperfine >/dev/null; } ||
      die "apt-get could not install hyperfine"
  else
    die "hyperfine is not installed: run 'sudo apt-get install -y hyperfine' (or 'cargo install hyperfine') and retry"
  fi
fi
command -v jq >/dev/null || die "jq is needed to read hyperfine's JSON: apt-get install -y jq"

if [[ $no_jitter -eq 1 ]]; then
  target_dir=$ROOT/target/bench-no-jitter
else
  target_dir=${CARGO_TARGET_DIR:-$ROOT/target}
fi
OURS=${OURS:-$target_dir/release/kubeseal}
if [[ $build -eq 1 ]]; then
  log "building our kubeseal (release$([[ $no_jitter -eq 1 ]] && echo ", AWS_LC_SYS_NO_JITTER_ENTROPY=1"))"
  if [[ $no_jitter -eq 1 ]]; then
    (cd "$ROOT" && CARGO_TARGET_DIR=$target_dir AWS_LC_SYS_NO_JITTER_ENTROPY=1 cargo build --release -q -p kubeseal)
  else
    (cd "$ROOT" && cargo build --release -q -p kubeseal)
  fi
fi
[[ -x $OURS ]] || die "$OURS is missing: run cargo build --release -p kubeseal"

if [[ -z ${REF_KUBESEAL:-} ]]; then
  ref_dir=$("$ROOT/scripts/install-tools" --print-ref-dir 2>/dev/null || true)
  REF_KUBESEAL=${ref_dir:+$ref_dir/kubeseal}
  if [[ ! -x ${REF_KUBESEAL:-} ]]; then
    log "building the reference kubeseal (scripts/install-tools ref)"
    "$ROOT/scripts/install-tools" ref
  fi
fi
[[ -x $REF_KUBESEAL ]] || die "reference kubeseal not found at '$REF_KUBESEAL' (set REF_KUBESEAL)"

# ------------------------------------------------------------------ inputs
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/home"
out=${out:-$(mktemp -d -t kubeseal-bench.XXXXXX)}
mkdir -p "$out"

cat >"$work/secret.yaml" <<'EOF'
apiVersion: v1
kind: Secret
metadata:
  name: bench
  namespace: bench-ns
type: Opaque
data:
  username: YWRtaW4=
  password: czNjcjN0LXBhc3N3b3Jk
stringData:
  api-token: 0123456789abcdef0123456789abcdef
EOF

args=(--cert "$CERT" -f "$work/secret.yaml" -o yaml)
clean_env=(env -u KUBECONFIG "HOME=$work/home")

# Both must actually seal before their times mean anything.
for bin in "$OURS" "$REF_KUBESEAL"; do
  sealed=$("${clean_env[@]}" "$bin" "${args[@]}") || die "$bin failed to seal"
  [[ $(grep -c '^    [a-z-]*: Ag' <<<"$sealed") -eq 3 ]] ||
    die "$bin did not produce 3 sealed items:"$'\n'"$sealed"
done

# ------------------------------------------------------------------ run
log "$(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
log "ours:      $OURS"
log "reference: $REF_KUBESEAL"
"${clean_env[@]}" hyperfine -N --warmup "$warmup" --runs "$runs" --output null \
  --export-markdown "$out/results.md" --export-json "$out/results.json" \
  --command-name ours "$OURS ${args[*]}" \
  --command-name reference "$REF_KUBESEAL ${args[*]}"

# ------------------------------------------------------------------ report
stat() { jq -r --arg n "$1" --arg k "$2" '.results[] | select(.command == $n) | .[$k]' "$out/results.json"; }
ours_mean=$(stat ours mean)
ref_mean=$(stat reference mean)
ours_median=$(stat ours median)
ref_median=$(stat reference median)

summary=$(awk -v om="$ours_mean" -v rm="$ref_mean" -v omd="$ours_median" -v rmd="$ref_median" -v t="$TARGET_RATIO" 'BEGIN {
  printf "ours:      mean %.2f ms, median %.2f ms\n", om * 1000, omd * 1000
  printf "reference: mean %.2f ms, median %.2f ms\n", rm * 1000, rmd * 1000
  printf "ratio (reference / ours): mean %.2fx, median %.2fx\n", rm / om, rmd / omd
  printf "target (ours <= 1/%d of the reference): %s\n", t, (rmd / omd >= t ? "met" : "NOT met")
}')
printf '%s\n' "$summary" | tee "$out/summary.txt"
echo "results: $out/results.md $out/results.json $out/summary.txt"
