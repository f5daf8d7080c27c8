import { z } from 'zod';
import { distance } from 'fastest-levenshtein';
import { EnvError } from './errors';
import { splitPassword } from './url-password';

const positiveInt = (name: string, fallback: number) =>
  z.coerce
    .number({ error: `${name} must be a whole number` })
    .int(`${name} must be a whole number`)
    .positive(`${name} must be greater than 0`)
    .default(fallback);

const postgresUrl = (name: string) =>
  z
    .string({
      error: `${name} is not set: point it at the metadata database, e.g. postgres://postgres@127.0.0.1:5432/dms`,
    })
    .min(1, `${name} is empty: point it at the metadata database, e.g. postgres://postgres@127.0.0.1:5432/dms`)
    .refine((v) => v === '' || /^postgres(ql)?:\/\//.test(v), `${name} must be a postgres:// URL`);

// TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key and profiles are read by the SDK's own
// loader (common/temporal-config.ts); only dms-etl's own variable is checked here.
const temporalEnv = {
  DMS_TASK_QUEUE: z.string().min(1).default('dms-etl'),
};

const metadataEnv = {
  DMS_METADATA_URL: postgresUrl('DMS_METADATA_URL'),
  /** The metadata database's password, kept out of DMS_METADATA_URL. */
  DMS_METADATA_PASSWORD: z
    .string()
    .min(1, 'DMS_METADATA_PASSWORD is empty: unset it, or set it to the password of the user in DMS_METADATA_URL')
    .optional(),
};

/** One password for the metadata database: in the URL or in DMS_METADATA_PASSWORD, not both. */
function onePassword(env: { DMS_METADATA_URL: string; DMS_METADATA_PASSWORD?: string }, ctx: z.RefinementCtx): void {
  if (env.DMS_METADATA_PASSWORD === undefined) return;
  let inUrl = false;
  try {
    inUrl = splitPassword(env.DMS_METADATA_URL).password !== undefined;
  } catch {
    return; // the URL's own check reports it
  }
  if (inUrl) {
    ctx.addIssue({
      code: 'custom',
      path: ['DMS_METADATA_PASSWORD'],
      message:
        'DMS_METADATA_PASSWORD is set and DMS_METADATA_URL carries a password too: remove the password from DMS_METADATA_URL',
    });
  }
}

export const ClientEnv = z.object({ ...temporalEnv, ...metadataEnv }).superRefine(onePassword);

export const WorkerEnv = z
  .object({
    ...temporalEnv,
    ...metadataEnv,
    /** First retry delay of a batch that failed with a transient error. */
    DMS_RETRY_INITIAL_INTERVAL_MS: positiveInt('DMS_RETRY_INITIAL_INTERVAL_MS', 1_000),
    DMS_RETRY_MAX_INTERVAL_MS: positiveInt('DMS_RETRY_MAX_INTERVAL_MS', 60_000),
    DMS_RETRY_BACKOFF: z.coerce
      .number({ error: 'DMS_RETRY_BACKOFF must be a number' })
      .min(1, 'DMS_RETRY_BACKOFF must be at least 1')
      .default(2),
    /** Attempts of one batch before the run fails (transient errors only). */
    DMS_RETRY_MAX_ATTEMPTS: positiveInt('DMS_RETRY_MAX_ATTEMPTS', 10),
    /**
     * A hard limit on one batch activity (which commits batches for at most half of it); a
     * batch heartbeats, so a dead worker is noticed much sooner.
     */
    DMS_BATCH_TIMEOUT_MS: positiveInt('DMS_BATCH_TIMEOUT_MS', 3_600_000),
    DMS_HEARTBEAT_TIMEOUT_MS: positiveInt('DMS_HEARTBEAT_TIMEOUT_MS', 60_000),
    /** Committed batches per workflow execution before it continues as new. */
    DMS_BATCHES_PER_EXECUTION: positiveInt('DMS_BATCHES_PER_EXECUTION', 1_000),
    /** How long one batch activity keeps committing batches before it reports to the workflow. */
    DMS_ACTIVITY_SLICE_MS: positiveInt('DMS_ACTIVITY_SLICE_MS', 5_000),
    /**
     * The most bytes of row text a batch carries where its rows are read in key order (a unique
     * key's cursor): it ends at BULKLMT rows or at this, whichever comes first.
     */
    DMS_BATCH_BYTES: positiveInt('DMS_BATCH_BYTES', 64 * 2 ** 20),
    /** A workflow bundle built by `npm run bundle`; without it the worker bundles at start. */
    DMS_WORKFLOW_BUNDLE: z.string().min(1).optional(),
    /**
     * Batch activities one worker runs at once (the key ranges of partitioned loads, and
     * loads of different mappings); each database pool holds twice as many sessions.
     */
    DMS_MAX_CONCURRENT_BATCHES: positiveInt('DMS_MAX_CONCURRENT_BATCHES', 4),
    /** How long a batch waits for a lock on the target before it fails and is retried. */
    DMS_LOCK_TIMEOUT_MS: positiveInt('DMS_LOCK_TIMEOUT_MS', 30_000),
    /** host:port where the worker serves Prometheus metrics at /metrics; off when unset. */
    DMS_METRICS_ADDRESS: z
      .string()
      .regex(
        /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/,
        'DMS_METRICS_ADDRESS must be host:port, e.g. 127.0.0.1:9464 (or 0.0.0.0:9464 to be scraped from other machines)',
      )
      .optional(),
    /** text: readable lines (the default); json: one JSON object per line, for a log collector. */
    DMS_LOG_FORMAT: z.enum(['text', 'json'], { error: "DMS_LOG_FORMAT must be 'text' or 'json'" }).default('text'),
  })
  .superRefine(onePassword);

export type ClientEnv = z.output<typeof ClientEnv>;
export type WorkerEnv = z.output<typeof WorkerEnv>;

/** Parses the environment; the error names each variable that is wrong and how. */
export function readEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv = process.env): z.output<T> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
  throw new EnvError(`Invalid environment:\n${lines.join('\n')}`);
}

/**
 * Every DMS_* variable dms-etl reads: the worker's and the commands' settings above, and those
 * that single commands read (the payload keys, the codec server, the dev stack and the demo).
 */
const KNOWN_VARIABLES: readonly string[] = [
  ...Object.keys(WorkerEnv.shape),
  'DMS_PAYLOAD_KEYS',
  'DMS_CODEC_AUTH',
  'DMS_DEBUG',
  'DMS_DEV_DIR',
  'DMS_DEV_PG',
  'DMS_DEV_PG_PASSWORD',
  'DMS_DEMO_PG_URL',
  'DMS_DEMO_ROWS',
  'DMS_DEMO_PASSWORD',
  'DMS_CHROMIUM',
  'DMS_FROM_SOURCES',
];

/** The test suite's and the bench's own variables (DMS_TEST_PG_URL, DMS_BENCH_PG_URL, ...). */
const OWN_PREFIXES = ['DMS_TEST_', 'DMS_BENCH_'];

/**
 * A warning for each DMS_* variable that nothing reads, with the nearest known one: a
 * misspelt setting would otherwise leave its default in force without a word. A name ending
 * in _PASSWORD is taken for a connection's PWDENV unless it is close to a known variable.
 */
export function unknownVariableWarnings(env: NodeJS.ProcessEnv = process.env): string[] {
  const warnings: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('DMS_') || KNOWN_VARIABLES.includes(name) || OWN_PREFIXES.some((p) => name.startsWith(p)))
      continue;
    // A typo is a few edits away; DMS_SALES_PASSWORD is not a misspelt DMS_DEMO_PASSWORD.
    const [nearest] = KNOWN_VARIABLES.map((k) => ({ k, d: distance(name, k) }))
      .filter(({ d }) => d <= 3)
      .sort((a, b) => a.d - b.d)
      .map(({ k }) => k);
    if (nearest === undefined && name.endsWith('_PASSWORD')) continue;
    warnings.push(
      `${name} is set, but dms-etl reads no such variable${nearest ? `; did you mean ${nearest}?` : ` (it reads ${KNOWN_VARIABLES.join(', ')})`}`,
    );
  }
  return warnings;
}
