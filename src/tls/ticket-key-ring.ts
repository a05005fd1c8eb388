/**
 * The session-ticket keys of one HTTPS listener: the current key seals new tickets, and
 * tickets sealed with the previous key are still accepted (and replaced by a ticket under
 * the current key), so a rotation costs no client a full handshake.
 *
 * Node's public API gives a server one key (`server.setTicketKeys`). Several keys need
 * OpenSSL's ticket key callback, which Node reaches from JavaScript only through its
 * SecureContext handle (`enableTicketKeyCallback` + `onticketkeycallback`, kept for Node's
 * own test test/parallel/test-https-resume-after-renew.js). That is used when present; on a
 * runtime without it the listener falls back to `setTicketKeys` with the current key, and
 * previous-key tickets make a full handshake. `test/tls/session-tickets.test.ts` checks the
 * callback on the runtime the project ships.
 *
 * Key layout (48 bytes, as `setTicketKeys`): name 0–15, HMAC-SHA256 key 16–31,
 * AES-128-CBC key 32–47 — the cipher and MAC Node's callback sets up.
 */
import { randomBytes, randomFillSync } from 'node:crypto';
import type { Server as TlsServer } from 'node:tls';

/** What the callback returns to Node: 1 = use, 2 = use and issue a new ticket, 0 = unknown key. */
type TicketKeyAnswer = [number, Buffer, Buffer, Buffer?, Buffer?];

interface TicketKey {
  readonly name: Buffer;
  readonly hmac: Buffer;
  readonly aes: Buffer;
}

/** Node's SecureContext handle, as far as the ticket key callback goes (not a public API). */
interface NativeSecureContext {
  enableTicketKeyCallback?: () => void;
  onticketkeycallback?: (name: Buffer, iv: Buffer, encrypt: boolean) => TicketKeyAnswer;
}

const NO_KEY: TicketKeyAnswer = [0, Buffer.alloc(16), Buffer.alloc(16)];

/**
 * Random IVs for new tickets, 16 bytes each, cut from one pool that is refilled when used up
 * (as Node's `randomUUID` caches its entropy). A ticket needs a fresh IV; `randomBytes(16)`
 * inside the callback measured 9 µs a call, and OpenSSL issues two TLS 1.3 tickets per full
 * handshake. Node copies the IV into OpenSSL's buffer before the callback returns, so a
 * slice handed out is never read again when the pool is refilled.
 */
const IV_POOL = Buffer.alloc(16 * 256);
let ivOffset = IV_POOL.length;

function freshIv(): Buffer {
  if (ivOffset === IV_POOL.length) {
    randomFillSync(IV_POOL);
    ivOffset = 0;
  }
  const iv = IV_POOL.subarray(ivOffset, ivOffset + 16);
  ivOffset += 16;
  return iv;
}

function split(key: Buffer): TicketKey {
  if (key.length !== 48) throw new Error('a session-ticket key is 48 bytes');
  return { name: key.subarray(0, 16), hmac: key.subarray(16, 32), aes: key.subarray(32, 48) };
}

export class TicketKeyRing {
  #current: TicketKey | undefined;
  #previous: TicketKey | undefined;
  #currentKey: Buffer | undefined;
  /** Servers that only take one key (no callback on this runtime). */
  readonly #singleKey = new Set<TlsServer>();

  /** Seal with `current`, still accept `previous`. */
  set(current: Buffer, previous?: Buffer): void {
    this.#current = split(current);
    this.#previous = previous === undefined ? undefined : split(previous);
    this.#currentKey = current;
    for (const server of this.#singleKey) server.setTicketKeys(current);
  }

  /**
   * Serve `server`'s tickets from this ring. False when the runtime has no ticket key
   * callback: the server then gets the current key only.
   */
  install(server: TlsServer): boolean {
    const context = (server as unknown as { _sharedCreds?: { context?: NativeSecureContext } })
      ._sharedCreds?.context;
    if (typeof context?.enableTicketKeyCallback !== 'function') {
      this.#singleKey.add(server);
      if (this.#currentKey !== undefined) server.setTicketKeys(this.#currentKey);
      return false;
    }
    // OpenSSL asks the listener's own context (the session context) even after SNI picked
    // another certificate's context, so one callback covers every certificate.
    context.onticketkeycallback = (name, _iv, encrypt) => this.#answer(name, encrypt);
    context.enableTicketKeyCallback();
    return true;
  }

  // https://docs.openssl.org/3.0/man3/SSL_CTX_set_tlsext_ticket_key_cb/ (return values)
  #answer(name: Buffer, encrypt: boolean): TicketKeyAnswer {
    if (this.#current === undefined) {
      // No fleet key yet (the store has not answered): a key of this process's own.
      this.set(randomBytes(48));
    }
    const current = this.#current!;
    if (encrypt) return [1, current.hmac, current.aes, current.name, freshIv()];
    if (name.equals(current.name)) return [1, current.hmac, current.aes];
    const previous = this.#previous;
    if (previous !== undefined && name.equals(previous.name)) {
      return [2, previous.hmac, previous.aes]; // accepted; the client gets a current ticket
    }
    return NO_KEY; // unknown or retired key: a full handshake
  }
}
