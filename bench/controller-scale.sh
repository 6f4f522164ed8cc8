#!/usr/bin/env bash
# The controller at scale: bench/controller-sync.sh for several N (cold start
# to all Synced, a restart with everything synced, an idle window), ours
# against the reference with its client rate limiter off, and a report with
# an SVG plot of time and peak memory against N.
#
# Usage:
#   bench/controller-scale.sh [--sizes "1000 10000 30000"] [--idle SECONDS]
#                             [--impls LIST] [--reference-idle SECONDS]
#                             [--timeout SECONDS] [--out DIR] [--report-only]
#
#   --sizes     the N to run (default "1000 10000 30000")
#   --idle      idle window after the restart (default 600: ten minutes)
#   --impls     which controllers (default ours,reference-unthrottled)
#   --reference-idle  the reference's idle window, if it should differ
#               (default: --idle; its idle CPU is not a target, only ours is)
#   --timeout   per run (default 1800: a run that does not finish within 30
#               minutes is reported as such, and larger N are skipped for it)
#   --out DIR   where the per-N results, report.md and scale.svg go; a run
#               adds to what is there, so controllers and sizes can be run
#               at different times into one report
#   --report-only  no runs: the report and plot from what --out holds
#   --rsa-ms MS  our own RSA-4096 private-key operation time in ms (the
#               criterion median of `open/4096`, docs/benchmarks.md): the RSA
#               limit then uses the faster of that and `openssl speed`
#
# Each N: 3 items per SealedSecret, 4 keys (each SealedSecret sealed with a
# random one), on the local control plane. Slow (tens of minutes at 10,000,
# hours at 30,000 for the reference): not part of `make test`. Run it on a
# quiet machine; results go into docs/benchmarks.md by hand.
#
# The RSA limit: every item needs one RSA-4096 private-key operation with the
# key that sealed it, and without a hint which key that is a controller tries
# them newest first; ours then reuses that key for the other items of the
# same SealedSecret. The minimum cold-start time is the RSA operations ours
# did divided by this machine's RSA-4096 private-key rate on all cores
# (`openssl speed rsa4096`, sign/s per core, times the cores).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sizes="1000 10000 30000"
idle=600
reference_idle=""
impls=ours,reference-unthrottled
timeout_s=1800
out=""
report_only=0
rsa_ms=""
while [[ $# -gt 0 ]]; do
  case "$1" in
  --sizes) sizes=$2; shift ;;
  --idle) idle=$2; shift ;;
  --impls) impls=$2; shift ;;
  --reference-idle) reference_idle=$2; shift ;;
  --report-only) report_only=1 ;;
  --rsa-ms) rsa_ms=$2; shift ;;
  --timeout) timeout_s=$2; shift ;;
  --out) out=$2; shift ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "controller-scale: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
out=${out:-$(mktemp -d -t controller-scale.XXXXXX)}
mkdir -p "$out"
log() { printf 'controller-scale: %s\n' "$*" >&2; }

rsa_rate=$(openssl speed -seconds 3 rsa4096 2>/dev/null | awk '/^rsa 4096 bits/ { print $6 }')
cores=$(nproc)
log "RSA-4096 private-key operations: ${rsa_rate:-?}/s per core, $cores cores"

build=()
IFS=, read -r -a run_impls <<<"$impls"
declare -A gave_up
for n in $sizes; do
  ((report_only == 0)) || break
  for impl in "${run_impls[@]}"; do
    [[ -z ${gave_up[$impl]:-} ]] || continue
    window=$idle
    [[ $impl == reference* && -n $reference_idle ]] && window=$reference_idle
    log "N = $n: $impl (idle $window s)"
    "$ROOT/bench/controller-sync.sh" -n "$n" --impl "$impl" --restart --idle "$window" \
      --timeout "$timeout_s" "${build[@]}" --out "$out/n$n-$impl" >&2 || log "N = $n: controller-sync failed for $impl"
    build=(--no-build)
    # A controller stops being run once it cannot finish within the timeout.
    if grep -q '"status":"not all synced' "$out/n$n-$impl/results.json" 2>/dev/null; then
      gave_up[$impl]=1
    fi
  done
done

python3 - "$out" "$sizes" "${rsa_rate:-0}" "$cores" "$idle" "$rsa_ms" <<'EOF'
import json, os, sys
out, sizes, rate, cores, idle = sys.argv[1], sys.argv[2].split(), float(sys.argv[3] or 0), int(sys.argv[4]), sys.argv[5]
openssl_rate = rate
if sys.argv[6]:
    rate = max(rate, 1000.0 / float(sys.argv[6]))
import glob
rows = []
for n in sizes:
    paths = glob.glob(os.path.join(out, f"n{n}", "results.json")) + glob.glob(os.path.join(out, f"n{n}-*", "results.json"))
    for path in sorted(paths):
        rows += json.load(open(path))
def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None
lines = ["| controller | N | cold start | RSA limit | vs limit | peak RSS | CPU | API server + etcd CPU | RSA ops | API requests | restart ready | RSA ops on restart | idle | idle CPU | idle RSS |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
for r in rows:
    t, rsa = num(r["time"]), num(r["rsa"])
    limit = rsa / (rate * cores) if rsa and rate else None
    hwm = num(r["hwm_kib"])
    lines.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
        r["impl"], r["n"],
        f"{t:.1f} s" if t else r["status"],
        f"{limit:.1f} s" if limit else "-",
        f"{t / limit:.2f}x" if t and limit else "-",
        f"{hwm / 1024:.1f} MiB" if hwm else "?",
        f"{num(r['cpu']):.1f} s" if num(r["cpu"]) else "?",
        f"{r['control_plane_cpu']} s" if r.get("control_plane_cpu") else "?",
        r["rsa"] or "n/a", r["api"] or "?",
        f"{r['restart']} s" if r["restart"] else "-",
        r["restart_rsa"] or "-",
        f"{r['idle_s']} s" if r.get("idle_s") else "-",
        f"{r['idle_cpu']} %" if r["idle_cpu"] else "-",
        f"{r['idle_rss_mib']} MiB" if r["idle_rss_mib"] else "-"))
ours = {r["n"]: r for r in rows if r["impl"] == "ours"}
ref = {r["n"]: r for r in rows if r["impl"] != "ours"}
lines.append("")
for n, r in sorted(ours.items()):
    other = ref.get(n)
    if other and num(other["hwm_kib"]) and num(r["hwm_kib"]):
        lines.append(f"- N = {n}: peak RSS ours / reference = {num(r['hwm_kib']) / num(other['hwm_kib']):.2f} (target <= 0.25)")
lines.insert(0, f"RSA limit at {rate:.0f} private-key operations per second per core x {cores} cores (openssl speed: {openssl_rate:.0f}/s)\n")
open(os.path.join(out, "report.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))

# Time and peak RSS against N (log-log), one polyline per controller.
W, H, M = 720, 320, 60
def plot(metric, x0, title, unit):
    pts = {}
    for r in rows:
        v = num(r[metric])
        if v:
            pts.setdefault(r["impl"], []).append((int(r["n"]), v / (1024 if metric == "hwm_kib" else 1)))
    if not pts:
        return ""
    import math
    xs = [p[0] for ps in pts.values() for p in ps]
    ys = [p[1] for ps in pts.values() for p in ps]
    lx0, lx1 = math.log10(min(xs)) - 0.1, math.log10(max(xs)) + 0.1
    ly0, ly1 = math.log10(min(ys)) - 0.2, math.log10(max(ys)) + 0.2
    w = W / 2 - M
    def px(x): return x0 + M + (math.log10(x) - lx0) / (lx1 - lx0) * (w - 70)
    def py(y): return H - M + 10 - (math.log10(y) - ly0) / (ly1 - ly0) * (H - M - 20)
    svg = [f'<text x="{x0 + M}" y="18" font-size="14">{title}</text>',
           f'<line x1="{x0 + M}" y1="{H - M + 10}" x2="{x0 + M + w}" y2="{H - M + 10}" stroke="black"/>',
           f'<line x1="{x0 + M}" y1="20" x2="{x0 + M}" y2="{H - M + 10}" stroke="black"/>']
    for x in sorted(set(xs)):
        svg.append(f'<text x="{px(x) - 15}" y="{H - M + 28}" font-size="11">{x}</text>')
    svg.append(f'<text x="{x0 + M + w / 2 - 40}" y="{H - 12}" font-size="12">SealedSecrets (N)</text>')
    colours = {"ours": "#1b7f3b", "reference-unthrottled": "#b03030", "reference": "#b03030"}
    for i, (impl, ps) in enumerate(sorted(pts.items())):
        ps.sort()
        c = colours.get(impl, "#333")
        svg.append('<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>'.format(c, " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in ps)))
        for x, y in ps:
            svg.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{c}"/>')
            svg.append(f'<text x="{px(x) + 5:.1f}" y="{py(y) - 5:.1f}" font-size="10" fill="{c}">{y:.1f} {unit}</text>')
        svg.append(f'<text x="{x0 + M + 10}" y="{40 + 14 * i}" font-size="11" fill="{c}">{impl}</text>')
    return "\n".join(svg)
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif">',
       '<rect width="100%" height="100%" fill="white"/>',
       plot("time", 0, "Cold start to all Synced (s, log)", "s"),
       plot("hwm_kib", W / 2, "Peak RSS (MiB, log)", "MiB"),
       "</svg>"]
open(os.path.join(out, "scale.svg"), "w").write("\n".join(svg) + "\n")
EOF
log "report: $out/report.md, plot: $out/scale.svg"
