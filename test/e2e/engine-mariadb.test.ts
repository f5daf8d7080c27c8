// The engine scenarios (engine-scenarios.ts) on the local MariaDB server: one database, with a
// user of its own that logs in with a password, as source and as target.
import { describe } from 'vitest';
import { createMariaDb, registerMariaDbConnection } from '../support/mariadb';
import { mariadbPlace } from '../support/places';
import { engineScenarios } from './engine-scenarios';

const PASSWORD_ENV = 'DMS_TEST_MARIADB_PASSWORD';

describe('MariaDB', () => {
  engineScenarios({
    name: 'MariaDB',
    label: 'emdb',
    async start() {
      const m = await createMariaDb('eng');
      return {
        workerEnv: { [PASSWORD_ENV]: m.password },
        async open(h) {
          await registerMariaDbConnection(h.dbs.metadata, m, PASSWORD_ENV);
          const place = mariadbPlace(m, 'MDB');
          return { source: place, target: place };
        },
        close: () => m.drop(),
      };
    },
  });
});
