import { describe, expect, it } from 'vitest';
import { ClientEnv, readEnv, unknownVariableWarnings, WorkerEnv } from '../../common/env';

describe('environment', () => {
  it('applies the documented defaults', () => {
    const env = readEnv(WorkerEnv, { DMS_METADATA_URL: 'postgres://u@h/db' });
    expect(env).toMatchObject({ DMS_TASK_QUEUE: 'dms-etl', DMS_RETRY_MAX_ATTEMPTS: 10, DMS_MAX_CONCURRENT_BATCHES: 4 });
  });

  it('takes a whole number of concurrent batches, at least 1', () => {
    expect(
      readEnv(WorkerEnv, { DMS_METADATA_URL: 'postgres://u@h/db', DMS_MAX_CONCURRENT_BATCHES: '16' })
        .DMS_MAX_CONCURRENT_BATCHES,
    ).toBe(16);
    expect(() =>
      readEnv(WorkerEnv, { DMS_METADATA_URL: 'postgres://u@h/db', DMS_MAX_CONCURRENT_BATCHES: '0' }),
    ).toThrow(/DMS_MAX_CONCURRENT_BATCHES must be greater than 0/);
  });

  it('takes a metrics address as host:port and a log format of text or json, both off by default', () => {
    const base = { DMS_METADATA_URL: 'postgres://u@h/db' };
    expect(readEnv(WorkerEnv, base).DMS_METRICS_ADDRESS).toBeUndefined();
    expect(readEnv(WorkerEnv, base).DMS_LOG_FORMAT).toBe('text');
    for (const address of ['127.0.0.1:9464', '0.0.0.0:9464', 'worker-1.example.com:9464', '[::1]:9464']) {
      expect(readEnv(WorkerEnv, { ...base, DMS_METRICS_ADDRESS: address }).DMS_METRICS_ADDRESS).toBe(address);
    }
    expect(() => readEnv(WorkerEnv, { ...base, DMS_METRICS_ADDRESS: 'http://127.0.0.1:9464/metrics' })).toThrow(
      /DMS_METRICS_ADDRESS must be host:port, e\.g\. 127\.0\.0\.1:9464/,
    );
    expect(readEnv(WorkerEnv, { ...base, DMS_LOG_FORMAT: 'json' }).DMS_LOG_FORMAT).toBe('json');
    expect(() => readEnv(WorkerEnv, { ...base, DMS_LOG_FORMAT: 'xml' })).toThrow(
      /DMS_LOG_FORMAT must be 'text' or 'json'/,
    );
  });

  it('names the variable that is missing', () => {
    expect(() => readEnv(ClientEnv, {})).toThrow(/DMS_METADATA_URL is not set/);
  });

  it('names the variable that is malformed', () => {
    expect(() => readEnv(WorkerEnv, { DMS_METADATA_URL: 'postgres://u@h/db', DMS_RETRY_MAX_ATTEMPTS: 'many' })).toThrow(
      /DMS_RETRY_MAX_ATTEMPTS: DMS_RETRY_MAX_ATTEMPTS must be a whole number/,
    );
    expect(() => readEnv(ClientEnv, { DMS_METADATA_URL: 'mysql://x' })).toThrow(
      /DMS_METADATA_URL must be a postgres:\/\/ URL/,
    );
  });

  it.each([
    [
      'a misspelt setting',
      { DMS_BATCH_TIMOUT_MS: '5' },
      ['DMS_BATCH_TIMOUT_MS is set, but dms-etl reads no such variable; did you mean DMS_BATCH_TIMEOUT_MS?'],
    ],
    [
      'a misspelt password variable',
      { DMS_METADATA_PASWORD: 'x' },
      ['DMS_METADATA_PASWORD is set, but dms-etl reads no such variable; did you mean DMS_METADATA_PASSWORD?'],
    ],
    ['a connection password (a PWDENV)', { DMS_SALES_PASSWORD: 'x' }, []],
    [
      'the known ones, and the tests’ own',
      { DMS_TASK_QUEUE: 'q', DMS_PAYLOAD_KEYS: 'k', DMS_TEST_PG_URL: 'u', PATH: '/bin' },
      [],
    ],
  ])('warns of an unknown DMS_* variable: %s', (_, env, warnings) => {
    expect(unknownVariableWarnings(env)).toEqual(warnings);
  });

  it('lists the variables it reads when none is close', () => {
    expect(unknownVariableWarnings({ DMS_COLOUR: 'blue' })[0]).toMatch(
      /^DMS_COLOUR is set, but dms-etl reads no such variable \(it reads DMS_TASK_QUEUE, DMS_METADATA_URL, /,
    );
  });
});
