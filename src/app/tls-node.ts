/**
 * The HTTPS side of an instance: picks the issuer, keeps the certificate index in step with
 * the store, answers SNI (issuing on first use where the issuer is instant, ordering in the
 * background where it is not), serves ACME challenges from the store, verifies custom
 * domains, and starts the HTTPS listener.
 */
import { readFileSync } from 'node:fs';
import { Sealer } from '../secrets/sealer.js';
import { SessionTickets, TICKET_KEY_RECORD } from '../tls/session-tickets.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Logger } from '../observability/logger.js';
import type { EdgeServer } from '../server/edge-server.js';
import type { StoreMirror } from '../store/store-mirror.js';
import type { Change, StateStore } from '../store/state-store.js';
import type { ChallengeRecord } from '../tls/acme-issuer.js';
import {
  CertificateIndex,
  certificateKeyContext,
  type CertificateRecord,
} from '../tls/certificate-index.js';
import { CertificateManager, type Eligibility } from '../tls/certificate-manager.js';
import { DomainVerifier } from '../tls/domain-verifier.js';
import type { Issuer } from '../tls/issuer.js';
import { LocalCa } from '../tls/local-ca.js';
import type { SNICallback } from '../tls/sni.js';
import { gauge } from '../observability/metrics.js';

export class TlsNode {
  readonly index: CertificateIndex;
  readonly manager: CertificateManager;
  readonly verifier: DomainVerifier;
  readonly localCa: LocalCa;
  /** The fleet's session-ticket key, shared through the store. */
  readonly tickets: SessionTickets;
  readonly #replica: StoreMirror;

  private constructor(parts: {
    index: CertificateIndex;
    manager: CertificateManager;
    verifier: DomainVerifier;
    localCa: LocalCa;
    replica: StoreMirror;
    tickets: SessionTickets;
  }) {
    this.index = parts.index;
    this.manager = parts.manager;
    this.verifier = parts.verifier;
    this.localCa = parts.localCa;
    this.#replica = parts.replica;
    this.tickets = parts.tickets;
  }

  static async start(options: {
    loaded: LoadedConfig;
    sy: EdgeServer;
    store: StateStore;
    replica: StoreMirror;
    logger: Logger;
    /** Seals private keys before they enter the store. */
    sealer: Sealer;
  }): Promise<TlsNode> {
    const { loaded, sy, store, replica, logger, sealer } = options;
    const { https, domains } = loaded.config;
    const { platform } = loaded.config;
    const localCa = await LocalCa.open(
      loaded.dataDir,
      [...platform.domains, ...platform.hosts],
      (file) =>
        logger.warn(
          { file },
          'the local CA was created before CAs were name-constrained: a leaked key could sign for any site; delete ca.pem and ca-key.pem to get a constrained one (then trust the new ca.pem)',
        ),
    );
    let issuer: Issuer = localCa;
    if (https.issuer === 'acme') {
      // Loaded only with the ACME issuer: acme-client and what it brings (axios, node-forge)
      // are 4.8 MB of heap that every full collection of an instance on the local CA would mark.
      const { ACME_PRESETS, AcmeIssuer } = await import('../tls/acme-issuer.js');
      issuer = new AcmeIssuer(
        store,
        {
          directoryUrl: ACME_PRESETS[https.acme.directory] ?? https.acme.directory,
          email: https.acme.email,
          caPem:
            https.acme.caFile === undefined ? undefined : readFileSync(https.acme.caFile, 'utf8'),
          retries: https.acme.retries,
        },
        sealer,
      );
    }
    const index = new CertificateIndex(sealer);
    const eligible = (name: string): Eligibility | undefined => {
      const route = sy.routes.resolveHost(name);
      if (route === undefined || route.kind === 'unknown-preview') return undefined;
      return { project: route.kind === 'project' ? route.project.slug : undefined };
    };
    const manager = new CertificateManager({
      store,
      replica,
      issuer,
      index,
      eligible,
      settings: {
        renewCheckMs: https.renewCheckMs,
        ordersPerProjectPerHour: https.ordersPerProjectPerHour,
        retryBaseMs: https.retryBaseMs,
        wildcardDomains: https.wildcard
          ? platform.domains.map((d) => d.toLowerCase().replace(/\.$/, ''))
          : [],
      },
      logger,
      sealer,
    });
    const verifier = new DomainVerifier(
      store,
      replica,
      {
        resolvers: domains.resolvers,
        intervalMs: domains.verifyIntervalMs,
        cnameTarget: domains.cnameTarget,
        addresses: domains.addresses,
      },
      logger,
    );
    await sealStoredKeys(store, sealer, logger);
    const tickets = new SessionTickets({
      store,
      replica,
      sealer,
      rotateMs: https.sessionTicketRotationHours * 3_600_000,
      apply: (current, previous) => sy.ticketKeys.set(current, previous),
      logger,
    });
    const node = new TlsNode({ index, manager, verifier, localCa, replica, tickets });
    node.refresh('reloaded');

    // The certificate for handshakes without SNI or for names without one of their own:
    // the platform hosts', from the local CA — never another tenant's.
    const fallback = await localCa.issue(
      loaded.config.platform.hosts.map((h) => h.replace(/:\d+$/, '')),
    );
    const sni: SNICallback = (serverName, callback) => {
      const found = index.lookup(serverName);
      if (found !== undefined) return callback(null, found);
      if (issuer === localCa && eligible(serverName) !== undefined) {
        // The local CA signs in milliseconds: issue during the handshake.
        manager.ensure(serverName).then(
          () => callback(null, index.lookup(serverName)),
          () => callback(null, undefined),
        );
        return;
      }
      void manager.ensure(serverName).catch(() => {}); // ordered in the background
      callback(null, undefined);
    };
    const port = await sy.listenHttps({
      host: https.host,
      port: https.port,
      cert: fallback.certPem,
      key: fallback.keyPem,
      SNICallback: sni,
      proxyProtocol: https.proxyProtocol,
    });
    sy.setHttps({
      port,
      hsts: https.hstsMaxAgeSeconds > 0 ? `max-age=${https.hstsMaxAgeSeconds}` : undefined,
      acmeChallenge: (token) => {
        const record = replica.get('challenge', token)?.value as unknown as
          ChallengeRecord | undefined;
        return record?.type === 'dns-01' ? undefined : record?.keyAuthorization;
      },
    });
    verifier.start();
    const certificates = () =>
      [...replica.values('certificate')].map((r) => r.value as unknown as CertificateRecord);
    gauge(
      'switchyard_certificates',
      'Certificates held in the store.',
      () => certificates().length,
    );
    gauge(
      'switchyard_certificate_soonest_expiry_seconds',
      'Seconds until the first certificate expires (renewal starts at a third of the lifetime).',
      () => {
        const left = certificates().map((c) => (Date.parse(c.notAfter) - Date.now()) / 1000);
        return left.length === 0 ? 0 : Math.min(...left);
      },
    );
    gauge(
      'switchyard_certificate_orders_failing',
      'Names whose last certificate order failed.',
      () =>
        [...replica.values('order')].filter(
          (r) => (r.value as { state?: string }).state === 'failed',
        ).length,
    );
    const initial = [...replica.values('domain')]
      .map((r) => r.value as unknown as { domain: string; verified: boolean })
      .filter((d) => d.verified)
      .map((d) => d.domain);
    // With wildcard certificates, each platform domain's is wanted from the start.
    if (https.wildcard) initial.push(...platform.domains.map((d) => `*.${d.toLowerCase()}`));
    manager
      .start(initial)
      .catch((err: unknown) => logger.warn({ err }, 'initial certificate orders failed'));
    await tickets.start();
    logger.info({ port, issuer: issuer.name }, 'HTTPS listening');
    return node;
  }

  get issuerName(): string {
    return this.manager.issuer.name;
  }

  /** Keep the index in step with the store's certificates. */
  refresh(changes: readonly Change[] | 'reloaded'): void {
    if (changes === 'reloaded' || changes.some((c) => c.key === TICKET_KEY_RECORD)) {
      this.tickets.refresh();
    }
    if (changes !== 'reloaded' && !changes.some((c) => c.kind === 'certificate')) return;
    this.index.replace(
      [...this.#replica.values('certificate')].map((r) => r.value as unknown as CertificateRecord),
    );
  }

  /** A domain just became verified: order its certificate. */
  onDomains(changes: readonly Change[] | 'reloaded'): void {
    if (changes === 'reloaded') return;
    for (const c of changes) {
      const d = c.value as { domain?: string; verified?: boolean } | null;
      if (c.kind === 'domain' && d?.verified === true && d.domain !== undefined) {
        void this.manager.ensure(d.domain).catch(() => {});
      }
    }
  }

  async stop(): Promise<void> {
    this.tickets.stop();
    await Promise.all([this.manager.stop(), this.verifier.stop()]);
  }
}

/**
 * An install from before sealing holds private keys in plain text in the store: seal them
 * now (compare-and-set, so a fleet doing it at once writes each once). A key that fails to
 * seal stays as it is, and is said in the log.
 */
async function sealStoredKeys(store: StateStore, sealer: Sealer, logger: Logger): Promise<void> {
  let sealed = 0;
  for (const kind of ['certificate', 'account'] as const) {
    for (const r of await store.list(kind)) {
      const value = r.value as unknown as { keyPem?: string; names?: string[] };
      if (typeof value.keyPem !== 'string') continue;
      if (Sealer.isSealed(value.keyPem)) {
        if (!value.keyPem.startsWith(`sealed:v1:${sealer.keyId}:`)) {
          logger.error(
            { kind, key: r.key, keyId: sealer.keyId },
            'a private key in the store was sealed with another key: give every instance the same SWITCHYARD_SECRET_KEY (or secrets.keyFile); this instance cannot use it',
          );
        }
        continue;
      }
      const context =
        kind === 'certificate'
          ? certificateKeyContext(value as unknown as CertificateRecord)
          : `account:${r.key}`;
      const next = { ...value, keyPem: sealer.seal(value.keyPem, context) };
      const result = await store.commit([
        { kind, key: r.key, value: next, expectedVersion: r.version },
      ]);
      if (result.ok) {
        sealed++;
        await store.forgetHistory(kind, r.key); // the plain value leaves the history too
      }
    }
  }
  if (sealed > 0) logger.warn({ sealed }, 'private keys stored in plain text were sealed');
}
