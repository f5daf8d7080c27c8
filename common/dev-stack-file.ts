// Where a running dev stack (`dms dev`) says it listens: .dms/dev.json in the checkout (or
// DMS_DEV_DIR), which every `dms` command and `dms worker` without DMS_METADATA_URL reads.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { EnvError } from './errors';

const ROOT = path.join(__dirname, '..');

/** The password variable of the tour's connections (client/dev-tour.ts): the stack's own. */
export const TOUR_PASSWORD_ENV = 'DMS_DEV_PG_PASSWORD';

/** Where the dev stack keeps its state: DMS_DEV_DIR, else .dms/ in the checkout. */
export function devDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.DMS_DEV_DIR ?? path.join(ROOT, '.dms'));
}

const DevFile = z.object({
  pid: z.number().int(),
  metadataUrl: z.string(),
  metadataPassword: z.string(),
  temporalAddress: z.string(),
  webUi: z.string(),
});
export type DevStack = z.output<typeof DevFile>;

/** The running dev stack's addresses, or undefined when none runs (no file, or its process is gone). */
export function runningDevStack(env: NodeJS.ProcessEnv = process.env): DevStack | undefined {
  const file = path.join(devDir(env), 'dev.json');
  if (!existsSync(file)) return undefined;
  const parsed = DevFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) return undefined;
  try {
    process.kill(parsed.data.pid, 0);
  } catch {
    return undefined; // left behind by a stack that was killed
  }
  return parsed.data;
}

/**
 * Without DMS_METADATA_URL, the running dev stack's addresses, set into `env` (the metadata
 * database, its password, Temporal unless env names another, the tour's password); when no
 * stack runs, an error that says what to start or set.
 */
export function withDevStack(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (env.DMS_METADATA_URL !== undefined) return env;
  const dev = runningDevStack(env);
  if (!dev) {
    throw new EnvError(
      'DMS_METADATA_URL is not set, and no dev stack runs here. Fix: start one with `npm run dev` (or `npx dms dev`) in another terminal, or set DMS_METADATA_URL to your metadata database (postgres://user@host:5432/db)',
    );
  }
  // The tour's connections name the stack's password: commands and workers that open them read it there.
  env[TOUR_PASSWORD_ENV] ??= dev.metadataPassword;
  // The stack's Temporal, unless the environment (or a config profile) names another.
  if (env.TEMPORAL_ADDRESS === undefined && env.TEMPORAL_PROFILE === undefined)
    env.TEMPORAL_ADDRESS = dev.temporalAddress;
  env.DMS_METADATA_URL = dev.metadataUrl;
  env.DMS_METADATA_PASSWORD = dev.metadataPassword;
  return env;
}
