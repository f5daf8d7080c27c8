// The stage of an UPSERT: a temporary table a batch loads by COPY (which cannot resolve
// conflicts), then merges into the target in one INSERT ... ON CONFLICT.
import type pg from 'pg';
import { DuplicateKeyInBatchError } from '../../common/errors';
import { quotePostgresIdentifier } from './postgres-sql';

/** The stage an UPSERT batch loads before it merges (COPY cannot resolve conflicts). */
export const STAGE = 'dms_stage';

/**
 * One stage per transaction, of the mapped columns only, with the target's types (modifiers
 * included) and nothing else: no NOT NULL, default, identity or generated column of the
 * target's that the source does not fill. Pooled sessions serve many mappings, so it is
 * dropped at commit or rollback.
 */
export async function createStage(client: pg.PoolClient, relation: string, columns: string[]): Promise<void> {
  const list = columns.map(quotePostgresIdentifier).join(', ');
  await client.query(`CREATE TEMP TABLE ${STAGE} ON COMMIT DROP AS SELECT ${list} FROM ${relation} WITH NO DATA`);
}

/** Merges the stage into the target on `key`: its other columns updated, new keys inserted. */
export async function mergeStage(
  client: pg.PoolClient,
  relation: string,
  columns: string[],
  key: string[],
): Promise<void> {
  const list = columns.map(quotePostgresIdentifier).join(', ');
  const others = columns.filter((c) => !key.includes(c)).map(quotePostgresIdentifier);
  const action = others.length ? `DO UPDATE SET ${others.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}` : 'DO NOTHING';
  try {
    // OVERRIDING SYSTEM VALUE: a key the source gives lands in a GENERATED ALWAYS identity
    // column as it does with COPY.
    await client.query(
      `INSERT INTO ${relation} (${list}) OVERRIDING SYSTEM VALUE SELECT ${list} FROM ${STAGE} ON CONFLICT (${key.map(quotePostgresIdentifier).join(', ')}) ${action}`,
    );
  } catch (err) {
    // 21000 from ON CONFLICT DO UPDATE itself (not, say, from a trigger's subquery): two
    // staged rows share a key, so it would update one target row twice.
    const e = err as { code?: string; routine?: string };
    if (e.code === '21000' && e.routine === 'ExecOnConflictUpdate') throw new DuplicateKeyInBatchError(key);
    throw err;
  }
}

/** The mover's method, merging: for the run's log. */
export function mergedOn(upsertKey: string[] | null): string {
  return upsertKey ? `, staged and merged on (${upsertKey.join(', ')})` : '';
}
