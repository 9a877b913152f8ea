#!/usr/bin/env bash
# Builds the helm CLI from its Go module and caches it under the user's cache folder. Prints the
# binary's path last.
#
# The Kubernetes version helm assumes without a cluster (`helm template`, `helm lint`) is set at build
# time, the way helm's own Makefile does: the variables k8sVersionMajor/k8sVersionMinor of
# helm.sh/helm/v3/pkg/chartutil (.Capabilities.KubeVersion) and pkg/lint/rules (deprecation checks).
# Left at helm's fallback (v1.20) a `kubeVersion: ">=1.30.0-0"` chart could only be rendered with
# --kube-version. It follows the control plane's version (scripts/build-control-plane.sh).
#
# Idempotent and cache-stamped: the stamp file next to the binary records everything the build
# depends on; when it differs (new helm or Kubernetes version, new flags) helm is rebuilt in place.
set -euo pipefail
HELM_VERSION="${HELM_VERSION:-v3.19.0}"
K8S_VERSION="${K8S_VERSION:-v1.34.4}"
k8s_major="${K8S_VERSION#v}"; k8s_major="${k8s_major%%.*}"
k8s_minor="${K8S_VERSION#v*.}"; k8s_minor="${k8s_minor%%.*}"
[[ "$k8s_major" =~ ^[0-9]+$ && "$k8s_minor" =~ ^[0-9]+$ ]] || { echo "error: K8S_VERSION must look like v1.34.4, got '$K8S_VERSION'" >&2; exit 1; }
OUT="${XDG_CACHE_HOME:-$HOME/.cache}/module-controller/helm-${HELM_VERSION}"
BIN="$OUT/bin/helm"
STAMP_FILE="$OUT/bin/helm.stamp"
LDFLAGS="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
for pkg in pkg/chartutil pkg/lint/rules; do
  LDFLAGS+=" -X helm.sh/helm/v3/$pkg.k8sVersionMajor=$k8s_major -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$k8s_minor"
done
STAMP="helm=$HELM_VERSION ldflags=$LDFLAGS b1"
if [[ -x "$BIN" && -f "$STAMP_FILE" && "$(cat "$STAMP_FILE")" == "$STAMP" ]]; then echo "$BIN"; exit 0; fi
command -v go >/dev/null || { echo "error: Go is required to build helm" >&2; exit 1; }
mkdir -p "$OUT/src" "$OUT/bin"
# Two builds at once must not interleave (tests and CI may both call this).
exec 9>"$OUT/.lock"
flock 9
if [[ -x "$BIN" && -f "$STAMP_FILE" && "$(cat "$STAMP_FILE")" == "$STAMP" ]]; then echo "$BIN"; exit 0; fi
cd "$OUT/src"
export GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0
echo "[helm] building helm $HELM_VERSION (default Kubernetes v$k8s_major.$k8s_minor) from its Go module" >&2
printf 'module module-controller.local/helm\n\ngo 1.24.0\n\nrequire helm.sh/helm/v3 %s\n' "$HELM_VERSION" > go.mod
go mod download helm.sh/helm/v3 >&2
go build -trimpath -ldflags "$LDFLAGS" -o "$OUT/bin/helm.new" helm.sh/helm/v3/cmd/helm >&2
mv -f "$OUT/bin/helm.new" "$BIN"
printf '%s' "$STAMP" > "$STAMP_FILE"
echo "[helm] done" >&2
echo "$BIN"
