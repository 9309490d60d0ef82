#!/usr/bin/env bash
# Regenerates src/core/xmodel/xir.gen.js, the static protobuf code of XIR's serial_v2 schema, from the
# descriptor in src/core/xmodel/schema.ts (static code: no Function()/eval at run time, for the CSP).
# Needs protobufjs-cli (not a dependency of the app): npx -p protobufjs-cli@1 runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
npx tsx -e "import('./src/core/xmodel/schema.ts').then(({ GraphMessage }) => require('node:fs').writeFileSync('$tmp/xir.json', JSON.stringify(GraphMessage.root.toJSON())))"
npx -y -p protobufjs-cli@1 pbjs -t static-module -w es6 --keep-case --no-create --no-verify --no-delimited --no-typeurl -o "$tmp/xir.js" "$tmp/xir.json"
{ head -3 src/core/xmodel/xir.gen.js; sed 's#^import \* as \$protobuf from "protobufjs/minimal";#import $protobuf from "protobufjs/minimal.js";#' "$tmp/xir.js"; } > "$tmp/out.js"
mv "$tmp/out.js" src/core/xmodel/xir.gen.js
rm -rf "$tmp"
