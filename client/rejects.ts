// `dms rejects <MAPREF>`: the rows a mapping's runs rejected into the target's DMS_REJECT
// (REJECTLMT): run, batch, key, the database's code, column and message; the row's values only
// with --values. They are read from the target, where they stay: never through Temporal.
import { DatabaseRegistry } from '../plan/databases';
import { CommandError, ConfigError, UserError } from '../common/errors';
import { messageWithFix, type RejectListing } from '../dialects';
import { withMetadata } from './connections';
import { formatOf, printRows } from './output';

/** The listing's lines: one a rejected row, then a count. */
function formatRejects(
  mapref: string,
  rows: RejectListing[],
  options: { values: boolean; limit: number; run: number | null },
): string[] {
  const which = options.run === null ? 'its runs' : `run ${options.run}`;
  if (rows.length === 0) return [`Mapping ${mapref}: ${which} rejected no rows`];
  const lines = rows.map((r) => {
    const column = r.column ? ` column ${r.column}:` : '';
    const values = options.values ? `\n    values: ${r.values}` : '';
    return `run ${r.prcid} batch ${r.batch} key ${r.key ?? '(none)'}: [${r.code ?? '?'}]${column} ${r.message}${values}`;
  });
  const more = rows.length === options.limit ? ` (the first ${options.limit}; --limit shows more)` : '';
  return [...lines, `Mapping ${mapref}: ${rows.length} rejected rows of ${which}${more}`];
}

export function rejectsCommand(
  mapref: string,
  opts: { run?: string; values?: boolean; limit: string; output?: string; json?: boolean },
): Promise<void> {
  const format = formatOf(opts);
  return withMetadata(async (metadata) => {
    const run = opts.run === undefined ? null : Number(opts.run);
    if (run !== null && !(Number.isInteger(run) && run > 0))
      throw new CommandError(`--run must be a run's PRCID (a whole number), not '${opts.run}'`);
    const limit = Number(opts.limit);
    if (!(Number.isInteger(limit) && limit > 0))
      throw new CommandError(`--limit must be a whole number greater than 0, not '${opts.limit}'`);
    const spec = await metadata.mapping(mapref);
    const databases = new DatabaseRegistry({ lockTimeoutMs: 30_000 });
    try {
      const connection = await metadata.connection(mapref, 'TRGCONID', spec.trgconid);
      const dialect = databases.dialect(mapref, 'TRGCONID', connection);
      const target = databases.target(mapref, connection);
      if (!target.rejects)
        throw new ConfigError(
          mapref,
          'TRGCONID',
          `uses connection '${connection.conid}' of DBTYP ${connection.dbtyp}, which cannot quarantine rows yet`,
          'nothing to list: REJECTLMT works on PostgreSQL, MariaDB and Oracle targets',
        );
      const rows = await target.rejects(dialect.resolveIdentifier(spec.trgschm), mapref, run, limit);
      if (format !== 'text') {
        // The values only with --values, as in text: they stay in the target database otherwise.
        printRows(
          rows.map(({ values, ...rest }) => (opts.values ? { ...rest, values } : rest)),
          format,
        );
        return;
      }
      for (const line of formatRejects(mapref, rows, { values: !!opts.values, limit, run })) console.log(line);
    } catch (err) {
      if (err instanceof ConfigError || err instanceof UserError) throw err;
      throw new CommandError(
        `Mapping ${mapref}: its rejected rows could not be read: ${messageWithFix(err as Error, 'run dms rejects again')}`,
      );
    } finally {
      await databases.close();
    }
  });
}
