/**
 * A private PostgreSQL cluster for tests: initdb in a temporary directory, a server on 127.0.0.1
 * and a free port (no Unix socket outside the directory), password authentication (SCRAM) for one
 * superuser, and pg_ctl to stop it. PostgreSQL refuses to run as root: as root, the cluster
 * belongs to the `postgres` user and every command runs through `runuser`.
 *
 * Without PostgreSQL the helper says so; under CI=true that is a failure, never a skip.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { removeDir, tempDir } from './server.js';

const run = promisify(execFile);

export interface PostgresCluster {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** A connected client of the cluster's database (closed by stop()). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  stop(): Promise<void>;
}

/** Where PostgreSQL's server programs are (Debian: /usr/lib/postgresql/<version>/bin), or undefined. */
export function postgresBinDir(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const initdb = path.join(dir, 'initdb');
    if (dir && existsSync(initdb)) {
      const real = path.dirname(realpathSync(initdb));
      if (existsSync(path.join(real, 'pg_ctl'))) return real;
    }
  }
  const debian = '/usr/lib/postgresql';
  if (!existsSync(debian)) return undefined;
  const versions = readdirSync(debian)
    .filter((v) => /^\d+$/.test(v) && existsSync(path.join(debian, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : path.join(debian, versions[0], 'bin');
}

/**
 * Why PostgreSQL tests cannot run here (for `skip`), or false when they can. Under CI=true a
 * missing PostgreSQL throws: CI installs it (.ci/run), so its absence is a broken setup.
 */
export function postgresMissing(): string | false {
  if (postgresBinDir() !== undefined) return false;
  const why = 'PostgreSQL (initdb, pg_ctl) is not installed: apt-get install postgresql';
  if (process.env.CI === 'true') throw new Error(`${why} (CI=true: PostgreSQL tests must run)`);
  return why;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts a cluster; its superuser is `user` with `password`, and `database` exists. */
export async function startPostgres(options: { user?: string; password?: string; database?: string } = {}): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error(postgresMissing() || 'PostgreSQL is not installed');
  const user = options.user ?? 'firehose';
  const password = options.password ?? 'firehose-secret';
  const database = options.database ?? 'analytics';
  const asRoot = process.getuid?.() === 0;
  const dir = tempDir('tributary-postgres-');
  const data = path.join(dir, 'data');
  const pwfile = path.join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    for (const p of [dir, pwfile]) chownSync(p, Number(stdout.trim()), Number(gid.trim()));
  }
  const exec = (program: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, program), ...args]) : run(path.join(bin, program), args);
  const port = await freePort();
  try {
    await exec('initdb', ['-D', data, '-U', user, '--pwfile', pwfile, '--auth=scram-sha-256', '--no-sync', '-E', 'UTF8', '--locale=C']);
    // Unix sockets only in the private directory; TCP only on loopback.
    const serverOptions = `-h 127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c full_page_writes=off`;
    await exec('pg_ctl', ['-D', data, '-o', serverOptions, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  } catch (err) {
    removeDir(dir);
    throw new Error(`PostgreSQL did not start: ${(err as { stderr?: string }).stderr || (err as Error).message}`);
  }
  const admin = new pg.Client({ host: '127.0.0.1', port, user, password, database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const client = new pg.Client({ host: '127.0.0.1', port, user, password, database });
  await client.connect();
  // A test process that ends without stop() (a failure in a hook, process.exit) leaves no server behind.
  const stopAtExit = () => {
    const args = ['-D', data, '-m', 'immediate', '-w', 'stop'];
    try {
      if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', path.join(bin, 'pg_ctl'), ...args], { stdio: 'ignore' });
      else execFileSync(path.join(bin, 'pg_ctl'), args, { stdio: 'ignore' });
    } catch {
      // Already stopped.
    }
    removeDir(dir);
  };
  process.once('exit', stopAtExit);
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    database,
    query: (sql, values) => client.query(sql, values),
    async stop() {
      process.removeListener('exit', stopAtExit);
      await client.end().catch(() => {});
      try {
        await exec('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
      } finally {
        removeDir(dir);
      }
    },
  };
}
