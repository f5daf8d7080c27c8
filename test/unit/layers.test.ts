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
  // The metadata store (PostgreSQL only) and its Drizzle schema.
  migrations: ['common'],
  metadata: ['common', 'migrations'],
  activities: ['common', 'dialects', 'checkpoint', 'metadata'],
  // Workflow code: the activities' types (the contract) only, as `import type`.
  workflows: ['common'],
  worker: ['common', 'dialects', 'checkpoint', 'metadata', 'migrations', 'activities', 'workflows'],
  // `dms worker` runs the worker in the CLI's process.
  client: ['common', 'dialects', 'checkpoint', 'metadata', 'workflows', 'worker'],
};

/** Imports that break the rules today (file → folder), each to be removed by moving code (issue: the house for the next engines). */
const KNOWN = [
  'checkpoint/mirror.ts → activities',
  'checkpoint/mirror.ts → metadata',
  'client/catalog.ts → activities',
  'client/checkpoint.ts → activities',
  'client/jobs.ts → activities',
  'client/rejects.ts → activities',
  'client/run.ts → activities',
  'client/verify.ts → activities',
  'metadata/open-metadata.ts → activities',
  'metadata/open-metadata.ts → dialects',
  'metadata/repository.ts → checkpoint',
  'metadata/repository.ts → dialects',
];

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
