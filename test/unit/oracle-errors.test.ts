// Oracle's errors (dialects/oracle/oracle-errors.ts) classified through the shared classes
// (activities/failures.ts), one case per ORA- code the dialect names. The errors are built as
// node-oracledb builds them: ORA- with `code` and `errorNum`, the thin driver's NJS- with `code`.
import { describe, expect, it } from 'vitest';
import { toFailure } from '../../activities/failures';
import { oracleError } from '../../dialects/oracle/oracle-errors';

const ora = (num: number, text: string) =>
  Object.assign(
    new Error(
      `ORA-${String(num).padStart(5, '0')}: ${text}\nHelp: https://docs.oracle.com/error-help/db/ora-${String(num).padStart(5, '0')}/`,
    ),
    { code: `ORA-${String(num).padStart(5, '0')}`, errorNum: num, offset: 0 },
  );
const njs = (code: string, text: string) => Object.assign(new Error(`${code}: ${text}`), { code });

const failureOf = (err: Error) => toFailure(oracleError(err)) as Error & { nonRetryable: boolean; type: string };

describe('ORA- and NJS- errors', () => {
  it.each([
    [ora(60, 'deadlock detected while waiting for resource'), '40P01'],
    [ora(8177, "can't serialize access for this transaction"), '40001'],
    [ora(54, 'resource busy and acquire with NOWAIT specified or timeout expired'), '55P03'],
    [ora(30006, 'resource busy; acquire with WAIT timeout expired'), '55P03'],
    [ora(3113, 'end-of-file on communication channel'), '08006'],
    [ora(3114, 'not connected to ORACLE'), '08003'],
    [ora(12541, 'Cannot connect. No listener at host db port 1521.'), '08001'],
    [ora(12170, 'Cannot connect. TCP connect timeout of 60s for host db port 1521.'), '08001'],
    [njs('NJS-500', 'connection to Oracle Database was closed or broken'), '08006'],
    [njs('NJS-501', 'connection to host db port 1521 terminated unexpectedly. (CONNECTION_ID=x)'), '08006'],
    [njs('NJS-503', 'connection to host db port 1521 could not be established. (CONNECTION_ID=x)'), '08001'],
    [njs('NJS-510', 'connection to host db port 1521 timed out.'), '08001'],
    [njs('NJS-511', 'connection to listener at host db port 1521 was refused.'), '08001'],
    [njs('NJS-521', 'connection to host db port 1521 received end-of-file on communication channel.'), '08006'],
  ])('retries %s', (err, state) => {
    expect((oracleError(err) as { code: string }).code).toBe(state);
    const failure = failureOf(err);
    expect(failure).toMatchObject({ type: 'TransientError', nonRetryable: false });
  });

  it.each([
    [ora(942, 'table or view "DWH"."SALES" does not exist'), '42P01'],
    [ora(904, '"AMOUNTT": invalid identifier'), '42703'],
    [ora(1, 'unique constraint (DWH.PK_SALES) violated'), '23505'],
    [ora(1400, 'cannot insert NULL into ("DWH"."SALES"."ID")'), '23502'],
    [ora(12899, 'value too large for column "DWH"."SALES"."CODE" (actual: 12, maximum: 8)'), '22001'],
    [ora(1722, 'invalid number'), '22P02'],
    [ora(1465, 'invalid hex number'), '22P02'],
    [ora(30926, 'unable to get a stable set of rows in the source tables'), '21000'],
  ])('fails at once on %s', (err, state) => {
    expect((oracleError(err) as { code: string }).code).toBe(state);
    expect(failureOf(err)).toMatchObject({ type: 'DataError', nonRetryable: true });
  });

  it('keeps names in a data error, and moves the ORA- code to the end', () => {
    expect(
      failureOf(ora(12899, 'value too large for column "DWH"."SALES"."CODE" (actual: 12, maximum: 8)')).message,
    ).toBe(
      'value too large for column DWH.SALES.CODE (actual 12, maximum 8) [ORA-12899]: (value redacted) [SQLSTATE 22001]',
    );
  });

  it('removes the values Oracle 23 quotes in data and constraint errors', () => {
    const number = failureOf(
      ora(1722, "unable to convert string value containing 'card 4111 1111' to a number: SALES.AMOUNT"),
    );
    expect(number.message).not.toContain('4111');
    const unique = failureOf(
      ora(1, "unique constraint (DWH.PK_SALES) violated on table DWH.SALES columns (ID) with values (ID:'secret')"),
    );
    expect(unique.message).not.toContain('secret');
    expect(unique.message).toContain('DWH.PK_SALES');
  });

  it('retries an ORA- code it does not know within the bounded policy, keeping its code', () => {
    const err = ora(99999, 'something new');
    expect((oracleError(err) as { code: string }).code).toBe('ORA-99999');
    expect(failureOf(err)).toMatchObject({ type: 'UnexpectedError', nonRetryable: false });
  });

  it('leaves anything that is not a driver error as it is', () => {
    const plain = new Error('ECONNREFUSED');
    expect(oracleError(plain)).toBe(plain);
  });
});
