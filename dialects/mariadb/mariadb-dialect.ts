// MariaDB and MySQL (DBTYP MARIADB or MYSQL), through mysql2, as a source and as a target. Its
// parts are in the mariadb-*.ts files named for them.
import type { Dialect } from '../dialect';
import { parseIdentifier } from '../../common/identifiers';
import { mariadbPool, mariadbTlsFix } from './mariadb-connection';
import { readMariadbError } from './mariadb-errors';
import { MariaDbSource } from './mariadb-source';
import { MariaDbTarget } from './mariadb-target';
import { quoteMariaDbIdentifier } from './mariadb-sql';

export const mariadbDialect: Dialect = {
  dbtyp: 'MARIADB',
  driverPackages: ['mysql2'],
  aliases: ['MYSQL'],
  // Unquoted names fold to lower case, as most MariaDB schemas write them; "quoted" ones stay.
  resolveIdentifier: (raw) => parseIdentifier(raw, (n) => n.toLowerCase(), 64),
  quoteIdentifier: quoteMariaDbIdentifier,
  hints: {
    // CAST takes only some type names in MariaDB: CHAR for any text.
    cast: (expr, type) => `CAST(${expr} AS ${type === 'text' ? 'CHAR' : type})`,
    oneRowPerKey: (key) =>
      `SELECT * FROM (SELECT …, ROW_NUMBER() OVER (PARTITION BY ${key} ORDER BY <the column that picks the row to keep>) AS dms_rn FROM …) t WHERE dms_rn = 1`,
    sourceGrants: 'SELECT on every table and view SRCQUERY reads',
    exactCollation: (table, column, type) => `ALTER TABLE ${table} MODIFY ${column} ${type} COLLATE utf8mb4_nopad_bin`,
    // information_schema lists only the tables a user holds some privilege on.
    hiddenTable: (user) =>
      `if it exists, ${user ? `the user ${user}` : "the connection's user"} holds no privilege on it, and MariaDB hides such a table: grant what the load mode needs (docs/security.md)`,
  },
  tlsFix: mariadbTlsFix,
  urlExample: 'mysql://user@host:3306/database',
  readError: readMariadbError,
  openSource: (spec, session) =>
    new MariaDbSource(
      mariadbPool(spec.url, spec.password, { connectionLimit: session.poolSize ?? 4 }, { readOnly: true }),
      spec.password !== undefined,
    ),
  openTarget: (spec, session) =>
    new MariaDbTarget(
      mariadbPool(
        spec.url,
        spec.password,
        { connectionLimit: session.poolSize ?? 4 },
        { lockTimeoutMs: session.lockTimeoutMs },
      ),
      spec.password !== undefined,
      session.lockTimeoutMs,
    ),
};
