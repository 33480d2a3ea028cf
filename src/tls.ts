import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto'
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateDir } from './code-cache.js'
import { readRegularFile, type ReadFileError } from './regular-file.js'

/** A certificate to serve instead of a generated one: PEM, as text or bytes (what node:tls takes). */
export interface TlsCertificate {
  /** The certificate, PEM; intermediate certificates may follow it. */
  cert: string | Uint8Array
  /** Its private key, PEM, unencrypted. */
  key: string | Uint8Array
}

/** What a server serves over HTTPS: the certificate's PEM text (what clients are told to trust) and its key. */
export interface ServerTls {
  /** The CERTIFICATE blocks alone, each ending in a newline: never a private key. */
  cert: string
  key: string | Buffer
  /**
   * True when the certificate given held a private key too (one PEM for both): `cert` has left
   * it out, and clients must be given `cert`, never the file or text the certificate came from.
   */
  keyWithCert?: boolean
}

/**
 * The names a certificate's errors give its two parts: options (`tls.cert`) or flags and files (`--tls-cert cert.pem`).
 */
interface PartNames {
  cert: string
  key: string
}

const text = (pem: string | Uint8Array) => (typeof pem === 'string' ? pem : Buffer.from(pem).toString('utf8'))

/** A PEM certificate block; PEM is what node:tls takes for `cert` (a DER one fails as it listens: "no start line"). */
const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----\r?\n[\s\S]*?-----END CERTIFICATE-----/g
const PRIVATE_KEY_BLOCK = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/

/**
 * Checks that a certificate and a key go together, as node:tls would only find out while
 * listening: the certificate is PEM (`-----BEGIN CERTIFICATE-----`; node's X509Certificate
 * would take DER, node:tls does not), the key is PEM and unencrypted, and the key is the
 * certificate's. Returns the certificate's CERTIFICATE blocks alone (a private key in the same
 * PEM is left out, and `keyWithCert` says so) and the key. Throws an Error that names the part
 * at fault (`names`).
 */
export function checkPair(given: TlsCertificate, names: PartNames): ServerTls {
  const certText = text(given.cert)
  const blocks = certText.match(CERTIFICATE_BLOCK) ?? []
  let certificate: X509Certificate | undefined
  try {
    certificate = new X509Certificate(blocks[0] ?? given.cert)
  } catch {
    // Not a certificate in any form node reads.
  }
  if (blocks.length === 0 || certificate === undefined) {
    throw new Error(
      certificate === undefined
        ? `${names.cert}: not a PEM certificate (-----BEGIN CERTIFICATE-----)`
        : `${names.cert}: a DER certificate: give it as PEM (openssl x509 -inform der)`,
    )
  }
  const pem = typeof given.key === 'string' ? given.key : Buffer.from(given.key)
  let key: KeyObject
  try {
    key = createPrivateKey(pem)
  } catch {
    const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text(given.key))
    throw new Error(
      `${names.key}: ${encrypted ? 'an encrypted private key: give it decrypted' : 'not a PEM private key (-----BEGIN PRIVATE KEY-----)'}`,
    )
  }
  if (!certificate.checkPrivateKey(key))
    throw new Error(`${names.cert} and ${names.key}: the certificate does not match the key`)
  const cert = blocks.map((b) => `${b}\n`).join('')
  return PRIVATE_KEY_BLOCK.test(certText) ? { cert, key: pem, keyWithCert: true } : { cert, key: pem }
}

/** The most a certificate file or a key file may hold: a chain of certificates is a few KiB. */
export const TLS_FILE_MAX_BYTES = 1024 * 1024

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTREG: 'not a regular file',
  ETOOBIG: 'over 1 MiB, more than a certificate or a key',
}

/**
 * Reads a certificate and its key from files (--tls-cert, --tls-key) and checks them (checkPair).
 * Each must be a regular file of 1 MiB at most (src/regular-file.ts: a FIFO or a device would
 * block start-up); throws an Error naming the flag and the file at fault:
 * `--tls-cert FILE: cannot read it: not a regular file`.
 */
export function readTlsFiles(files: { cert: string; key: string }, flags: PartNames): ServerTls {
  const read = (file: string, flag: string) => {
    try {
      return readRegularFile(file, TLS_FILE_MAX_BYTES)
    } catch (err) {
      const e = err as ReadFileError
      throw new Error(`${flag} ${file}: cannot read it: ${READ_ERRORS[e.code ?? ''] ?? e.message}`)
    }
  }
  const pair = { cert: read(files.cert, flags.cert), key: read(files.key, flags.key) }
  return checkPair(pair, { cert: `${flags.cert} ${files.cert}`, key: `${flags.key} ${files.key}` })
}

/**
 * What a server built with `tls` serves: a new self-signed certificate for `true`
 * (src/self-signed.ts, loaded here on first use), or the one given, checked. Rejects with an
 * Error that names the option at fault.
 */
export async function serverTls(tls: true | TlsCertificate): Promise<ServerTls> {
  if (tls === true) {
    const { selfSignedCertificate } = await import('./self-signed.js')
    return selfSignedCertificate()
  }
  if (tls === null || typeof tls !== 'object' || tls.cert === undefined || tls.key === undefined)
    throw new Error('tls: must be true, or { cert, key } (PEM)')
  return checkPair(tls, { cert: 'tls.cert', key: 'tls.key' })
}

/**
 * Writes the generated certificate where clients can be pointed at it, and returns the path:
 * `<os.tmpdir()>/ai-secret-mock-<uid>/tls-<port>.pem`, in the folder of the user's own that
 * the code cache uses (a folder no one else can write to: a certificate there is the one this
 * user's server made). Where that folder cannot be used, a new private folder in tmpdir.
 * Written whole, then renamed: a reader never sees half a file.
 */
export function writeCertificate(pem: string, port: number, dir: string = tmpdir()): string {
  const folder =
    privateDir(join(dir, `ai-secret-mock-${process.getuid?.() ?? 'user'}`)) ?? mkdtempSync(join(dir, 'ai-secret-mock-'))
  const file = join(folder, `tls-${port}.pem`)
  const temp = `${file}.${process.pid}.tmp`
  try {
    writeFileSync(temp, pem, { mode: 0o644 })
    renameSync(temp, file)
  } catch (err) {
    rmSync(temp, { force: true })
    throw err
  }
  return file
}
