// Oracle's CONURL (dialects/oracle/oracle-connection.ts) and its types (oracle-types.ts), as
// node-oracledb names them in a query's metadata (`dbTypeName`).
import { describe, expect, it } from 'vitest';
import { ORACLE_SESSION, oraclePoolSettings } from '../../dialects/oracle/oracle-connection';
import {
  inexactKeyType,
  isOrderable,
  keyBind,
  keyRead,
  oracleFamily,
  valueRead,
} from '../../dialects/oracle/oracle-types';

describe('Oracle CONURL', () => {
  it('becomes an Easy Connect string, the port 1521 by default, the password kept apart', () => {
    expect(oraclePoolSettings('oracle://etl@db.example:1522/FREEPDB1', 'pw')).toEqual({
      user: 'etl',
      password: 'pw',
      connectString: 'db.example:1522/FREEPDB1',
    });
    expect(oraclePoolSettings('oracle://etl@db/ORCL', undefined)).toEqual({
      user: 'etl',
      password: undefined,
      connectString: 'db:1521/ORCL',
    });
    expect(oraclePoolSettings('oracle://etl@[::1]:1521/FREEPDB1?expire_time=2', undefined).connectString).toBe(
      '[::1]:1521/FREEPDB1?expire_time=2',
    );
  });

  it('says what is missing or wrong', () => {
    expect(() => oraclePoolSettings('postgres://etl@db/x', undefined)).toThrow(
      /starts with postgres:\/\/, not oracle:\/\//,
    );
    expect(() => oraclePoolSettings('oracle://etl@db:1521', undefined)).toThrow(/names no service/);
    expect(() => oraclePoolSettings('oracle://db:1521/ORCL', undefined)).toThrow(/names no user/);
    expect(() => oraclePoolSettings('not a url', undefined)).toThrow(/is not a URL/);
  });

  it('pins the session to exact, comparable values', () => {
    expect(ORACLE_SESSION).toContain(`ALTER SESSION SET NLS_NUMERIC_CHARACTERS = '.,'`);
    expect(ORACLE_SESSION).toContain(`ALTER SESSION SET TIME_ZONE = '+00:00'`);
    // Binary order and comparison, whatever the database's linguistic defaults.
    expect(ORACLE_SESSION).toContain(`ALTER SESSION SET NLS_SORT = BINARY`);
    expect(ORACLE_SESSION).toContain(`ALTER SESSION SET NLS_COMP = BINARY`);
  });
});

describe('Oracle types', () => {
  it('sort into the shared families', () => {
    expect(['NUMBER', 'BINARY_DOUBLE'].map(oracleFamily)).toEqual(['number', 'number']);
    expect(['VARCHAR2', 'NVARCHAR2', 'CHAR', 'CLOB'].map(oracleFamily)).toEqual([
      'string',
      'string',
      'string',
      'string',
    ]);
    expect(
      ['DATE', 'TIMESTAMP', 'TIMESTAMP WITH TIME ZONE', 'TIMESTAMP WITH LOCAL TIME ZONE'].map(oracleFamily),
    ).toEqual(['datetime', 'datetime', 'datetime', 'datetime']);
    expect(['RAW', 'BLOB', 'JSON', 'INTERVAL DAY TO SECOND', 'ROWID'].map(oracleFamily)).toEqual([
      'bytes',
      'bytes',
      'json',
      'timespan',
      'other',
    ]);
  });

  it('key a load only on types with an order', () => {
    expect(['NUMBER', 'VARCHAR2', 'DATE', 'TIMESTAMP', 'RAW'].every(isOrderable)).toBe(true);
    expect(['CLOB', 'BLOB', 'JSON', 'ROWID'].some(isOrderable)).toBe(false);
    // Keys refused at planning: their text does not bind back to the value they store.
    expect(
      ['BINARY_FLOAT', 'BINARY_DOUBLE', 'INTERVAL DAY TO SECOND', 'INTERVAL YEAR TO MONTH'].map(inexactKeyType),
    ).toEqual([
      expect.stringMatching(/BINARY_FLOAT key's text/),
      expect.stringMatching(/BINARY_DOUBLE/),
      expect.stringMatching(/INTERVAL/),
      expect.stringMatching(/INTERVAL/),
    ]);
    expect(['NUMBER', 'VARCHAR2', 'DATE', 'TIMESTAMP', 'RAW'].map(inexactKeyType)).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
  });

  it('read a key as text and bind it back through the same format, a DATE with its time of day', () => {
    expect(keyRead('DATE', 'c')).toBe(`TO_CHAR(c, 'SYYYY-MM-DD HH24:MI:SS')`);
    expect(keyBind('DATE', ':k1')).toBe(`TO_DATE(:k1, 'SYYYY-MM-DD HH24:MI:SS')`);
    expect(keyRead('TIMESTAMP WITH TIME ZONE', 'c')).toBe(
      `TO_CHAR(SYS_EXTRACT_UTC(c), 'SYYYY-MM-DD HH24:MI:SS.FF9') || '+00'`,
    );
    expect(keyBind('TIMESTAMP WITH TIME ZONE', ':k1')).toBe(`TO_TIMESTAMP_TZ(:k1, 'SYYYY-MM-DD HH24:MI:SS.FF9TZH')`);
    expect([keyRead('RAW', 'c'), keyBind('RAW', ':k1')]).toEqual(['LOWER(RAWTOHEX(c))', 'HEXTORAW(:k1)']);
    expect([keyRead('VARCHAR2', 'c'), keyBind('VARCHAR2', ':k1')]).toEqual(['c', ':k1']);
  });

  it('read a date or timestamp value before year 1 with the BC that PostgreSQL reads, not as a year AD', () => {
    expect(valueRead('DATE', 'c')).toBe(
      `TO_CHAR(c, 'YYYY-MM-DD HH24:MI:SS') || CASE WHEN c < DATE '0001-01-01' THEN ' BC' END`,
    );
    expect(valueRead('TIMESTAMP', 'c')).toBe(
      `TO_CHAR(c, 'YYYY-MM-DD HH24:MI:SS.FF9') || CASE WHEN c < DATE '0001-01-01' THEN ' BC' END`,
    );
    expect(valueRead('TIMESTAMP WITH TIME ZONE', 'c')).toBe(
      `TO_CHAR(SYS_EXTRACT_UTC(c), 'YYYY-MM-DD HH24:MI:SS.FF9') || '+00' || CASE WHEN SYS_EXTRACT_UTC(c) < DATE '0001-01-01' THEN ' BC' END`,
    );
  });
});
