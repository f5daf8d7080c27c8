// Mappings and connections as code: `dms mapping apply <file.yaml>` checks a file of
// connections and mappings and upserts them into DMS_DBCONDTLS and DMS_MAPR in one transaction
// (then syncs each changed mapping's job), with --dry-run to see what would change; and the
// list/show/test commands that read them back.
import Table from 'cli-table3';
import type { Command } from 'commander';
import { DatabaseRegistry } from '../activities/databases';
import { connectionFailure } from '../activities/failures';
import { didYouMean } from '../common/close-names';
import { ConfigError, EnvError } from '../common/errors';
import { DEFINITION_FIELDS, parseMapping, type MappingSpec } from '../common/mapping';
import type { Metadata } from '../metadata/repository';
import { readCatalog, type ConnectionEntry } from './catalog-file';
import { withMetadata } from './connections';

/** What applying would change: one line an entry, and which mappings changed. */
export function catalogChanges(
  file: { connections: ConnectionEntry[]; mappings: MappingSpec[] },
  current: { connections: { conid: string; dbtyp: string; conurl: string; pwdenv: string | null }[]; mappings: Record<string, unknown>[] },
): { lines: string[]; changed: string[] } {
  const lines: string[] = [];
  for (const c of file.connections) {
    const was = current.connections.find((x) => x.conid === c.conid);
    const fields = (['dbtyp', 'conurl', 'pwdenv'] as const).filter((f) => (was?.[f] ?? null) !== (c[f] ?? null));
    lines.push(!was ? `add connection ${c.conid} (${c.dbtyp})` : fields.length ? `change connection ${c.conid}: ${fields.map((f) => `${f} '${was[f] ?? ''}' → '${c[f] ?? ''}'`).join(', ')}` : `connection ${c.conid} unchanged`);
  }
  const changed: string[] = [];
  for (const m of file.mappings) {
    const row = current.mappings.find((x) => x.mapref === m.mapref);
    let was: MappingSpec | undefined;
    try {
      was = row ? parseMapping(row) : undefined;
    } catch {
      was = undefined; // a row that does not parse today is replaced whole
    }
    const fields = DEFINITION_FIELDS.filter((f) => !was || was[f] !== m[f]);
    if (!row) lines.push(`add mapping ${m.mapref} (${m.srcconid} → ${m.trgconid}.${m.trgtbnm})`);
    else if (fields.length) lines.push(`change mapping ${m.mapref}: ${fields.map((f) => `${f.toUpperCase()} ${JSON.stringify(was?.[f] ?? null)} → ${JSON.stringify(m[f])}`).join(', ')}`);
    else lines.push(`mapping ${m.mapref} unchanged`);
    if (!row || fields.length) changed.push(m.mapref);
  }
  return { lines, changed };
}

async function apply(metadata: Metadata, path: string, dryRun: boolean): Promise<void> {
  const file = readCatalog(path);
  const known = new Set([...file.connections.map((c) => c.conid), ...(await metadata.connections()).map((c) => c.conid)]);
  for (const m of file.mappings) {
    for (const [field, conid] of [['SRCCONID', m.srcconid], ['TRGCONID', m.trgconid]] as const) {
      if (!known.has(conid)) throw new ConfigError(m.mapref, field, `is '${conid}', which is neither in DMS_DBCONDTLS nor in ${path}`, `${didYouMean(conid, [...known])}add the connection under connections: in ${path}`);
    }
  }
  const { lines, changed } = catalogChanges(file, { connections: await metadata.connections(), mappings: await metadata.mappings() });
  for (const line of lines) console.log(dryRun && /^(add|change) /.test(line) ? `would ${line}` : line);
  if (dryRun) {
    console.log(`dry run: nothing written (${changed.length} mapping(s) would change)`);
    return;
  }
  await metadata.applyCatalog(file.connections, file.mappings);
  for (const mapref of changed) {
    const { job, changed: synced } = await metadata.syncJob(await metadata.mapping(mapref));
    console.log(synced ? `job ${job.jobid} (version ${job.version}) created for ${mapref}` : `job ${job.jobid} of ${mapref} is up to date`);
  }
  console.log(`${path}: applied (${file.connections.length} connection(s), ${file.mappings.length} mapping(s))`);
}

/** A table drawn by cli-table3, or the rows as JSON for scripts. */
export function printTable(rows: Record<string, unknown>[], json: boolean): void {
  if (json) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  if (rows.length === 0) return;
  const head = Object.keys(rows[0]);
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows) table.push(head.map((h) => (row[h] === null || row[h] === undefined ? '' : String(row[h]))));
  console.log(table.toString());
}

export function addCatalogCommands(mapping: Command, program: Command): void {
  mapping
    .command('apply <file>')
    .description('upsert the connections and mappings of a YAML (or JSON) file into DMS_DBCONDTLS and DMS_MAPR, in one transaction, and sync their jobs')
    .option('--dry-run', 'show what would change, and write nothing')
    .addHelpText('after', `
Example file (keys as the columns, in either case):
  connections:
    - { conid: SALES_SRC, dbtyp: POSTGRES, conurl: "postgres://etl@src-host:5432/sales", pwdenv: SALES_SRC_PASSWORD }
  mappings:
    - mapref: SALES_FACT_LOAD
      srcconid: SALES_SRC
      srcquery: SELECT * FROM sales_fact
      trgconid: DWH
      trgschm: PUBLIC
      trgtbnm: SALES_FACT
      bulklmt: 10000
      chkpntstrategy: KEY
      chkpntcolumn: TRANSACTION_ID

Example:
  $ dms mapping apply mappings.yaml --dry-run`)
    .action((file: string, opts: { dryRun?: boolean }) => withMetadata((metadata) => apply(metadata, file, !!opts.dryRun)));

  mapping
    .command('list')
    .description('list the mappings in DMS_MAPR')
    .option('--json', 'print JSON, for scripts')
    .addHelpText('after', '\nExample:\n  $ dms mapping list --json')
    .action((opts: { json?: boolean }) =>
      withMetadata(async (metadata) => {
        const rows = (await metadata.mappings()).map((m) => ({ mapref: m.mapref, source: m.srcconid, target: `${m.trgconid}: ${m.trgschm}.${m.trgtbnm}`, strategy: m.chkpntstrategy, key: m.chkpntcolumn, loadmode: m.loadmode, bulklmt: m.bulklmt }));
        if (rows.length === 0 && !opts.json) console.log('no mappings in DMS_MAPR yet: add some with `dms mapping apply <file.yaml>`');
        printTable(rows, !!opts.json);
      }),
    );

  mapping
    .command('show <MAPREF>')
    .description('show one mapping, every field, as `dms mapping apply` takes it')
    .option('--json', 'print JSON, for scripts')
    .addHelpText('after', '\nExample:\n  $ dms mapping show SALES_FACT_LOAD')
    .action((mapref: string, opts: { json?: boolean }) =>
      withMetadata(async (metadata) => {
        const spec = await metadata.mapping(mapref);
        const fields = Object.fromEntries([['mapref', spec.mapref], ...DEFINITION_FIELDS.map((f) => [f, spec[f]])]);
        if (opts.json) console.log(JSON.stringify(fields, null, 2));
        else printTable(Object.entries(fields).map(([field, value]) => ({ field: field.toUpperCase(), value })), false);
      }),
    );

  const connection = program.command('connection').description('connections (DMS_DBCONDTLS)');
  connection
    .command('list')
    .description('list the connections in DMS_DBCONDTLS (CONURL never holds a password)')
    .option('--json', 'print JSON, for scripts')
    .addHelpText('after', '\nExample:\n  $ dms connection list')
    .action((opts: { json?: boolean }) =>
      withMetadata(async (metadata) => printTable((await metadata.connections()).map((c) => ({ conid: c.conid, dbtyp: c.dbtyp, conurl: c.conurl, pwdenv: c.pwdenv })), !!opts.json)),
    );
  connection
    .command('test <CONID>')
    .description("log in to a connection as the worker would (its password from the variable PWDENV names) and run the least query")
    .addHelpText('after', '\nExample:\n  $ DWH_PASSWORD=… dms connection test DWH')
    .action((conid: string) =>
      withMetadata(async (metadata) => {
        const all = await metadata.connections();
        const row = all.find((c) => c.conid === conid);
        if (!row) throw new EnvError(`Connection ${conid} is not in DMS_DBCONDTLS. Fix: ${didYouMean(conid, all.map((c) => c.conid))}\`dms connection list\` lists them`);
        const passwordEnv = row.pwdenv?.trim() || undefined;
        const password = passwordEnv ? process.env[passwordEnv] : undefined;
        if (passwordEnv && !password) throw new EnvError(`Connection ${conid}: its PWDENV names ${passwordEnv}, which is ${password === undefined ? 'not set' : 'empty'} here. Fix: export ${passwordEnv} with the connection's password, as on the worker`);
        const spec = { conid, dbtyp: row.dbtyp, url: row.conurl, password, passwordEnv };
        const databases = new DatabaseRegistry({ lockTimeoutMs: 30_000 });
        try {
          // A CONURL the dialect refuses throws as the pool opens: reported as a failed login is.
          await Promise.resolve()
            .then(() => databases.source(conid, spec).ping())
            .catch((err: unknown) => {
              const failure = connectionFailure(conid, 'CONID', spec, err);
              throw new EnvError(`Connection ${conid}: ${failure.message.replace(/^Mapping \S+: (SRC)?CONID /, '')}`);
            });
          console.log(`connection ${conid} (${row.dbtyp}): logged in and ran a query`);
        } finally {
          await databases.close();
        }
      }),
    );
}
