// Turns a frozen job into what a batch needs: open databases, resolved identifiers and the
// column list, checked against both databases before any row moves.
import { ConfigError } from '../common/errors';
import { parseMapping, type MappingSpec } from '../common/mapping';
import { IdentifierError, splitIdentifierList, type Dialect, type SourceDatabase, type TargetDatabase } from '../dialects';
import type { Metadata } from '../metadata/repository';
import type { DatabaseRegistry } from './databases';
import { isSqlState, isTransient, redactedMessage } from './failures';

export interface JobPlan {
  jobid: number;
  version: number;
  spec: MappingSpec;
  source: SourceDatabase;
  target: TargetDatabase;
  keyColumn: string;
  schema: string;
  table: string;
  /** Source columns, in the query's order; each exists in the target table. */
  columns: string[];
}

function resolve(dialect: Dialect, mapref: string, field: string, raw: string, fix: string): string {
  try {
    return dialect.resolveIdentifier(raw);
  } catch (err) {
    if (err instanceof IdentifierError) throw new ConfigError(mapref, field, `is refused: ${err.message}`, fix);
    throw err;
  }
}

function refuseUnsupported(spec: MappingSpec): void {
  const { mapref } = spec;
  if (spec.chkpntenabled === 'N' || spec.chkpntstrategy === 'NONE') {
    throw new ConfigError(mapref, 'CHKPNTSTRATEGY', "NONE (or CHKPNTENABLED = 'N') is not supported by this version yet", "use CHKPNTSTRATEGY = 'KEY' with CHKPNTCOLUMN set to a unique key column");
  }
  if (spec.chkpntstrategy === 'ROWCOUNT' || spec.chkpntstrategy === 'PYTHON') {
    throw new ConfigError(mapref, 'CHKPNTSTRATEGY', `'${spec.chkpntstrategy}' is not supported by this version yet`, "use CHKPNTSTRATEGY = 'KEY' with CHKPNTCOLUMN set to a unique key column");
  }
  if (!spec.chkpntcolumn) {
    throw new ConfigError(mapref, 'CHKPNTCOLUMN', "is empty; this version needs a key column (AUTO without CHKPNTCOLUMN is not supported yet)", 'set CHKPNTCOLUMN to a unique, NOT NULL source column, e.g. TRANSACTION_ID');
  }
  if (splitIdentifierList(spec.chkpntcolumn).length > 1) {
    throw new ConfigError(mapref, 'CHKPNTCOLUMN', `names several columns (${spec.chkpntcolumn}); composite keys are not supported by this version yet`, 'name one unique key column');
  }
  if (spec.loadmode !== 'APPEND') {
    throw new ConfigError(mapref, 'LOADMODE', `is '${spec.loadmode}', which this version does not support yet`, "set LOADMODE = 'APPEND'");
  }
}

function refusePasswordInUrl(mapref: string, field: string, conid: string, url: string): void {
  let password = '';
  try {
    password = new URL(url).password;
  } catch {
    throw new ConfigError(mapref, field, `uses connection '${conid}', whose CONURL is not a valid URL`, 'set CONURL to a URL such as postgres://user@host:5432/database');
  }
  if (password) {
    throw new ConfigError(mapref, field, `uses connection '${conid}', whose CONURL contains a password`, 'remove the password from CONURL and name an environment variable that holds it in PWDENV');
  }
}

/** Checks a job against both databases and opens what its batches need. */
export async function planJob(metadata: Metadata, databases: DatabaseRegistry, jobid: number): Promise<JobPlan> {
  const job = await metadata.job(jobid);
  if (!job) throw new Error(`job ${jobid} does not exist`);
  const spec = parseMapping(job);
  const { mapref } = spec;
  refuseUnsupported(spec);

  const srcSpec = await metadata.connection(mapref, 'SRCCONID', spec.srcconid);
  const trgSpec = await metadata.connection(mapref, 'TRGCONID', spec.trgconid);
  refusePasswordInUrl(mapref, 'SRCCONID', srcSpec.conid, srcSpec.url);
  refusePasswordInUrl(mapref, 'TRGCONID', trgSpec.conid, trgSpec.url);
  const srcDialect = databases.dialect(mapref, 'SRCCONID', srcSpec);
  const trgDialect = databases.dialect(mapref, 'TRGCONID', trgSpec);

  const keyColumn = resolve(srcDialect, mapref, 'CHKPNTCOLUMN', spec.chkpntcolumn!, 'name one source column, plain (TRANSACTION_ID) or double-quoted ("Transaction Id")');
  const schema = resolve(trgDialect, mapref, 'TRGSCHM', spec.trgschm, 'name the target schema, plain (PUBLIC) or double-quoted');
  const table = resolve(trgDialect, mapref, 'TRGTBNM', spec.trgtbnm, 'name the target table, plain (SALES_FACT) or double-quoted');

  const source = databases.source(mapref, srcSpec);
  const target = databases.target(mapref, trgSpec);

  let sourceColumns;
  try {
    sourceColumns = await source.describeQuery(spec.srcquery);
  } catch (err) {
    if (isTransient(err) || !isSqlState((err as { code?: string }).code)) throw err;
    throw new ConfigError(mapref, 'SRCQUERY', `fails on the source: ${redactedMessage(err as Error)}`, 'make SRCQUERY one read-only SELECT that runs on the source connection');
  }
  const names = sourceColumns.map((c) => c.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) {
    throw new ConfigError(mapref, 'SRCQUERY', `returns the column "${duplicate}" more than once`, 'give each selected column its own name (use AS)');
  }
  if (!names.includes(keyColumn)) {
    throw new ConfigError(mapref, 'CHKPNTCOLUMN', `is '${spec.chkpntcolumn}' (the column "${keyColumn}"), which SRCQUERY does not return (it returns ${names.join(', ')})`, 'name a column that SRCQUERY selects, or select it');
  }
  const targetColumns = await target.describeTable(schema, table);
  if (!targetColumns) {
    throw new ConfigError(mapref, 'TRGTBNM', `names the table "${schema}"."${table}", which does not exist on connection '${trgSpec.conid}'`, 'create the target table, or correct TRGSCHM / TRGTBNM');
  }
  const targetNames = new Set(targetColumns.map((c) => c.name));
  const missing = names.filter((n) => !targetNames.has(n));
  if (missing.length > 0) {
    throw new ConfigError(mapref, 'SRCQUERY', `returns ${missing.map((m) => `"${m}"`).join(', ')}, which the target table "${schema}"."${table}" does not have`, 'add the columns to the target table, or rename them in SRCQUERY with AS to match target columns');
  }
  return { jobid, version: job.version, spec, source, target, keyColumn, schema, table, columns: names };
}
