# Shared settings for the scripts (sourced, not run).
# Builds go to a target directory outside the clone so that fresh clones
# (and CI) reuse earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tessera-target}"
export TESSERA_TOOLS_DIR="${TESSERA_TOOLS_DIR:-$HOME/.cache/tessera-tools}"
export PATH="$HOME/.cargo/bin:$TESSERA_TOOLS_DIR/binaryen/node_modules/.bin:$PATH"
# cargo-leptos writes the site (wasm, JS, CSS) to LEPTOS_SITE_ROOT and bakes
# that path into the server it builds. The run command (release) and the test
# command (debug) each keep their own, so neither overwrites the other's.
site_root_for() { echo "$CARGO_TARGET_DIR/site-$1"; }
