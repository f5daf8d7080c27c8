// The notes `dms verify` prints before its verdict (client/verify.ts), for plans built as the
// planner builds them, reduced to the fields the notes read.
import { describe, expect, it } from 'vitest';
import type { JobPlan } from '../../activities/job-plan';
import { verifyCaveats } from '../../client/verify';
import { oracleDialect } from '../../dialects/oracle/oracle-dialect';

function plan(loadmode: string, key: string[]): JobPlan {
  return { spec: { mapref: 'SALES', loadmode, trgconid: 'DWH' }, keyed: { query: 'SELECT * FROM sales', key } } as unknown as JobPlan;
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
    expect(verifyCaveats(plan('UPSERT', ['ID']), undefined)).toEqual(['Mapping SALES: has no run yet: the target holds whatever it held before']);
    expect(verifyCaveats(plan('UPSERT', ['ID']), 'PF')[0]).toMatch(/latest run has status 'PF', not 'PC'/);
    expect(verifyCaveats(plan('APPEND', ['ID']), 'PC')[0]).toMatch(/exactly one completed run into an empty table/);
    expect(verifyCaveats(plan('INCREMENTAL', ['ID']), 'PC')[0]).toMatch(/only rows after the last high-water mark/);
  });
});
