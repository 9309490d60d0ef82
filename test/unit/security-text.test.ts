// Text generated for other programs from names a model file chose: a shell command, CSV for a
// spreadsheet, Python; and messages that stay one line. Names here are hostile on purpose.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { layersOf, partition, targetByArch } from '../../src/core/compile';
import { boardCompile, pynqPython, vartPython } from '../../src/core/compile/deploy';
import { InputError, oneLine } from '../../src/core/errors';
import { buildModel, tensor } from '../../src/core/onnx/build';
import { csvCell, csvRows, shellQuote } from '../../src/core/text';
import { costCsv } from '../../workers/compile';
import { pythonWith } from '../python';

const PY = pythonWith();
const hasPython = PY !== undefined;
const hasSh = spawnSync('sh', ['-c', 'true']).status === 0;

/** RFC 4180 parse (quoted cells may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') q = false; else cell += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(cell); cell = ''; } else if (c === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; } else cell += c;
  }
  return rows;
}

// Node and tensor names a hostile file could carry.
const EVIL = ['=HYPERLINK("http://x","y")', '+1+2', '-2+3', '@SUM(A1)', 'a\r\nb', 'q"uo,te', "it's\\n\"\"\"", 'nul\u0000end', '<img src=x onerror=alert(1)>'];

function evilModel() {
  const names = ['x', ...EVIL];
  return buildModel({
    inputs: { x: ['float32', [1, 3, 8, 8]] }, outputs: [EVIL[EVIL.length - 1]],
    initializers: { w: tensor('float32', [3, 3, 1, 1], new Float32Array(9).fill(0.5)) },
    nodes: EVIL.map((name, i) => i === 0
      ? { op: 'Conv', name, inputs: ['x', 'w'], outputs: [name] }
      : { op: i % 3 === 0 ? 'Sigmoid' : 'Relu', name, inputs: [names[i]], outputs: [name] }),
  });
}

describe('the vai_c_xir command', () => {
  it('quotes file names as single shell words', () => {
    expect(shellQuote('plain_name-1.xmodel')).toBe('plain_name-1.xmodel');
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('$(id)')).toBe(`'$(id)'`);
    expect(boardCompile(partition(layersOf({ kind: 'onnx', model: evilModel() }), targetByArch('B4096')), 'net.xmodel').command)
      .toBe('vai_c_xir -x net_int.xmodel -a arch.json -o board -n net');
  });

  it.skipIf(!hasSh)('runs as one command with the file name as data, whatever the name', () => {
    const r = partition(layersOf({ kind: 'onnx', model: evilModel() }), targetByArch('B4096'));
    const dir = mkdtempSync(join(tmpdir(), 'fixpoint-shell-'));
    try {
      for (const file of ['m;touch PWNED;$(id).xmodel', "a'b`touch PWNED`\".xmodel", 'new\nline&&touch PWNED.xmodel', '$HOME *.xmodel']) {
        const { command } = boardCompile(r, file);
        expect(command).not.toContain('\n');
        // vai_c_xir stands in as a function printing its arguments one per line.
        const out = spawnSync('sh', ['-c', `vai_c_xir() { for a in "$@"; do printf '%s\\n' "$a"; done; }\n${command}`], { cwd: dir, encoding: 'utf8' });
        expect(out.status).toBe(0);
        expect(readdirSync(dir)).toEqual([]);
        const args = out.stdout.split('\n').slice(0, -1);
        expect(args).toHaveLength(8);
        expect(args[1]).toBe(`${args[7]}_int.xmodel`);
        expect(args[7]).toBe(file.replace(/\.xmodel$/, '').replace(/\n/g, '_'));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('CSV', () => {
  it('neutralises formula cells and quotes line breaks, quotes and commas', () => {
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-1')).toBe("'-1");
    expect(csvCell('@A1')).toBe("'@A1");
    expect(csvCell('\t=1')).toBe("'\t=1");
    expect(csvCell('a\nb')).toBe('"a\nb"');
    expect(csvCell('a\rb')).toBe('"a\rb"');
    expect(csvCell('say "hi", ok')).toBe('"say ""hi"", ok"');
    expect(csvCell('conv1')).toBe('conv1');
    expect(csvCell(-3.5)).toBe('-3.5');
    expect(parseCsv(csvRows([['=x', 'a\r\nb'], [1, 'c']]))).toEqual([["'=x", 'a\r\nb'], ['1', 'c']]);
  });

  it('the per-layer cost table keeps one row per layer and no cell a spreadsheet would run', () => {
    const r = partition(layersOf({ kind: 'onnx', model: evilModel() }), targetByArch('B4096'));
    const rows = parseCsv(costCsv(r));
    expect(rows).toHaveLength(r.layers.length + 1);
    expect(rows.every((row) => row.length === rows[0].length)).toBe(true);
    for (const row of rows) for (const cell of row) expect(cell).not.toMatch(/^[=+@\t\r]|^-(?!\d)/);
    const names = rows.slice(1).map((row) => row[0]);
    expect(names).toContain("'=HYPERLINK(\"http://x\",\"y\")");
    expect(names).toContain('a\r\nb');
  });
});

describe('generated Python', () => {
  const r = partition(layersOf({ kind: 'onnx', model: evilModel() }), targetByArch('B4096'));

  it.skipIf(!hasPython)('parses, and its tables hold the names exactly', () => {
    for (const code of [vartPython(r, "it's \"m\"\n.xmodel"), pynqPython(r, 'b\\ack.xmodel')]) {
      // Evaluate only the literal tables: ast.literal_eval of each assignment's value.
      const py = spawnSync(PY!, ['-c', [
        'import ast, json, sys',
        'tree = ast.parse(sys.stdin.read())',
        'out = {}',
        'for n in tree.body:',
        // Other top-level statements may unpack tuples: only plain names are tables.
        '    if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and n.targets[0].id in ("GRAPH_INPUTS", "GRAPH_OUTPUTS", "DPU_SUBGRAPHS"):',
        '        out[n.targets[0].id] = ast.literal_eval(n.value)',
        'print(json.dumps(out))',
      ].join('\n')], { input: code, encoding: 'utf8' });
      expect(py.stderr).toBe('');
      const t = JSON.parse(py.stdout) as { GRAPH_INPUTS: string[]; GRAPH_OUTPUTS: string[]; DPU_SUBGRAPHS: { inputs: string[]; outputs: string[] }[] };
      expect(t.GRAPH_INPUTS).toEqual(['x']);
      expect(t.GRAPH_OUTPUTS).toEqual([EVIL[EVIL.length - 1]]);
      const seen = new Set(t.DPU_SUBGRAPHS.flatMap((s) => [...s.inputs, ...s.outputs]));
      expect(EVIL.filter((n) => seen.has(n)).length).toBeGreaterThan(0);
    }
  });

  it('keeps every comment on one line', () => {
    const code = vartPython(r, 'x\u2028y\r.xmodel');
    for (const line of code.split('\n')) {
      expect(line).not.toMatch(/[\r\u0000\u2028]/);
      // A line that is a comment stays one: no name spills code out of a comment.
      if (line.trimStart().startsWith('#')) expect(line).not.toContain('\n');
    }
  });
});

describe('messages and HTML', () => {
  it('an InputError is one printable line, however hostile the text it quotes', () => {
    const e = new InputError(`node "${'a\nb\r\u001b[31m\u0000\u2028'}" is bad`);
    expect(e.message).toBe('node "a\\x0ab\\x0d\\x1b[31m\\x00\\u2028" is bad');
    expect(oneLine('x'.repeat(5000)).length).toBeLessThanOrEqual(600);
  });

  it('no source builds HTML from strings (React renders names as text)', () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(ts|tsx|js|html)$/.test(f)) files.push(p);
      }
    };
    for (const d of ['src', 'workers']) if (existsSync(d)) walk(d);
    expect(files.length).toBeGreaterThan(20);
    const offenders = files.filter((f) => /dangerouslySetInnerHTML|\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write/.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
