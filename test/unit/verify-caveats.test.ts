// The notes `dms verify` prints before its verdict (client/verify.ts), for plans built as the
// planner builds them, reduced to the fields the notes read.
import { describe, expect, it } from 'vitest';
import type { JobPlan } from '../../plan/job-plan';
import {
  formatReport,
  keyOrderDiffers,
  orderMayDiffer,
  typeWithCollation,
  verifyCaveats,
  type RangeReport,
  type VerifyReport,
} from '../../client/verify';
import type { ColumnInfo } from '../../dialects';
import { oracleDialect } from '../../dialects/oracle/oracle-dialect';

function plan(loadmode: string, key: string[]): JobPlan {
  return {
    spec: { mapref: 'SALES', loadmode, trgconid: 'DWH' },
    keyed: { query: 'SELECT * FROM sales', key },
  } as unknown as JobPlan;
}

describe('verifyCaveats', () => {
  it("warns that a target storing '' as NULL (Oracle) counts a '' key among its NULL keys", () => {
    expect(oracleDialect.emptyStringIsNull).toBe(true);
    const notes = verifyCaveats(plan('UPSERT', ['REGION', 'ID']), 'PC', true);
    expect(notes).toEqual([
      "Mapping SALES: the target (TRGCONID DWH) stores '' as NULL and the source does not: source rows with '' in a key column (REGION, ID) are counted among the target's NULL-key rows (range NULL), so those two ranges differ by that many rows without a row being lost (docs/type-mapping.md)",
    ]);
    expect(verifyCaveats(plan('UPSERT', ['REGION', 'ID']), 'PC', false)).toEqual([]);
  });

  it('says when the latest run did not complete, and what APPEND and INCREMENTAL promise', () => {
    expect(verifyCaveats(plan('UPSERT', ['ID']), undefined)).toEqual([
      'Mapping SALES: has no run yet: the target holds whatever it held before',
    ]);
    expect(verifyCaveats(plan('UPSERT', ['ID']), 'PF')[0]).toMatch(/latest run has status 'PF', not 'PC'/);
    expect(verifyCaveats(plan('APPEND', ['ID']), 'PC')[0]).toMatch(/exactly one completed run into an empty table/);
    expect(verifyCaveats(plan('INCREMENTAL', ['ID']), 'PC')[0]).toMatch(/only rows after the last high-water mark/);
  });
});

describe('the verdict where ranges differ', () => {
  const range = (index: number, source: number, target: number): RangeReport => ({
    index,
    range: { after: null, upTo: null },
    source: { rows: source, digest: null },
    target: { rows: target, digest: null },
  });
  const whole = (source: number, target: number, orderMayDiffer = true) => ({
    source: { rows: source, digest: null },
    target: { rows: target, digest: null },
    sourceTypes: ['varchar'],
    targetTypes: ['text'],
    orderMayDiffer,
  });

  it.each([
    {
      name: 'the whole table equal: the key is compared differently, and the whole table is the answer',
      whole: whole(8, 8),
      orderDiffers: true,
      verdict: /compared as a whole instead, the target equals the source \(8 rows on each side\)/,
    },
    {
      name: 'the whole table different too: rows differ',
      whole: whole(8, 7),
      orderDiffers: false,
      verdict: /the target differs from the source in 2 of 2 ranges/,
    },
    {
      name: 'a key both sides order alike: a row lost and one doubled, though the whole table counts the same',
      whole: whole(8, 8, false),
      orderDiffers: false,
      verdict: /the target differs from the source in 2 of 2 ranges/,
    },
  ])('$name', ({ whole, orderDiffers, verdict }) => {
    const ranges = [range(1, 5, 3), range(2, 3, 5)];
    const report: VerifyReport = { mapref: 'M', ranges, differing: ranges, whole };
    expect(keyOrderDiffers(report)).toBe(orderDiffers);
    const lines = formatReport(report, ['k'], 5);
    expect(lines.at(-1)).toMatch(verdict);
    if (orderDiffers)
      expect(lines.join('\n')).toMatch(
        /may compare the key differently \(k: varchar on the source, text on the target;/,
      );
  });
});

describe('whether two databases may order a key differently', () => {
  const col = (type: string, family: ColumnInfo['family'], collation?: string): ColumnInfo => ({
    name: 'k',
    type,
    family,
    collation,
  });
  it.each([
    {
      name: 'integers in two kinds of database',
      source: col('int', 'number'),
      target: col('integer', 'number'),
      sameDialect: false,
      differ: false,
    },
    {
      name: 'text of one type and collation in one kind of database',
      source: col('text', 'string', '"C"'),
      target: col('text', 'string', '"C"'),
      sameDialect: true,
      differ: false,
    },
    {
      name: 'text of one type in two collations of one kind of database',
      source: col('text', 'string', '"und-x-icu"'),
      target: col('text', 'string', '"default" (C.UTF-8)'),
      sameDialect: true,
      differ: true,
    },
    {
      name: 'text whose collation the database could not name',
      source: col('text', 'string'),
      target: col('text', 'string'),
      sameDialect: true,
      differ: true,
    },
    {
      name: 'text in two kinds of database (two collations)',
      source: col('varchar', 'string'),
      target: col('text', 'string'),
      sameDialect: false,
      differ: true,
    },
    {
      name: 'uuids in two kinds of database (MariaDB orders a time-based one by its time)',
      source: col('uuid', 'uuid'),
      target: col('uuid', 'uuid'),
      sameDialect: false,
      differ: true,
    },
    {
      name: 'uuids in one kind of database',
      source: col('uuid', 'uuid'),
      target: col('uuid', 'uuid'),
      sameDialect: true,
      differ: false,
    },
    {
      name: 'a time read as text on the target',
      source: col('time(6)', 'datetime'),
      target: col('text', 'string'),
      sameDialect: false,
      differ: true,
    },
  ])('$name: $differ', ({ source, target, sameDialect, differ }) => {
    expect(orderMayDiffer([source], [target], sameDialect)).toBe(differ);
  });

  it('names a collation with the type', () => {
    expect(typeWithCollation(col('text', 'string', '"und-x-icu"'))).toBe('text COLLATE "und-x-icu"');
    expect(typeWithCollation(col('int', 'number'))).toBe('int');
  });
});
