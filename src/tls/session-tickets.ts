/**
 * TLS session resumption across a fleet: one session-ticket key (48 bytes: name, HMAC and
 * AES keys) for every instance, kept in the store sealed like other secrets, so a client's
 * ticket from instance A resumes on instance B (no full handshake behind a load balancer).
 * Rotated every `https.sessionTicketRotationHours`: whichever instance finds the key due
 * replaces it with compare-and-set (one writer per fleet), the current key becomes the
 * previous one (its tickets are still accepted, src/tls/ticket-key-ring.ts), the key before
 * that leaves the store and its history, and every instance takes the new pair from the
 * mirror. A ticket therefore resumes for at least one rotation period after it was issued.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Sealer } from '../secrets/sealer.js';
import type { StoreMirror } from '../store/store-mirror.js';
import type { JsonValue, StateStore } from '../store/state-store.js';

export const TICKET_KEY_RECORD = 'tls:session-tickets';
const CONTEXT = `account:${TICKET_KEY_RECORD}`;

interface TicketKeyRecord {
  /** The 48-byte key that seals new tickets, base64, sealed. */
  readonly keyPem: string;
  /** The key before it, whose tickets are still accepted (sealed; absent for a fleet's first). */
  readonly previousKeyPem?: string;
  readonly createdAt: string;
}

export interface SessionTicketOptions {
  readonly store: StateStore;
  readonly replica: StoreMirror;
  readonly sealer: Sealer;
  /** How long one key is used. */
  readonly rotateMs: number;
  /** Put keys in service (the HTTPS listener's TicketKeyRing). */
  readonly apply: (current: Buffer, previous: Buffer | undefined) => void;
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
    this.#use(record);
  }

  /** Replace the key when there is none or it is older than the rotation period (`now`: for tests). */
  async rotateIfDue(now = Date.now()): Promise<boolean> {
    const { store, sealer, rotateMs } = this.#o;
    const current = await store.get('account', TICKET_KEY_RECORD);
    const held = current?.value as TicketKeyRecord | undefined;
    if (held !== undefined && now - Date.parse(held.createdAt) < rotateMs) return false;
    const record: TicketKeyRecord = {
      keyPem: sealer.seal(randomBytes(48).toString('base64'), CONTEXT),
      ...(held === undefined ? {} : { previousKeyPem: held.keyPem }),
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
    // The key before the previous one is retired: out of the history too.
    if (current !== undefined) await store.forgetHistory('account', TICKET_KEY_RECORD);
    this.#use(record);
    this.#o.logger.info({ createdAt: record.createdAt }, 'session ticket key rotated');
    return true;
  }

  #use(record: TicketKeyRecord): void {
    if (record.keyPem === this.#applied) return;
    const open = (sealed: string) => Buffer.from(this.#o.sealer.open(sealed, CONTEXT), 'base64');
    try {
      const previous = record.previousKeyPem;
      this.#o.apply(open(record.keyPem), previous === undefined ? undefined : open(previous));
      this.#applied = record.keyPem;
    } catch (err) {
      this.#o.logger.error(
        { err },
        'the session ticket key cannot be opened with this sealing key: give every instance the same one',
      );
    }
  }
}
