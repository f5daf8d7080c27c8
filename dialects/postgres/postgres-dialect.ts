// PostgreSQL: node-postgres pools, every value read as text (so keys and timestamps never
// pass through a JavaScript number or Date), batches streamed through a cursor into
// COPY FROM STDIN. This file holds only the Dialect object: each of its parts (session, source,
// target, movers, stage, checkpoint table) is in the postgres-*.ts file named for it.
import type { Dialect } from '../dialect';
import { parseIdentifier } from '../../common/identifiers';
import { postgresTlsFix } from './postgres-connection';
import { readPostgresError } from './postgres-errors';
import { poolFor } from './postgres-session';
import { PostgresSource } from './postgres-source';
import { quotePostgresIdentifier } from './postgres-sql';
import { PostgresTarget } from './postgres-target';

export { POSTGRES_IDENTITY } from './postgres-session';
export { quotePostgresIdentifier } from './postgres-sql';

export const postgresDialect: Dialect = {
  dbtyp: 'POSTGRES',
  driverPackages: ['pg', 'pg-protocol', 'pg-pool', 'pg-copy-streams', 'pg-cursor'],
  // POSTGRESQL is what people also write.
  aliases: ['POSTGRESQL'],
  resolveIdentifier: (raw) => parseIdentifier(raw, (n) => n.toLowerCase(), 63),
  quoteIdentifier: quotePostgresIdentifier,
  hints: {
    cast: (expr, type) => `${expr}::${type}`,
    oneRowPerKey: (key) => `SELECT DISTINCT ON (${key}) … ORDER BY ${key}, <the column that picks the row to keep>`,
    sourceGrants: 'SELECT on every table and view SRCQUERY reads, and USAGE on their schemas',
    exactCollation: (table, column, type) =>
      `ALTER TABLE ${table} ALTER COLUMN ${column} TYPE ${type === 'citext' ? 'text' : type} COLLATE "C"`,
  },
  tlsFix: postgresTlsFix,
  urlExample: 'postgres://user@host:5432/database',
  readError: readPostgresError,
  openSource: (spec, session) => new PostgresSource(poolFor(spec, session, true)),
  openTarget: (spec, session) => new PostgresTarget(poolFor(spec, session, false)),
};
