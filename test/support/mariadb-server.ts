// A MariaDB server of a test's own (mariadbd from the machine's installation) on a free
// loopback port, with its data in a folder of the test's: for what the shared local server
// must not see (TLS settings, a restart). Started and stopped by the test that needs it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { freePort } from '../../scripts/temporal-dev';

/** The server binaries, wherever the package put them (sbin is not on every user's PATH). */
const PATH = [process.env.PATH, '/usr/sbin', '/usr/local/sbin', '/usr/local/mysql/bin'].filter(Boolean).join(':');
const asRoot = process.getuid?.() === 0;

export interface OwnMariaDb {
  port: number;
  /** Runs SQL (several statements allowed) as the server's root, over its Unix socket, in UTC. */
  admin<T>(sql: string, database?: string): Promise<T>;
  /** A normal shutdown (every session ended), then a start on the same port and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** The system user mariadbd runs as when the test runs as root (it refuses to run as root). */
function mysqlIds(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'mysql'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * Starts mariadbd with its data in `<dir>/data` (made here), and waits until it accepts
 * connections. `flags` are more server options; `ownedFiles` are files of `dir` the server
 * must read as its own user (a TLS key).
 */
export async function startOwnMariaDb(
  dir: string,
  options: { flags?: string[]; ownedFiles?: string[] } = {},
): Promise<OwnMariaDb> {
  const data = path.join(dir, 'data');
  const socket = path.join(data, 's.sock');
  mkdirSync(data);
  const user = asRoot ? ['--user=mysql'] : [];
  if (asRoot) {
    // The server's user must enter the folder (mkdtemp makes it 700).
    chmodSync(dir, 0o755);
    const { uid, gid } = mysqlIds();
    for (const file of [data, ...(options.ownedFiles ?? [])]) chownSync(file, uid, gid);
  }
  const env = { ...process.env, PATH };
  execFileSync(
    'mariadb-install-db',
    ['--no-defaults', `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...user],
    { env, stdio: 'pipe' },
  );
  const port = await freePort();
  let server: ChildProcess | undefined;
  let log = '';

  const admin = async <T>(sql: string, database?: string): Promise<T> => {
    const c = await mysql.createConnection({
      socketPath: socket,
      user: 'root',
      multipleStatements: true,
      ...(database ? { database } : {}),
    });
    try {
      await c.query(`SET time_zone = '+00:00'`);
      const [rows] = await c.query(sql);
      return rows as T;
    } finally {
      await c.end();
    }
  };

  const start = async () => {
    log = '';
    const child = spawn(
      'mariadbd',
      [
        '--no-defaults',
        `--datadir=${data}`,
        // In the data directory, which the server's user may write.
        `--socket=${socket}`,
        `--pid-file=${path.join(data, 'mariadbd.pid')}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        '--skip-networking=0',
        '--skip-name-resolve',
        '--innodb-buffer-pool-size=32M',
        ...(options.flags ?? []),
        ...user,
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    server = child;
    child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`mariadbd exited (${child.exitCode ?? child.signalCode}):\n${log}`);
      try {
        await admin('SELECT 1');
        return;
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(`mariadbd did not accept connections within 60 s (${(err as Error).message}):\n${log}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  };

  const stop = async () => {
    const child = server;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const late = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(late);
  };

  await start();
  return {
    port,
    admin,
    async restart() {
      await stop();
      await start();
    },
    stop,
  };
}
