# Shared settings for the scripts (sourced, not run).
# Builds go to a target directory outside the clone so that fresh clones
# (and CI) reuse earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tessera-target}"
export TESSERA_TOOLS_DIR="${TESSERA_TOOLS_DIR:-$HOME/.cache/tessera-tools}"
export PATH="$HOME/.cargo/bin:$TESSERA_TOOLS_DIR/binaryen/node_modules/.bin:$PATH"
# cargo-leptos writes the site (wasm, JS, CSS) under the target directory.
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-$CARGO_TARGET_DIR/site}"
