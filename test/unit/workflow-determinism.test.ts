// Workflow code runs in Temporal's deterministic sandbox: it may import the workflow SDK and
// types, never a driver, a Node built-in or our own side-effecting folders (a module of
// common/ that imports nothing at run time, such as errors.ts, is pure and may be shared).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const DIR = path.join(__dirname, '..', '..', 'workflows');
const files = readdirSync(DIR).filter((f) => f.endsWith('.ts'));

function runtimeImports(source: string): string[] {
  return [...source.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)].filter((m) => !m[1]).map((m) => m[2]);
}

/** Packages of pure functions (no I/O, clock or randomness) that shared modules may use. */
const PURE_PACKAGES = ['fastest-levenshtein'];

/**
 * A module of ../common/ that is pure (data and functions, no clock, randomness or process)
 * and imports at run time only such modules and PURE_PACKAGES may be shared.
 */
function pureCommonModule(from: string): boolean {
  if (!/^\.\.\/common\/[\w-]+$/.test(from)) return false;
  const source = readFileSync(path.join(DIR, `${from}.ts`), 'utf8');
  const sameFolder = (i: string) => i.startsWith('./') && pureCommonModule(`../common/${i.slice(2)}`);
  return (
    runtimeImports(source).every((i) => PURE_PACKAGES.includes(i) || sameFolder(i)) &&
    !/\brequire\(|process\.|Math\.random|Date\.now/.test(source)
  );
}

describe('workflows/', () => {
  it('has imports this test reads (a pattern that matched nothing would pass every file)', () => {
    const all = files.map((f) => readFileSync(path.join(DIR, f), 'utf8')).join('\n');
    expect(runtimeImports(all)).toContain('@temporalio/workflow');
  });

  it.each(files)('%s imports only the workflow SDK (and its common types) at run time', (file) => {
    const source = readFileSync(path.join(DIR, file), 'utf8');
    const imports = [...source.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)].map((m) => ({
      typeOnly: Boolean(m[1]),
      from: m[2],
    }));
    for (const { typeOnly, from } of imports) {
      if (typeOnly) continue;
      expect(
        ['@temporalio/workflow', '@temporalio/common'].includes(from) ||
          from.startsWith('./') ||
          pureCommonModule(from),
        `${file} imports ${from}`,
      ).toBe(true);
    }
    expect(source).not.toMatch(/\brequire\(/);
    expect(source).not.toMatch(/Math\.random|setTimeout\(|process\./);
  });
});
