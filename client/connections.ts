// What every `dms` command opens: the metadata database and the Temporal client, from the
// environment, each closed when the command ends; and the names runs are started under.
import { Client, Connection } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { ClientEnv, readEnv } from '../common/env';
import { EnvError } from '../common/errors';
import { openMetadata } from '../metadata/open-metadata';
import type { Metadata } from '../metadata/repository';
import { DMS_MAPREF } from '../workflows/search-attributes';

export const WORKFLOW_TYPE = 'dmsJob';

export function workflowIdFor(mapref: string): string {
  return `dms-${mapref}`;
}

/** The search attributes a run carries from its first moment (the workflow sets the rest). */
export function dmsSearchAttributes(mapref: string): SearchAttributePair[] {
  return [{ key: DMS_MAPREF, value: mapref }];
}

export async function withMetadata<T>(fn: (metadata: Metadata) => Promise<T>): Promise<T> {
  const metadata = await openMetadata(readEnv(ClientEnv));
  try {
    return await fn(metadata);
  } finally {
    await metadata.close();
  }
}

export async function withTemporal<T>(fn: (client: Client, env: ClientEnv) => Promise<T>): Promise<T> {
  const env = readEnv(ClientEnv);
  const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS }).catch((err: Error) => {
    throw new EnvError(`Cannot reach Temporal at TEMPORAL_ADDRESS=${env.TEMPORAL_ADDRESS}: ${err.message}. Start it with \`npm run temporal\` or set TEMPORAL_ADDRESS.`);
  });
  try {
    return await fn(new Client({ connection, namespace: env.TEMPORAL_NAMESPACE }), env);
  } finally {
    await connection.close();
  }
}
