import { describe, expect, it } from 'vitest';
import { ClientEnv, readEnv, WorkerEnv } from '../../common/env';

describe('environment', () => {
  it('applies the documented defaults', () => {
    const env = readEnv(WorkerEnv, { DMS_METADATA_URL: 'postgres://u@h/db' });
    expect(env).toMatchObject({ TEMPORAL_ADDRESS: '127.0.0.1:7233', TEMPORAL_NAMESPACE: 'default', DMS_TASK_QUEUE: 'dms-etl', DMS_RETRY_MAX_ATTEMPTS: 10 });
  });

  it('names the variable that is missing', () => {
    expect(() => readEnv(ClientEnv, {})).toThrow(/DMS_METADATA_URL is not set/);
  });

  it('names the variable that is malformed', () => {
    expect(() => readEnv(WorkerEnv, { DMS_METADATA_URL: 'postgres://u@h/db', DMS_RETRY_MAX_ATTEMPTS: 'many' })).toThrow(/DMS_RETRY_MAX_ATTEMPTS: DMS_RETRY_MAX_ATTEMPTS must be a whole number/);
    expect(() => readEnv(ClientEnv, { DMS_METADATA_URL: 'mysql://x' })).toThrow(/DMS_METADATA_URL must be a postgres:\/\/ URL/);
  });
});
