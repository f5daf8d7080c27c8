import { describe, expect, it } from 'vitest';
import { mariadbError } from '../../dialects/mariadb/mariadb-errors';
import {
  estimateOfExplain,
  estimateSql,
  expandValues,
  greaterThan,
  nthKeySql,
  orderedSql,
  proveRangeSql,
  quoteMariaDbIdentifier,
  rangeSql,
} from '../../dialects/mariadb/mariadb-sql';

describe('MariaDB keyset SQL', () => {
  const key = [
    { name: 'region', cast: null },
    { name: 'id', cast: 'UNSIGNED' },
  ];

  it('compares a composite key in the expanded form an index serves, each bound cast to its column', () => {
    expect(greaterThan(key)).toBe(
      '((dms_src.`region` > ?) OR (dms_src.`region` = ? AND dms_src.`id` > CAST(? AS UNSIGNED)))',
    );
    expect(expandValues(['eu', '42'])).toEqual(['eu', 'eu', '42']);
  });

  it('reads up to and including the upper key, and finds the n-th key with bound offsets', () => {
    expect(rangeSql('SELECT * FROM t', key, { hasAfter: true, hasUpTo: true })).toMatch(
      /AND \(\(dms_src.`region` > \?\) OR .*\) AND NOT \(\(dms_src.`region` > \?\) OR/,
    );
    expect(nthKeySql('SELECT * FROM t -- all', [{ name: 'id', cast: 'SIGNED' }], false)).toBe(
      'SELECT dms_src.`id` FROM (\nSELECT * FROM t -- all\n) AS dms_src\nWHERE dms_src.`id` IS NOT NULL\nORDER BY dms_src.`id`\nLIMIT 1 OFFSET ?',
    );
  });

  it("bounds the upper key by a partition's end, as NOT greater than it, its values after the lower bound's", () => {
    const key = [{ name: 'id', cast: 'SIGNED' }];
    expect(nthKeySql('SELECT * FROM t', key, true, true)).toBe(
      'SELECT dms_src.`id` FROM (\nSELECT * FROM t\n) AS dms_src\nWHERE dms_src.`id` IS NOT NULL AND ((dms_src.`id` > CAST(? AS SIGNED))) AND NOT ((dms_src.`id` > CAST(? AS SIGNED)))\nORDER BY dms_src.`id`\nLIMIT 1 OFFSET ?',
    );
  });

  it('binds a binary key as the bytes of its \\x hex, and reads a FLOAT key as the DOUBLE it holds', () => {
    expect(greaterThan([{ name: 'raw', cast: null, key: 'bytes' }])).toBe('((dms_src.`raw` > UNHEX(SUBSTRING(?, 3))))');
    expect(nthKeySql('SELECT * FROM t', [{ name: 'f', cast: 'DOUBLE', key: 'float' }], true)).toBe(
      'SELECT CAST(dms_src.`f` AS DOUBLE) AS `f` FROM (\nSELECT * FROM t\n) AS dms_src\nWHERE dms_src.`f` IS NOT NULL AND ((dms_src.`f` > CAST(? AS DOUBLE)))\nORDER BY dms_src.`f`\nLIMIT 1 OFFSET ?',
    );
  });

  it("proves a checkpoint in one query, the upper key's binds first (they come first in the text)", () => {
    const sql = proveRangeSql('SELECT * FROM t', [{ name: 'raw', cast: null, key: 'bytes' }], true);
    expect(sql).toBe(
      'SELECT COUNT(*) AS n, COALESCE(SUM(dms_src.`raw` = UNHEX(SUBSTRING(?, 3))), 0) AS at FROM (\nSELECT * FROM t\n) AS dms_src\n' +
        'WHERE dms_src.`raw` IS NOT NULL AND ((dms_src.`raw` > UNHEX(SUBSTRING(?, 3)))) AND NOT ((dms_src.`raw` > UNHEX(SUBSTRING(?, 3))))',
    );
  });

  it("orders ROWCOUNT's rows by every column, then by the bytes of the text columns", () => {
    expect(orderedSql('SELECT * FROM t', ['t', 'g'], ['t'])).toMatch(
      /ORDER BY dms_src.`t`, dms_src.`g`, CAST\(dms_src.`t` AS BINARY\)\nLIMIT/,
    );
    expect(orderedSql('SELECT * FROM t', ['id'])).toMatch(/ORDER BY dms_src.`id`\nLIMIT/);
  });

  it('quotes identifiers with backticks, doubling any inside', () => {
    expect(quoteMariaDbIdentifier('we`ird')).toBe('`we``ird`');
  });
});

describe("MariaDB's row estimate", () => {
  it('explains the rows after the bound, every value bound', () => {
    const key = [
      { name: 'region', cast: null },
      { name: 'id', cast: 'UNSIGNED' },
    ];
    expect(estimateSql('SELECT * FROM sales;', key, true)).toBe(
      'EXPLAIN SELECT 1 FROM (\nSELECT * FROM sales\n) AS dms_src\nWHERE dms_src.`region` IS NOT NULL AND dms_src.`id` IS NOT NULL AND ((dms_src.`region` > ?) OR (dms_src.`region` = ? AND dms_src.`id` > CAST(? AS UNSIGNED)))',
    );
    expect(estimateSql('SELECT * FROM sales', [], false)).toBe(
      'EXPLAIN SELECT 1 FROM (\nSELECT * FROM sales\n) AS dms_src',
    );
  });

  it("reads the outer select's tables from EXPLAIN: rows times the share kept, joined; none without them", () => {
    expect(estimateOfExplain([{ id: 1, rows: 25235 }])).toBe(25235);
    expect(
      estimateOfExplain([
        { id: 1, rows: 1000, filtered: 50 },
        { id: 1, rows: 3, filtered: 100 },
      ]),
    ).toBe(1500);
    // A materialized subquery: the outer select reads <derived2>, whose rows stand for the query's.
    expect(
      estimateOfExplain([
        { id: 1, rows: 7 },
        { id: 2, rows: 50470 },
      ]),
    ).toBe(7);
    expect(estimateOfExplain([{ id: 2, rows: 10 }])).toBeNull();
    expect(estimateOfExplain([{ id: 1, rows: null }])).toBeNull();
  });
});

describe('MariaDB errors', () => {
  const mysqlError = (errno: number, sqlState: string, sqlMessage: string) =>
    Object.assign(new Error(sqlMessage), { errno, sqlState, sqlMessage, code: 'ER_X' });

  it('removes the values MariaDB quotes in data and constraint errors, keeping identifiers', () => {
    const dup = mariadbError(
      mysqlError(1062, '23000', "Duplicate entry 'alice@example.com' for key 'email'"),
    ) as Error & { code: string };
    expect(dup.message).toBe('Duplicate entry (value) for key (value)');
    expect(dup.code).toBe('23000');
    const bad = mariadbError(
      mysqlError(1366, '22007', "Incorrect integer value: 'abc' for column `db`.`t`.`n` at row 1"),
    ) as Error;
    expect(bad.message).toBe('Incorrect integer value: (value) for column `db`.`t`.`n` at row 1');
  });

  it('retries lock wait timeouts and deadlocks, and keeps a syntax error as SQL', () => {
    expect((mariadbError(mysqlError(1205, 'HY000', 'Lock wait timeout exceeded')) as { code: string }).code).toBe(
      '40001',
    );
    expect((mariadbError(mysqlError(1213, '40001', 'Deadlock found')) as { code: string }).code).toBe('40001');
    expect(
      (mariadbError(mysqlError(1064, '42000', 'You have an error in your SQL syntax')) as { code: string }).code,
    ).toBe('42000');
    // LOAD DATA LOCAL refused by a server whose local_infile is OFF: what to set, not retried.
    for (const [errno, state] of [
      [1148, '42000'],
      [4166, 'HY000'],
    ] as const) {
      const refused = mariadbError(
        mysqlError(errno, state, 'The used command is not allowed with this MariaDB version'),
      ) as Error & { code: string };
      expect(refused.code).toBe('42000');
      expect(refused.message).toMatch(/refuses LOAD DATA LOCAL INFILE.*SET GLOBAL local_infile = ON/);
    }
  });
});
