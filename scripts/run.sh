#!/usr/bin/env bash
# Sets up and runs Tessera on the embedded SQLite database with the demo club.
# The first run installs the build tools (about half an hour, once) and builds
# the release; later runs start in seconds. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
export LEPTOS_SITE_ROOT="$(site_root_for release)"

./scripts/install-tools.sh
echo "==> building Tessera (release)"
cargo leptos build --release
mkdir -p data
export DATABASE_URL="${DATABASE_URL:-sqlite://data/tessera.db}"
export TESSERA_ADDR="${TESSERA_ADDR:-127.0.0.1:3000}"
echo "==> starting on http://$TESSERA_ADDR (database: $DATABASE_URL)"
exec "$CARGO_TARGET_DIR/release/server" serve --demo
