// The row estimates behind `dms run --wait`'s % and ETA (client/estimate.ts), from the real
// PostgreSQL and MariaDB planners over analyzed tables: a run's total is what it has loaded
// plus the source's estimate of what lies beyond its checkpoint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseRegistry } from '../../plan/databases';
import { estimateTotal } from '../../activities/estimate';
import type { SourceDatabase } from '../../dialects/dialect';
import type { Progress } from '../../workflows';
import { createMariaDb, type TestMariaDb } from '../support/mariadb';
import { conurlFor, createDatabases, PG_PASSWORD_VARIABLES, withClient, type TestDatabases } from '../support/postgres';

const ROWS = 20_000;

let dbs: TestDatabases;
let m: TestMariaDb;
const databases = new DatabaseRegistry({ lockTimeoutMs: 5000 });
const sources: Record<string, SourceDatabase> = {};

beforeAll(async () => {
  dbs = await createDatabases('est');
  await withClient(dbs.source, async (c) => {
    await c.query(
      `CREATE TABLE sales (region text NOT NULL, id bigint NOT NULL, amount numeric(12,2), PRIMARY KEY (region, id))`,
    );
    await c.query(
      `INSERT INTO sales SELECT CASE WHEN g <= ${ROWS / 2} THEN 'eu' ELSE 'us' END, g, g / 100.0 FROM generate_series(1, ${ROWS}) g`,
    );
    await c.query('CREATE INDEX ON sales (id)');
    await c.query('ANALYZE sales');
  });
  m = await createMariaDb('est');
  await m.query(
    `CREATE TABLE sales (region VARCHAR(8) NOT NULL, id BIGINT NOT NULL, amount DECIMAL(12,2), PRIMARY KEY (region, id), KEY (id))`,
  );
  await m.query(`INSERT INTO sales SELECT IF(seq <= ${ROWS / 2}, 'eu', 'us'), seq, seq / 100 FROM seq_1_to_${ROWS}`);
  await m.query('ANALYZE TABLE sales');
  const pgPassword = Object.values(PG_PASSWORD_VARIABLES)[0];
  sources.POSTGRES = databases.source('EST', {
    conid: 'PG',
    dbtyp: 'POSTGRES',
    url: conurlFor(dbs.source),
    ...(pgPassword ? { password: pgPassword } : {}),
  });
  sources.MARIADB = databases.source('EST', { conid: 'MDB', dbtyp: 'MARIADB', url: m.conurl, password: m.password });
});

afterAll(async () => {
  await databases.close();
  await dbs?.drop();
  await m?.drop();
});

function progress(over: Partial<Progress>): Progress {
  return {
    mapref: 'EST',
    prcid: 1,
    strategy: 'KEY',
    checkpoint: null,
    rowsLoaded: 0,
    batches: 0,
    rowsPerSecond: 0,
    startedAt: new Date().toISOString(),
    ...over,
  };
}

/** Within a fifth of the truth: a planner's estimate, not a count. */
function near(truth: number) {
  return expect.toSatisfy((n: number) => n >= truth * 0.8 && n <= truth * 1.2, `within 20% of ${truth}`);
}

describe.each(['POSTGRES', 'MARIADB'])('%s row estimates', (engine) => {
  const plan = (strategy: 'KEY' | 'ROWCOUNT' | 'NONE', key: string[]) => ({
    strategy,
    keyed: { query: 'SELECT * FROM sales', key },
    source: sources[engine],
  });

  it('KEY, fresh: every row of the query', async () => {
    expect(await estimateTotal(plan('KEY', ['id']), progress({}))).toEqual(near(ROWS));
  });

  it('KEY, resumed after 15,000 rows: those rows plus the ones after the checkpoint', async () => {
    expect(await estimateTotal(plan('KEY', ['id']), progress({ checkpoint: '15000', rowsLoaded: 15_000 }))).toEqual(
      near(ROWS),
    );
  });

  it("KEY, tonight's run after last night's checkpoint: only the rows after it", async () => {
    const total = await estimateTotal(plan('KEY', ['id']), progress({ checkpoint: '16000', rowsLoaded: 0 }));
    expect(total).toBeGreaterThan(1000);
    expect(total).toBeLessThan(8000);
  });

  it('a composite key: its checkpoint, a JSON array, bounds the estimate', async () => {
    const total = await estimateTotal(
      plan('KEY', ['region', 'id']),
      progress({ checkpoint: '["us","15000"]', rowsLoaded: 0 }),
    );
    expect(total).toBeGreaterThan(1000);
    expect(total).toBeLessThan(10_000);
  });

  it('ROWCOUNT: the rows loaded plus every row but the counted ones; NONE: every row', async () => {
    expect(await estimateTotal(plan('ROWCOUNT', []), progress({ checkpoint: '5000', rowsLoaded: 5000 }))).toEqual(
      near(ROWS),
    );
    expect(await estimateTotal(plan('NONE', []), progress({ rowsLoaded: 100 }))).toEqual(near(ROWS));
  });
});
