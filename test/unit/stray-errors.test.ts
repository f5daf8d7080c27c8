// The worker's last resort (worker/stray-errors.ts): a database's or the network's stray error
// is logged (redacted) and counted, and the worker goes on; any other leaves its state unknown,
// and it exits.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { catchStrayErrors } from '../../worker/stray-errors';

function installed() {
  const proc = new EventEmitter();
  const said: string[] = [];
  const counted: Record<string, unknown>[] = [];
  const exits: number[] = [];
  const meter = {
    createCounter: () => ({ add: (_: number, tags: Record<string, unknown>) => counted.push(tags) }),
  } as never;
  const handlers = catchStrayErrors(
    (line) => said.push(line),
    meter,
    proc,
    (code) => exits.push(code),
  );
  return { proc, said, counted, exits, handlers };
}

const pgStack = (message: string) =>
  Object.assign(new Error(message), {
    stack: `Error: ${message}\n    at Client._handleErrorEvent (/srv/dms-etl/node_modules/pg/lib/client.js:422:10)`,
  });

describe('stray errors', () => {
  it.each([
    [
      "a socket's reset, as an unheard 'error' event",
      'uncaughtException',
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      'event',
    ],
    [
      'a server that ended the session (SQLSTATE), as an unhandled rejection',
      'unhandledRejection',
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      'rejection',
    ],
    [
      'an error raised inside node-postgres, with no code',
      'uncaughtException',
      pgStack('Connection terminated unexpectedly'),
      'event',
    ],
    [
      'an error no dialect reads, raised inside a driver (its stack passes through oracledb)',
      'uncaughtException',
      Object.assign(new Error("Cannot read properties of undefined (reading 'length')"), {
        stack: `TypeError: Cannot read properties of undefined (reading 'length')\n    at Protocol._read (/srv/dms-etl/node_modules/oracledb/lib/thin/protocol/protocol.js:58:21)`,
      }),
      'event',
    ],
    [
      "mysql2's lost connection",
      'uncaughtException',
      Object.assign(new Error('Connection lost: The server closed the connection.'), {
        code: 'PROTOCOL_CONNECTION_LOST',
      }),
      'event',
    ],
  ])('logs and counts %s, and the worker goes on', (_, event, err, kind) => {
    const { proc, said, counted, exits } = installed();
    counted.length = 0; // the two series set at 0 at install
    proc.emit(event, err);
    expect(exits).toEqual([]);
    expect(counted).toEqual([{ kind }]);
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(
      /^dms worker: caught a database error no code was waiting for .*; the worker goes on, and the batch it belonged to is retried$/,
    );
    expect(said[0]).toContain(err.message);
  });

  it.each([
    ['a TypeError of its own', new TypeError("Cannot read properties of undefined (reading 'rows')")],
    ['a rejection with no error at all', 'nope'],
  ])('exits on %s, saying why', (_, err) => {
    const { proc, said, counted, exits } = installed();
    counted.length = 0;
    proc.emit('unhandledRejection', err);
    expect(exits).toEqual([1]);
    expect(counted).toEqual([]);
    expect(said[0]).toMatch(
      /^dms worker: stopping on an error no code was waiting for, which leaves its state unknown/,
    );
  });

  it('keeps a value out of what it logs (a data error quotes it)', () => {
    const { proc, said } = installed();
    proc.emit(
      'uncaughtException',
      Object.assign(new Error('invalid input syntax for type integer: "s3cr3t-value"'), { code: '22P02' }),
    );
    expect(said[0]).not.toContain('s3cr3t-value');
  });

  it('serves both series at 0 from the start', () => {
    expect(installed().counted).toEqual([{ kind: 'event' }, { kind: 'rejection' }]);
  });

  it('removes its handlers when the worker stops', () => {
    const { proc, handlers } = installed();
    handlers.remove();
    expect(proc.listenerCount('uncaughtException') + proc.listenerCount('unhandledRejection')).toBe(0);
  });
});
