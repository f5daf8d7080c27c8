// `dms migrate`, `job`, `mapping`, `connection` and `verify`: the metadata tables, the mappings
// and connections in them, and a mapping's target compared with its source.
import type { Command } from 'commander';
import { withOutput } from '../output';

/* eslint-disable @typescript-eslint/no-require-imports -- each verb group loads when its command runs */
const catalog = () => require('../catalog') as typeof import('../catalog');
const jobs = () => require('../jobs') as typeof import('../jobs');
const verify = () => require('../verify') as typeof import('../verify');
/* eslint-enable @typescript-eslint/no-require-imports */

const MAPPING_FILE_HELP = `
Example file (keys as the columns, in either case; a key dms-etl does not read is an error):
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
      chkpntcolumn: TRANSACTION_ID`;

export function addCatalogCommands(program: Command): void {
  program
    .command('migrate')
    .description('create or upgrade the metadata tables in DMS_METADATA_URL (safe to repeat)')
    .action(() => jobs().migrate());

  const job = program.command('job').description('jobs: the validated, versioned copies of mappings that run');
  job
    .command('sync <MAPREF>')
    .description('validate a DMS_MAPR mapping and copy it into DMS_JOB (a new version when it changed)')
    .action((mapref: string) => jobs().syncJob(mapref));

  const mapping = program.command('mapping').description('mappings (DMS_MAPR)');
  mapping
    .command('apply <file>')
    .description(
      'check the connections and mappings of a YAML (or JSON) file against their databases, then upsert them into DMS_DBCONDTLS and DMS_MAPR in one transaction and sync their jobs',
    )
    .option('--dry-run', 'show what would change, and write nothing')
    .option(
      '--no-validate',
      'save without checking the mappings against their databases (when they cannot be reached from here)',
    )
    .addHelpText('after', MAPPING_FILE_HELP)
    .action((file: string, opts: { dryRun?: boolean; validate: boolean }) =>
      catalog().apply(file, { dryRun: !!opts.dryRun, validate: opts.validate }),
    );
  withOutput(mapping.command('list').description('list the mappings in DMS_MAPR')).action((opts) =>
    catalog().listMappings(opts),
  );
  withOutput(
    mapping.command('show <MAPREF>').description('show one mapping, every field, as `dms mapping apply` takes it'),
  ).action((mapref: string, opts) => catalog().showMapping(mapref, opts));
  withOutput(
    mapping
      .command('validate <MAPREF>')
      .description('check a mapping against its databases, as every run does before any row moves'),
  ).action((mapref: string, opts) => jobs().validate(mapref, opts));

  const connection = program.command('connection').description('connections (DMS_DBCONDTLS)');
  withOutput(
    connection.command('list').description('list the connections in DMS_DBCONDTLS (CONURL never holds a password)'),
  ).action((opts) => catalog().listConnections(opts));
  connection
    .command('test <CONID>')
    .description(
      'log in to a connection as the worker would (its password from the variable PWDENV names) and run the least query',
    )
    .action((conid: string) => catalog().testConnection(conid));

  withOutput(
    program
      .command('verify <MAPREF>')
      .description("compare the mapping's target with its source, range by key range (exit 1 when any range differs)")
      .option('--ranges <n>', 'how many key ranges to compare', '16')
      .option(
        '--checksum',
        'compare a digest of every mapped column too, not only the counts (both databases of one kind)',
      )
      .option('--show <n>', 'how many differing ranges to name', '10'),
  ).action((mapref: string, opts) => verify().verifyCommand(mapref, opts));
}
