#!/usr/bin/env bash
# Builds the helm CLI from its Go module and caches it under the user's cache folder (first run only).
# Prints the binary's path last.
set -euo pipefail
HELM_VERSION="${HELM_VERSION:-v3.19.0}"
OUT="${XDG_CACHE_HOME:-$HOME/.cache}/module-controller/helm-${HELM_VERSION}"
BIN="$OUT/bin/helm"
if [[ -x "$BIN" ]]; then echo "$BIN"; exit 0; fi
command -v go >/dev/null || { echo "error: Go is required to build helm" >&2; exit 1; }
mkdir -p "$OUT/src" "$OUT/bin"
cd "$OUT/src"
export GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0
echo "[helm] building helm $HELM_VERSION from its Go module (first run only)" >&2
printf 'module module-controller.local/helm\n\ngo 1.24.0\n\nrequire helm.sh/helm/v3 %s\n' "$HELM_VERSION" > go.mod
go mod download helm.sh/helm/v3 >&2
go build -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" -o "$OUT/bin/" helm.sh/helm/v3/cmd/helm >&2
echo "[helm] done" >&2
echo "$BIN"
