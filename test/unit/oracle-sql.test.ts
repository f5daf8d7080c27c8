// Oracle's SQL (dialects/oracle/oracle-sql.ts), proven by its text and binds: no Oracle server
// runs here. Binds are numbered in the order of the text, as node-oracledb binds an array.
import { describe, expect, it } from 'vitest';
import { expandValues } from '../../dialects/expanded-key';
import {
  countKeySql,
  lastKeySql,
  nthKeySql,
  orderedSql,
  proveRangeSql,
  quoteOracleIdentifier,
  rangeSql,
} from '../../dialects/oracle/oracle-sql';
import { resolveOracleIdentifier } from '../../dialects/oracle/oracle-names';

const Q = 'SELECT * FROM sales_fact';
const region = { name: 'REGION', type: 'VARCHAR2' };
const id = { name: 'TRANSACTION_ID', type: 'NUMBER' };
const at = { name: 'SOLD_AT', type: 'TIMESTAMP' };

/** The bind placeholders of a statement, in the order of its text. */
const placeholders = (sql: string) => [...sql.matchAll(/:k\d+/g)].map((m) => m[0]);

describe('Oracle key SQL', () => {
  it('reads the n-th key after a bound, the key as text and the offset bound last', () => {
    const sql = nthKeySql(Q, [id], true);
    expect(sql).toBe(
      `SELECT TO_CHAR(dms_src."TRANSACTION_ID", 'TM9') AS "K0" FROM (\nSELECT * FROM sales_fact\n) dms_src\n` +
        `WHERE dms_src."TRANSACTION_ID" IS NOT NULL AND ((dms_src."TRANSACTION_ID" > TO_NUMBER(:k1)))\n` +
        `ORDER BY dms_src."TRANSACTION_ID"\nOFFSET :k2 ROWS FETCH NEXT 1 ROWS ONLY`,
    );
  });

  it('expands a composite key (no row-value comparison: ORA-01796), binds numbered in order, one value each', () => {
    const sql = nthKeySql(Q, [region, id], true, true);
    expect(sql).toContain(
      `AND ((dms_src."REGION" > :k1) OR (dms_src."REGION" = :k2 AND dms_src."TRANSACTION_ID" > TO_NUMBER(:k3))) ` +
        `AND NOT ((dms_src."REGION" > :k4) OR (dms_src."REGION" = :k5 AND dms_src."TRANSACTION_ID" > TO_NUMBER(:k6)))`,
    );
    const values = [...expandValues(['EU', '100765']), ...expandValues(['US', '5']), 999];
    expect(placeholders(sql)).toEqual(values.map((_, i) => `:k${i + 1}`));
    expect(sql).toContain('ORDER BY dms_src."REGION", dms_src."TRANSACTION_ID"\nOFFSET :k7 ROWS');
  });

  it('reads the last key in descending order, and a range without the offset', () => {
    expect(lastKeySql(Q, [id], false)).toMatch(/ORDER BY dms_src."TRANSACTION_ID" DESC\nFETCH FIRST 1 ROWS ONLY$/);
    expect(placeholders(lastKeySql(Q, [region, id], true, true))).toHaveLength(6);
    const range = rangeSql(Q, [at], { hasAfter: true, hasUpTo: true });
    expect(range).toBe(
      `SELECT * FROM (\nSELECT * FROM sales_fact\n) dms_src\nWHERE dms_src."SOLD_AT" IS NOT NULL` +
        ` AND ((dms_src."SOLD_AT" > TO_TIMESTAMP(:k1, 'SYYYY-MM-DD HH24:MI:SS.FF9')))` +
        ` AND NOT ((dms_src."SOLD_AT" > TO_TIMESTAMP(:k2, 'SYYYY-MM-DD HH24:MI:SS.FF9')))`,
    );
  });

  it('counts one key value and skips ROWCOUNT rows in the database', () => {
    expect(countKeySql(Q, [region, id])).toMatch(
      /WHERE dms_src."REGION" = :k1 AND dms_src."TRANSACTION_ID" = TO_NUMBER\(:k2\)$/,
    );
    expect(orderedSql(Q, ['TRANSACTION_ID'], 0)).toMatch(/ORDER BY dms_src."TRANSACTION_ID"$/);
    expect(orderedSql(Q, ['TRANSACTION_ID'], 5000)).toMatch(/ORDER BY dms_src."TRANSACTION_ID"\nOFFSET :k1 ROWS$/);
  });

  it("keeps a user's trailing terminator or line comment out of the statement's shape", () => {
    expect(rangeSql('SELECT * FROM t -- all\n;\n/\n', [id], { hasAfter: false, hasUpTo: true })).toMatch(
      /^SELECT \* FROM \(\nSELECT \* FROM t -- all\n\) dms_src\nWHERE/,
    );
  });
});

describe('Oracle names', () => {
  it('folds unquoted names to upper case and keeps quoted ones', () => {
    expect(resolveOracleIdentifier('transaction_id')).toBe('TRANSACTION_ID');
    expect(resolveOracleIdentifier('"Sales Fact"')).toBe('Sales Fact');
    expect(quoteOracleIdentifier('Sales Fact')).toBe('"Sales Fact"');
  });

  it('refuses names Oracle cannot hold', () => {
    expect(() => resolveOracleIdentifier('"a""b"')).toThrow(/double quote/);
    expect(() => resolveOracleIdentifier(`"${'x'.repeat(129)}"`)).toThrow(/longer than 128 bytes/);
    expect(() => resolveOracleIdentifier('sales; drop')).toThrow(/not a valid identifier/);
  });
});

describe("Oracle's checkpoint proof", () => {
  it('counts the range and its rows at the upper key in one query, the upper key bound first', () => {
    const sql = proveRangeSql('SELECT * FROM t', [{ name: 'ID', type: 'NUMBER' }], true);
    expect(sql).toBe(
      `SELECT COUNT(*) AS "N", SUM(CASE WHEN dms_src."ID" = TO_NUMBER(:k1) THEN 1 ELSE 0 END) AS "AT" FROM (\nSELECT * FROM t\n) dms_src\n` +
        `WHERE dms_src."ID" IS NOT NULL AND ((dms_src."ID" > TO_NUMBER(:k2))) AND NOT ((dms_src."ID" > TO_NUMBER(:k3)))`,
    );
  });
});
