// The mapping as `dms job sync` freezes it: every field checked, each failure naming the
// mapping, the field and the fix.
import { z } from 'zod';
import { ConfigError } from './errors';
import { IdentifierError, parseIdentifier, splitIdentifierList } from './identifiers';

const LOAD_MODES = ['APPEND', 'UPSERT', 'TRUNCATE', 'INCREMENTAL'] as const;
const STRATEGIES = ['AUTO', 'KEY', 'ROWCOUNT', 'PYTHON', 'NONE'] as const;
const NULL_POLICIES = ['FAIL', 'FIRST'] as const;
/** The most key ranges one mapping loads at once (each is a child workflow with its own batches). */
const MAX_PARTITIONS = 64;
/** BATCHBYTES's range: a byte (every row alone) to the largest integer its column holds. */
const MIN_BATCH_BYTES = 1;
const MAX_BATCH_BYTES = 2_147_483_647;

const upper = (v: unknown) => (typeof v === 'string' ? v.trim().toUpperCase() : v);
const trimmed = (v: unknown) => (typeof v === 'string' ? v.trim() : v);
const emptyToNull = (v: unknown) => (v === undefined || (typeof v === 'string' && v.trim() === '') ? null : trimmed(v));

/** Each field's rule, and the fix a user reads when the rule is broken. */
const FIELDS = {
  srcconid: ['a DMS_DBCONDTLS.CONID', 'set SRCCONID to the CONID of the source connection'],
  srcquery: ['a SELECT statement', 'set SRCQUERY to the query that reads the source rows'],
  trgconid: ['a DMS_DBCONDTLS.CONID', 'set TRGCONID to the CONID of the target connection'],
  trgschm: ['the target schema', "set TRGSCHM to the target table's schema (e.g. public)"],
  trgtbnm: ['the target table', 'set TRGTBNM to the name of the target table'],
  loadmode: [LOAD_MODES.join(', '), `set LOADMODE to one of ${LOAD_MODES.join(', ')}`],
  bulklmt: ['a batch size from 1 to 1000000', 'set BULKLMT to the number of rows per batch, e.g. 10000'],
  chkpntstrategy: [STRATEGIES.join(', '), `set CHKPNTSTRATEGY to one of ${STRATEGIES.join(', ')}`],
  chkpntenabled: ["'Y' or 'N'", "set CHKPNTENABLED to 'Y' or 'N'"],
  chkpntnulls: [
    "'FAIL' or 'FIRST'",
    "set CHKPNTNULLS to 'FAIL' (refuse NULL keys) or 'FIRST' (load them before the keyed batches)",
  ],
  partitions: [
    `a number of key ranges from 1 to ${MAX_PARTITIONS}`,
    'set PARTITIONS to the number of key ranges to load at once, or 1',
  ],
  rejectlmt: [
    'a whole number of rows from 0',
    'set REJECTLMT to the most rows a run may reject into DMS_REJECT, or 0 to fail the run on the first bad row',
  ],
  batchbytes: [
    `a number of bytes from ${MIN_BATCH_BYTES} to ${MAX_BATCH_BYTES}, or empty`,
    "set BATCHBYTES to the most bytes of row text one batch may carry (e.g. 16777216 for 16 MiB), or clear it to use the worker's DMS_BATCH_BYTES",
  ],
} as const;

const required = (field: keyof typeof FIELDS) =>
  z.preprocess(emptyToNull, z.string({ error: `is empty; it must be ${FIELDS[field][0]}` }));

const MappingSchema = z
  .object({
    mapref: z.string().min(1),
    srcconid: required('srcconid'),
    srcquery: required('srcquery'),
    trgconid: required('trgconid'),
    trgschm: required('trgschm'),
    trgtbnm: required('trgtbnm'),
    trgkeycols: z.preprocess(emptyToNull, z.string().nullable()),
    loadmode: z.preprocess(
      upper,
      z.enum(LOAD_MODES, { error: (i) => `is '${i.input}'; it must be ${FIELDS.loadmode[0]}` }),
    ),
    bulklmt: z.coerce
      .number({ error: `must be ${FIELDS.bulklmt[0]}` })
      .int(`must be ${FIELDS.bulklmt[0]}`)
      .min(1, `must be ${FIELDS.bulklmt[0]}`)
      .max(1_000_000, `must be ${FIELDS.bulklmt[0]}`),
    chkpntstrategy: z.preprocess(
      upper,
      z.enum(STRATEGIES, { error: (i) => `is '${i.input}'; it must be ${FIELDS.chkpntstrategy[0]}` }),
    ),
    chkpntcolumn: z.preprocess(emptyToNull, z.string().nullable()),
    chkpntenabled: z.preprocess(
      upper,
      z.enum(['Y', 'N'], { error: (i) => `is '${i.input}'; it must be ${FIELDS.chkpntenabled[0]}` }),
    ),
    chkpntlookback: z.preprocess(
      emptyToNull,
      z
        .string()
        .regex(
          /^\d+ ?(second|minute|hour|day|week)s?( \d+ ?(second|minute|hour|day|week)s?)*$/i,
          "is not a window such as '15 minutes' or '1 day 2 hours'",
        )
        .nullable(),
    ),
    chkpntnulls: z.preprocess(
      (v) => upper(v ?? 'FAIL'),
      z.enum(NULL_POLICIES, { error: (i) => `is '${i.input}'; it must be ${FIELDS.chkpntnulls[0]}` }),
    ),
    partitions: z.preprocess(
      (v) => (v === undefined || v === null || v === '' ? 1 : v),
      z.coerce
        .number({ error: `must be ${FIELDS.partitions[0]}` })
        .int(`must be ${FIELDS.partitions[0]}`)
        .min(1, `must be ${FIELDS.partitions[0]}`)
        .max(MAX_PARTITIONS, `must be ${FIELDS.partitions[0]}`),
    ),
    rejectlmt: z.preprocess(
      (v) => (v === undefined || v === null || v === '' ? 0 : v),
      z.coerce
        .number({ error: `must be ${FIELDS.rejectlmt[0]}` })
        .int(`must be ${FIELDS.rejectlmt[0]}`)
        .min(0, `must be ${FIELDS.rejectlmt[0]}`),
    ),
    batchbytes: z.preprocess(
      (v) => (v === undefined || v === null || (typeof v === 'string' && v.trim() === '') ? null : v),
      z.coerce
        .number({ error: `must be ${FIELDS.batchbytes[0]}` })
        .int(`must be ${FIELDS.batchbytes[0]}`)
        .min(MIN_BATCH_BYTES, `must be ${FIELDS.batchbytes[0]}`)
        .max(MAX_BATCH_BYTES, `must be ${FIELDS.batchbytes[0]}`)
        .nullable(),
    ),
  })
  .superRefine((m, ctx) => {
    if (m.chkpntstrategy === 'KEY' && !m.chkpntcolumn) {
      ctx.addIssue({ code: 'custom', path: ['chkpntcolumn'], message: "is empty but CHKPNTSTRATEGY is 'KEY'" });
    }
    if (m.partitions > 1 && m.chkpntstrategy !== 'KEY' && m.chkpntstrategy !== 'AUTO') {
      ctx.addIssue({
        code: 'custom',
        path: ['partitions'],
        message: `is ${m.partitions}, but CHKPNTSTRATEGY is '${m.chkpntstrategy}': only a KEY load splits into key ranges`,
      });
    }
    if (m.chkpntlookback && m.loadmode !== 'INCREMENTAL') {
      ctx.addIssue({ code: 'custom', path: ['chkpntlookback'], message: "is set but LOADMODE is not 'INCREMENTAL'" });
    }
    if ((m.loadmode === 'UPSERT' || m.chkpntlookback) && !m.trgkeycols) {
      const why =
        m.loadmode === 'UPSERT'
          ? "LOADMODE is 'UPSERT'"
          : 'CHKPNTLOOKBACK re-reads rows, which must be merged on a key';
      ctx.addIssue({ code: 'custom', path: ['trgkeycols'], message: `is empty but ${why}` });
    }
    // Names are resolved per database at run time; their syntax is checked here already,
    // so that nothing from metadata can ever change the shape of a statement.
    const names: [keyof typeof m, string | null, boolean][] = [
      ['trgschm', m.trgschm, false],
      ['trgtbnm', m.trgtbnm, false],
      ['chkpntcolumn', m.chkpntcolumn, true],
      ['trgkeycols', m.trgkeycols, true],
    ];
    for (const [field, value, list] of names) {
      if (value === null || value === undefined) continue;
      for (const part of list ? splitIdentifierList(value) : [value]) {
        try {
          parseIdentifier(part, (n) => n, 128);
        } catch (err) {
          if (!(err instanceof IdentifierError)) throw err;
          ctx.addIssue({ code: 'custom', path: [field], message: `is refused: ${err.message}` });
          return;
        }
      }
    }
  });

export type MappingSpec = z.output<typeof MappingSchema>;

const SECONDS: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86_400, week: 604_800 };

/** A CHKPNTLOOKBACK window ('15 minutes', '1 day 2 hours', as validated above) in seconds. */
export function lookbackSeconds(window: string): number {
  let total = 0;
  for (const [, n, unit] of window.toLowerCase().matchAll(/(\d+) ?(second|minute|hour|day|week)s?/g))
    total += Number(n) * SECONDS[unit];
  return total;
}

const FIXES: Record<string, string> = {
  ...Object.fromEntries(Object.entries(FIELDS).map(([k, v]) => [k, v[1]])),
  chkpntcolumn: 'set CHKPNTCOLUMN to the source column that orders the rows (e.g. TRANSACTION_ID)',
  trgkeycols: 'set TRGKEYCOLS to the comma-separated key columns of the target table',
  chkpntlookback: "set CHKPNTLOOKBACK to a window such as '15 minutes', or clear it",
};

/** Validates a DMS_MAPR (or DMS_JOB) row; throws ConfigError for the first problem. */
export function parseMapping(row: Record<string, unknown>): MappingSpec {
  const mapref = String(row.mapref ?? '?');
  const parsed = MappingSchema.safeParse(row);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = String(issue.path[0] ?? 'mapping');
  const fix = FIXES[field] ?? 'correct the mapping';
  throw new ConfigError(
    mapref,
    field.toUpperCase(),
    issue.message,
    `${fix} in DMS_MAPR (UPDATE dms_mapr SET ${field} = ... WHERE mapref = '${mapref}'), then run \`dms job sync ${mapref}\``,
  );
}

/** The config columns that define a job: a change in any of them makes a new job version. */
export const DEFINITION_FIELDS = [
  'srcconid',
  'srcquery',
  'trgconid',
  'trgschm',
  'trgtbnm',
  'trgkeycols',
  'loadmode',
  'bulklmt',
  'chkpntstrategy',
  'chkpntcolumn',
  'chkpntenabled',
  'chkpntnulls',
  'chkpntlookback',
  'partitions',
  'rejectlmt',
  'batchbytes',
] as const satisfies readonly (keyof MappingSpec)[];

export function sameDefinition(a: MappingSpec, b: MappingSpec): boolean {
  return DEFINITION_FIELDS.every((f) => a[f] === b[f]);
}

/**
 * Fields that may change between a run that stopped unfinished and the run that resumes it:
 * they decide how bad rows are handled and how many bytes a batch carries, not which rows
 * load, in what order, or where.
 */
const RESUME_SAFE_FIELDS: readonly (typeof DEFINITION_FIELDS)[number][] = ['rejectlmt', 'batchbytes'];

/** Whether a run of `b` may resume a run of `a`: the same definition but for RESUME_SAFE_FIELDS. */
export function sameLoad(a: MappingSpec, b: MappingSpec): boolean {
  return DEFINITION_FIELDS.every((f) => RESUME_SAFE_FIELDS.includes(f) || a[f] === b[f]);
}
