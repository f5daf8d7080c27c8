// Wide rows: a batch read in key order ends at DMS_BATCH_BYTES as well as at BULKLMT, a row
// wider than the budget loads alone, and the load stays exact through a worker SIGKILL. The
// real MariaDB server as the source, PostgreSQL as the target (no key: a batch loaded twice
// would show).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerMapping, runs } from '../support/fact-load';
import { failureOf, openHarness, type Harness } from '../support/harness';
import { createMariaDb, registerMariaDbConnection, type TestMariaDb } from '../support/mariadb';
import { withClient } from '../support/postgres';

const PASSWORD_ENV = 'DMS_TEST_MARIADB_PASSWORD';
const ROWS = 300;
/** Each row's document: 8,000 bytes (16,000 characters of hex text), and row 151's 200,000 bytes (the first of its batch). */
const DOC_BYTES = 8_000;
const WIDE_ROW = 151;
/** About five ordinary rows a batch. */
const BATCH_BYTES = 5 * 2 * DOC_BYTES;
const BULKLMT = 100;

let h: Harness;
let m: TestMariaDb;

beforeAll(async () => {
  m = await createMariaDb('wide');
  h = await openHarness('wide', { [PASSWORD_ENV]: m.password, DMS_BATCH_BYTES: String(BATCH_BYTES) });
  await registerMariaDbConnection(h.dbs.metadata, m, PASSWORD_ENV);
  await m.query(
    `CREATE TABLE docs (id INT NOT NULL PRIMARY KEY, doc LONGBLOB NOT NULL) ENGINE=InnoDB;
     INSERT INTO docs SELECT seq, UNHEX(REPEAT(MD5(seq), IF(seq = ${WIDE_ROW}, 200000, ${DOC_BYTES}) / 16)) FROM seq_1_to_${ROWS}`,
  );
  await withClient(h.dbs.target, (c) => c.query(`CREATE TABLE docs (id int, doc bytea)`));
});

afterAll(async () => {
  await h?.close();
  await m?.drop();
});

describe('a batch budget in bytes', () => {
  it('ends batches at DMS_BATCH_BYTES, loads a wider row alone, and stays exact through a worker SIGKILL', async () => {
    await registerMapping(h.dbs, { mapref: 'WIDE', batchSize: BULKLMT, srcquery: 'SELECT id, doc FROM docs', trgtbnm: 'DOCS', chkpntcolumn: 'ID', columns: { srcconid: 'MDB' } });
    const first = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 8, action: 'kill' }] });
    const handle = await h.client.workflow.start('dmsJob', { taskQueue: h.taskQueue, workflowId: 'dms-WIDE', args: [{ mapref: 'WIDE' }] });
    await first.waitFor(/fault: kill at beforeCommit of batch 8/);
    await first.kill();
    const second = await h.startWorker();
    try {
      expect(await failureOf(handle)).toBeUndefined();
    } finally {
      await second.kill();
    }
    const source = (await m.query<{ t: string }[]>(`SELECT CONCAT(id, ':', LOWER(MD5(doc))) AS t FROM docs`)).map((r) => r.t).sort();
    const target = await withClient(h.dbs.target, async (c) => (await c.query<{ t: string }>(`SELECT id || ':' || md5(doc) AS t FROM docs`)).rows.map((r) => r.t).sort());
    expect(target).toEqual(source);
    // Cut by bytes, not by BULKLMT: about five rows a batch (three by rows alone).
    const [run] = await runs(h.dbs.metadata, 'WIDE');
    expect(run).toMatchObject({ status: 'PC', trgrows: ROWS });
    expect(run.batchcnt).toBeGreaterThanOrEqual(ROWS / 5);
    expect(h.workerOutput()).toMatch(new RegExp(`Mapping WIDE: a row wider than DMS_BATCH_BYTES \\(${BATCH_BYTES} bytes\\) loaded alone in batch \\d+`));
  });
});
