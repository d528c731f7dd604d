#!/usr/bin/env bash
# Sets up and runs every test tier:
#   1. domain   pure rules, no database
#   2. backend  repository and use-case tests on SQLite and PostgreSQL
#   3. server   HTTP tests against a spawned app on SQLite and PostgreSQL
#   4. end2end  Playwright in Debian's Chromium against the built app, with
#               axe-core on every portal and signup page; schemathesis against
#               the REST API's OpenAPI document
# and then builds the release the run command serves, and runs Lighthouse
# (mobile) on it: the portal home and the signup page.
# PostgreSQL parts run when TEST_POSTGRES_URL is set (each test makes and drops
# its own database); otherwise they are skipped, and this says so.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
export LEPTOS_SITE_ROOT="$(site_root_for test)"
started=$(date +%s)

./scripts/install-tools.sh

if ! command -v chromium >/dev/null 2>&1; then
  echo "==> installing Chromium from Debian (for the end-to-end tests)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
echo "==> npm packages of end2end/"
(cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)

if [ -n "${TEST_POSTGRES_URL:-}" ]; then
  echo "==> PostgreSQL tier: ON ($TEST_POSTGRES_URL)"
else
  echo "==> PostgreSQL tier: SKIPPED (set TEST_POSTGRES_URL=postgres://user@host:port/db to run it)"
fi

echo "==> design: no import circle between the modules of a crate"
python3 scripts/module-cycles.py domain/src backend/src app/src server/src
python3 scripts/backend-tiers.py backend/src

echo "==> formatting and lints"
cargo fmt --all -- --check
cargo clippy --workspace --exclude frontend --all-targets --locked -- -D warnings

# frontend is left out: building it with the others would turn on the `hydrate`
# feature of `app` in the server tests too (features unify within one build).
echo "==> tiers 1-3: cargo test (domain, backend, server)"
test_log=$(mktemp)
e2e_dir=$(mktemp -d)
trap 'rm -rf "$e2e_dir" "$test_log"' EXIT
cargo test --workspace --exclude frontend --locked 2>&1 | tee "$test_log"

echo "==> tier 4: building the app for the browser tests"
cargo leptos build
export E2E_PORT="${E2E_PORT:-3456}"
export E2E_SERVER_CMD="env DATABASE_URL=sqlite://$e2e_dir/e2e.db TESSERA_ADDR=127.0.0.1:$E2E_PORT TESSERA_PORTAL_CODES_PER_CLIENT=1000 TESSERA_SIGNUPS_PER_CLIENT=1000 RUST_LOG=warn $CARGO_TARGET_DIR/debug/server serve --demo"
echo "==> tier 4: Playwright in /usr/bin/chromium"
(cd end2end && npx playwright test)

echo "==> API: schemathesis against /api/v1/openapi.json (no 5xx, every answer as documented)"
./scripts/schemathesis.sh "$CARGO_TARGET_DIR/debug/server" "$e2e_dir" "$((E2E_PORT + 2))"

# The release build is what the run command serves (optimized, with LTO, so
# it catches what the debug build cannot); it also warms the run command.
echo "==> release build (the run command's)"
LEPTOS_SITE_ROOT="$(site_root_for release)" cargo leptos build --release

# Lighthouse measures what members get: the release build, on a fresh demo.
echo "==> Lighthouse (mobile) on the portal home and the signup page"
lh_port=$((E2E_PORT + 1))
DATABASE_URL="sqlite://$e2e_dir/lighthouse.db" TESSERA_ADDR="127.0.0.1:$lh_port" RUST_LOG=warn \
  LEPTOS_SITE_ROOT="$(site_root_for release)" "$CARGO_TARGET_DIR/release/server" serve --demo &
lh_pid=$!
trap 'kill "$lh_pid" 2>/dev/null || true; rm -rf "$e2e_dir" "$test_log"' EXIT
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$lh_port/healthz" >/dev/null 2>&1 && break
  sleep 1
done
node end2end/lighthouse.mjs "http://127.0.0.1:$lh_port"
kill "$lh_pid" 2>/dev/null || true

passed=$(grep -oE 'test result: ok\. [0-9]+ passed' "$test_log" | awk '{s+=$4} END {print s+0}')
echo "==> all tiers passed: $passed cargo tests and the Playwright suite, in $(( $(date +%s) - started )) s"
