#!/usr/bin/env bash
# `make pulumi`: find or build the Pulumi CLI this project runs. Last line of output: the
# absolute path of the `pulumi` binary.
#
# 0. $OMICS_DYNAMIC_PULUMI, when set, must be a CLI that answers `pulumi version` (else fails).
# 1. A `pulumi` on PATH (installed as Pulumi documents) that answers `pulumi version` is
#    used as it is, unless OMICS_DYNAMIC_BUILD_PULUMI=1 asks for the pinned build.
# 2. Else the pinned build in the per-version cache outside the checkout
#    ($OMICS_DYNAMIC_CACHE, default ${XDG_CACHE_HOME:-$HOME/.cache}/omics-dynamic), shared by
#    every clone on this machine.
# 3. Else, where `go` exists, builds the pinned version from the Go module proxy into that cache:
#    the CLI (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi), the Python language host (its own
#    module, at the commit the release was cut from) and the two scripts the CLI runs for a
#    Python program with a dynamic provider (pulumi-language-python-exec,
#    pulumi-resource-pulumi-python), copied from the sdk/v3 module. Nothing is downloaded but
#    Go modules; nothing of pulumi's is written into the checkout.
# 4. Else fails with one line saying what to install.
set -euo pipefail

VERSION="${PULUMI_CLI_VERSION:-v3.276.0}"
CACHE="${OMICS_DYNAMIC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/omics-dynamic}"
DEST="$CACHE/pulumi-$VERSION"
BIN="$DEST/bin"
say() { printf 'make pulumi: %s\n' "$*" >&2; }

if [ -n "${OMICS_DYNAMIC_PULUMI:-}" ]; then
  if [ -x "$OMICS_DYNAMIC_PULUMI" ] && [ -f "$OMICS_DYNAMIC_PULUMI" ] && "$OMICS_DYNAMIC_PULUMI" version >/dev/null 2>&1; then
    say "using OMICS_DYNAMIC_PULUMI=$OMICS_DYNAMIC_PULUMI ($("$OMICS_DYNAMIC_PULUMI" version))"
    printf '%s\n' "$(cd "$(dirname "$OMICS_DYNAMIC_PULUMI")" && pwd -P)/$(basename "$OMICS_DYNAMIC_PULUMI")"
    exit 0
  fi
  echo "make pulumi: OMICS_DYNAMIC_PULUMI=$OMICS_DYNAMIC_PULUMI is not a pulumi CLI that answers \`pulumi version\`: unset it, or point it at one" >&2
  exit 1
fi

if [ "${OMICS_DYNAMIC_BUILD_PULUMI:-0}" != 1 ] && command -v pulumi >/dev/null 2>&1; then
  found="$(command -v pulumi)"
  if version="$("$found" version 2>/dev/null)" && [ -n "$version" ]; then
    say "using the pulumi on PATH ($version)"
    printf '%s\n' "$(cd "$(dirname "$found")" && pwd -P)/$(basename "$found")"
    exit 0
  fi
  say "the pulumi on PATH ($found) does not answer \`pulumi version\`: not using it"
fi

if [ -f "$BIN/.complete" ]; then
  say "using the cached build of pulumi $VERSION in $BIN"
  printf '%s\n' "$BIN/pulumi"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "make pulumi: no pulumi CLI on PATH and no Go toolchain to build one: install the Pulumi CLI (https://www.pulumi.com/docs/install/) or Go 1.26.6 or newer (pulumi v3.276.0 needs it; https://go.dev/doc/install), then rerun." >&2
  exit 1
fi

start=$(date +%s)
say "no pulumi on PATH: building pulumi $VERSION with $(go version | cut -d' ' -f3) from the Go module proxy into $DEST"
say "(a cold build fills about 1.5 GB of Go module cache and 1.7 GB of Go build cache and took 10.5 minutes on 2 cores; later clones reuse it)"
mkdir -p "$CACHE"
work="$(mktemp -d "$CACHE/build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"

log="$work/build.log"
# Run a go command with its output in the build log; on failure show the log's end.
quiet() { "$@" >>"$log" 2>&1 || { tail -n 40 "$log" >&2; echo "make pulumi: \`$*\` failed (above)" >&2; exit 1; }; }
export GOFLAGS="${GOFLAGS:-} -mod=mod"
export GOTOOLCHAIN=local CGO_ENABLED=0
quiet go mod init omics-dynamic/pulumi-build
# pkg/v3's own go.mod replaces the clipboard module (a Windows-only fix); a wrapper module
# must repeat it, since replace lines apply only in the main module.
go mod edit -replace github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e

say "downloading modules: pulumi $VERSION (pkg/v3 and sdk/v3)"
quiet go get "github.com/pulumi/pulumi/pkg/v3@$VERSION" "github.com/pulumi/pulumi/sdk/v3@$VERSION"
quiet go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$VERSION"
# The Python language host is its own module without version tags, served only as a
# pseudo-version of the release commit. Where the proxy serves it, it is built too;
# where it does not (the proxy answers 403 "not available"), Python programs run through the
# Automation API as inline programs, which need no language host.
host=""
hash="$(go mod download -json "github.com/pulumi/pulumi/pkg/v3@$VERSION" | sed -n 's/.*"Hash": "\([0-9a-f]\{40\}\)".*/\1/p' | head -n1)"
if [ -n "$hash" ] && go get "github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3@$hash" >>"$log" 2>&1; then
  host="github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3"
  # The host asks for an older pkg/sdk: pin both back to the release.
  quiet go get "github.com/pulumi/pulumi/pkg/v3@$VERSION" "github.com/pulumi/pulumi/sdk/v3@$VERSION"
else
  say "the Go module proxy does not serve the Python language host (pulumi-language-python) for $VERSION: building the CLI alone; Python programs run as Automation API inline programs"
fi

flags=(-trimpath -tags osusergo,grpcnotrace -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$VERSION")
out="$work/bin"
mkdir -p "$out"
say "compiling pulumi (the longest step)"
quiet go build "${flags[@]}" -o "$out/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
if [ -n "$host" ]; then
  say "compiling pulumi-language-python"
  quiet go build "${flags[@]}" -o "$out/pulumi-language-python" "$host"
  install -m 0755 "$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)/python/cmd/pulumi-language-python-exec" "$out/"
fi
sdk="$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
install -m 0755 "$sdk/python/dist/pulumi-resource-pulumi-python" "$out/pulumi-resource-pulumi-python"
"$out/pulumi" version >/dev/null

rm -rf "$BIN"
mkdir -p "$DEST"
mv "$out" "$BIN"
touch "$BIN/.complete"
say "built pulumi $("$BIN/pulumi" version) in $(( $(date +%s) - start )) s; $(du -sh "$BIN" | cut -f1) in $BIN"
printf '%s\n' "$BIN/pulumi"
