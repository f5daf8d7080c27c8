// The mappings file that `dms mapping apply` takes (YAML, or JSON, which is YAML too), read
// strictly: every key must be one dms-etl reads, in either case, given once; each problem is
// named with its line, and a file with any problem saves nothing.
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { z } from 'zod';
import { CommandError, ConfigError } from '../common/errors';
import { DEFINITION_FIELDS, parseMapping, type MappingSpec } from '../common/mapping';
import { unknownKeys, unknownKeyText } from '../common/unknown-keys';
import { splitPassword } from '../common/url-password';
import { dialectFor, SUPPORTED_DBTYPS } from '../dialects';

const Connection = z.object({
  conid: z.string().min(1).max(64),
  dbtyp: z
    .string()
    .refine((v) => dialectFor(v) !== undefined, { message: `must be one of ${SUPPORTED_DBTYPS.join(', ')}` }),
  conurl: z
    .string()
    .min(1)
    .superRefine((v, ctx) => {
      try {
        if (splitPassword(v).password)
          ctx.addIssue({
            code: 'custom',
            message: 'carries a password: remove it, and name the variable that holds it in pwdenv',
          });
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not a URL such as postgres://user@host:5432/database' });
      }
    }),
  pwdenv: z.string().min(1).max(128).nullish(),
});
export type ConnectionEntry = z.output<typeof Connection>;

const CatalogFile = z.object({
  connections: z.array(Connection).default([]),
  // Each mapping is checked by the same rules as `dms job sync` (common/mapping.ts).
  mappings: z.array(z.record(z.string(), z.unknown())).default([]),
});

/** The keys each level of the file takes (lower case; the file may write them in either case). */
const FILE_KEYS = {
  file: ['connections', 'mappings'],
  connection: ['conid', 'dbtyp', 'conurl', 'pwdenv'],
  mapping: ['mapref', ...DEFINITION_FIELDS],
} as const;

/** DMS_MAPR's column defaults, for the fields a file leaves out. */
const MAPR_DEFAULTS = {
  loadmode: 'APPEND',
  bulklmt: 1000,
  chkpntstrategy: 'AUTO',
  chkpntenabled: 'Y',
  chkpntnulls: 'FAIL',
  partitions: 1,
  rejectlmt: 0,
  batchbytes: null,
  trgkeycols: null,
  chkpntcolumn: null,
  chkpntlookback: null,
};

/** One thing wrong with the file, and its line where known. */
interface Problem {
  line: number | undefined;
  text: string;
}

export interface Catalog {
  connections: ConnectionEntry[];
  mappings: MappingSpec[];
}

/**
 * The file's value with its keys in lower case, and the line of every key and list item by
 * its path ('mappings.0.loadmode'), so that each problem can say where it is.
 */
function readDocument(
  file: string,
  text: string,
): { value: unknown; lineOf(path: (string | number)[]): number | undefined; problems: Problem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new CommandError(
      `${file}:${e.linePos?.[0].line ?? '?'}: is not YAML (or JSON): ${e.message.split('\n')[0]}. Nothing was saved`,
    );
  }
  const lines = new Map<string, number>();
  const problems: Problem[] = [];
  const lineAt = (node: Node | null | undefined) => (node?.range ? lineCounter.linePos(node.range[0]).line : undefined);
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const firstLine = new Map<string, number | undefined>();
      for (const pair of node.items) {
        const name = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const key = name.toLowerCase();
        const line = lineAt(pair.key as Node);
        if (firstLine.has(key)) {
          problems.push({
            line,
            text: `${[...path, key].join('.')}: '${name}' is given twice (first on line ${firstLine.get(key) ?? '?'}; keys are read in either case)`,
          });
          continue;
        }
        firstLine.set(key, line);
        if (line !== undefined) lines.set([...path, key].join('.'), line);
        out[key] = walk(pair.value, [...path, key]);
      }
      return out;
    }
    if (isSeq(node)) {
      return node.items.map((item, i) => {
        const line = lineAt(item as Node);
        if (line !== undefined) lines.set([...path, i].join('.'), line);
        return walk(item, [...path, i]);
      });
    }
    if (isScalar(node)) return node.value;
    return node === null || node === undefined ? null : (node as Node).toJS(doc);
  };
  const value = walk(doc.contents, []);
  const lineOf = (path: (string | number)[]) => {
    for (let n = path.length; n > 0; n--) {
      const line = lines.get(path.slice(0, n).join('.'));
      if (line !== undefined) return line;
    }
    return undefined;
  };
  return { value, lineOf, problems };
}

/** Keys that nothing reads, anywhere in the file: one problem each, with its line and the nearest known key. */
function unknownKeyProblems(value: unknown, lineOf: (path: (string | number)[]) => number | undefined): Problem[] {
  const problems: Problem[] = [];
  const check = (obj: unknown, known: readonly string[], path: (string | number)[], what: string) => {
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return;
    for (const u of unknownKeys(obj, known)) {
      problems.push({ line: lineOf([...path, u.key]), text: `${what}: ${unknownKeyText(u, known)}` });
    }
  };
  check(value, FILE_KEYS.file, [], 'the file');
  const top = (value ?? {}) as Record<string, unknown>;
  for (const [list, keys, label] of [
    ['connections', FILE_KEYS.connection, 'conid'],
    ['mappings', FILE_KEYS.mapping, 'mapref'],
  ] as const) {
    const items = top[list];
    if (!Array.isArray(items)) continue;
    items.forEach((item, i) => {
      const name = item && typeof item === 'object' ? (item as Record<string, unknown>)[label] : undefined;
      check(item, keys, [list, i], `${list}.${i}${typeof name === 'string' ? ` (${name})` : ''}`);
    });
  }
  return problems;
}

/** Reads and checks a mappings file; every problem named with its line, all at once. */
export function readCatalog(file: string, text = readFileSync(file, 'utf8')): Catalog {
  const { value, lineOf, problems } = readDocument(file, text);
  const refuse = (found: Problem[]): never => {
    const lines = [...found]
      .sort((a, b) => (a.line ?? 0) - (b.line ?? 0))
      .map((p) => `${file}${p.line === undefined ? '' : `:${p.line}`}: ${p.text}`);
    throw new CommandError(
      lines.length === 1
        ? `${lines[0]}. Nothing was saved`
        : `${file}: ${lines.length} problems, nothing was saved:\n${lines.map((l) => `  ${l}`).join('\n')}`,
    );
  };
  problems.push(...unknownKeyProblems(value, lineOf));
  if (problems.length > 0) refuse(problems);

  const parsed = CatalogFile.safeParse(value ?? {});
  if (!parsed.success)
    refuse(
      parsed.error.issues.map((i) => ({
        line: lineOf(i.path as (string | number)[]),
        text: `${i.path.join('.')}: ${i.message}`,
      })),
    );
  const catalog = parsed.data!;
  const mappings: MappingSpec[] = [];
  catalog.mappings.forEach((m, i) => {
    if (typeof m.mapref !== 'string' || !m.mapref) {
      problems.push({ line: lineOf(['mappings', i]), text: `mappings.${i}: mapref is missing` });
      return;
    }
    try {
      mappings.push(parseMapping({ ...MAPR_DEFAULTS, ...m, mapref: m.mapref }));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const field = err.field.toLowerCase();
      problems.push({
        line: lineOf(['mappings', i, field]) ?? lineOf(['mappings', i]),
        text: `mappings.${i} (${m.mapref}).${field}: ${err.problem}`,
      });
    }
  });
  for (const [what, names] of [
    ['connection', catalog.connections.map((c) => c.conid)],
    ['mapping', mappings.map((m) => m.mapref)],
  ] as const) {
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice) problems.push({ line: undefined, text: `${what} ${twice} is given twice` });
  }
  if (problems.length > 0) refuse(problems);
  return { connections: catalog.connections.map((c) => ({ ...c, dbtyp: c.dbtyp.trim().toUpperCase() })), mappings };
}
