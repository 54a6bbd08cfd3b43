#!/usr/bin/env bash
# The web pages' JavaScript dependencies: `npm ci` from the lockfile (again only when it
# changed), then the files the pages use copied into src/plebiscite/server/static/vendor/ (not in
# git). Called by the set-up of ./dev; offline once node_modules is there. The devDependencies
# stay in node_modules: axe-core (copied for the accessibility tests) and oidc-provider, the
# OpenID Connect provider the tests run (tests/oidc/provider.mjs).
set -euo pipefail
cd "$(dirname "$0")"
VENDOR=../src/plebiscite/server/static/vendor

need_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

stamp="node_modules/.plebiscite-installed-$(sha256sum package-lock.json package.json | sha256sum | cut -c1-16)"
if [ ! -e "$stamp" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        need_root apt-get update -qq
        need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
    fi
    # no install scripts: the packages are plain files to copy
    npm ci --include=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error
    touch "$stamp"
fi

copy() { # copy SOURCE DEST: only when changed
    mkdir -p "$(dirname "$VENDOR/$2")"
    cmp -s "node_modules/$1" "$VENDOR/$2" || cp "node_modules/$1" "$VENDOR/$2"
}
copy uplot/dist/uPlot.esm.js uplot/uPlot.esm.js
copy uplot/dist/uPlot.min.css uplot/uPlot.min.css
copy uplot/LICENSE uplot/LICENSE.txt
copy axe-core/axe.min.js axe-core/axe.min.js
copy axe-core/LICENSE axe-core/LICENSE.txt

# @noble/curves (Ed25519) and the part of @noble/hashes it needs, as ES modules the pages import
# directly: the bare imports '@noble/hashes/X' are rewritten to the vendored copies' paths
copy_module() { # copy_module SOURCE DEST PREFIX: PREFIX replaces '@noble/hashes/'
    mkdir -p "$(dirname "$VENDOR/$2")"
    sed "s#'@noble/hashes/#'$3#g" "node_modules/$1" >"$VENDOR/$2.tmp"
    if cmp -s "$VENDOR/$2.tmp" "$VENDOR/$2"; then rm "$VENDOR/$2.tmp"; else mv "$VENDOR/$2.tmp" "$VENDOR/$2"; fi
}
for f in ed25519.js utils.js; do
    copy_module "@noble/curves/$f" "noble-curves/$f" "../noble-hashes/"
done
for f in curve edwards frost fft hash-to-curve modular montgomery oprf; do
    copy_module "@noble/curves/abstract/$f.js" "noble-curves/abstract/$f.js" "../../noble-hashes/"
done
for f in sha2 _md _u64 utils; do
    copy "@noble/hashes/$f.js" "noble-hashes/$f.js"
done
copy @noble/curves/LICENSE noble-curves/LICENSE.txt
copy @noble/hashes/LICENSE noble-hashes/LICENSE.txt
