// DMS_CHKPNT and DMS_REJECT are created by the first run that needs them; runs starting at
// once on a new schema all try. Every one must find the table there afterwards, none fail:
// PostgreSQL reports the race as a duplicate of the table's name or of its row type.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createOrUpgradeCheckpointTable } from '../../dialects/postgres/postgres-checkpoint-table';
import { createRejectTable } from '../../dialects/postgres/postgres-reject-table';
import { createDatabases, urlFor, type TestDatabases } from '../support/postgres';

let dbs: TestDatabases;
let pool: pg.Pool;

beforeAll(async () => {
  dbs = await createDatabases('ddlrace');
  pool = new pg.Pool({ connectionString: urlFor(dbs.target), max: 32 });
});

afterAll(async () => {
  await pool?.end();
  await dbs?.drop();
});

it.each([
  { table: 'DMS_CHKPNT', create: createOrUpgradeCheckpointTable },
  { table: 'DMS_REJECT', create: createRejectTable },
])(
  'creates $table once when thirty-two runs on a new schema ask at the same moment, failing none',
  async ({ create }) => {
    for (let round = 0; round < 20; round++) {
      const schema = `race_${create.name.toLowerCase()}_${round}`;
      await pool.query(`CREATE SCHEMA ${schema}`);
      const results = await Promise.allSettled(Array.from({ length: 32 }, () => create(pool, schema)));
      expect(
        results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)),
      ).toEqual([]);
    }
  },
);
