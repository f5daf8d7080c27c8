// Errors live together; each says when it is thrown. Activities turn them into Temporal
// ApplicationFailures (activities/failures.ts) whose type names these classes.

/** Thrown when a mapping, a job or a connection is configured wrongly: never retried. */
export class ConfigError extends Error {
  constructor(
    readonly mapref: string,
    readonly field: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`Mapping ${mapref}: ${field} ${problem}. Fix: ${fix}`);
    this.name = 'ConfigError';
  }
}

/** Thrown when a start finds another run of the mapping still active: nothing was written. */
export class MappingBusyError extends Error {
  constructor(
    readonly mapref: string,
    readonly prcid: number,
    readonly workflowId: string,
  ) {
    super(
      `Mapping ${mapref} is busy: run ${prcid} of workflow ${workflowId} is still running. ` +
        `Wait for it to finish or cancel it (temporal workflow cancel --workflow-id ${workflowId}); this start wrote nothing.`,
    );
    this.name = 'MappingBusyError';
  }
}

/** Thrown when a run no longer owns its mapping (another run took it over): never retried. */
export class OwnershipLostError extends Error {
  constructor(mapref: string, prcid: number, detail: string) {
    super(`Run ${prcid} of mapping ${mapref} no longer owns the mapping (${detail}); it wrote nothing.`);
    this.name = 'OwnershipLostError';
  }
}

/**
 * Thrown by a target's merge on TRGKEYCOLS when one batch holds two rows with the same key:
 * one merge statement cannot update a row twice. The batch activity turns it into a
 * ConfigError naming the mapping.
 */
export class DuplicateKeyInBatchError extends Error {
  constructor(readonly key: string[]) {
    super(`one batch holds more than one row with the same (${key.join(', ')})`);
    this.name = 'DuplicateKeyInBatchError';
  }
}

/**
 * Thrown by a target's merge on TRGKEYCOLS when a batch's row has a key the target compares
 * equal to a target row's key with other bytes (a case- or accent-insensitive collation,
 * trailing spaces): merging would overwrite the row of another source key. The batch activity
 * turns it into a ConfigError naming the mapping and both keys.
 */
export class KeyCollisionError extends Error {
  constructor(
    readonly key: string[],
    readonly incoming: string[],
    readonly existing: string[],
  ) {
    super(
      `the key (${key.join(', ')}) ${JSON.stringify(incoming)} of a source row matches the target row with key ${JSON.stringify(existing)}`,
    );
    this.name = 'KeyCollisionError';
  }
}

/**
 * Thrown when a connection's database is down or out of reach: retried (its `code`, the
 * driver's, says so), and named, so DMS_PRCLOG.LASTERR and the CLI say which connection.
 */
export class UnreachableError extends Error {
  constructor(
    mapref: string,
    field: string,
    conid: string,
    detail: string,
    fix: string,
    readonly code: string | undefined,
  ) {
    super(`Mapping ${mapref}: ${field} uses connection '${conid}', which cannot be reached: ${detail}. Fix: ${fix}`);
    this.name = 'UnreachableError';
  }
}

/**
 * Thrown when a KEY batch moved fewer rows than its key range holds on the source (the
 * range ends at the BULKLMT-th key, so it holds at least BULKLMT rows): the batch rolls back, so no checkpoint ever passes rows it did not load.
 * Retried, since a source that changed between the two reads explains it too.
 */
export class BatchCountError extends Error {
  constructor(mapref: string, batch: number, moved: number, least: number, after: string | null, upTo: string) {
    super(
      `Mapping ${mapref}: batch ${batch} moved ${moved} rows, but its key range (after ${after ?? 'the start'} up to ${upTo}) holds at least ${least} on the source; ` +
        'the batch was rolled back and is retried. Fix: if this repeats, the source changes under the load or its key cannot be compared exactly: load it with CHKPNTSTRATEGY ROWCOUNT and report the key type',
    );
    this.name = 'BatchCountError';
  }
}

/**
 * Thrown when a KEY batch's checkpoint fails its proof (plan/checkpoint-proof.ts): bound
 * back as the next read binds it, it would not resume exactly after the batch's last row. The
 * batch rolls back; never retried, since a key the source cannot compare exactly fails again.
 */
export class CheckpointProofError extends Error {
  constructor(
    readonly mapref: string,
    readonly batch: number,
    readonly key: string,
    readonly problem: string,
  ) {
    super(
      `Mapping ${mapref}: CHKPNTCOLUMN ${key}: batch ${batch} ${problem}. The batch was rolled back: none of its rows was loaded and the checkpoint did not move. ` +
        'Fix: key the mapping on columns the source compares exactly (an integer, a date, a string in a binary collation), or CAST the key in SRCQUERY to such a type and set CHKPNTCOLUMN to it, or use CHKPNTSTRATEGY ROWCOUNT; if the source was written to behind the checkpoint during the run, run the mapping again',
    );
    this.name = 'CheckpointProofError';
  }
}

/**
 * What the user asked or set up cannot be done as it stands: one message that says why and the
 * fix, which the CLI prints alone (never a stack trace). Thrown as one of the two kinds below.
 */
export abstract class UserError extends Error {}

/** An environment variable (or the dev stack's file) missing or malformed, said with the fix. */
export class EnvError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'EnvError';
  }
}

/**
 * A `dms` command that cannot do what it was asked: an argument it does not take, or what it
 * finds (no such connection, no run to pause, a run already going), said with the fix.
 */
export class CommandError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'CommandError';
  }
}

/** Failure type names that are never retried. */
export const NON_RETRYABLE_TYPES = [
  'ConfigError',
  'MappingBusyError',
  'OwnershipLostError',
  'DataError',
  'CheckpointProofError',
];

/**
 * The innermost message of an error and its causes: a failed workflow wraps the failed
 * activity, which wraps the activity's own error, whose message is the one a user needs.
 * Pure (no I/O), so the workflow bundle uses it too.
 */
export function innermostMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e?.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}
