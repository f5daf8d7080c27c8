// The engine scenarios (engine-scenarios.ts) on PostgreSQL: source and target in separate
// databases of the local server.
import { describe } from 'vitest';
import { postgresPlace } from '../support/places';
import { engineScenarios } from './engine-scenarios';

describe('PostgreSQL', () => {
  engineScenarios({
    name: 'PostgreSQL',
    label: 'epg',
    start: async () => ({
      workerEnv: {},
      open: async (h) => ({ source: postgresPlace(h.dbs.source, 'SRC'), target: postgresPlace(h.dbs.target, 'TGT') }),
      close: async () => undefined,
    }),
  });
});
