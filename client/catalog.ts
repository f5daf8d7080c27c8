// Mappings and connections as code: `dms mapping apply <file.yaml>` reads a file of
// connections and mappings strictly (catalog-file.ts), checks each mapping against its
// databases as a run would (unless --no-validate), and only then upserts them into
// DMS_DBCONDTLS and DMS_MAPR in one transaction (and syncs each changed mapping's job), with
// --dry-run to see what would change; and the list/show/test commands that read them back.
import { DatabaseRegistry } from '../plan/databases';
import { connectionFailure } from '../plan/connection-failures';
import { didYouMean } from '../common/close-names';
import { CommandError, ConfigError, EnvError } from '../common/errors';
import { DEFINITION_FIELDS, parseMapping, type MappingSpec } from '../common/mapping';
import { readCatalog, type ConnectionEntry } from './catalog-file';
import { withMetadata } from './connections';
import { checkLines, checkMapping, cliConnections } from './jobs';
import { count, formatOf, printRecord, printRows } from './output';

/** What applying would change: one line an entry, and which mappings changed. */
function catalogChanges(
  file: { connections: ConnectionEntry[]; mappings: MappingSpec[] },
  current: {
    connections: { conid: string; dbtyp: string; conurl: string; pwdenv: string | null }[];
    mappings: Record<string, unknown>[];
  },
): { lines: string[]; changed: string[] } {
  const lines: string[] = [];
  for (const c of file.connections) {
    const was = current.connections.find((x) => x.conid === c.conid);
    const fields = (['dbtyp', 'conurl', 'pwdenv'] as const).filter((f) => (was?.[f] ?? null) !== (c[f] ?? null));
    lines.push(
      !was
        ? `add connection ${c.conid} (${c.dbtyp})`
        : fields.length
          ? `change connection ${c.conid}: ${fields.map((f) => `${f} '${was[f] ?? ''}' → '${c[f] ?? ''}'`).join(', ')}`
          : `connection ${c.conid} unchanged`,
    );
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
    else if (fields.length)
      lines.push(
        `change mapping ${m.mapref}: ${fields.map((f) => `${f.toUpperCase()} ${JSON.stringify(was?.[f] ?? null)} → ${JSON.stringify(m[f])}`).join(', ')}`,
      );
    else lines.push(`mapping ${m.mapref} unchanged`);
    if (!row || fields.length) changed.push(m.mapref);
  }
  return { lines, changed };
}

export function apply(path: string, opts: { dryRun: boolean; validate: boolean }): Promise<void> {
  return withMetadata(async (metadata) => {
    const file = readCatalog(path);
    const known = new Set([
      ...file.connections.map((c) => c.conid),
      ...(await metadata.connections()).map((c) => c.conid),
    ]);
    for (const m of file.mappings) {
      for (const [field, conid] of [
        ['SRCCONID', m.srcconid],
        ['TRGCONID', m.trgconid],
      ] as const) {
        if (!known.has(conid))
          throw new ConfigError(
            m.mapref,
            field,
            `is '${conid}', which is neither in DMS_DBCONDTLS nor in ${path}`,
            `${didYouMean(conid, [...known])}add the connection under connections: in ${path}`,
          );
      }
    }
    const { lines, changed } = catalogChanges(file, {
      connections: await metadata.connections(),
      mappings: await metadata.mappings(),
    });
    if (opts.validate) {
      // Each mapping as a run would check it before any row moves: a file that holds one
      // that cannot run saves nothing (and each failure is said once).
      const connections = cliConnections(metadata, file.connections);
      const failures: string[] = [];
      for (const m of file.mappings) {
        try {
          const check = await checkMapping(connections, m);
          for (const line of checkLines(check)) console.log(line);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
      if (failures.length > 0) {
        const what =
          failures.length === 1 ? 'a mapping that cannot run' : `${failures.length} mappings that cannot run`;
        throw new CommandError(
          `${failures.join('\n')}\n${path}: nothing was saved: the file holds ${what} (fix it, or apply with --no-validate to save it unchecked)`,
        );
      }
    }
    for (const line of lines) console.log(opts.dryRun && /^(add|change) /.test(line) ? `would ${line}` : line);
    if (opts.dryRun) {
      console.log(`dry run: nothing written (${changed.length} mapping(s) would change)`);
      return;
    }
    await metadata.applyCatalog(file.connections, file.mappings);
    for (const mapref of changed) {
      const { job, changed: synced } = await metadata.syncJob(await metadata.mapping(mapref));
      console.log(
        synced
          ? `job ${job.jobid} (version ${job.version}) created for ${mapref}`
          : `job ${job.jobid} of ${mapref} is up to date`,
      );
    }
    console.log(
      `${path}: applied (${file.connections.length} connection(s), ${file.mappings.length} mapping(s))${opts.validate ? '' : ', not checked against their databases (--no-validate)'}`,
    );
  });
}

export function listMappings(opts: { output?: string; json?: boolean }): Promise<void> {
  return withMetadata(async (metadata) => {
    const format = formatOf(opts);
    const rows = (await metadata.mappings()).map((m) => ({
      mapref: m.mapref,
      source: m.srcconid,
      target: `${m.trgconid}: ${m.trgschm}.${m.trgtbnm}`,
      strategy: m.chkpntstrategy,
      key: m.chkpntcolumn,
      loadmode: m.loadmode,
      bulklmt: format === 'text' ? count(m.bulklmt) : m.bulklmt,
    }));
    printRows(rows, format, {
      shrink: 'target',
      empty: 'no mappings in DMS_MAPR yet: add some with `dms mapping apply <file.yaml>`',
    });
  });
}

export function showMapping(mapref: string, opts: { output?: string; json?: boolean }): Promise<void> {
  return withMetadata(async (metadata) => {
    const spec = await metadata.mapping(mapref);
    const fields = Object.fromEntries([['mapref', spec.mapref], ...DEFINITION_FIELDS.map((f) => [f, spec[f]])]);
    const format = formatOf(opts);
    printRecord(
      format === 'text' ? Object.fromEntries(Object.entries(fields).map(([k, v]) => [k.toUpperCase(), v])) : fields,
      format,
    );
  });
}

export function listConnections(opts: { output?: string; json?: boolean }): Promise<void> {
  return withMetadata(async (metadata) =>
    printRows(
      (await metadata.connections()).map((c) => ({
        conid: c.conid,
        dbtyp: c.dbtyp,
        conurl: c.conurl,
        pwdenv: c.pwdenv,
      })),
      formatOf(opts),
      { shrink: 'conurl', empty: 'no connections in DMS_DBCONDTLS yet: add some with `dms mapping apply <file.yaml>`' },
    ),
  );
}

export function testConnection(conid: string): Promise<void> {
  return withMetadata(async (metadata) => {
    const all = await metadata.connections();
    const row = all.find((c) => c.conid === conid);
    if (!row)
      throw new CommandError(
        `Connection ${conid} is not in DMS_DBCONDTLS. Fix: ${didYouMean(
          conid,
          all.map((c) => c.conid),
        )}\`dms connection list\` lists them`,
      );
    const passwordEnv = row.pwdenv?.trim() || undefined;
    const password = passwordEnv ? process.env[passwordEnv] : undefined;
    if (passwordEnv && !password)
      throw new EnvError(
        `Connection ${conid}: its PWDENV names ${passwordEnv}, which is ${password === undefined ? 'not set' : 'empty'} here. Fix: export ${passwordEnv} with the connection's password, as on the worker`,
      );
    const spec = { conid, dbtyp: row.dbtyp, url: row.conurl, password, passwordEnv };
    const databases = new DatabaseRegistry({ lockTimeoutMs: 30_000 });
    try {
      // A CONURL the dialect refuses throws as the pool opens: reported as a failed login is.
      await Promise.resolve()
        .then(() => databases.source(conid, spec).ping())
        .catch((err: unknown) => {
          const failure = connectionFailure(conid, 'CONID', spec, err);
          throw new CommandError(`Connection ${conid}: ${failure.message.replace(/^Mapping \S+: (SRC)?CONID /, '')}`);
        });
      console.log(`connection ${conid} (${row.dbtyp}): logged in and ran a query`);
    } finally {
      await databases.close();
    }
  });
}
