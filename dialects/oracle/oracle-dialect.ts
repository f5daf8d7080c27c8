// Oracle (DBTYP ORACLE), through node-oracledb in thin mode (no Instant Client), as a source
// and as a target. Never run against an Oracle server here: its SQL, values and errors are proven by unit tests
// (test/unit/oracle-*.test.ts), and README's Oracle section says what that leaves unverified.
import type { Dialect } from '../dialect';
import { readOracleError } from './oracle-errors';
import { resolveOracleIdentifier } from './oracle-names';
import { OraclePool } from './oracle-pool';
import { OracleSource } from './oracle-source';
import { OracleTarget } from './oracle-target';
import { quoteOracleIdentifier } from './oracle-sql';

export const oracleDialect: Dialect = {
  dbtyp: 'ORACLE',
  driverPackages: ['oracledb'],
  resolveIdentifier: resolveOracleIdentifier,
  quoteIdentifier: quoteOracleIdentifier,
  emptyStringIsNull: true,
  hints: {
    cast: (expr, type) => `CAST(${expr} AS ${type === 'text' ? 'VARCHAR2(4000)' : type})`,
    oneRowPerKey: (key) =>
      `SELECT * FROM (SELECT t.*, ROW_NUMBER() OVER (PARTITION BY ${key} ORDER BY <the column that picks the row to keep>) AS dms_rn FROM … t) WHERE dms_rn = 1`,
    sourceGrants: 'CREATE SESSION, and SELECT on every table and view SRCQUERY reads',
    exactCollation: (table, column, type) => `ALTER TABLE ${table} MODIFY ${column} ${type} COLLATE BINARY`,
  },
  tlsFix: (problem) =>
    ({
      untrusted:
        "set wallet_location to the directory of an ewallet.pem that holds the CA that signed the server's certificate",
      hostname:
        "write the host as the server's certificate names it, or set ssl_server_cert_dn to the certificate's distinguished name",
      expired: "the server's certificate is out of its dates: renew it on the server",
      'no-tls': 'point the port at the TCPS listener, or leave protocol=tcps out to connect without TLS',
    })[problem],
  urlExample: 'oracle://user@host:1521/SERVICE',
  readError: readOracleError,
  openSource: (spec, session) => new OracleSource(new OraclePool(spec.url, spec.password, session.poolSize ?? 4)),
  openTarget: (spec, session) =>
    new OracleTarget(new OraclePool(spec.url, spec.password, session.poolSize ?? 4), session.lockTimeoutMs),
};
