// `dms verify <MAPREF>`: compares a load's target with its source, range by key range, the
// way AWS DMS's data validation does. Every count and digest is computed in the databases:
// the worker's memory holds the split keys only, and only keys are ever printed.
import { DatabaseRegistry } from '../plan/databases';
import { planMapping, type JobPlan } from '../plan/job-plan';
import { CommandError, ConfigError, UnreachableError } from '../common/errors';
import { encodeCheckpoint } from '../checkpoint';
import {
  messageWithFix,
  type ColumnInfo,
  type KeyedQuery,
  type KeyRange,
  type KeyValue,
  type RangeSummary,
  type SourceDatabase,
} from '../dialects';
import type { Metadata } from '../metadata/repository';
import { withMetadata } from './connections';
import { count, formatOf } from './output';
import { RunStatus } from '../common/run-status';

export interface VerifyOptions {
  /** How many key ranges to compare (the source's rows split about evenly). */
  ranges: number;
  /** Compare a digest of every mapped column too, not only the row counts. */
  checksum: boolean;
  /** How many differing ranges to name. */
  show: number;
}

export interface RangeReport {
  /** 1-based; 0 for the rows with a NULL key. */
  index: number;
  range: KeyRange;
  source: RangeSummary;
  target: RangeSummary;
}

export interface VerifyReport {
  mapref: string;
  ranges: RangeReport[];
  differing: RangeReport[];
  /**
   * Where ranges differ: the whole table compared on both sides, and the key's types there.
   * Equal as a whole while ranges differ, the two databases compare the key differently (a
   * collation that orders case, accents or trailing spaces otherwise): rows lie in other
   * ranges on the target, and the whole table is the comparison that gives the right answer.
   */
  whole?: {
    source: RangeSummary;
    target: RangeSummary;
    sourceTypes: string[];
    targetTypes: string[];
    orderMayDiffer: boolean;
  };
}

/**
 * Whether the two databases may compare a key differently, so that a row lies in one range on
 * the source and in another on the target: a key column of another family on each side, or a
 * text key in two kinds of database (their collations differ: case, accents, trailing spaces),
 * of two types, or of two collations (or one the database could not name); a uuid or an
 * address in two kinds of database.
 */
export function orderMayDiffer(source: ColumnInfo[], target: ColumnInfo[], sameDialect: boolean): boolean {
  return source.some((s, i) => {
    const t = target[i];
    if (!t || s.family !== t.family) return true;
    // Two engines order uuids (MariaDB by a time-based UUID's timestamp) and addresses otherwise.
    if ((s.family === 'uuid' || s.family === 'network') && !sameDialect) return true;
    return s.family === 'string' && (!sameDialect || s.type !== t.type || !s.collation || s.collation !== t.collation);
  });
}

/** A key column's type as the report names it: with its collation where it has one. */
export function typeWithCollation(c: ColumnInfo): string {
  return c.collation ? `${c.type} COLLATE ${c.collation}` : c.type;
}

/**
 * Whether the ranges differ only where the two databases may place rows in other ranges, the
 * whole table being equal: then the whole table is the comparison that can be trusted.
 */
export function keyOrderDiffers(report: VerifyReport): boolean {
  const w = report.whole;
  return (
    report.differing.length > 0 &&
    w !== undefined &&
    w.orderMayDiffer &&
    !differs(w.source, w.target) &&
    report.differing.every((r) => !('nullKeys' in r.range))
  );
}

/**
 * Where the comparison cannot mean "equal" for this mapping, and why (printed before it).
 * `emptyIsNull`: the target stores '' as NULL and the source does not (Oracle from another engine).
 */
export function verifyCaveats(plan: JobPlan, latestStatus: string | undefined, emptyIsNull = false): string[] {
  const { mapref, loadmode } = plan.spec;
  const caveats: string[] = [];
  if (emptyIsNull) {
    caveats.push(
      `Mapping ${mapref}: the target (TRGCONID ${plan.spec.trgconid}) stores '' as NULL and the source does not: source rows with '' in a key column (${plan.keyed.key.join(', ') || 'none'}) are counted among the target's NULL-key rows (range NULL), so those two ranges differ by that many rows without a row being lost (docs/type-mapping.md)`,
    );
  }
  if (loadmode === 'INCREMENTAL') {
    caveats.push(
      `Mapping ${mapref}: LOADMODE is 'INCREMENTAL', which loads only rows after the last high-water mark: the target equals the source only if rows are never deleted from the source, nor updated in it below the mark`,
    );
  }
  if (loadmode === 'APPEND') {
    caveats.push(
      `Mapping ${mapref}: LOADMODE is 'APPEND': the target equals the source only after exactly one completed run into an empty table`,
    );
  }
  if (latestStatus === undefined)
    caveats.push(`Mapping ${mapref}: has no run yet: the target holds whatever it held before`);
  else if (latestStatus !== RunStatus.completed)
    caveats.push(
      `Mapping ${mapref}: its latest run has status '${latestStatus}', not 'PC' (completed): the target may not hold every row yet`,
    );
  return caveats;
}

function describeRange(r: RangeReport, key: string[]): string {
  if ('nullKeys' in r.range) return `rows with a NULL in (${key.join(', ')})`;
  if (key.length === 0) return 'all rows';
  const { after, upTo } = r.range;
  const lower = after ? `after ${encodeCheckpoint(after)}` : 'from the first key';
  const upper = upTo ? `up to ${encodeCheckpoint(upTo)}` : 'to the last key';
  return `keys ${lower} ${upper}`;
}

/** The report's lines: each differing range (keys and counts only), then the verdict. */
export function formatReport(report: VerifyReport, key: string[], show: number): string[] {
  const lines: string[] = [];
  for (const r of report.differing.slice(0, show)) {
    const what =
      r.source.rows !== r.target.rows
        ? `source ${count(r.source.rows)} rows, target ${count(r.target.rows)} rows`
        : `${count(r.source.rows)} rows on each side, whose values differ`;
    lines.push(`  range ${r.index === 0 ? 'NULL' : r.index}: ${describeRange(r, key)}: ${what}`);
  }
  if (report.differing.length > show) lines.push(`  … and ${report.differing.length - show} more`);
  const sourceRows = report.ranges.reduce((n, r) => n + r.source.rows, 0);
  const targetRows = report.ranges.reduce((n, r) => n + r.target.rows, 0);
  const counted = `${report.ranges.length} ranges (source ${count(sourceRows)} rows, target ${count(targetRows)} rows)`;
  if (keyOrderDiffers(report)) {
    const w = report.whole!;
    const types = key
      .map((k, i) => `${k}: ${w.sourceTypes[i] ?? '?'} on the source, ${w.targetTypes[i] ?? '?'} on the target`)
      .join('; ');
    const digest = w.source.digest !== null ? ', with equal digests' : '';
    lines.push(
      `Mapping ${report.mapref}: ${report.differing.length} of ${report.ranges.length} ranges differ, but the source and the target may compare the key differently (${types}; a collation or type that orders case, accents or trailing spaces otherwise), so a row can lie in one range on the source and in another on the target: the ranges cannot tell`,
      `Mapping ${report.mapref}: compared as a whole instead, the target equals the source (${count(w.source.rows)} rows on each side${digest})`,
    );
    return lines;
  }
  lines.push(
    report.differing.length === 0
      ? `Mapping ${report.mapref}: the target equals the source in all ${counted}`
      : `Mapping ${report.mapref}: the target differs from the source in ${report.differing.length} of ${counted}`,
  );
  return lines;
}

function differs(a: RangeSummary, b: RangeSummary): boolean {
  return a.rows !== b.rows || a.digest !== b.digest;
}

/**
 * The split keys of the source: about `ranges` ranges of equal row counts, each upper key
 * the n-th key after the one before (so equal keys stay in one range); one indexed pass.
 */
async function splitKeys(source: SourceDatabase, q: KeyedQuery, rows: number, ranges: number): Promise<KeyValue[]> {
  if (q.key.length === 0 || rows === 0) return [];
  const step = Math.max(1, Math.ceil(rows / ranges));
  const splits: KeyValue[] = [];
  let after: KeyValue | null = null;
  while (splits.length < ranges - 1) {
    const upTo = await source.nthKey(q, after, step);
    if (upTo === null) break;
    splits.push(upTo);
    after = upTo;
  }
  return splits;
}

/**
 * Compares the target of a mapping with its source. Checks the mapping as a run would
 * (planMapping), then counts (and with `checksum` digests) each key range on both sides.
 */
async function verifyMapping(
  metadata: Metadata,
  databases: DatabaseRegistry,
  mapref: string,
  options: VerifyOptions,
  onProgress: (line: string) => void = () => {},
): Promise<{ plan: JobPlan; report: VerifyReport; emptyIsNull: boolean }> {
  const spec = await metadata.mapping(mapref);
  const plan = await planMapping(metadata, databases, spec);
  const [srcSpec, trgSpec] = await Promise.all([
    metadata.connection(mapref, 'SRCCONID', spec.srcconid),
    metadata.connection(mapref, 'TRGCONID', spec.trgconid),
  ]);
  const dialect = databases.dialect(mapref, 'TRGCONID', trgSpec);
  const sourceDialect = databases.dialect(mapref, 'SRCCONID', srcSpec);
  const emptyIsNull = !!dialect.emptyStringIsNull && !sourceDialect.emptyStringIsNull;
  if (options.checksum && sourceDialect !== dialect) {
    throw new ConfigError(
      mapref,
      'TRGCONID',
      `uses connection '${trgSpec.conid}' of DBTYP '${trgSpec.dbtyp}', and SRCCONID one of DBTYP '${srcSpec.dbtyp}': --checksum compares values only between two databases of one kind`,
      'run `dms verify` without --checksum to compare the row counts of each key range',
    );
  }
  // The target read as a source: the mapped columns of the target table, in the same order.
  const relation = `${dialect.quoteIdentifier(plan.schema)}.${dialect.quoteIdentifier(plan.table)}`;
  const targetReader = databases.source(mapref, trgSpec);
  const key = plan.strategy === 'NONE' ? [] : plan.keyed.key;
  const sourceQuery: KeyedQuery = { query: spec.srcquery, key };
  const targetQuery: KeyedQuery = {
    query: `SELECT ${plan.columns.map((c) => dialect.quoteIdentifier(c)).join(', ')} FROM ${relation}`,
    key,
  };
  const columns = options.checksum ? plan.columns : null;

  const everything: KeyRange = { after: null, upTo: null };
  const total = await plan.source.summarize(sourceQuery, everything, null);
  const splits = await splitKeys(plan.source, sourceQuery, total.rows, options.ranges);
  const ranges: KeyRange[] = [...splits, null].map((upTo, i) => ({ after: i === 0 ? null : splits[i - 1], upTo }));
  const reports: RangeReport[] = [];
  for (const [i, range] of ranges.entries()) {
    const [source, target] = await Promise.all([
      plan.source.summarize(sourceQuery, range, columns),
      targetReader.summarize(targetQuery, range, columns),
    ]);
    reports.push({ index: i + 1, range, source, target });
    onProgress(`Mapping ${mapref}: compared range ${i + 1} of ${ranges.length}`);
  }
  if (key.length > 0) {
    // Rows with a NULL key lie in no range: they are compared on their own.
    const nullKeys: KeyRange = { nullKeys: true };
    const [source, target] = await Promise.all([
      plan.source.summarize(sourceQuery, nullKeys, columns),
      targetReader.summarize(targetQuery, nullKeys, columns),
    ]);
    if (source.rows > 0 || target.rows > 0) reports.unshift({ index: 0, range: nullKeys, source, target });
  }
  const report: VerifyReport = {
    mapref,
    ranges: reports,
    differing: reports.filter((r) => differs(r.source, r.target)),
  };
  if (report.differing.length > 0 && key.length > 0) {
    // Ranges differ: is it the rows, or where each side puts them? The whole table tells.
    const [source, target, sourceDescription, targetDescription, sourceCollations, targetCollations] =
      await Promise.all([
        plan.source.summarize(sourceQuery, everything, columns),
        targetReader.summarize(targetQuery, everything, columns),
        plan.source.describeQuery(spec.srcquery),
        targetReader.describeQuery(targetQuery.query),
        plan.source.keyCollations?.(spec.srcquery, key),
        targetReader.keyCollations?.(targetQuery.query, key),
      ]);
    const columnsOf = (described: ColumnInfo[], collations: (string | null)[] | undefined): ColumnInfo[] =>
      key.map((k, i) => ({
        ...(described.find((c) => c.name === k) ?? { name: k, type: '?', family: 'other' as const }),
        collation: collations?.[i] ?? null,
      }));
    const [sourceKey, targetKey] = [
      columnsOf(sourceDescription.columns, sourceCollations),
      columnsOf(targetDescription.columns, targetCollations),
    ];
    report.whole = {
      source,
      target,
      sourceTypes: sourceKey.map(typeWithCollation),
      targetTypes: targetKey.map(typeWithCollation),
      orderMayDiffer: orderMayDiffer(sourceKey, targetKey, sourceDialect === dialect),
    };
  }
  return { plan, report, emptyIsNull };
}

function positiveInteger(option: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new CommandError(`${option} takes a whole number of at least 1, not '${value}'`);
  return n;
}

/** `dms verify <MAPREF>`: the report, and exit code 1 when any range differs. */
export function verifyCommand(
  mapref: string,
  opts: { ranges: string; checksum?: boolean; show: string; output?: string; json?: boolean },
): Promise<void> {
  const format = formatOf(opts);
  return withMetadata(async (metadata) => {
    const ranges = positiveInteger('--ranges', opts.ranges);
    const show = positiveInteger('--show', opts.show);
    const databases = new DatabaseRegistry({ lockTimeoutMs: 30_000 });
    try {
      const progress = process.stderr.isTTY ? (line: string) => process.stderr.write(`\r\x1b[K${line}`) : undefined;
      const { plan, report, emptyIsNull } = await verifyMapping(
        metadata,
        databases,
        mapref,
        { ranges, checksum: !!opts.checksum, show },
        progress,
      );
      if (progress) process.stderr.write('\r\x1b[K');
      const [latest] = await metadata.latestRuns(mapref, 1);
      const caveats = verifyCaveats(plan, latest?.status, emptyIsNull);
      const key = plan.strategy === 'NONE' ? [] : plan.keyed.key;
      if (report.differing.length > 0 && !keyOrderDiffers(report)) process.exitCode = 1;
      if (format !== 'text') {
        const rows = report.ranges.map((r) => ({
          range: r.index === 0 ? 'NULL' : r.index,
          ...('nullKeys' in r.range ? {} : { after: r.range.after, upTo: r.range.upTo }),
          source: r.source.rows,
          target: r.target.rows,
          equal: !differs(r.source, r.target),
        }));
        const verdict = {
          mapref,
          key,
          checksum: !!opts.checksum,
          equal: report.differing.length === 0 || keyOrderDiffers(report),
          ...(keyOrderDiffers(report)
            ? { comparedWhole: 'the source and the target compare the key differently' }
            : {}),
          sourceRows: sum(report, 'source'),
          targetRows: sum(report, 'target'),
          caveats,
        };
        if (format === 'json') console.log(JSON.stringify({ ...verdict, ranges: rows }, null, 2));
        else for (const row of rows) console.log(JSON.stringify(row));
        return;
      }
      for (const caveat of caveats) console.log(`note: ${caveat}`);
      const what = opts.checksum ? 'row counts and a digest of every mapped column' : 'row counts';
      console.log(
        `Mapping ${mapref}: compared ${what}${key.length ? ` by key (${key.join(', ')})` : ''}, source ${plan.spec.srcconid} with target ${plan.spec.trgconid} "${plan.schema}"."${plan.table}"`,
      );
      for (const line of formatReport(report, key, show)) console.log(line);
    } catch (err) {
      if (err instanceof ConfigError || err instanceof UnreachableError) throw err;
      throw new CommandError(
        `Mapping ${mapref}: could not be verified: ${messageWithFix(err as Error, 'run dms verify again')}`,
      );
    } finally {
      await databases.close();
    }
  });
}

function sum(report: VerifyReport, side: 'source' | 'target'): number {
  return report.ranges.reduce((n, r) => n + r[side].rows, 0);
}
