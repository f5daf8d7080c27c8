// Oracle's source (dialects/oracle/oracle-source.ts) against a fake of node-oracledb's
// connection, shaped as the driver documents it: execute(sql, binds, options) resolving to
// { metaData: [{ name, dbTypeName }], rows } or { resultSet } with getRows(n) and close().
// What it proves: the statements and binds sent, the read-only transaction around a read,
// chunks of at most chunkRows, LOBs as text and \x hex, and a session dropped after a failure.
import { describe, expect, it } from 'vitest';
import oracledb from 'oracledb';
import { LOB_FETCH_ROWS, lobFetch, OracleSource } from '../../dialects/oracle/oracle-source';
import { CHUNK_BYTES, rowBytes } from '../../dialects/chunks';
import { singleTable } from '../../dialects/oracle/oracle-single-table';
import { fakeOraclePool } from '../support/oracle-fake';
import { rowSelect, UNIQUE_KEYS_SQL, keyBeforeSql } from '../../dialects/oracle/oracle-sql';

const fakePool = fakeOraclePool;

const META = [
  { name: 'ID', dbTypeName: 'NUMBER' },
  { name: 'SOLD_AT', dbTypeName: 'TIMESTAMP' },
  { name: 'NOTE', dbTypeName: 'CLOB' },
  { name: 'PHOTO', dbTypeName: 'BLOB' },
];

describe('the Oracle source', () => {
  it('describes SRCQUERY from its metadata, in the shared families', async () => {
    const { pool } = fakePool((sql) => (sql.includes('WHERE 1 = 0') ? { metaData: META, rows: [] } : { rows: [] }));
    const d = await new OracleSource(pool).describeQuery('SELECT s.*, 1 AS x FROM sales s');
    expect(d.columns).toEqual([
      { name: 'ID', type: 'NUMBER', family: 'number' },
      { name: 'SOLD_AT', type: 'TIMESTAMP', family: 'datetime' },
      { name: 'NOTE', type: 'CLOB', family: 'string' },
      { name: 'PHOTO', type: 'BLOB', family: 'bytes' },
    ]);
    expect(d.uniqueKeys).toEqual([]);
  });

  it('asks for the n-th key with the range binds, then the offset', async () => {
    const { pool, calls } = fakePool((sql) =>
      sql.includes('WHERE 1 = 0') ? { metaData: META, rows: [] } : { rows: [['1500']] },
    );
    const key = await new OracleSource(pool).nthKey({ query: 'SELECT * FROM sales', key: ['ID'] }, ['1000'], 500, [
      '9000',
    ]);
    expect(key).toEqual(['1500']);
    const asked = calls.find((c) => c.sql.includes('OFFSET'))!;
    expect(asked.binds).toEqual(['1000', '9000', 499]);
    expect(asked.options).toMatchObject({ outFormat: oracledb.OUT_FORMAT_ARRAY });
  });

  it('reads a range in one read-only transaction, in chunks, LOBs as text and \\x hex', async () => {
    const rows = [
      ['1', '2026-01-01 00:00:00.000000001', 'a\tb', Buffer.from([0, 255])],
      ['2', '2026-01-01 00:00:00.000000002', null, null],
      ['3', '2026-01-01 00:00:00.000000003', 'c', Buffer.from('ok')],
    ];
    const { pool, calls, closed } = fakePool((sql) =>
      sql.includes('WHERE 1 = 0') ? { metaData: META, rows: [] } : { resultSet: rows },
    );
    const chunks = [];
    for await (const chunk of new OracleSource(pool).readRange(
      { query: 'SELECT * FROM sales', key: ['ID'] },
      null,
      ['3'],
      2,
    ))
      chunks.push(chunk);
    // One row first (how wide are they?), then chunkRows at most.
    expect(chunks.map((c) => c.rows)).toEqual([
      [['1', '2026-01-01 00:00:00.000000001', 'a\tb', '\\x00ff']],
      [
        ['2', '2026-01-01 00:00:00.000000002', null, null],
        ['3', '2026-01-01 00:00:00.000000003', 'c', '\\x6f6b'],
      ],
    ]);
    expect(chunks[0].columns).toEqual(['ID', 'SOLD_AT', 'NOTE', 'PHOTO']);
    expect(chunks[0].plain).toEqual([true, true, false, false]);
    const read = calls.slice(calls.findIndex((c) => c.sql === 'SET TRANSACTION READ ONLY'));
    expect(read.map((c) => c.sql.split('\n')[0])).toEqual([
      'SET TRANSACTION READ ONLY',
      expect.stringMatching(/^SELECT TO_CHAR\(dms_src."ID", 'TM9'\) AS "ID", /),
      '(result set closed)',
      '(commit)',
    ]);
    expect(read[1].options).toMatchObject({
      resultSet: true,
      fetchInfo: { NOTE: { type: oracledb.STRING }, PHOTO: { type: oracledb.BUFFER } },
    });
    expect(closed[closed.length - 1]).toBe(false);
  });

  it('reads LOBs a few rows a round trip, in chunks of about CHUNK_BYTES whatever chunkRows says', async () => {
    // 40 rows with a BLOB of 1 MB (2 MB of hex text) each: 80 MB, which 2,000 rows a chunk would hold at once.
    const rows = Array.from({ length: 40 }, (_, i) => [
      String(i + 1),
      '2026-01-01 00:00:00',
      null,
      Buffer.alloc(2 ** 20, i),
    ]);
    const { pool, calls } = fakePool((sql) =>
      sql.includes('WHERE 1 = 0') ? { metaData: META, rows: [] } : { resultSet: rows },
    );
    const chunks = [];
    for await (const chunk of new OracleSource(pool).readRange(
      { query: 'SELECT * FROM sales', key: ['ID'] },
      null,
      ['40'],
      2000,
    ))
      chunks.push(chunk);
    expect(chunks.flatMap((c) => c.rows.map((r) => r[0]))).toEqual(rows.map((r) => r[0]));
    for (const c of chunks)
      expect(c.rows.reduce((n, r) => n + rowBytes(r), 0)).toBeLessThanOrEqual(CHUNK_BYTES + 2 ** 21 + 100);
    expect(calls.find((c) => c.options && 'resultSet' in (c.options as object))!.options).toMatchObject({
      fetchArraySize: LOB_FETCH_ROWS,
    });
    expect(lobFetch([{ name: 'V', type: 'VARCHAR2' }], 2000).fetchArraySize).toBe(1000);
  });

  it('drops a session left in the middle of a read', async () => {
    const { pool, closed } = fakePool((sql) =>
      sql.includes('WHERE 1 = 0')
        ? { metaData: META, rows: [] }
        : {
            resultSet: [
              ['1', null, null, null],
              ['2', null, null, null],
            ],
          },
    );
    for await (const chunk of new OracleSource(pool).readAll('SELECT * FROM sales', 1)) {
      expect(chunk.rows).toHaveLength(1);
      break;
    }
    expect(closed[closed.length - 1]).toBe(true);
  });

  it('finds the unique keys of the one table a plain query reads, every column NOT NULL and returned', async () => {
    const { pool, calls } = fakePool((sql) => {
      if (sql.includes('WHERE 1 = 0'))
        return {
          metaData: [
            { name: 'REGION', dbTypeName: 'VARCHAR2' },
            { name: 'ID', dbTypeName: 'NUMBER' },
            { name: 'CODE', dbTypeName: 'VARCHAR2' },
          ],
          rows: [],
        };
      if (sql.includes('CURRENT_SCHEMA')) return { rows: [['DWH']] };
      return {
        rows: [
          ['PK_SALES', 'REGION', 1, 'N'],
          ['PK_SALES', 'ID', 1, 'N'],
          ['UQ_CODE', 'CODE', 0, 'Y'], // a NULL never conflicts: no key
          ['UQ_HIDDEN', 'SECRET', 0, 'N'], // not returned: no key
        ],
      };
    });
    const d = await new OracleSource(pool).describeQuery("SELECT region, id, code FROM sales WHERE region <> 'X'");
    expect(d.uniqueKeys).toEqual([['REGION', 'ID']]);
    expect(calls.find((c) => c.sql === UNIQUE_KEYS_SQL)!.binds).toEqual([
      'DWH',
      'SALES',
      'DWH',
      'SALES',
      'DWH',
      'SALES',
    ]);
  });
});

describe('the one table a plain query reads', () => {
  it('is found in SELECT * and SELECT columns, with an owner and a filter', () => {
    expect(singleTable('SELECT * FROM dwh.sales_fact')).toEqual({ owner: 'DWH', name: 'SALES_FACT', columns: null });
    expect(singleTable('select id, "Amount" from "Sales" where id > 5;')).toEqual({
      owner: null,
      name: 'Sales',
      columns: new Map([
        ['ID', 'ID'],
        ['Amount', 'Amount'],
      ]),
    });
  });

  it('is not claimed for joins, expressions, aliases, grouping or set operators', () => {
    for (const q of [
      'SELECT * FROM a JOIN b ON a.id = b.id',
      'SELECT * FROM a, b',
      'SELECT id + 1 FROM a',
      'SELECT id AS x FROM a',
      'SELECT region FROM a WHERE 1 = 1 GROUP BY region',
      'SELECT * FROM a UNION SELECT * FROM b',
      'SELECT * FROM a t',
    ]) {
      expect(singleTable(q), q).toBeNull();
    }
  });
});

describe("Oracle's row and look-back SQL", () => {
  it('reads each column in the text form rows travel in, LOBs for the driver', () => {
    expect(
      rowSelect([
        { name: 'ID', type: 'NUMBER' },
        { name: 'AT', type: 'TIMESTAMP WITH TIME ZONE' },
        { name: 'R', type: 'RAW' },
        { name: 'N', type: 'CLOB' },
        { name: 'V', type: 'VARCHAR2' },
      ]),
    ).toBe(
      `TO_CHAR(dms_src."ID", 'TM9') AS "ID", TO_CHAR(SYS_EXTRACT_UTC(dms_src."AT"), 'YYYY-MM-DD HH24:MI:SS.FF9') || '+00' || CASE WHEN SYS_EXTRACT_UTC(dms_src."AT") < DATE '0001-01-01' THEN ' BC' END AS "AT", ` +
        `CASE WHEN dms_src."R" IS NOT NULL THEN '\\x' || LOWER(RAWTOHEX(dms_src."R")) END AS "R", dms_src."N" AS "N", dms_src."V" AS "V"`,
    );
    expect(
      lobFetch([
        { name: 'N', type: 'NCLOB' },
        { name: 'B', type: 'BLOB' },
        { name: 'V', type: 'VARCHAR2' },
      ]).fetchInfo,
    ).toEqual({ N: { type: oracledb.STRING }, B: { type: oracledb.BUFFER } });
  });

  it('goes back a window of seconds from the mark on a DATE key', () => {
    expect(keyBeforeSql('SELECT * FROM t', [{ name: 'AT', type: 'DATE' }])).toContain(
      `WHERE dms_src."AT" IS NOT NULL AND dms_src."AT" <= TO_DATE(:k1, 'SYYYY-MM-DD HH24:MI:SS') - NUMTODSINTERVAL(:k2, 'SECOND')`,
    );
  });
});

describe("Oracle's key order", () => {
  it('explains the first batch and reads a SORT ORDER BY in the plan as no index, then removes the plan', async () => {
    const { pool, calls } = fakePool((sql) => {
      if (sql.includes('WHERE 1 = 0')) return { metaData: META, rows: [] };
      if (sql.includes('FROM PLAN_TABLE WHERE')) return { rows: [[1]] };
      return { rows: [] };
    });
    expect(await new OracleSource(pool).keyOrderUsesIndex({ query: 'SELECT * FROM sales', key: ['ID'] })).toBe(false);
    const explained = calls.find((c) => c.sql.startsWith('EXPLAIN PLAN'))!;
    const id = /STATEMENT_ID = '([^']+)'/.exec(explained.sql)![1];
    expect(id.length).toBeLessThanOrEqual(30);
    expect(calls.filter((c) => c.binds[0] === id).map((c) => c.sql.split(' ')[0])).toEqual(['SELECT', 'DELETE']);
    expect(calls[calls.length - 1].sql).toBe('(commit)');
  });

  it("estimates a whole query's rows from its explained plan's top line, then removes the plan; none past a checkpoint", async () => {
    const { pool, calls } = fakePool((sql) =>
      sql.includes('FROM PLAN_TABLE WHERE') ? { rows: [[120000]] } : { rows: [] },
    );
    const source = new OracleSource(pool);
    expect(await source.estimateRows({ query: 'SELECT * FROM sales', key: ['ID'] }, null)).toBe(120000);
    const explained = calls.find((c) => c.sql.startsWith('EXPLAIN PLAN'))!;
    expect(explained.sql).toMatch(
      /^EXPLAIN PLAN SET STATEMENT_ID = 'dms-[^']+' FOR\nSELECT 1 FROM \(\nSELECT \* FROM sales\n\) dms_src$/,
    );
    const id = /STATEMENT_ID = '([^']+)'/.exec(explained.sql)![1];
    expect(calls.filter((c) => c.binds[0] === id).map((c) => c.sql)).toEqual([
      `SELECT CARDINALITY AS "N" FROM PLAN_TABLE WHERE STATEMENT_ID = :k1 AND ID = 0`,
      'DELETE FROM PLAN_TABLE WHERE STATEMENT_ID = :k1',
    ]);
    // Past a checkpoint Oracle would have to explain bind variables: untried, so no estimate and no statement.
    const sent = calls.length;
    expect(await source.estimateRows({ query: 'SELECT * FROM sales', key: ['ID'] }, ['5'])).toBeNull();
    expect(calls.length).toBe(sent);
  });
});
