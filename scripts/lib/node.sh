# shellcheck shell=bash disable=SC2153 # NODE_IP and friends come from scripts/control-plane
# The control plane's node: containerd + runc + CNI bridge and a kubelet in
# the node network namespace, and kube-scheduler beside the API server.
# Sourced by scripts/control-plane, which provides STATE_DIR, PKI, NETNS,
# NODE_IP, HOST_IP, APISERVER_PORT, SERVICE_CIDR, BIN_DIR, CRI_DIR and the
# helpers log, die, start_daemon, running_pid, stop_daemons, gen_cert,
# write_kubeconfig, wait_for, check_alive, admin_kubectl.
#
# Why it looks the way it does (see docs/control-plane.md, "The node"):
# - cgroups are v1 here: kubelet failCgroupV1: false, cgroupDriver: cgroupfs;
# - no CAP_SYS_RESOURCE: containerd restrict_oom_score_adj, kubelet
#   oomScoreAdj: 0 and maxOpenFiles within the hard limit;
# - `ip netns exec` remounts /sys (empty cgroups inside), so node processes
#   start with `nsenter --net`;
# - the kubelet sets three machine-wide sysctls: recorded here, restored on down;
# - in-cluster clients dial the `kubernetes` Service's IP and there is no
#   kube-proxy: one DNAT rule in the node namespace sends it to the API server.

NODE_DIR="$STATE_DIR/node"
NODE_NAME=$NETNS
CONTAINERD_SOCK="$NODE_DIR/containerd/containerd.sock"
KUBELET_ROOT="$NODE_DIR/kubelet"
# The kubelet's pods live in this cgroup (per control plane, so two planes on
# one machine never share one), under every v1 hierarchy.
NODE_CGROUP="ssrs-$NETNS"
SYSCTLS_FILE="$NODE_DIR/sysctls.before"
# The kubelet writes these unconditionally (protectKernelDefaults: false).
KUBELET_SYSCTLS=(vm.overcommit_memory kernel.panic kernel.panic_on_oops)
PAUSE_IMAGE=registry.k8s.io/pause:3.10.2

node_exec() { nsenter --net="/run/netns/$NETNS" "$@"; }
crictl_node() { "$CRI_DIR/crictl" --runtime-endpoint "unix://$CONTAINERD_SOCK" --timeout 30s "$@"; }
ctr_node() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

# cgroup_hierarchies [all]: the v1 hierarchies the kubelet needs (it checks
# name=systemd too); with `all` also the cgroup2 one, where it makes the same
# cgroups.
cgroup_hierarchies() {
  local d
  for d in /sys/fs/cgroup/*/; do
    d=${d%/}
    [[ ${d##*/} == unified && ${1:-} != all ]] && continue
    [[ -f "$d/cgroup.procs" ]] && echo "$d"
  done
}

setup_node_pki() {
  gen_cert "kubelet-client-$NODE_NAME" "/O=system:nodes/CN=system:node:$NODE_NAME" "extendedKeyUsage=clientAuth"
  gen_cert "kubelet-serving-$NODE_NAME" "/CN=$NODE_NAME" "extendedKeyUsage=serverAuth" \
    "subjectAltName=IP:$NODE_IP,DNS:$NODE_NAME"
  gen_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "extendedKeyUsage=clientAuth"
  gen_cert kube-scheduler "/CN=system:kube-scheduler" "extendedKeyUsage=clientAuth"
}

# Static pause binary from the Kubernetes module, as an OCI archive.
build_pause_image() {
  local out="$NODE_DIR/pause.oci.tar" src work
  [[ -f "$out" ]] && return 0
  src=$(GOTOOLCHAIN=local GOFLAGS=-mod=mod go env GOMODCACHE)/k8s.io/kubernetes@$KUBERNETES_VERSION/build/pause/linux/pause.c
  [[ -f "$src" ]] || die "no $src (scripts/install-tools downloads the Kubernetes module)"
  work=$(mktemp -d "$NODE_DIR/pause.XXXXXX")
  gcc -Os -Wall -static -DVERSION="v3.10.2-ssrs" -o "$work/pause" "$src" ||
    die "cannot compile pause.c (apt-get install gcc libc6-dev)"
  umoci init --layout "$work/layout" >/dev/null
  umoci new --image "$work/layout:3.10.2" >/dev/null
  umoci unpack --rootless --image "$work/layout:3.10.2" "$work/bundle" >/dev/null 2>&1 ||
    umoci unpack --image "$work/layout:3.10.2" "$work/bundle" >/dev/null
  install -m 0755 "$work/pause" "$work/bundle/rootfs/pause"
  umoci repack --image "$work/layout:3.10.2" "$work/bundle" >/dev/null
  umoci config --image "$work/layout:3.10.2" --config.entrypoint /pause \
    --config.user 65535:65535 --os linux --architecture amd64 >/dev/null
  # ctr reads the image's name from this annotation of the index.
  python3 - "$work/layout/index.json" "$PAUSE_IMAGE" <<'EOF'
import json, sys
path, name = sys.argv[1:3]
index = json.load(open(path))
for m in index["manifests"]:
    m.setdefault("annotations", {})["io.containerd.image.name"] = name
json.dump(index, open(path, "w"))
EOF
  tar -C "$work/layout" -cf "$out.tmp" .
  mv -f "$out.tmp" "$out"
  rm -rf "$work"
}

write_node_configs() {
  mkdir -p "$NODE_DIR/containerd" "$NODE_DIR/cni" "$NODE_DIR/pod-logs" "$KUBELET_ROOT"
  cat >"$NODE_DIR/containerd/config.toml" <<EOF
# Written by scripts/control-plane up.
version = 2
root = "$NODE_DIR/containerd/root"
state = "$NODE_DIR/containerd/state"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$NODE_DIR/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$NODE_DIR/cni"
EOF
  cat >"$NODE_DIR/cni/10-bridge.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "ssrs-pods",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$NODE_DIR/cni-ipam",
        "ranges": [[{"subnet": "$POD_CIDR"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  cat >"$NODE_DIR/kubelet-config.yaml" <<EOF
# Written by scripts/control-plane up.
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /$NODE_CGROUP
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $PKI/kubelet-serving-$NODE_NAME.crt
tlsPrivateKeyFile: $PKI/kubelet-serving-$NODE_NAME.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization:
  mode: Webhook
oomScoreAdj: 0
maxOpenFiles: $(ulimit -Hn)
failSwapOn: false
clusterDomain: cluster.local
podLogsDir: $NODE_DIR/pod-logs
# The machine's disk is shared: never evict or collect images because of it.
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
nodeStatusReportFrequency: 10s
syncFrequency: 10s
EOF
}

record_sysctls() {
  [[ -f "$SYSCTLS_FILE" ]] && return 0
  local s
  for s in "${KUBELET_SYSCTLS[@]}"; do
    printf '%s=%s\n' "$s" "$(sysctl -n "$s")"
  done >"$SYSCTLS_FILE.tmp"
  mv -f "$SYSCTLS_FILE.tmp" "$SYSCTLS_FILE"
}

restore_sysctls() {
  [[ -f "$SYSCTLS_FILE" ]] || return 0
  local line
  while IFS= read -r line; do
    [[ -n "$line" ]] && sysctl -q -w "$line" >/dev/null
  done <"$SYSCTLS_FILE"
  log "restored ${KUBELET_SYSCTLS[*]}"
  rm -f "$SYSCTLS_FILE"
}

# In-cluster clients dial the first Service IP on 443: send it to the API
# server's forward at the host end of the veth pair (no kube-proxy here).
setup_node_network() {
  local svc_ip
  svc_ip=$(first_service_ip)
  if ! node_exec iptables -t nat -C PREROUTING -d "$svc_ip/32" -p tcp --dport 443 \
    -j DNAT --to-destination "$HOST_IP:$APISERVER_PORT" 2>/dev/null; then
    node_exec iptables -t nat -A PREROUTING -d "$svc_ip/32" -p tcp --dport 443 \
      -j DNAT --to-destination "$HOST_IP:$APISERVER_PORT"
  fi
  # The API server's service proxy (host namespace) reaches pods through the node.
  ip route replace "$POD_CIDR" via "$NODE_IP"
  node_exec sysctl -q -w net.ipv4.ip_forward=1
  local h
  for h in $(cgroup_hierarchies); do mkdir -p "$h/$NODE_CGROUP"; done
  # cpuset children start empty; the kubelet's own cgroups inherit from here.
  if [[ -d /sys/fs/cgroup/cpuset/$NODE_CGROUP ]]; then
    cat /sys/fs/cgroup/cpuset/cpuset.cpus >"/sys/fs/cgroup/cpuset/$NODE_CGROUP/cpuset.cpus"
    cat /sys/fs/cgroup/cpuset/cpuset.mems >"/sys/fs/cgroup/cpuset/$NODE_CGROUP/cpuset.mems"
  fi
}

start_node() {
  local kubeconfig_dir=$STATE_DIR
  setup_node_pki
  write_kubeconfig "$kubeconfig_dir/kube-scheduler.kubeconfig" "https://127.0.0.1:$APISERVER_PORT" kube-scheduler
  write_kubeconfig "$kubeconfig_dir/kubelet.kubeconfig" "https://$HOST_IP:$APISERVER_PORT" "kubelet-client-$NODE_NAME"

  start_daemon kube-scheduler "$BIN_DIR/kube-scheduler" \
    --kubeconfig="$kubeconfig_dir/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig="$kubeconfig_dir/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig="$kubeconfig_dir/kube-scheduler.kubeconfig" \
    --bind-address=127.0.0.1 \
    --secure-port="$SCHEDULER_PORT" \
    --leader-elect=false \
    --profiling=false \
    --v=1

  write_node_configs
  build_pause_image
  setup_node_network
  start_daemon containerd env PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    nsenter --net="/run/netns/$NETNS" containerd --config "$NODE_DIR/containerd/config.toml"
  if ! wait_for "containerd ready" 60 eval 'check_alive containerd && ctr_node version >/dev/null 2>&1'; then
    die "containerd did not answer on $CONTAINERD_SOCK (log: $(log_file containerd))"
  fi
  if ! ctr_node images ls -q 2>/dev/null | grep -qx "$PAUSE_IMAGE"; then
    ctr_node images import "$NODE_DIR/pause.oci.tar" >/dev/null ||
      die "cannot import the pause image into containerd"
  fi

  record_sysctls
  start_daemon kubelet env PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    nsenter --net="/run/netns/$NETNS" "$BIN_DIR/kubelet" \
    --config="$NODE_DIR/kubelet-config.yaml" \
    --kubeconfig="$kubeconfig_dir/kubelet.kubeconfig" \
    --root-dir="$KUBELET_ROOT" \
    --hostname-override="$NODE_NAME" \
    --node-ip="$NODE_IP" \
    --v=1
  if ! wait_for "node $NODE_NAME Ready" "$READY_TIMEOUT" eval 'check_alive kubelet && check_alive containerd && node_ready'; then
    tail -n 30 "$(log_file kubelet)" >&2 || true
    die "node $NODE_NAME not Ready after ${READY_TIMEOUT}s (logs in $STATE_DIR/logs)"
  fi
}

node_ready() {
  [[ $(admin_kubectl get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]
}

# `load-image ARCHIVE...`: OCI archives into the node's containerd, under the
# names their index gives (as `kind load image-archive`).
cmd_load_image() {
  [[ $# -gt 0 ]] || die "usage: load-image ARCHIVE..."
  running_pid containerd >/dev/null || die "the node's containerd is not running; run: scripts/control-plane up"
  local archive
  for archive in "$@"; do
    [[ -f "$archive" ]] || die "no such image archive: $archive (scripts/build-image writes them)"
    ctr_node images import "$archive" >&2 || die "cannot import $archive"
  done
}

# `images`: the names of the images in the node's containerd, one per line.
cmd_images() {
  running_pid containerd >/dev/null || die "the node's containerd is not running; run: scripts/control-plane up"
  ctr_node images ls -q | grep -v '^sha256:'
}

# Everything the node made, removed in dependency order. Safe to run twice
# and after a crash: each step looks at what is there.
stop_node() {
  local pid
  stop_daemons kubelet kube-scheduler
  if running_pid containerd >/dev/null && [[ -x "$CRI_DIR/crictl" ]]; then
    record_pod_netns
    # Stops containers and sandboxes: CNI teardown, netns and mounts removed.
    crictl_node rmp --all --force >/dev/null 2>&1 || log "crictl rmp failed; cleaning up by hand"
  fi
  stop_daemons containerd
  # Shims (and their containers) of this containerd that outlived it.
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK( |\$)" || true); do
    kill -KILL "$pid" 2>/dev/null || true
  done
  kill_node_cgroup_processes
  remove_node_netns
  if [[ -d "$NODE_DIR" ]]; then
    local m
    # Deepest first: pod volumes, rootfs and shm mounts, the kubelet's bind mounts.
    while IFS= read -r m; do
      umount -l "$m" 2>/dev/null || true
    done < <(awk -v d="$NODE_DIR/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)
  fi
  remove_node_cgroups
  ip route del "$POD_CIDR" via "$NODE_IP" 2>/dev/null || true
  restore_sysctls
}

kill_node_cgroup_processes() {
  local h pids
  for h in $(cgroup_hierarchies all); do
    [[ -d "$h/$NODE_CGROUP" ]] || continue
    pids=$(find "$h/$NODE_CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)
    [[ -z "$pids" ]] && continue
    log "killing processes left in $h/$NODE_CGROUP: $(echo "$pids" | tr '\n' ' ')"
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
  done
  sleep 0.2
}

# Pod network namespaces (/run/netns/cni-*) of this containerd's sandboxes,
# recorded while it still answers, so they can be removed even if it fails
# to remove them itself.
record_pod_netns() {
  local id
  for id in $(crictl_node pods -q 2>/dev/null); do
    crictl_node inspectp -o json "$id" 2>/dev/null | python3 -c '
import json, sys
spec = json.load(sys.stdin).get("info", {}).get("runtimeSpec", {})
for ns in spec.get("linux", {}).get("namespaces", []):
    if ns.get("type") == "network" and ns.get("path"):
        print(ns["path"])' || true
  done >>"$NODE_DIR/pod-netns"
}

remove_node_netns() {
  local ns
  [[ -f "$NODE_DIR/pod-netns" ]] || return 0
  while IFS= read -r ns; do
    [[ -n "$ns" && -e "$ns" ]] || continue
    umount "$ns" 2>/dev/null || true
    rm -f "$ns"
  done <"$NODE_DIR/pod-netns"
}

remove_node_cgroups() {
  local h d
  for h in $(cgroup_hierarchies all); do
    [[ -d "$h/$NODE_CGROUP" ]] || continue
    # Leaves first.
    while IFS= read -r d; do
      rmdir "$d" 2>/dev/null || log "cannot remove cgroup $d"
    done < <(find "$h/$NODE_CGROUP" -depth -type d)
  done
}
