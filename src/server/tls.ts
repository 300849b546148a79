/**
 * TLS material for the listener: the operator's certificate and key files, or a self-signed
 * certificate for local use.
 *
 * The self-signed certificate (ECDSA P-256, SHA-256, valid 825 days, subject CN=localhost, names
 * localhost, 127.0.0.1 and ::1) is made once and kept in `<data-dir>/tls/` (self-signed.crt and
 * self-signed.key, both mode 0600, in a directory of mode 0700), so clients that trust it keep trusting it across restarts. Node can
 * generate the key pair but not sign a certificate, so the certificate is made by the `openssl`
 * command (it must be on the PATH; only `--tls self-signed` needs it).
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { mkdirPrivateSync, PRIVATE_FILE_MODE } from '../util/private-files.js';

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** SHA-256 fingerprint of the certificate, as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprint: string;
  certFile: string;
  keyFile: string;
  selfSigned: boolean;
}

export interface TlsOptions {
  dataDir: string;
  /** '' or 'off': TLS only when tlsCert and tlsKey are given; 'self-signed': make one. */
  tls: string;
  tlsCert: string;
  tlsKey: string;
}

function material(certFile: string, keyFile: string, selfSigned: boolean): TlsMaterial {
  const cert = readFileSync(certFile);
  const key = readFileSync(keyFile);
  const fingerprint = new X509Certificate(cert).fingerprint256;
  return { cert, key, fingerprint, certFile, keyFile, selfSigned };
}

/** Makes a self-signed certificate and key in `dir` unless both are already there. */
export function ensureSelfSigned(dir: string): { certFile: string; keyFile: string } {
  const certFile = path.join(dir, 'self-signed.crt');
  const keyFile = path.join(dir, 'self-signed.key');
  if (existsSync(certFile) && existsSync(keyFile)) return { certFile, keyFile };
  mkdirPrivateSync(dir);
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-sha256', '-nodes',
        '-days', '825', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
        '-addext', 'basicConstraints=critical,CA:FALSE',
        '-addext', 'extendedKeyUsage=serverAuth',
        '-keyout', keyFile, '-out', certFile,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (err) {
    throw new Error(`--tls self-signed: could not run openssl to make a certificate: ${(err as Error).message}`);
  }
  chmodSync(keyFile, PRIVATE_FILE_MODE);
  chmodSync(certFile, PRIVATE_FILE_MODE);
  return { certFile, keyFile };
}

/** The certificate and key to serve, or undefined for plain HTTP. */
export function loadTls(opts: TlsOptions): TlsMaterial | undefined {
  const mode = opts.tls === '' ? 'off' : opts.tls;
  if (mode === 'self-signed') {
    if (opts.tlsCert !== '' || opts.tlsKey !== '') throw new Error('--tls self-signed cannot be combined with --tls-cert/--tls-key');
    const { certFile, keyFile } = ensureSelfSigned(path.join(opts.dataDir, 'tls'));
    return material(certFile, keyFile, true);
  }
  if (mode !== 'off') throw new Error(`--tls: must be off or self-signed, not ${mode}`);
  if (opts.tlsCert === '' && opts.tlsKey === '') return undefined;
  if (opts.tlsCert === '' || opts.tlsKey === '') throw new Error('--tls-cert and --tls-key go together');
  return material(opts.tlsCert, opts.tlsKey, false);
}
