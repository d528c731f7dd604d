#!/usr/bin/env bash
# Installs the build tools Tessera needs, each only when the right version is
# missing: the wasm32 target, cargo-leptos, the wasm-bindgen CLI matching
# Cargo.lock, and wasm-opt from npm's binaryen. Safe to run twice.
set -euo pipefail

LEPTOS_VERSION=0.3.11
WASM_BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=132
TOOLS_DIR="${TESSERA_TOOLS_DIR:-$HOME/.cache/tessera-tools}"
export PATH="$HOME/.cargo/bin:$TOOLS_DIR/binaryen/node_modules/.bin:$PATH"

say() { printf '==> %s\n' "$*"; }

# cargo install a crate whose newest dependencies need a newer rustc: fetch its
# source through a first (failing) install, pin one dependency, install from path.
install_pinned() {
  local crate=$1 version=$2 dep=$3 dep_version=$4
  local src
  src=$(ls -d "$HOME"/.cargo/registry/src/*/"$crate-$version" 2>/dev/null | head -n 1 || true)
  if [ -z "$src" ]; then
    cargo install "$crate" --version "$version" --locked >/dev/null 2>&1 || true
    src=$(ls -d "$HOME"/.cargo/registry/src/*/"$crate-$version" 2>/dev/null | head -n 1 || true)
  fi
  if [ -z "$src" ]; then
    echo "could not fetch the source of $crate $version through cargo" >&2
    exit 1
  fi
  local work="$TOOLS_DIR/src/$crate-$version"
  rm -rf "$work"
  mkdir -p "$TOOLS_DIR/src"
  cp -r "$src" "$work"
  (cd "$work" && cargo update -p "$dep" --precise "$dep_version" && cargo install --path . --locked --force)
}

mkdir -p "$TOOLS_DIR"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(cargo leptos --version 2>/dev/null || true)" != "cargo-leptos $LEPTOS_VERSION" ]; then
  say "installing cargo-leptos $LEPTOS_VERSION (about 20 minutes, once)"
  install_pinned cargo-leptos "$LEPTOS_VERSION" cargo-util-schemas 0.14.1
fi

if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 7 minutes, once)"
  install_pinned wasm-bindgen-cli "$WASM_BINDGEN_VERSION" webpki-roots 1.0.10
fi

if ! wasm-opt --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
  say "installing wasm-opt from npm binaryen@$BINARYEN_VERSION"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS_DIR/binaryen" "binaryen@$BINARYEN_VERSION"
fi
