#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kubectl from their Go
# modules and caches them under the user's cache folder, keyed by version. Only the first run pays.
#
#   scripts/build-control-plane.sh             build if missing, print the bin folder last
#   scripts/build-control-plane.sh --bin-dir   only print the bin folder (no build)
#
# k8s.io/kubernetes is not meant to be consumed as a module: its go.mod replaces every k8s.io/*
# staging module with a local path and requires them at v0.0.0. A module of ours therefore pins
# each staging module to the matching v0.x release through `replace`, read from that go.mod.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.34.4}"
# etcd is built from the same module graph: v1.34's go.mod already requires etcd server v3.6.4.
ETCD_VERSION="v3.6.4"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/module-controller/control-plane"
# Bump the suffix when build flags change, so cached binaries are rebuilt.
KEY="k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}-b2"
OUT="$CACHE_ROOT/$KEY"
BIN="$OUT/bin"
TOOLS=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl)

if [[ "${1:-}" == "--bin-dir" ]]; then echo "$BIN"; exit 0; fi

have_all() { for t in "${TOOLS[@]}"; do [[ -x "$BIN/$t" ]] || return 1; done; }
if have_all; then
  echo "control plane $KEY: cached in $BIN" >&2
  echo "$BIN"; exit 0
fi

command -v go >/dev/null || { echo "error: Go is required to build the control plane (install Go 1.24+)" >&2; exit 1; }
start=$(date +%s)
log() { echo "[control-plane $(( $(date +%s) - start ))s] $*" >&2; }

WORK="$OUT/src"
mkdir -p "$WORK" "$BIN"
cd "$WORK"
export GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0

log "resolving k8s.io/kubernetes@$K8S_VERSION (Go $(go env GOVERSION))"
gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
[[ -f "$gomod" ]] || { echo "error: could not download k8s.io/kubernetes@$K8S_VERSION" >&2; exit 1; }
staging_version="v0.${K8S_VERSION#v1.}"
{
  echo "module module-controller.local/control-plane"
  echo
  echo "go 1.24.0"
  echo
  echo "require ("
  echo "	k8s.io/kubernetes $K8S_VERSION"
  echo "	go.etcd.io/etcd/server/v3 $ETCD_VERSION"
  echo ")"
  echo
  echo "replace ("
  grep -E '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$gomod" | awk -v v="$staging_version" '{print "\t" $1 " => " $1 " " v}'
  echo ")"
} > go.mod
log "go.mod written with $(grep -c ' => ' go.mod) staging pins at $staging_version"

log "downloading modules (first run only)"
go mod download k8s.io/kubernetes go.etcd.io/etcd/server/v3 >&2

pkgs=(go.etcd.io/etcd/server/v3 k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
      k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
log "compiling ${TOOLS[*]} (a cold build takes 10-30 minutes on 2 cores; progress below)"
# A ticker so a long, silent compile does not look like a hang.
( while sleep 60; do log "still compiling..."; done ) & ticker=$!
trap 'kill $ticker 2>/dev/null || true' EXIT
tmp="$OUT/tmp-bin"; rm -rf "$tmp"; mkdir -p "$tmp"
# Stamp the release into the binaries (as Kubernetes' own build does), so the API server reports
# v1.34.x and tools that check the server version (helm's kubeVersion, kubectl) work.
minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
ver=""
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ver="$ver -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
done
go build -trimpath -ldflags "-s -w $ver" -o "$tmp/" "${pkgs[@]}" >&2
# go build names a binary after the last path element of its package: .../server/v3 → "server".
mv "$tmp/server" "$tmp/etcd"
for t in "${TOOLS[@]}"; do mv "$tmp/$t" "$BIN/$t"; done
rm -rf "$tmp"
log "done: $(ls "$BIN" | tr '\n' ' ')"
echo "$BIN"
