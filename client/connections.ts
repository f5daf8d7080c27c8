// What every `dms` command opens: the metadata database and the Temporal client, from the
// environment, each closed when the command ends; and the names runs are started under.
import { Client } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { withDevStack } from '../common/dev-stack-file';
import { ClientEnv, readEnv } from '../common/env';
import { dataConverterFrom } from '../common/payload-codec';
import { connectClient, temporalTarget } from '../common/temporal-config';
import { openMetadata } from '../metadata/open-metadata';
import type { Metadata } from '../metadata/repository';
import type * as workflows from '../workflows';
import { DMS_MAPREF } from '../workflows/search-attributes';

/**
 * The workflow type `dms run` and schedules start: the name dmsJob is exported under, checked by
 * the compiler. Not dmsJob.name: the CLI's bundle may rename a function (dmsJob2), never a name
 * given as a string.
 */
export const WORKFLOW_TYPE = 'dmsJob' satisfies keyof typeof workflows;

export function workflowIdFor(mapref: string): string {
  return `dms-${mapref}`;
}

/** The search attributes a run carries from its first moment (the workflow sets the rest). */
export function dmsSearchAttributes(mapref: string): SearchAttributePair[] {
  return [{ key: DMS_MAPREF, value: mapref }];
}

/**
 * The environment a command runs with: without DMS_METADATA_URL, the running dev stack's
 * addresses (`dms dev`), and when none runs, an error that says what to start or set.
 */
function clientEnv(env: NodeJS.ProcessEnv = process.env): ClientEnv {
  return readEnv(ClientEnv, withDevStack(env));
}

export async function withMetadata<T>(fn: (metadata: Metadata) => Promise<T>): Promise<T> {
  const metadata = await openMetadata(clientEnv());
  try {
    return await fn(metadata);
  } finally {
    await metadata.close();
  }
}

/** Runs fn with a Temporal client; `connectTimeoutMs` for a command that answers without Temporal when it is slow. */
export async function withTemporal<T>(
  fn: (client: Client, env: ClientEnv) => Promise<T>,
  connectTimeoutMs?: number,
): Promise<T> {
  const env = clientEnv();
  const target = temporalTarget();
  // With DMS_PAYLOAD_KEYS, what the command sends is sealed and what it reads is opened.
  const dataConverter = dataConverterFrom();
  const connection = await connectClient(target, connectTimeoutMs);
  try {
    return await fn(new Client({ connection, namespace: target.namespace, dataConverter }), env);
  } finally {
    await connection.close();
  }
}
