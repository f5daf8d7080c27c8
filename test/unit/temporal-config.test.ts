// How the worker and the CLI reach Temporal (common/temporal-config.ts): the SDK's loader
// over the variables and the config file, as the Temporal CLI reads them. The connection
// itself, over TLS through a proxy, is test/e2e/temporal-tls.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { temporalConnectError, temporalTarget } from '../../common/temporal-config';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dms-envconfig-'));
const file = path.join(dir, 'temporal.toml');
writeFileSync(
  file,
  `[profile.default]
address = "from-file:7233"
namespace = "file-ns"

[profile.cloud]
address = "my-ns.a1b2c.tmprl.cloud:7233"
namespace = "my-ns.a1b2c"
api_key = "file-key-never-printed"
`,
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// No config file unless a test names one: the machine's own must not count.
const none = { TEMPORAL_CONFIG_FILE: path.join(dir, 'absent.toml') };

describe('the Temporal connection', () => {
  it('is the dev server on 127.0.0.1:7233, namespace default, with nothing set', () => {
    const t = temporalTarget(none);
    expect(t).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default', describe: '127.0.0.1:7233' });
    expect(t.options.tls).toBeFalsy();
  });

  it("takes the variables, the Temporal CLI's own", () => {
    const t = temporalTarget({
      ...none,
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'etl',
      TEMPORAL_TLS: 'true',
    });
    expect(t).toMatchObject({
      address: 'temporal.internal:7233',
      namespace: 'etl',
      describe: 'temporal.internal:7233 (TLS)',
    });
    expect(t.options.tls).toBeTruthy();
  });

  it('takes a profile of the config file, a variable winning over it, and never prints the key', () => {
    expect(temporalTarget({ TEMPORAL_CONFIG_FILE: file })).toMatchObject({
      address: 'from-file:7233',
      namespace: 'file-ns',
    });
    const cloud = temporalTarget({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' });
    expect(cloud).toMatchObject({
      address: 'my-ns.a1b2c.tmprl.cloud:7233',
      namespace: 'my-ns.a1b2c',
      describe: 'my-ns.a1b2c.tmprl.cloud:7233 (TLS, an API key, profile cloud)',
    });
    expect(cloud.options.apiKey).toBe('file-key-never-printed');
    expect(JSON.stringify(cloud.describe)).not.toContain('file-key');
    expect(
      temporalTarget({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud', TEMPORAL_NAMESPACE: 'override' })
        .namespace,
    ).toBe('override');
  });

  it('says in one line what is wrong with the settings or the connection, and what to do', async () => {
    expect(() => temporalTarget({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'nope' })).toThrow(
      /^Cannot read the Temporal connection settings \(profile nope\): .+\. Fix: check TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE/,
    );
    // Nothing listens on port 1: the probe says so, and the fix is the address, not a certificate
    // (a refused certificate: test/e2e/temporal-tls.test.ts).
    const t = temporalTarget({ ...none, TEMPORAL_ADDRESS: '127.0.0.1:1', TEMPORAL_TLS: 'true' });
    expect((await temporalConnectError(t, new Error('Failed to connect before the deadline\nmore'))).message).toBe(
      'Cannot reach Temporal at 127.0.0.1:1 (TLS): connect ECONNREFUSED 127.0.0.1:1. Fix: check TEMPORAL_ADDRESS (and TEMPORAL_API_KEY or the client certificate the cluster expects)',
    );
    expect((await temporalConnectError(temporalTarget(none), new Error('connect ECONNREFUSED'))).message).toMatch(
      /Fix: start it with `npm run temporal`/,
    );
  });
});
