#!/usr/bin/env bash
# Builds gofakes3 (an S3-compatible object store server) from the Go module
# proxy into $REPO/.tools/bin/gofakes3: the emulator the collector's gs://
# and s3:// tests upload to (GCS's XML API, which object_store's GCS client
# speaks, is S3's). Idempotent.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${GOFAKES3_BIN_DIR:-$REPO/.tools/bin}"
DEST="$BIN_DIR/gofakes3"
VERSION="${GOFAKES3_VERSION:-v1.2.0}"

if [[ -x "$DEST" ]]; then
    echo "install-gofakes3: $DEST already present; nothing to do"
    exit 0
fi
echo "install-gofakes3: building github.com/johannesboyne/gofakes3@$VERSION with $(go version)"
mkdir -p "$BIN_DIR"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# Build to a temporary name: an interrupted build never leaves a broken binary.
GOBIN="$WORK" go install "github.com/johannesboyne/gofakes3/cmd/gofakes3@$VERSION"
mv -f "$WORK/gofakes3" "$DEST"
echo "install-gofakes3: installed $DEST"
