// The engine scenarios (engine-scenarios.ts, the same ones PostgreSQL and MariaDB run here) on
// the Oracle server that ORACLE_URL names (oracle://user@host:1521/SERVICE, the password in
// ORACLE_PASSWORD), in that user's schema.
// There is no Oracle server where dms-etl is built: without ORACLE_URL this file is skipped,
// saying so (the only skip allowed under CI=true). It has NOT yet run against a server.
// With Docker:
//   docker run -d -p 1521:1521 -e ORACLE_PASSWORD=pw -e APP_USER=etl -e APP_USER_PASSWORD=pw gvenzl/oracle-free
//   ORACLE_URL=oracle://etl@127.0.0.1:1521/FREEPDB1 ORACLE_PASSWORD=pw npx vitest run test/e2e/oracle.test.ts
import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';
import { Metadata } from '../../metadata/repository';
import { oraclePlace, type Place } from '../support/places';
import { urlFor, withClient } from '../support/postgres';
import { engineScenarios } from './engine-scenarios';

const ORACLE_URL = process.env.ORACLE_URL;
const ORACLE_PASSWORD = process.env.ORACLE_PASSWORD;
const PASSWORD_ENV = 'DMS_TEST_ORACLE_PASSWORD';
let place: Place | undefined;

if (!ORACLE_URL || !ORACLE_PASSWORD) {
  console.log('test/e2e/oracle.test.ts: skipped: ORACLE_URL and ORACLE_PASSWORD are not set (no Oracle server here; see docs/oracle.md)');
}

describe.skipIf(!ORACLE_URL || !ORACLE_PASSWORD)('Oracle', () => {
  engineScenarios({
    name: 'Oracle',
    label: 'ora',
    start: async () => ({
      workerEnv: { [PASSWORD_ENV]: ORACLE_PASSWORD! },
      async open(h) {
        place = oraclePlace(ORACLE_URL!, ORACLE_PASSWORD!, 'ORA', randomBytes(3).toString('hex'));
        const metadata = Metadata.open(urlFor(h.dbs.metadata));
        await metadata.migrate().finally(() => metadata.close());
        await withClient(h.dbs.metadata, (c) => c.query(`INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES ('ORA', 'ORACLE', $1, $2)`, [ORACLE_URL, PASSWORD_ENV]));
        return { source: place, target: place };
      },
      // DMS_CHKPNT stays in the schema, as after any load; the scenarios' rows in it go.
      close: async () => place?.execute(`DELETE FROM DMS_CHKPNT WHERE MAPREF LIKE 'E\\_%' ESCAPE '\\'`),
    }),
  });
});
