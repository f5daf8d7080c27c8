// A fake of node-oracledb's pooled connection, shaped as the driver documents it, for the unit
// tests of the Oracle dialect (no Oracle server runs here): execute(sql, binds, options)
// resolving to { metaData, rows } or { resultSet } (getRows(n), close()), executeMany, commit,
// rollback and close({ drop }). It answers from `answer` and records everything.
import type { OraclePool } from '../../dialects/oracle/oracle-pool';

export interface FakeAnswer {
  metaData?: { name: string; dbTypeName: string }[];
  rows?: unknown[][];
  /** Rows served through a result set. */
  resultSet?: unknown[][];
  error?: Error & { errorNum?: number; code?: string };
  /** What a statement that writes reports. */
  rowsAffected?: number;
}

export interface FakeCall {
  sql: string;
  binds: unknown[];
  options?: Record<string, unknown>;
}

export function fakeOraclePool(answer: (sql: string, binds: unknown[]) => FakeAnswer) {
  /** Every execute, executeMany, commit, rollback and result-set close, in order. */
  const calls: FakeCall[] = [];
  /** The first four words of each statement, and (commit), (rollback), (executeMany n). */
  const log: string[] = [];
  const many: FakeCall[] = [];
  /** Each session's close: whether it was dropped. */
  const closed: boolean[] = [];
  const note = (call: FakeCall, head: string) => {
    calls.push(call);
    log.push(head);
  };
  const connection = {
    execute: async (sql: string, binds: unknown[] = [], options?: Record<string, unknown>) => {
      note({ sql, binds, options }, sql.split(/\s+/).slice(0, 4).join(' '));
      const a = answer(sql, binds);
      if (a.error) throw a.error;
      if (a.resultSet) {
        const rows = [...a.resultSet];
        return {
          resultSet: {
            getRows: async (n: number) => rows.splice(0, n),
            close: async () => note({ sql: '(result set closed)', binds: [] }, '(result set closed)'),
          },
        };
      }
      return { metaData: a.metaData, rows: a.rows ?? [], rowsAffected: a.rowsAffected };
    },
    executeMany: async (sql: string, rows: unknown[][], options: Record<string, unknown>) => {
      note({ sql, binds: rows, options }, `(executeMany ${rows.length})`);
      const a = answer(sql, rows);
      if (a.error) throw a.error;
      many.push({ sql, binds: rows, options });
      return { rowsAffected: rows.length };
    },
    commit: async () => note({ sql: '(commit)', binds: [] }, '(commit)'),
    rollback: async () => note({ sql: '(rollback)', binds: [] }, '(rollback)'),
    close: async (o: { drop: boolean }) => void closed.push(o.drop),
  };
  const pool = {
    connection: async () => connection,
    // As OraclePool.with: a session whose work failed is dropped.
    with: async <T>(fn: (c: typeof connection) => Promise<T>) => {
      let ok = false;
      try {
        const result = await fn(connection);
        ok = true;
        return result;
      } finally {
        closed.push(!ok);
      }
    },
    close: async () => undefined,
  } as unknown as OraclePool;
  return { pool, calls, log, many, closed };
}
