import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { grantFor, isTransient, redactedMessage, toFailure } from '../../activities/failures';
import { connectionFailure } from '../../plan/connection-failures';
import { mariadbError, noteAccount } from '../../dialects/mariadb/mariadb-errors';
import { oracleError } from '../../dialects/oracle/oracle-errors';
import { ConfigError, OwnershipLostError } from '../../common/errors';
import { PasswordRequiredError, readDatabaseError, type ErrorKind } from '../../dialects';
import { MariaDbError } from '../../dialects/mariadb/mariadb-errors';

function pgError(code: string, message: string, extra: Record<string, string> = {}) {
  return Object.assign(new Error(message), { code, ...extra });
}

describe('error classification', () => {
  it.each(['08006', '40001', '40P01', '53200', '57P01', '55P03'])('retries SQLSTATE %s', (code) => {
    expect(isTransient(pgError(code, 'x'))).toBe(true);
  });

  it.each(['22P02', '23505', '42P01', '42703', '0A000'])('does not retry SQLSTATE %s', (code) => {
    const failure = toFailure(pgError(code, 'x')) as ApplicationFailure;
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('DataError');
  });

  it('retries lost connections reported by the driver or the OS', () => {
    expect(isTransient(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(
      true,
    );
    expect(isTransient(new Error('Connection terminated unexpectedly'))).toBe(true);
    // mysql2, for a session the server closed: its own code, no errno and no SQLSTATE.
    const closed = mariadbError(
      Object.assign(new Error('Connection lost: The server closed the connection.'), {
        code: 'PROTOCOL_CONNECTION_LOST',
        fatal: true,
      }),
    );
    expect(isTransient(closed)).toBe(true);
    expect(toFailure(closed)).toMatchObject({ type: 'TransientError', nonRetryable: false });
    // mysql2, for a command given to a session already lost (a server restart): fatal, and no code at all.
    const lost = mariadbError(
      Object.assign(new Error("Can't add new command when connection is in closed state"), { fatal: true }),
    );
    expect(isTransient(lost)).toBe(true);
    expect(toFailure(lost)).toMatchObject({ type: 'TransientError', nonRetryable: false });
    expect(isTransient(Object.assign(new Error('Connection lost'), { code: 'PROTOCOL_SEQUENCE_TIMEOUT' }))).toBe(false);
  });

  it('never retries configuration errors or lost ownership', () => {
    const config = toFailure(new ConfigError('M', 'BULKLMT', 'is 0', 'set it')) as ApplicationFailure;
    expect(config).toMatchObject({
      type: 'ConfigError',
      nonRetryable: true,
      message: 'Mapping M: BULKLMT is 0. Fix: set it',
    });
    expect((toFailure(new OwnershipLostError('M', 1, 'x')) as ApplicationFailure).nonRetryable).toBe(true);
  });
});

describe('each dialect reads its errors into one neutral kind', () => {
  const mysql = (errno: number, sqlState: string, sqlMessage: string) =>
    Object.assign(new Error(sqlMessage), { errno, sqlState, sqlMessage, code: 'ER_X' });
  const ora = (num: number, text: string) =>
    Object.assign(new Error(`ORA-${String(num).padStart(5, '0')}: ${text}`), {
      code: `ORA-${String(num).padStart(5, '0')}`,
      errorNum: num,
    });
  it.each<[string, unknown, ErrorKind | undefined]>([
    ['PostgreSQL, a deadlock', pgError('40P01', 'deadlock detected'), 'transient'],
    ['PostgreSQL, a value out of range', pgError('22003', 'value "9" is out of range'), 'data'],
    ['PostgreSQL, a CHECK', pgError('23514', 'violates check constraint'), 'constraint'],
    [
      'PostgreSQL, a read-only transaction',
      pgError('25006', 'cannot execute INSERT in a read-only transaction'),
      'read-only',
    ],
    ['PostgreSQL, a missing table', pgError('42P01', 'relation "t" does not exist'), 'statement'],
    [
      "MariaDB, a lock wait (its driver's own error, not yet read)",
      mysql(1205, 'HY000', 'Lock wait timeout exceeded'),
      'transient',
    ],
    [
      'MariaDB, a refused INSERT',
      mysql(1142, '42000', "INSERT command denied to user 'etl'@'h' for table `d`.`t`"),
      'privilege',
    ],
    ['MariaDB, a duplicate', mysql(1062, '23000', "Duplicate entry '1' for key 'PRIMARY'"), 'constraint'],
    [
      'MariaDB, an error its SQLSTATE does not name',
      mysql(1030, 'HY000', 'Got error 28 from storage engine'),
      'unknown',
    ],
    [
      'MariaDB, a named lock another session holds (no SQLSTATE)',
      new MariaDbError('another session holds the truncate lock', undefined, undefined, undefined, 'transient'),
      'transient',
    ],
    ['Oracle, a deadlock', ora(60, 'deadlock detected while waiting for resource'), 'transient'],
    ['Oracle, a value too large', ora(12899, 'value too large for column'), 'data'],
    [
      'Oracle, a read-only transaction',
      ora(1456, 'may not perform insert/delete/update operation inside a READ ONLY transaction'),
      'read-only',
    ],
    ['Oracle, an ORA- code it does not know', ora(600, 'internal error code'), 'unknown'],
    [
      'a socket cut (EPIPE, which looks like a SQLSTATE)',
      Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }),
      'transient',
    ],
    ['an error no database raised', new Error('x'), undefined],
  ])('%s', (_, err, kind) => {
    expect(readDatabaseError(err)?.kind).toBe(kind);
  });

  it('asks the dialect an error carries, not the first that would read its code', () => {
    // A SQLSTATE alone would be read by PostgreSQL's dialect, which knows no GRANT of MariaDB's.
    const refused = new MariaDbError('INSERT command denied', '42501', 1142, "GRANT INSERT ON `d`.`t` TO 'etl'@'%'");
    expect(grantFor(refused, 'ignored')).toBe("GRANT INSERT ON `d`.`t` TO 'etl'@'%'");
  });
});

describe('a missing privilege (SQLSTATE 42501)', () => {
  it('is never retried, and says what to grant on which object', () => {
    const failure = toFailure(pgError('42501', 'permission denied for table sales')) as ApplicationFailure;
    expect(failure).toMatchObject({
      type: 'DataError',
      nonRetryable: true,
      message:
        'permission denied for table sales [SQLSTATE 42501]. Fix: a DBA grants the user of the connection that ran it what dms-etl needs on the object the message names, then run the mapping again',
    });
    const schema = toFailure(pgError('42501', 'permission denied for schema dwh')) as ApplicationFailure;
    expect(schema.message).toBe(
      'permission denied for schema dwh [SQLSTATE 42501]. Fix: a DBA runs GRANT USAGE ON SCHEMA dwh TO the user of the connection that ran it, then run the mapping again',
    );
  });

  it('names the GRANT for a read, and for what MariaDB refused', () => {
    expect(grantFor(pgError('42501', 'permission denied for table sales'), 'etl', true)).toBe(
      'GRANT SELECT ON sales TO etl',
    );
    expect(grantFor(pgError('42501', 'permission denied for view v_sales'), 'etl', true)).toBe(
      'GRANT SELECT ON v_sales TO etl',
    );
    // Which privilege a write lacked, PostgreSQL does not say.
    expect(grantFor(pgError('42501', 'permission denied for table sales'), 'etl', false)).toBeNull();
    expect(
      grantFor(
        oracleError(
          Object.assign(new Error('ORA-01031: insufficient privileges'), { code: 'ORA-01031', errorNum: 1031 }),
        ) as Error,
        'etl',
        true,
      ),
    ).toBeNull();
    const maria = mariadbError(
      Object.assign(new Error('x'), {
        errno: 1142,
        sqlState: '42000',
        code: 'ER_TABLEACCESS_DENIED_ERROR',
        sqlMessage: "INSERT command denied to user 'etl'@'localhost' for table `dwh`.`sales`",
      }),
    );
    const failure = toFailure(maria) as ApplicationFailure;
    expect(failure).toMatchObject({ type: 'DataError', nonRetryable: true });
    expect(failure.message).toBe(
      "INSERT command denied to user 'etl'@'localhost' for table `dwh`.`sales` [SQLSTATE 42501]. Fix: a DBA runs GRANT INSERT ON `dwh`.`sales` TO 'etl'@'localhost', then run the mapping again",
    );
    // dms-etl's own tables: everything it needs on them, in one GRANT.
    const own = (table: string) =>
      mariadbError(
        Object.assign(new Error('x'), {
          errno: 1142,
          sqlState: '42000',
          sqlMessage: `SELECT command denied to user 'etl'@'localhost' for table \`dwh\`.\`${table}\``,
        }),
      ) as Error;
    expect(grantFor(own('dms_chkpnt'), 'etl')).toBe(
      "GRANT SELECT, INSERT, UPDATE ON `dwh`.`dms_chkpnt` TO 'etl'@'localhost'",
    );
    expect(grantFor(own('dms_reject'), 'etl')).toBe("GRANT SELECT, INSERT ON `dwh`.`dms_reject` TO 'etl'@'localhost'");
  });
});

describe("MariaDB's GRANT names the account, not the address it saw", () => {
  it('uses the account a session logged in as (CURRENT_USER()), noted when the session started', () => {
    const refused = (user: string, host: string) =>
      mariadbError(
        Object.assign(new Error('x'), {
          errno: 1142,
          sqlState: '42000',
          sqlMessage: `INSERT command denied to user '${user}'@'${host}' for table \`dwh\`.\`sales\``,
        }),
      );
    noteAccount('etl_ro@10.0.0.5', 'etl_ro@%');
    expect(grantFor(refused('etl_ro', '10.0.0.5') as Error, 'ignored')).toBe(
      "GRANT INSERT ON `dwh`.`sales` TO 'etl_ro'@'%'",
    );
    // An address no session of this worker came from: the message's own account.
    expect(grantFor(refused('etl', '10.0.0.9') as Error, 'ignored')).toBe(
      "GRANT INSERT ON `dwh`.`sales` TO 'etl'@'10.0.0.9'",
    );
  });
});

describe('a connection that fails at login', () => {
  const failureOf = (err: Error, passwordEnv?: string) =>
    toFailure(connectionFailure('M', 'SRCCONID', { conid: 'SRC', passwordEnv }, err)) as ApplicationFailure;

  it.each([
    [
      'a database that is down',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    ],
    ['a host out of reach', Object.assign(new Error('connect ETIMEDOUT 10.0.0.9:5432'), { code: 'ETIMEDOUT' })],
    ['a server starting up', pgError('57P03', 'the database system is starting up')],
    ['a pool that cannot connect in time', new Error('timeout exceeded when trying to connect')],
  ])('retries %s, naming the field and the connection', (_, err) => {
    const failure = failureOf(err);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.type).toBe('TransientError');
    const named = `Mapping M: SRCCONID uses connection 'SRC', which cannot be reached: ${err.message}. Fix: check that the database is up`;
    expect(failure.message.slice(0, named.length)).toBe(named);
  });

  it.each([
    [
      'a wrong password',
      pgError('28P01', 'password authentication failed for user "etl"'),
      /password authentication failed for user "etl" \[SQLSTATE 28P01\]/,
    ],
    [
      'a database that does not exist',
      pgError('3D000', 'database "nope" does not exist'),
      /database "nope" does not exist \[SQLSTATE 3D000\]/,
    ],
    [
      'a host that does not exist',
      Object.assign(new Error('getaddrinfo ENOTFOUND db-hots'), { code: 'ENOTFOUND' }),
      /getaddrinfo ENOTFOUND db-hots/,
    ],
  ])('fails at once on %s, naming the field, the connection, PWDENV and the fix', (_, err, detail) => {
    const failure = failureOf(err, 'SRC_PASSWORD');
    expect(failure).toMatchObject({ type: 'ConfigError', nonRetryable: true });
    expect(failure.message).toMatch(/^Mapping M: SRCCONID uses connection 'SRC', which the worker cannot log in to: /);
    expect(failure.message).toMatch(detail);
    expect(failure.message).toMatch(
      /\. Fix: correct CONURL \(host, port, database, user\) of connection 'SRC' in DMS_DBCONDTLS, or the password in SRC_PASSWORD \(the variable its PWDENV names\) on the worker$/,
    );
  });

  it('tells a connection without PWDENV that a server asking for a password needs one', () => {
    expect(failureOf(pgError('28P01', 'password authentication failed for user "etl"')).message).toMatch(
      /, or if the server asks for a password, set PWDENV of the connection to the name of a variable that holds it$/,
    );
    const failure = failureOf(new PasswordRequiredError());
    expect(failure).toMatchObject({ type: 'ConfigError', nonRetryable: true });
    expect(failure.message).toBe(
      "Mapping M: SRCCONID uses connection 'SRC', which the worker cannot log in to: the server asks for a password, and the connection's PWDENV is empty. " +
        "Fix: set PWDENV of connection 'SRC' in DMS_DBCONDTLS to the name of an environment variable that holds the password on the worker, or correct CONURL (host, port, database, user) of connection 'SRC' in DMS_DBCONDTLS",
    );
  });
});

describe('redaction', () => {
  it('removes the values that data exceptions quote', () => {
    const err = pgError('22P02', 'invalid input syntax for type integer: "secret note"', {
      where: 'COPY t, line 3, column note: "secret note"',
    });
    const message = redactedMessage(err);
    expect(message).not.toContain('secret');
    expect(message).toBe(
      'invalid input syntax for type integer: (value redacted) (COPY line 3, column note) [SQLSTATE 22P02]',
    );
  });

  it('removes a value even when it holds quotes of its own', () => {
    const err = pgError('22P02', 'invalid input syntax for type integer: "a" secret "b"');
    expect(redactedMessage(err)).toBe('invalid input syntax for type integer: (value redacted) [SQLSTATE 22P02]');
  });

  it('removes a value quoted before any colon', () => {
    expect(redactedMessage(pgError('22003', 'value "3000000000" is out of range for type integer'))).toBe(
      'value (value) is out of range for type integer: (value redacted) [SQLSTATE 22003]',
    );
  });

  it('removes what a trigger raises, which may quote any column', () => {
    expect(redactedMessage(pgError('P0001', 'bad row: secret'))).toBe(
      'raised by a trigger or function: (message redacted) [SQLSTATE P0001]',
    );
  });

  it('never uses the detail, which may hold a whole row', () => {
    const err = pgError('23502', 'null value in column "b" of relation "t" violates not-null constraint', {
      detail: 'Failing row contains (1, secret).',
    });
    expect(redactedMessage(err)).not.toContain('secret');
    expect(redactedMessage(err)).toContain('column "b"');
  });
});
