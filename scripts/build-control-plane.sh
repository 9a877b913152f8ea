#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kubectl from their Go
# modules and caches them under the user's cache folder, keyed by version. Only the first run pays.
#
#   scripts/build-control-plane.sh             build if missing, print the bin folder last
#   scripts/build-control-plane.sh --bin-dir   only print the bin folder (no build)
#   scripts/build-control-plane.sh --check     only check the Go version and take/release the build
#                                              lock (what test/scripts/build-control-plane.test.ts runs)
#
# Two builds at once (two terminals, or tests in parallel) share one cache folder: a lock file
# (flock, or a lock directory where flock is missing) makes the second wait, then find the first's
# binaries instead of compiling over them.
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

# Kubernetes v1.34's go.mod says go 1.24.0; GOTOOLCHAIN=local (below) forbids fetching a newer one.
GO_MIN_MAJOR=1
GO_MIN_MINOR=24

if [[ "${1:-}" == "--bin-dir" ]]; then echo "$BIN"; exit 0; fi
CHECK_ONLY=false
if [[ "${1:-}" == "--check" ]]; then CHECK_ONLY=true; fi

have_all() { for t in "${TOOLS[@]}"; do [[ -x "$BIN/$t" ]] || return 1; done; }
if ! $CHECK_ONLY && have_all; then
  echo "control plane $KEY: cached in $BIN" >&2
  echo "$BIN"; exit 0
fi

# Up front, before anything is downloaded: which Go, and is it new enough.
need="Go ${GO_MIN_MAJOR}.${GO_MIN_MINOR} or newer is needed to build the control plane ($KEY)"
command -v go >/dev/null || { echo "error: $need; no 'go' on PATH. Install it (https://go.dev/doc/install) or put it on PATH, then run again" >&2; exit 1; }
gover=$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null || true)
if [[ ! "$gover" =~ ^go([0-9]+)\.([0-9]+) ]]; then
  echo "error: $need; could not read the version of $(command -v go) ('go env GOVERSION' said '${gover}')" >&2; exit 1
fi
if (( BASH_REMATCH[1] < GO_MIN_MAJOR || (BASH_REMATCH[1] == GO_MIN_MAJOR && BASH_REMATCH[2] < GO_MIN_MINOR) )); then
  echo "error: $need; found $gover at $(command -v go). Install a newer Go, then run again" >&2; exit 1
fi

# One build at a time per cache key.
mkdir -p "$CACHE_ROOT"
LOCK="$CACHE_ROOT/$KEY.lock"
if command -v flock >/dev/null; then
  exec 9>"$LOCK"
  if ! flock -n 9; then
    echo "another build of the control plane is running (lock $LOCK); waiting for it" >&2
    flock 9
  fi
else
  until mkdir "$LOCK.d" 2>/dev/null; do
    echo "another build of the control plane is running (lock $LOCK.d); waiting for it (remove the folder if no build is running)" >&2
    sleep 5
  done
  trap 'rmdir "$LOCK.d" 2>/dev/null || true' EXIT
fi
if $CHECK_ONLY; then echo "ok: $gover, lock $LOCK" >&2; exit 0; fi
# The build we waited for may have produced everything.
if have_all; then
  echo "control plane $KEY: cached in $BIN (built by the other run)" >&2
  echo "$BIN"; exit 0
fi
start=$(date +%s)
log() { echo "[control-plane $(( $(date +%s) - start ))s] $*" >&2; }

WORK="$OUT/src"
mkdir -p "$WORK" "$BIN"
cd "$WORK"
export GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0

log "resolving k8s.io/kubernetes@$K8S_VERSION ($gover)"
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
trap 'kill $ticker 2>/dev/null || true; rmdir "$LOCK.d" 2>/dev/null || true' EXIT
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
