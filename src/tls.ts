import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto'
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateDir } from './code-cache.js'

/** A certificate to serve instead of a generated one: PEM, as text or bytes (what node:tls takes). */
export interface TlsCertificate {
  /** The certificate, PEM; intermediate certificates may follow it. */
  cert: string | Uint8Array
  /** Its private key, PEM, unencrypted. */
  key: string | Uint8Array
}

/** What a server serves over HTTPS: the certificate's PEM text (what clients are told to trust) and its key. */
export interface ServerTls {
  cert: string
  key: string | Buffer
}

/**
 * The names a certificate's errors give its two parts: options (`tls.cert`) or flags and files (`--tls-cert cert.pem`).
 */
interface PartNames {
  cert: string
  key: string
}

const text = (pem: string | Uint8Array) => (typeof pem === 'string' ? pem : Buffer.from(pem).toString('utf8'))

/**
 * Checks that a certificate and a key go together, as node:tls would only find out while
 * listening: each parses (PEM), and the key is the certificate's. Throws an Error that names
 * the part at fault.
 */
export function checkPair(given: TlsCertificate, names: PartNames): ServerTls {
  let certificate: X509Certificate
  try {
    certificate = new X509Certificate(given.cert)
  } catch {
    throw new Error(`${names.cert}: not a PEM certificate (-----BEGIN CERTIFICATE-----)`)
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
  return { cert: text(given.cert), key: pem }
}

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
}

/**
 * Reads a certificate and its key from files (--tls-cert, --tls-key) and checks them; throws an Error naming the file
 * at fault.
 */
export function readTlsFiles(files: { cert: string; key: string }, flags: PartNames): ServerTls {
  const read = (file: string, flag: string) => {
    try {
      return readFileSync(file)
    } catch (err) {
      const e = err as NodeJS.ErrnoException
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
