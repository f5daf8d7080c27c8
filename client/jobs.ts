// `dms migrate`, `dms job sync` and `dms mapping validate`, and the check of a mapping against
// its databases that `validate`, `mapping apply` and `run` share: the one a run makes before
// any row moves (planMapping), with the NULL-key count and the key's warnings.
import { DatabaseRegistry } from '../plan/databases';
import { messageWithFix } from '../dialects';
import { checkNullKeys, describeKey, planMapping } from '../plan/job-plan';
import { CommandError, ConfigError, UnreachableError } from '../common/errors';
import type { MappingSpec } from '../common/mapping';
import { connectionSpecOf, type Metadata } from '../metadata/repository';
import { withMetadata } from './connections';
import { count, formatOf, printRecord, type Format } from './output';

/** What checking a mapping found: the plan's summary, NULL keys to load first, and warnings (each with its fix). */
export interface MappingCheck {
  mapref: string;
  summary: string;
  nullKeys: number;
  warnings: string[];
  columns: number;
  target: string;
  bulklmt: number;
}

/**
 * Checks a mapping as a run does before any row moves; throws the run's own error when it
 * could not run. `metadata` answers for the connections (a mappings file may bring its own).
 */
export async function checkMapping(
  metadata: Parameters<typeof planMapping>[0],
  spec: MappingSpec,
): Promise<MappingCheck> {
  const databases = new DatabaseRegistry({ lockTimeoutMs: 30_000 });
  try {
    const plan = await planMapping(metadata, databases, spec);
    const nullKeys = await checkNullKeys(plan);
    const { summary, warnings } = await describeKey(plan);
    return {
      mapref: spec.mapref,
      summary,
      nullKeys,
      warnings,
      columns: plan.columns.length,
      target: `"${plan.schema}"."${plan.table}"`,
      bulklmt: spec.bulklmt,
    };
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UnreachableError) throw err;
    throw new CommandError(
      `Mapping ${spec.mapref}: could not be checked: ${messageWithFix(err as Error, `run \`dms mapping validate ${spec.mapref}\` again`)}`,
    );
  } finally {
    await databases.close();
  }
}

/** Where the CLI says a password variable is missing, and what to do (it is not the worker). */
const HERE = {
  here: 'here, where dms runs',
  fix: 'here, as on the workers (or apply with --no-validate where the databases cannot be reached from here)',
};

/**
 * The connections as the CLI opens them: those a mappings file brings (not saved yet) before
 * those in DMS_DBCONDTLS, each with its password from this shell's environment.
 */
export function cliConnections(
  metadata: Metadata,
  fromFile: { conid: string; dbtyp: string; conurl: string; pwdenv?: string | null }[] = [],
): Parameters<typeof planMapping>[0] {
  return {
    identity: () => metadata.identity(),
    connection: async (mapref, field, conid) => {
      const entry = fromFile.find((c) => c.conid === conid);
      if (entry) return connectionSpecOf(mapref, field, entry, process.env, HERE);
      const stored = await metadata.connection(mapref, field, conid, null);
      return connectionSpecOf(
        mapref,
        field,
        { conid, dbtyp: stored.dbtyp, conurl: stored.url, pwdenv: stored.passwordEnv },
        process.env,
        HERE,
      );
    },
  };
}

/** The lines `validate` and `apply` print for a mapping that passed. */
export function checkLines(check: MappingCheck): string[] {
  const lines = [`Mapping ${check.mapref}: ${check.summary}`];
  if (check.nullKeys > 0)
    lines.push(
      `Mapping ${check.mapref}: ${count(check.nullKeys)} rows with a NULL key will load first (CHKPNTNULLS = 'FIRST')`,
    );
  for (const warning of check.warnings) lines.push(`warning: ${warning}`);
  return lines;
}

export function migrate(): Promise<void> {
  return withMetadata(async (metadata) => {
    await metadata.migrate();
    console.log('metadata tables are up to date');
  });
}

export function syncJob(mapref: string): Promise<void> {
  return withMetadata(async (metadata) => {
    const spec = await metadata.mapping(mapref);
    await metadata.connection(mapref, 'SRCCONID', spec.srcconid, null);
    await metadata.connection(mapref, 'TRGCONID', spec.trgconid, null);
    const { job: row, changed } = await metadata.syncJob(spec);
    console.log(
      changed
        ? `job ${row.jobid} (version ${row.version}) created for ${mapref}`
        : `job ${row.jobid} (version ${row.version}) of ${mapref} is up to date`,
    );
  });
}

export function validate(mapref: string, opts: { output?: string; json?: boolean }): Promise<void> {
  const format: Format = formatOf(opts);
  return withMetadata(async (metadata: Metadata) => {
    const check = await checkMapping(cliConnections(metadata), await metadata.mapping(mapref));
    if (format !== 'text') return printRecord({ valid: true, ...check }, format);
    for (const line of checkLines(check)) console.log(line);
    console.log(
      `Mapping ${mapref} is valid: ${check.columns} columns into ${check.target}, ${count(check.bulklmt)} rows a batch`,
    );
  });
}
