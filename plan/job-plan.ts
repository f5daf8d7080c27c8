// Turns a mapping into what its batches need: open databases, resolved identifiers, the
// effective key and the column list, all checked against both databases before any row
// moves. Used at the start of every run and by `dms mapping validate`.
import { ConfigError } from '../common/errors';
import { splitPassword } from '../common/url-password';
import type { MappingSpec } from '../common/mapping';
import {
  dialectFor,
  grantFor,
  IdentifierError,
  readDatabaseError,
  redactedMessage,
  splitIdentifierList,
  type ColumnInfo,
  type ConnectionSpec,
  type Dialect,
  type KeyedQuery,
  type OrderedMover,
  type RangeMover,
  type SourceDatabase,
  type SqlHints,
  type TargetDatabase,
} from '../dialects';
import type { Metadata } from '../metadata/repository';
import type { DatabaseRegistry } from './databases';
import { connectionFailure, loginUserOf } from './connection-failures';

/** The strategy a run uses once AUTO is decided: KEY batches, or the whole load in one transaction. */
export type EffectiveStrategy = 'KEY' | 'NONE' | 'ROWCOUNT';

export interface JobPlan {
  spec: MappingSpec;
  strategy: EffectiveStrategy;
  /** Why this strategy, for the run's log. */
  strategyReason: string;
  source: SourceDatabase;
  target: TargetDatabase;
  /** The columns CHKPNTCOLUMN names, resolved. */
  userKey: string[];
  /** Columns appended to make the key unique (a unique key of the one table the source reads). */
  tieBreaker: string[];
  /** Whether the effective key is known to be unique; if not, batches keep ties whole. */
  unique: boolean;
  /** The query and its effective key: userKey followed by tieBreaker. */
  keyed: KeyedQuery;
  /** The source's type of each column of keyed.key, for messages. */
  keyTypes: string[];
  schema: string;
  table: string;
  /** Source columns, in the query's order; each exists in the target table. */
  columns: string[];
  /** The target is the metadata database: DMS_PRCLOG is mirrored inside each batch's transaction. */
  sharesMetadata: boolean;
  /** LOADMODE UPSERT (or INCREMENTAL with a look-back): the target columns rows are matched on. */
  upsertKey: string[] | null;
  /** INCREMENTAL with CHKPNTLOOKBACK: the window and the type of the first key column. */
  lookback: { window: string; type: string } | null;
  /** Fix hints in the source's SQL (SRCQUERY runs there). */
  hints: SqlHints;
  /** Fix hints in the target's SQL. */
  targetHints: SqlHints;
  /** KEY: the dialect's way to move (or merge) a range without decoding rows, if it has one. */
  mover: RangeMover | null;
  /** ROWCOUNT appends: the dialect's way to move ordered rows without decoding them, if it has one. */
  orderedMover: OrderedMover | null;
}

function resolveField(dialect: Dialect, mapref: string, field: string, raw: string, fix: string): string {
  try {
    return dialect.resolveIdentifier(raw);
  } catch (err) {
    if (err instanceof IdentifierError) throw new ConfigError(mapref, field, `is refused: ${err.message}`, fix);
    throw err;
  }
}

/** TRGSCHM as the target's dialect names it. */
export function targetSchema(dialect: Dialect, spec: Pick<MappingSpec, 'mapref' | 'trgschm'>): string {
  return resolveField(
    dialect,
    spec.mapref,
    'TRGSCHM',
    spec.trgschm,
    'name the target schema, plain (PUBLIC) or double-quoted',
  );
}

function refusePasswordInUrl(mapref: string, field: string, { conid, dbtyp, url }: ConnectionSpec): void {
  let password: string | undefined;
  try {
    password = splitPassword(url).password;
  } catch {
    const example = dialectFor(dbtyp)?.urlExample ?? 'scheme://user@host:port/database';
    throw new ConfigError(
      mapref,
      field,
      `uses connection '${conid}', whose CONURL is not a valid URL`,
      `set CONURL to a URL such as ${example}`,
    );
  }
  if (password) {
    throw new ConfigError(
      mapref,
      field,
      `uses connection '${conid}', whose CONURL contains a password`,
      'remove the password from CONURL and name an environment variable that holds it in PWDENV',
    );
  }
}

/** Whether the target column can take the source column's values in their text form. */
export function compatibleTypes(source: ColumnInfo, target: ColumnInfo): boolean {
  if (source.type === target.type) return true;
  if (target.family === 'string') return true; // string columns take any value's text
  return source.family === target.family && source.family !== 'other';
}

/** Awaits lookups made at once, failing with the first one's error in their order (not in time). */
export async function inOrder<T extends readonly unknown[]>(lookups: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(lookups);
  for (const result of settled) if (result.status === 'rejected') throw result.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** A mapping's connections, dialects and names, resolved before any database is asked. */
interface Named {
  spec: MappingSpec;
  srcSpec: ConnectionSpec;
  trgSpec: ConnectionSpec;
  srcDialect: Dialect;
  trgDialect: Dialect;
  /** CHKPNTCOLUMN as written, and resolved. */
  keyParts: string[];
  named: string[];
  schema: string;
  table: string;
  source: SourceDatabase;
  target: TargetDatabase;
  /** Names in messages as the target writes them. */
  inTarget(...parts: string[]): string;
}

/** What both databases said of the mapping: SRCQUERY's columns and keys, and the target table's columns. */
interface Described extends Named {
  description: Awaited<ReturnType<SourceDatabase['describeQuery']>>;
  sourceColumns: ColumnInfo[];
  names: string[];
  targetByName: Map<string, ColumnInfo>;
}

/**
 * Checks a mapping against both databases and opens what its batches need. The checks run in
 * this order, each failing with a ConfigError that names its field and the fix: the names, the
 * logins and SRCQUERY, the columns, the strategy and load mode, the key's order, what the target
 * can do, and the key's exactness.
 */
export async function planMapping(
  metadata: Pick<Metadata, 'connection' | 'identity'>,
  databases: DatabaseRegistry,
  spec: MappingSpec,
): Promise<JobPlan> {
  const m = await resolveNames(metadata, databases, spec);
  const d = await describeBoth(m);
  checkColumns(d);
  await refuseReadingItsTarget(d);
  const { strategy, reason, userKey } = chooseStrategy(spec, m.named, d.description.uniqueKeys);
  const lookback = checkLoadMode(d, strategy, reason, userKey);
  const upsertKey =
    spec.loadmode === 'UPSERT' || lookback
      ? await resolveUpsertKey(spec, m.trgDialect, m.target, m.schema, m.table, d.names)
      : null;
  if (upsertKey)
    await refuseMergingKeys(spec, m.source, d.sourceColumns, upsertKey, d.targetByName, {
      trgDialect: m.trgDialect,
      sameDialect: m.srcDialect === m.trgDialect,
      schema: m.schema,
      table: m.table,
    });

  // A unique key of the one table the source reads makes the order total: where the user's
  // key is not unique, its missing columns break ties, so batches stay near BULKLMT.
  const { uniqueKeys } = d.description;
  const unique = uniqueKeys.find((u) => u.every((c) => userKey.includes(c)));
  const breaker = unique || strategy !== 'KEY' ? undefined : uniqueKeys[0];
  const tieBreaker = breaker ? breaker.filter((c) => !userKey.includes(c)) : [];
  // ROWCOUNT needs a total, deterministic order: a unique key where one is known, else
  // every column, each of which must be sortable.
  const rowOrder = strategy === 'ROWCOUNT' ? (uniqueKeys[0] ?? d.names) : [];
  await refuseUnorderedKey(d, strategy, userKey, rowOrder);
  await checkTargetCan(d, upsertKey);
  const keyed = { query: spec.srcquery, key: strategy === 'ROWCOUNT' ? rowOrder : [...userKey, ...tieBreaker] };
  if (strategy === 'KEY') await refuseInexactKey(d, userKey, keyed.key);

  const { source, target, schema, table } = m;
  const [targetIdentity, metadataIdentity] = await Promise.all([target.identity(), metadata.identity()]);
  const mover =
    strategy === 'KEY' && target.rangeMover
      ? await target.rangeMover(source, keyed, schema, table, d.names, upsertKey)
      : null;
  // With REJECTLMT, ROWCOUNT reads decoded rows: a refused batch of a piped read could not be read again.
  const orderedMover =
    strategy === 'ROWCOUNT' && !upsertKey && spec.rejectlmt === 0 && target.orderedMover
      ? await target.orderedMover(source, keyed, schema, table, d.names)
      : null;
  return {
    hints: m.srcDialect.hints,
    targetHints: m.trgDialect.hints,
    mover,
    orderedMover,
    sharesMetadata: targetIdentity !== null && targetIdentity === metadataIdentity.id,
    upsertKey,
    lookback,
    spec,
    strategy,
    strategyReason: reason,
    source,
    target,
    userKey,
    tieBreaker,
    unique: Boolean(unique || breaker),
    keyed,
    keyTypes: keyed.key.map((k) => d.sourceColumns.find((c) => c.name === k)?.type ?? 'type unknown'),
    schema,
    table,
    columns: d.names,
  };
}

/** The connections (no password in CONURL), their dialects, and every name the mapping gives, resolved. */
async function resolveNames(
  metadata: Pick<Metadata, 'connection'>,
  databases: DatabaseRegistry,
  spec: MappingSpec,
): Promise<Named> {
  const { mapref } = spec;
  const [srcSpec, trgSpec] = await inOrder([
    metadata.connection(mapref, 'SRCCONID', spec.srcconid),
    metadata.connection(mapref, 'TRGCONID', spec.trgconid),
  ]);
  refusePasswordInUrl(mapref, 'SRCCONID', srcSpec);
  refusePasswordInUrl(mapref, 'TRGCONID', trgSpec);
  const srcDialect = databases.dialect(mapref, 'SRCCONID', srcSpec);
  const trgDialect = databases.dialect(mapref, 'TRGCONID', trgSpec);

  const keyParts = spec.chkpntcolumn ? splitIdentifierList(spec.chkpntcolumn) : [];
  const named = keyParts.map((raw) =>
    resolveField(
      srcDialect,
      mapref,
      'CHKPNTCOLUMN',
      raw,
      'name source columns, plain (TRANSACTION_ID) or double-quoted ("Transaction Id"), separated by commas',
    ),
  );
  const repeated = named.find((k, i) => named.indexOf(k) !== i);
  if (repeated)
    throw new ConfigError(mapref, 'CHKPNTCOLUMN', `names the column "${repeated}" twice`, 'name each key column once');
  const schema = targetSchema(trgDialect, spec);
  const table = resolveField(
    trgDialect,
    mapref,
    'TRGTBNM',
    spec.trgtbnm,
    'name the target table, plain (SALES_FACT) or double-quoted',
  );
  return {
    spec,
    srcSpec,
    trgSpec,
    srcDialect,
    trgDialect,
    keyParts,
    named,
    schema,
    table,
    source: databases.source(mapref, srcSpec),
    target: databases.target(mapref, trgSpec),
    inTarget: (...parts) => parts.map((p) => trgDialect.quoteIdentifier(p)).join('.'),
  };
}

/**
 * Both databases at once. A login that fails is named with its field and connection (the
 * source's first); then a failing SRCQUERY is reported first, as if asked first; then a
 * target table that does not exist.
 */
async function describeBoth(m: Named): Promise<Described> {
  const { spec, source, target, schema, table } = m;
  const [sourceLogin, targetLogin, described, targetDescribed] = await Promise.allSettled([
    source.ping(),
    target.ping(),
    source.describeQuery(spec.srcquery),
    target.describeTable(schema, table),
  ]);
  if (sourceLogin.status === 'rejected')
    throw connectionFailure(spec.mapref, 'SRCCONID', m.srcSpec, sourceLogin.reason);
  if (targetLogin.status === 'rejected')
    throw connectionFailure(spec.mapref, 'TRGCONID', m.trgSpec, targetLogin.reason);
  if (described.status === 'rejected') throw sourceQueryFailure(m, described.reason as Error);
  const description = described.value;
  const sourceColumns = description.columns;
  const names = sourceColumns.map((c) => c.name);
  checkSourceColumns(m, names);
  if (targetDescribed.status === 'rejected') throw targetDescribed.reason;
  const targetColumns = targetDescribed.value;
  if (!targetColumns) {
    const hidden = m.trgDialect.hints.hiddenTable?.(loginUserOf(m.trgSpec.url));
    throw new ConfigError(
      spec.mapref,
      'TRGTBNM',
      `names the table ${m.inTarget(schema, table)}, which does not exist on connection '${m.trgSpec.conid}'`,
      `create the target table, or correct TRGSCHM / TRGTBNM${hidden ? `; ${hidden}` : ''}`,
    );
  }
  return { ...m, description, sourceColumns, names, targetByName: new Map(targetColumns.map((c) => [c.name, c])) };
}

/** SRCQUERY refused by the source: the grant its user lacks, or the source's own words. A lost connection is not SRCQUERY's. */
function sourceQueryFailure(m: Named, err: Error): Error {
  const { mapref } = m.spec;
  const kind = readDatabaseError(err)?.kind;
  // A lost connection is retried; an error no database raised, or one its dialect cannot read, is not SRCQUERY's.
  if (kind === undefined || kind === 'transient' || kind === 'unknown') return err;
  if (kind === 'privilege') {
    // The source's user may not read what SRCQUERY reads: say what to grant, to whom.
    const user = loginUserOf(m.srcSpec.url);
    const grant = grantFor(err, user || '<its user>', true);
    return new ConfigError(
      mapref,
      'SRCQUERY',
      `cannot be read by the user ${user ? `${user} ` : ''}of connection '${m.srcSpec.conid}': ${redactedMessage(err)}`,
      `${grant ? `a DBA runs ${grant}; ` : ''}the source's user needs ${m.srcDialect.hints.sourceGrants} (nothing more)`,
    );
  }
  return new ConfigError(
    mapref,
    'SRCQUERY',
    `fails on the source: ${redactedMessage(err)}`,
    'make SRCQUERY one read-only SELECT that runs on the source connection',
  );
}

/** Each column SRCQUERY returns has a name of its own, and the key columns are among them. */
function checkSourceColumns(m: Named, names: string[]): void {
  const { mapref } = m.spec;
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) {
    throw new ConfigError(
      mapref,
      'SRCQUERY',
      `returns the column "${duplicate}" more than once`,
      'give each selected column its own name (use AS)',
    );
  }
  m.named.forEach((k, i) => {
    if (!names.includes(k)) {
      throw new ConfigError(
        mapref,
        'CHKPNTCOLUMN',
        `is '${m.spec.chkpntcolumn}'; the column "${k}" (from ${m.keyParts[i]}) is not returned by SRCQUERY (it returns ${names.join(', ')})`,
        'name columns that SRCQUERY selects, or select them',
      );
    }
  });
}

/** The target table has every column SRCQUERY returns, each of a type that takes its values. */
function checkColumns(d: Described): void {
  const { spec, schema, table, srcDialect, trgDialect, inTarget } = d;
  const missing = d.names.filter((n) => !d.targetByName.has(n));
  if (missing.length > 0) {
    throw new ConfigError(
      spec.mapref,
      'SRCQUERY',
      `returns ${missing.map((m) => inTarget(m)).join(', ')}, which the target table ${inTarget(schema, table)} does not have`,
      'add the columns to the target table, or rename them in SRCQUERY with AS to match target columns',
    );
  }
  for (const column of d.sourceColumns) {
    const into = d.targetByName.get(column.name)!;
    if (!compatibleTypes(column, into)) {
      // The cast runs in SRCQUERY, on the source: an example in its SQL, to the target's type where both are one engine.
      const example =
        srcDialect === trgDialect ? ` (e.g. ${srcDialect.hints.cast(column.name, into.type)} AS ${column.name})` : '';
      throw new ConfigError(
        spec.mapref,
        'SRCQUERY',
        `returns ${srcDialect.quoteIdentifier(column.name)} as ${column.type}, but the target column ${inTarget(schema, table, column.name)} is ${into.type}`,
        `cast it in SRCQUERY to a type the target column takes${example}, or change the target column's type`,
      );
    }
  }
}

/**
 * In one database, a query that reads its own target would read rows the run has just written
 * (or, with TRUNCATE, find its source emptied).
 */
async function refuseReadingItsTarget(d: Described): Promise<void> {
  const { target, source, schema, table } = d;
  const reads = target.sameDatabaseReads ? await target.sameDatabaseReads(source, d.spec.srcquery) : undefined;
  if (reads?.some((r) => r.schema === schema && r.table === table)) {
    throw new ConfigError(
      d.spec.mapref,
      'SRCQUERY',
      `reads the target table ${d.inTarget(schema, table)} itself (source and target are one database): the load would read rows it has just written, or with LOADMODE 'TRUNCATE' empty its own source`,
      'load into another table (then rename it), or copy the source rows into a table of their own first and read that',
    );
  }
}

/** PARTITIONS, INCREMENTAL, CHKPNTNULLS and CHKPNTLOOKBACK against the strategy; the look-back window where one is set. */
function checkLoadMode(
  d: Described,
  strategy: EffectiveStrategy,
  reason: string,
  userKey: string[],
): JobPlan['lookback'] {
  const { spec } = d;
  const { mapref } = spec;
  if (spec.partitions > 1 && strategy !== 'KEY') {
    throw new ConfigError(
      mapref,
      'PARTITIONS',
      `is ${spec.partitions}, but the strategy is ${strategy} (${reason}): only a KEY load splits into key ranges`,
      'set CHKPNTCOLUMN to a key (CHKPNTSTRATEGY KEY), or set PARTITIONS to 1',
    );
  }
  if (spec.loadmode === 'INCREMENTAL' && strategy !== 'KEY') {
    throw new ConfigError(
      mapref,
      'LOADMODE',
      `is 'INCREMENTAL', which needs a key to keep a high-water mark, but the strategy is ${strategy}`,
      "set CHKPNTSTRATEGY = 'KEY' (or 'AUTO') with CHKPNTCOLUMN, or use LOADMODE 'TRUNCATE' for a full reload",
    );
  }
  if (spec.loadmode === 'INCREMENTAL' && spec.chkpntnulls === 'FIRST') {
    throw new ConfigError(
      mapref,
      'CHKPNTNULLS',
      "is 'FIRST', which would load the NULL-key rows again on every INCREMENTAL run",
      "set CHKPNTNULLS = 'FAIL' and filter NULL keys out in SRCQUERY, or use another LOADMODE",
    );
  }
  if (!spec.chkpntlookback) return null;
  const type = d.sourceColumns.find((c) => c.name === userKey[0])!.type;
  if (!d.source.supportsLookback(type)) {
    throw new ConfigError(
      mapref,
      'CHKPNTLOOKBACK',
      `is set, but the first key column "${userKey[0]}" is ${type}, not a date or timestamp`,
      'clear CHKPNTLOOKBACK, or key the mapping on a date/timestamp column first',
    );
  }
  return { window: spec.chkpntlookback, type };
}

/**
 * The order the load reads in must be total: ROWCOUNT's (every column, or a unique key) and a
 * KEY's keyset. A type without one (json, point, xml) is refused here, before any row moves.
 */
async function refuseUnorderedKey(
  d: Described,
  strategy: EffectiveStrategy,
  userKey: string[],
  rowOrder: string[],
): Promise<void> {
  const { spec, source, srcDialect } = d;
  if (strategy === 'ROWCOUNT') {
    const unordered = await source.unorderedColumns(spec.srcquery, rowOrder);
    if (unordered.length > 0) {
      throw new ConfigError(
        spec.mapref,
        'SRCQUERY',
        `returns ${unordered.map((c) => `"${c}"`).join(', ')}, whose type has no order, so ROWCOUNT cannot read the rows in a total, repeatable order`,
        `cast those columns in SRCQUERY (e.g. ${srcDialect.hints.cast('payload', 'text')} AS payload), or set CHKPNTCOLUMN to a key and use KEY`,
      );
    }
  }
  if (strategy === 'KEY') {
    const unordered = await source.unorderedColumns(spec.srcquery, userKey);
    if (unordered.length > 0) {
      const types = unordered.map((c) => `"${c}" (${d.sourceColumns.find((s) => s.name === c)!.type})`).join(', ');
      throw new ConfigError(
        spec.mapref,
        'CHKPNTCOLUMN',
        `names ${types}, whose type has no order, so batches cannot be cut by key ranges`,
        `key the mapping on columns with an order (numbers, text, dates, uuid), cast the column in SRCQUERY (e.g. ${srcDialect.hints.cast('payload', 'text')} AS payload_key), or use ROWCOUNT`,
      );
    }
  }
}

/**
 * What the load will do on the target, before any row moves: quarantine rows (REJECTLMT), and
 * every privilege it will use (a run would otherwise fail only at the statement that needs it).
 */
async function checkTargetCan(d: Described, upsertKey: string[] | null): Promise<void> {
  const { spec, target, trgSpec } = d;
  if (spec.rejectlmt > 0 && !target.ensureRejectTable) {
    // Quarantine needs savepoints and DMS_REJECT on the target.
    throw new ConfigError(
      spec.mapref,
      'REJECTLMT',
      `is ${spec.rejectlmt}, but the target (connection '${trgSpec.conid}', DBTYP ${trgSpec.dbtyp}) cannot quarantine rows yet`,
      'set REJECTLMT to 0 (a bad row then fails the run), or load into a target of another DBTYP',
    );
  }
  if (!target.missingPrivileges) return;
  const needs = { merge: upsertKey !== null, truncate: spec.loadmode === 'TRUNCATE', rejects: spec.rejectlmt > 0 };
  const { user, missing } = await target.missingPrivileges(d.schema, d.table, needs);
  if (missing.length > 0) {
    throw new ConfigError(
      spec.mapref,
      'TRGCONID',
      `uses connection '${trgSpec.conid}', whose user ${user} lacks ${missing.map((m) => `${m.what} (${m.why})`).join('; ')}`,
      `a DBA runs ${missing.map((m) => m.grant).join('; ')}`,
    );
  }
}

/**
 * A key the source sorts one way and compares another would cut batches that skip or repeat
 * rows: refused before any row moves (the checkpoint's proof would stop it later).
 */
async function refuseInexactKey(d: Described, userKey: string[], key: string[]): Promise<void> {
  const { spec, source, srcDialect } = d;
  if (!source.inexactKeyColumns) return;
  const inexact = await source.inexactKeyColumns(spec.srcquery, key);
  if (inexact.length === 0) return;
  const { column, why } = inexact[0];
  const field = userKey.includes(column) ? 'CHKPNTCOLUMN' : 'CHKPNTCOLUMN (with the unique key that breaks its ties)';
  throw new ConfigError(
    spec.mapref,
    field,
    `orders the source by ${inexact.map((c) => `"${c.column}" (${c.type})`).join(', ')}: ${why}`,
    `key the mapping on another column, or return the key in SRCQUERY as a type that compares as it sorts and key on that (e.g. ${srcDialect.hints.cast(column, 'text')} AS ${column}_key for its text order, or ${column} + 0 AS ${column}_pos for its position)`,
  );
}

/**
 * A merge matches rows on the target's key: where the target compares a key column's text
 * calling case or accent variants equal (a _ci collation, a nondeterministic one, citext) and
 * the source keeps them apart (another collation), two source rows would merge into one
 * target row, and the run would complete with a row that is in no source row. Seen from the
 * two collations, before any row moves. Trailing spaces under PAD SPACE, which no collation
 * name shows, are left to each batch's own check (KeyCollisionError).
 */
async function refuseMergingKeys(
  spec: MappingSpec,
  source: SourceDatabase,
  sourceColumns: ColumnInfo[],
  key: string[],
  targetByName: Map<string, ColumnInfo>,
  at: { trgDialect: Dialect; sameDialect: boolean; schema: string; table: string },
): Promise<void> {
  const text = key.filter(
    (k) => sourceColumns.find((c) => c.name === k)?.family === 'string' && targetByName.get(k)?.exactText === false,
  );
  if (text.length === 0) return;
  const collations = (await source.keyCollations?.(spec.srcquery, text)) ?? text.map(() => null);
  const i = text.findIndex(
    (k, n) => !(at.sameDialect && collations[n] !== null && collations[n] === targetByName.get(k)!.collation),
  );
  if (i < 0) return;
  const column = targetByName.get(text[i])!;
  const q = (name: string) => at.trgDialect.quoteIdentifier(name);
  const sourceSide = collations[i] ? `compares it by ${collations[i]}` : 'compares it by its own rules';
  throw new ConfigError(
    spec.mapref,
    'TRGKEYCOLS',
    `matches rows on "${column.name}", which the target compares by ${column.collation ?? column.type} (${column.type}), calling keys equal that differ in case or accents; the source ${sourceSide}, so it may hold two such keys, and an UPSERT would merge their rows into one target row. No row was moved`,
    `give the target's key column a collation that compares characters exactly (${at.trgDialect.hints.exactCollation(`${q(at.schema)}.${q(at.table)}`, q(column.name), column.type)}), or the source's own collation, or load with another LOADMODE`,
  );
}

/** TRGKEYCOLS for UPSERT: returned by the source, and exactly the columns of a unique index of the target. */
async function resolveUpsertKey(
  spec: MappingSpec,
  dialect: Dialect,
  target: TargetDatabase,
  schema: string,
  table: string,
  columns: string[],
): Promise<string[]> {
  const { mapref } = spec;
  const key = splitIdentifierList(spec.trgkeycols!).map((raw) =>
    resolveField(dialect, mapref, 'TRGKEYCOLS', raw, 'name the target key columns, separated by commas'),
  );
  const absent = key.find((k) => !columns.includes(k));
  if (absent) {
    throw new ConfigError(
      mapref,
      'TRGKEYCOLS',
      `names "${absent}", which SRCQUERY does not return`,
      'name target key columns that SRCQUERY selects',
    );
  }
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((c) => b.includes(c));
  if (!(await target.uniqueKeys(schema, table)).some((u) => same(u, key))) {
    const q = (name: string) => dialect.quoteIdentifier(name);
    const columnList = key.map(q).join(', ');
    throw new ConfigError(
      mapref,
      'TRGKEYCOLS',
      `is (${key.join(', ')}), but the target table ${q(schema)}.${q(table)} has no unique index on exactly those columns (all NOT NULL), which UPSERT needs to match rows`,
      `create one (CREATE UNIQUE INDEX ${q(`${table}_upsert_key`)} ON ${q(schema)}.${q(table)} (${columnList})) or correct TRGKEYCOLS`,
    );
  }
  return key;
}

/**
 * NONE and ROWCOUNT as asked; KEY on CHKPNTCOLUMN when it is set; AUTO otherwise takes KEY
 * on the primary or unique NOT NULL key of the one table the source reads (as the database
 * describes the query), else ROWCOUNT.
 */
export function chooseStrategy(
  spec: MappingSpec,
  named: string[],
  uniqueKeys: string[][],
): { strategy: EffectiveStrategy; reason: string; userKey: string[] } {
  if (spec.chkpntenabled === 'N' || spec.chkpntstrategy === 'NONE') {
    const why = spec.chkpntenabled === 'N' ? "CHKPNTENABLED is 'N'" : "CHKPNTSTRATEGY is 'NONE'";
    return { strategy: 'NONE', reason: `${why}: the whole load runs in one target transaction`, userKey: [] };
  }
  if (spec.chkpntstrategy === 'ROWCOUNT' || spec.chkpntstrategy === 'PYTHON') {
    const order = uniqueKeys[0]
      ? `(${uniqueKeys[0].join(', ')}), the unique key of the one table SRCQUERY reads`
      : 'every returned column';
    return {
      strategy: 'ROWCOUNT',
      reason: `CHKPNTSTRATEGY is '${spec.chkpntstrategy}': ROWCOUNT in the order of ${order}`,
      userKey: [],
    };
  }
  if (named.length > 0) {
    const why = spec.chkpntstrategy === 'AUTO' ? 'AUTO with CHKPNTCOLUMN set' : "CHKPNTSTRATEGY is 'KEY'";
    return { strategy: 'KEY', reason: `${why}: KEY on (${named.join(', ')})`, userKey: named };
  }
  if (uniqueKeys.length > 0) {
    return {
      strategy: 'KEY',
      reason: `AUTO: KEY on (${uniqueKeys[0].join(', ')}), the unique key of the one table SRCQUERY reads`,
      userKey: uniqueKeys[0],
    };
  }
  return {
    strategy: 'ROWCOUNT',
    reason:
      'AUTO: no CHKPNTCOLUMN and no unique key of a single source table, so ROWCOUNT in the order of every returned column',
    userKey: [],
  };
}

/** What a run or `dms mapping validate` reports about the key, and what it warns of. */
export async function describeKey(plan: JobPlan): Promise<{ summary: string; warnings: string[] }> {
  if (plan.strategy !== 'KEY') {
    const transfer = plan.orderedMover ? `; rows move by ${plan.orderedMover.method}` : '';
    return { summary: `${plan.strategyReason}${transfer}`, warnings: [] };
  }
  const key = plan.userKey.join(', ');
  const keySummary = plan.tieBreaker.length
    ? `key (${key}) is not unique; ties are broken by (${plan.tieBreaker.join(', ')}), a unique key of the source table`
    : plan.unique
      ? `key (${key}) is unique`
      : `key (${key}) is not known to be unique; a batch never ends inside a run of equal keys, so it may grow past BULKLMT`;
  const transfer = plan.mover ? `; rows move by ${plan.mover.method}` : '';
  const summary = `${plan.strategyReason}; ${keySummary}${transfer}`;
  const warnings: string[] = [];
  if (!(await plan.source.keyOrderUsesIndex(plan.keyed))) {
    const columns = plan.keyed.key.join(', ');
    warnings.push(
      `Mapping ${plan.spec.mapref}: the source database cannot read SRCQUERY in key order (${columns}) from an index, so every batch sorts the source, which is slow on a large table. ` +
        `Fix: create an index over (${columns}) on the table SRCQUERY reads (CREATE INDEX ON <table> (${columns})), or set CHKPNTCOLUMN to a unique column that has an index`,
    );
  }
  return { summary, warnings };
}

/** Counts rows with a NULL key; with CHKPNTNULLS = 'FAIL' (the default) any is a configuration error. */
export async function checkNullKeys(plan: JobPlan): Promise<number> {
  if (plan.strategy !== 'KEY') return 0;
  const nulls = await plan.source.countNullKeys({ query: plan.spec.srcquery, key: plan.userKey });
  if (nulls > 0 && plan.spec.chkpntnulls === 'FAIL') {
    const columns = plan.userKey.map((k) => `"${k}"`).join(', ');
    throw new ConfigError(
      plan.spec.mapref,
      'CHKPNTCOLUMN',
      `has NULL values: ${nulls} source row(s) have NULL in ${columns}, and a keyset never selects them, so they would be silently skipped`,
      `filter them out in SRCQUERY (WHERE ${plan.userKey.map((k) => `${k} IS NOT NULL`).join(' AND ')}), fill them in the source, or set CHKPNTNULLS = 'FIRST' to load them in a first phase before the keyed batches`,
    );
  }
  return nulls;
}
