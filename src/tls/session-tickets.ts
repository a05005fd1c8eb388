/**
 * TLS session resumption across a fleet: one session-ticket key (48 bytes: name, HMAC and
 * AES keys) for every instance, kept in the store sealed like other secrets, so a client's
 * ticket from instance A resumes on instance B (no full handshake behind a load balancer).
 * Rotated every `https.sessionTicketRotationHours`: whichever instance finds the key due
 * replaces it with compare-and-set (one writer per fleet), the old key material leaves the
 * store's history, and every instance takes the new key from the mirror.
 *
 * Node gives a server one ticket key at a time (`setTicketKeys`), so tickets issued under
 * the previous key are not accepted after a rotation: those clients make one full handshake
 * (docs/tls.md). Rotation is therefore rare by default.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Sealer } from '../secrets/sealer.js';
import type { StoreMirror } from '../store/store-mirror.js';
import type { JsonValue, StateStore } from '../store/state-store.js';

export const TICKET_KEY_RECORD = 'tls:session-tickets';
const CONTEXT = `account:${TICKET_KEY_RECORD}`;

interface TicketKeyRecord {
  /** The 48-byte key, base64, sealed. */
  readonly keyPem: string;
  readonly createdAt: string;
}

export interface SessionTicketOptions {
  readonly store: StateStore;
  readonly replica: StoreMirror;
  readonly sealer: Sealer;
  /** How long one key is used. */
  readonly rotateMs: number;
  /** Put a key in service (the HTTPS listener's `setTicketKeys`). */
  readonly apply: (key: Buffer) => void;
  readonly logger: Logger;
}

export class SessionTickets {
  readonly #o: SessionTicketOptions;
  /** The sealed key now in use (to apply each key once). */
  #applied: string | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: SessionTicketOptions) {
    this.#o = options;
  }

  /** Make sure a key exists (creating the fleet's first), use it, and check for rotation now and then. */
  async start(): Promise<void> {
    await this.rotateIfDue();
    this.refresh();
    const every = Math.min(Math.max(this.#o.rotateMs / 4, 1000), 600_000);
    this.#timer = setInterval(() => {
      this.rotateIfDue().catch((err: unknown) =>
        this.#o.logger.warn({ err }, 'session ticket key rotation failed; trying again later'),
      );
    }, every);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Use the key the mirror holds, if it is new (the control plane calls this on changes). */
  refresh(): void {
    const record = this.#o.replica.get('account', TICKET_KEY_RECORD)?.value as
      TicketKeyRecord | undefined;
    if (record === undefined) return;
    this.#use(record.keyPem);
  }

  /** Replace the key when there is none or it is older than the rotation period (`now`: for tests). */
  async rotateIfDue(now = Date.now()): Promise<boolean> {
    const { store, sealer, rotateMs } = this.#o;
    const current = await store.get('account', TICKET_KEY_RECORD);
    const createdAt = (current?.value as TicketKeyRecord | undefined)?.createdAt;
    if (createdAt !== undefined && now - Date.parse(createdAt) < rotateMs) return false;
    const record: TicketKeyRecord = {
      keyPem: sealer.seal(randomBytes(48).toString('base64'), CONTEXT),
      createdAt: new Date(now).toISOString(),
    };
    const result = await store.commit([
      {
        kind: 'account',
        key: TICKET_KEY_RECORD,
        value: record as unknown as JsonValue,
        expectedVersion: current?.version ?? 0,
      },
    ]);
    if (!result.ok) return false; // another instance rotated first; its key arrives by the mirror
    if (current !== undefined) await store.forgetHistory('account', TICKET_KEY_RECORD);
    this.#use(record.keyPem);
    this.#o.logger.info({ createdAt: record.createdAt }, 'session ticket key rotated');
    return true;
  }

  #use(sealed: string): void {
    if (sealed === this.#applied) return;
    try {
      this.#o.apply(Buffer.from(this.#o.sealer.open(sealed, CONTEXT), 'base64'));
      this.#applied = sealed;
    } catch (err) {
      this.#o.logger.error(
        { err },
        'the session ticket key cannot be opened with this sealing key: give every instance the same one',
      );
    }
  }
}
