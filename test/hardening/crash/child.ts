/**
 * `tributary serve` as a child process, like spawnServer in test/helpers/server.ts, but keeping
 * what it logs (pino JSON lines on stdout, warnings on stderr) so that tests can show it on a
 * failure and check that a fault was reported.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, engineConfig } from '../../helpers/server.js';

export interface LoggingServer {
  child: ChildProcess;
  port: number;
  endpoint: string;
  exited: Promise<number | null>;
  /** Everything the server wrote to stdout and stderr so far, line by line. */
  lines: string[];
  /** Parsed pino lines at level error (50) or above. */
  errors(): Record<string, unknown>[];
}

/**
 * Starts the server on `dataDir`. `shellPrefix` (e.g. `ulimit -f 1024`) runs in /bin/sh before the
 * server is exec'd in its place, for limits that only a shell sets.
 */
export async function spawnLoggingServer(dataDir: string, args: string[] = [], shellPrefix?: string): Promise<LoggingServer> {
  const engine = await engineConfig(dataDir);
  const engineArgs = engine.storage ? ['--storage', engine.storage, '--nats', String(engine.nats), '--nats-prefix', String(engine.natsPrefix)] : [];
  const argv = [CLI, 'serve', '--port', '0', '--s3-port', '0', '--data-dir', dataDir, '--limits', 'off', '--log-level', 'warn', ...engineArgs, ...args];
  const options = { env: { ...process.env, TRIBUTARY_ANNOUNCE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] as ('ignore' | 'pipe')[] };
  const child = shellPrefix
    ? spawn('/bin/sh', ['-c', `${shellPrefix} && exec "$0" "$@"`, process.execPath, ...argv], options)
    : spawn(process.execPath, argv, options);
  const lines: string[] = [];
  const collect = (stream: NodeJS.ReadableStream) => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop()!;
      lines.push(...parts);
    });
  };
  collect(child.stdout!);
  collect(child.stderr!);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const errors = () =>
    lines.flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        return typeof entry.level === 'number' && entry.level >= 50 ? [entry] : [];
      } catch {
        return [];
      }
    });
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      const line = lines.find((l) => l.startsWith('TRIBUTARY_LISTENING '));
      if (!line) return;
      clearInterval(poll);
      const port = Number(line.split(' ')[1]);
      resolve({ child, port, endpoint: `http://127.0.0.1:${port}`, exited, lines, errors });
    }, 10);
    child.once('exit', (code) => {
      clearInterval(poll);
      reject(new Error(`server exited with ${code} before listening:\n${lines.join('\n')}`));
    });
  });
}
