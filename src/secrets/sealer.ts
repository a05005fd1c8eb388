/**
 * Private keys are sealed before they enter any store (SQLite, Redis): AES-256-GCM under a
 * key only the instances hold — `SWITCHYARD_SECRET_KEY` (base64, 32 bytes; give a fleet the
 * same one) or `secrets.keyFile` (default `<dataDir>/secret.key`, generated 0600 on first
 * start). Each sealed value is bound to what it is (the record it belongs to, as additional
 * authenticated data), so one cannot be moved to another record. Reading the store alone
 * reveals no key.
 *
 * Format: `sealed:v1:<key id>:<base64url(iv ‖ tag ‖ ciphertext)>`; the key id (8 hex of the
 * key's SHA-256) says which key sealed it, so the wrong key is a clear error, not garbage.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const PREFIX = 'sealed:v1:';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class Sealer {
  readonly #key: Buffer;
  /** Which key seals: 8 hex digits of its SHA-256. */
  readonly keyId: string;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) {
      throw new Error(`a sealing key is ${KEY_BYTES} bytes (base64: 44 characters)`);
    }
    this.#key = key;
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 8);
  }

  /**
   * The key from `SWITCHYARD_SECRET_KEY` (base64), else from `keyFile`, generated there
   * (0600) on first use. `generated` is true when this call created it.
   */
  static load(options: { envKey: string | undefined; keyFile: string }): {
    sealer: Sealer;
    generated: boolean;
  } {
    if (options.envKey !== undefined && options.envKey !== '') {
      return { sealer: new Sealer(Buffer.from(options.envKey, 'base64')), generated: false };
    }
    try {
      return { sealer: fromFile(options.keyFile), generated: false };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    mkdirSync(dirname(options.keyFile), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(options.keyFile, `${randomBytes(KEY_BYTES).toString('base64')}\n`, {
        mode: 0o600,
        flag: 'wx',
      });
      return { sealer: fromFile(options.keyFile), generated: true };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return { sealer: fromFile(options.keyFile), generated: false }; // another worker's
    }
  }

  static isSealed(text: string): boolean {
    return text.startsWith(PREFIX);
  }

  seal(plain: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const sealed = Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    return `${PREFIX}${this.keyId}:${sealed}`;
  }

  /** The plain text of a sealed value (a value stored before sealing passes through as is). */
  open(text: string, context: string): string {
    if (!Sealer.isSealed(text)) return text;
    const rest = text.slice(PREFIX.length);
    const colon = rest.indexOf(':');
    const keyId = rest.slice(0, colon);
    if (keyId !== this.keyId) {
      throw new Error(
        `this value was sealed with key ${keyId}, not ${this.keyId}: every instance needs the same SWITCHYARD_SECRET_KEY (or secrets.keyFile)`,
      );
    }
    const bytes = Buffer.from(rest.slice(colon + 1), 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([
      decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  }
}

function fromFile(file: string): Sealer {
  return new Sealer(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64'));
}
