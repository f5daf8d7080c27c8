// The layers of the shipped code (docs/architecture.md) and what each may import. The imports
// that break the rules today are listed one by one, to be removed as the code moves to where it
// belongs: a new one fails this test, and so does a listed one that is gone (the list only
// shrinks).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');

/** Each shipped folder, and the folders it may import from (bottom to top). */
const MAY_IMPORT: Record<string, string[]> = {
  common: [],
  dialects: ['common'],
  checkpoint: ['common', 'dialects'],
  // The metadata store (PostgreSQL only) and its Drizzle schema; migrations/ holds the SQL
  // drizzle-kit generates from that schema, no code. It connects as PostgreSQL's dialect does
  // (one copy of libpq's URL forms, TLS modes and password fallbacks), so it sits above dialects/.
  metadata: ['common', 'dialects'],
  // What a mapping means against its databases: the job plan, the connections it opens, the
  // checkpoint proofs; shared by the activities and the commands that check a mapping.
  plan: ['common', 'dialects', 'checkpoint', 'metadata'],
  activities: ['common', 'dialects', 'checkpoint', 'metadata', 'plan'],
  // Workflow code: the activities' types (the contract) only, as `import type`.
  workflows: ['common'],
  worker: ['common', 'dialects', 'checkpoint', 'metadata', 'plan', 'activities', 'workflows'],
  // `dms worker` runs the worker in the CLI's process.
  client: ['common', 'dialects', 'checkpoint', 'metadata', 'plan', 'workflows', 'worker'],
};

/** Imports that break the rules today (file → folder), each to be removed by moving code (issue: the house for the next engines). */
const KNOWN: string[] = [];

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const relative = `${dir}/${e.name}`;
    if (e.isDirectory()) return sourceFiles(relative);
    return e.name.endsWith('.ts') ? [relative] : [];
  });
}

/** The folders a file imports from (its own excepted), with whether every import from each is `import type`. */
function importsOf(file: string): Map<string, boolean> {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const found = new Map<string, boolean>();
  for (const m of text.matchAll(/^(import|export)(\s+type)?\b[^;]*?\bfrom\s+'(\.[^']+)'/gms)) {
    const target = path.relative(ROOT, path.resolve(path.dirname(path.join(ROOT, file)), m[3])).split(path.sep)[0];
    const typeOnly = m[2] !== undefined;
    found.set(target, (found.get(target) ?? true) && typeOnly);
  }
  for (const m of text.matchAll(/\bimport\(\s*'(\.[^']+)'\s*\)/g)) {
    found.set(path.relative(ROOT, path.resolve(path.dirname(path.join(ROOT, file)), m[1])).split(path.sep)[0], false);
  }
  found.delete(file.split('/')[0]);
  return found;
}

describe('the layers', () => {
  const broken: string[] = [];
  for (const [layer, allowed] of Object.entries(MAY_IMPORT)) {
    for (const file of sourceFiles(layer)) {
      for (const [target, typeOnly] of importsOf(file)) {
        if (allowed.includes(target)) continue;
        if (layer === 'workflows' && target === 'activities' && typeOnly) continue;
        broken.push(`${file} → ${target}`);
      }
    }
  }

  it('import only from the layers below them, apart from the imports listed to be removed', () => {
    expect(broken.filter((b) => !KNOWN.includes(b))).toEqual([]);
  });

  it('list no import to be removed that is gone', () => {
    expect(KNOWN.filter((k) => !broken.includes(k))).toEqual([]);
  });
});

/**
 * An engine's error vocabulary, as code (comments aside) outside dialects/ would speak it: a
 * SQLSTATE literal, a driver's error fields, an engine's error codes or its message forms.
 */
const ENGINE_WORDS: [string, RegExp][] = [
  ['a SQLSTATE', /'[0-9][0-9A-Z]{4}'|'[A-Z][0-9][0-9A-Z]{3}'|\bSQLSTATE\b|sqlstate/],
  ["a driver's error fields", /\.(errno|sqlState|sqlMessage|errorNum)\b/],
  ["an engine's error codes", /\b(ORA|NJS)-\d|'ER_[A-Z_]+'|'PROTOCOL_[A-Z_]+'/],
  ['a message matched for its code', /\.code\?*\.(startsWith|match)\(|\.code\s*[!=]==\s*'(?!string')/],
];

/** The code of a file without its comments (a comment may name a SQLSTATE to explain). */
function codeOf(file: string): string {
  return readFileSync(path.join(ROOT, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

describe("an engine's errors", () => {
  const spoken: string[] = [];
  for (const layer of Object.keys(MAY_IMPORT).filter((l) => l !== 'dialects')) {
    for (const file of sourceFiles(layer)) {
      const code = codeOf(file);
      for (const [what, words] of ENGINE_WORDS) if (words.test(code)) spoken.push(`${file}: ${what}`);
    }
  }

  it('are read by their dialect only: outside dialects/, the core decides from the kind (ErrorReading)', () => {
    expect(spoken).toEqual([]);
  });
});
