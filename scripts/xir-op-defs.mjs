// Builds src/core/xmodel/xir-op-defs.json from XIR's built_in_ops.cpp (Xilinx/Vitis-AI,
// src/vai_runtime/xir/src/xir/op/built_in_ops.cpp, Apache-2.0): every built-in op's input arguments and
// attributes with how often they occur and their types. Usage: node scripts/xir-op-defs.mjs built_in_ops.cpp COMMIT
import { readFileSync, writeFileSync } from 'node:fs';

const [file, commit = ''] = process.argv.slice(2);
const src = readFileSync(file, 'utf8');

/** Index just past the construct starting at `i` that ends at the first `end` char outside brackets/strings. */
function scanTo(i, end) {
  let depth = 0;
  for (; i < src.length; i++) {
    const c = src[i];
    if (c === '"') { for (i++; src[i] !== '"'; i++) if (src[i] === '\\') i++; continue; }
    if (c === '/' && src[i + 1] === '/') { while (src[i] !== '\n') i++; continue; }
    if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === ']') { depth--; if (depth < 0) return i; if (depth === 0 && c === end) return i + 1; }
    else if (depth === 0 && c === end) return i + 1;
  }
  return i;
}

const CPP_TYPES = {
  'std::int32_t': 'int32', int32_t: 'int32', int: 'int32', 'std::int64_t': 'int64', int64_t: 'int64',
  'std::uint32_t': 'uint32', 'std::uint64_t': 'uint64', float: 'float', double: 'double', bool: 'bool',
  'std::string': 'string', string: 'string', 'std::vector<char>': 'bytes', char: 'bytes',
};
function attrKind(t) {
  t = t.replace(/\s+/g, '');
  const v = /^std::vector<(.+)>$/.exec(t);
  if (v && v[1] !== 'char') return `${CPP_TYPES[v[1]] ?? v[1]}_vec`;
  const m = /^std::map<std::string,(.+)>$/.exec(t);
  if (m) return `map_${attrKind(m[1])}`;
  return CPP_TYPES[t] ?? t;
}
const DTYPE = (t, param) => {
  const x = t === 'T' ? param : t;
  return (x ?? 'FLOAT').replace(/^xir::DataType::/, '');
};

/** The arguments and attributes written literally in a piece of source. */
function items(text, param) {
  const out = { args: [], attrs: [] };
  const re = /AttrDefBuilder<((?:[^<>]|<(?:[^<>]|<[^<>]*>)*>)+)>::build\(\s*"([^"]+)",\s*(?:xir::)?AttrDef::(\w+)(?:,\s*(\d+))?|OpArgDef\{\s*"([^"]+)",\s*(?:xir::)?OpArgDef::(\w+),\s*([\w:]+)/g;
  for (const m of text.matchAll(re)) {
    if (m[2]) out.attrs.push({ name: m[2], occur: m[3], type: attrKind(m[1]), ...(m[4] ? { length: Number(m[4]) } : {}) });
    else out.args.push({ name: m[5], occur: m[6], dataType: DTYPE(m[7], param) });
  }
  return out;
}

// Generators: `std::function<…> NameGenerator(params) { body }`.
const gens = new Map();
for (const m of src.matchAll(/std::function<[^>]*>\s+(\w+)\(([^)]*)\)\s*\{/g)) {
  const start = m.index + m[0].length - 1;
  const end = scanTo(start, '}');
  gens.set(m[1], { body: src.slice(start, end), param: m[2] });
}
function expand(text, param, seen = new Set()) {
  const own = items(text.replace(/inherit_from\(\s*(\w+)\(([^)]*)\)\s*\)/g, ''), param);
  for (const m of text.matchAll(/inherit_from\(\s*(\w+)\(([^)]*)\)\s*\)/g)) {
    const g = gens.get(m[1]);
    if (!g || seen.has(m[1])) throw new Error(`unknown generator ${m[1]}`);
    const p = m[2].trim() || param;
    const sub = expand(g.body, /^xir::DataType::/.test(p) ? p : param, new Set([...seen, m[1]]));
    own.args.unshift(...sub.args.filter((a) => !own.args.some((b) => b.name === a.name)));
    own.attrs.unshift(...sub.attrs.filter((a) => !own.attrs.some((b) => b.name === a.name)));
  }
  return own;
}

const defs = {};
for (const m of src.matchAll(/OpDef\("([^"]+)"\)/g)) {
  const end = scanTo(m.index, ';');
  const { args, attrs } = expand(src.slice(m.index, end));
  if (defs[m[1]]) throw new Error(`duplicate op ${m[1]}`);
  defs[m[1]] = { args, attrs };
}
const out = {
  source: 'Xilinx/Vitis-AI src/vai_runtime/xir/src/xir/op/built_in_ops.cpp',
  commit,
  license: 'Apache-2.0 (Copyright 2019 Xilinx Inc.); names, occurrences and types only',
  ops: defs,
};
writeFileSync(new URL('../src/core/xmodel/xir-op-defs.json', import.meta.url), `${JSON.stringify(out, null, 1)}\n`);
console.log(Object.keys(defs).length, 'ops');
