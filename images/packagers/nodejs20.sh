#!/usr/bin/env bash
# Packager for `nodejs20` bots: the built bot with its production node_modules.
#
# In the bot folder: `npm ci` and `npm run build` (when the package has a build script), so dist/
# is current. The archive gets the folder without node_modules and tests, then its production
# dependencies installed into it with `npm install --omit=dev --install-links`: a `file:`
# dependency such as `@the0/sdk` (file:../../sdk-node) is copied as a package — with its native
# addon native/the0.node, built by its install script — instead of linked, because a link to a
# folder outside the archive would not exist in the container. node_modules/.bin is dropped.
#
# Usage (from package-bot.sh): nodejs20.sh BOT_DIR STAGE_DIR.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
bot_dir=$1 stage=$2
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

images_step "npm ci && npm run build --if-present ($bot_dir)"
(cd "$bot_dir" && npm ci --silent >&2 && npm run build --if-present --silent >&2)

tar -C "$bot_dir" --exclude=./node_modules --exclude=./test --exclude=./tests --exclude=./build-test \
    --exclude=./.git -cf - . | tar -C "$stage" -xf -
# file: dependencies are relative to the bot folder: make them absolute for the copy in $stage.
node - "$bot_dir" "$stage/package.json" <<'JS'
const fs = require('node:fs');
const path = require('node:path');
const [botDir, manifest] = process.argv.slice(2);
const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8'));
for (const field of ['dependencies', 'optionalDependencies']) {
  for (const [name, spec] of Object.entries(pkg[field] || {})) {
    if (spec.startsWith('file:')) pkg[field][name] = 'file:' + path.resolve(botDir, spec.slice(5));
  }
}
fs.writeFileSync(manifest, JSON.stringify(pkg, null, 2) + '\n');
JS
images_step "npm install --omit=dev --install-links (production node_modules)"
(cd "$stage" && npm install --omit=dev --install-links --silent >&2)
rm -rf "$stage/node_modules/.bin" "$stage/node_modules/.package-lock.json"
