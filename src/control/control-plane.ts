/**
 * The control plane: every rule for what the platform may change, one class per resource,
 * each applying its writes to the state store with compare-and-set commits (retried on a
 * concurrent write), so two instances of a fleet can never both win a race. The admin API
 * is a thin HTTP face over these; so is the CLI, through the admin API. Nothing here knows
 * HTTP, and the admin API never touches the store itself.
 */
import type { AddressPolicy } from '../net/address-policy.js';
import type { Logger } from '../observability/logger.js';
import { Audit } from './audit.js';
import { ProtectionRules } from './protection.js';
import type { Sealer } from '../secrets/sealer.js';
import type { StateStore } from '../store/state-store.js';
import type { StoreMirror } from '../store/store-mirror.js';
import { Aliases } from './aliases.js';
import { ControlStore } from './control-store.js';
import { Deployments } from './deployments.js';
import { Domains } from './domains.js';
import { Projects } from './projects.js';
import { Purges } from './purges.js';
import { Tokens, TokenVerifier } from './tokens.js';
import { Uploads, type UploadLimits } from './uploads.js';
import { Blobs } from './blobs.js';
import { BlobGc } from './blob-gc.js';
import type { BlobStore } from '../storage/blob-store.js';

export interface ControlPlaneOptions {
  readonly store: StateStore;
  /** The in-memory mirror of the store (token checks read it, never the store). */
  readonly mirror: StoreMirror;
  /** The admin token's secret (configured or generated); absent when the admin API is off. */
  readonly adminSecret: string | undefined;
  readonly dataDir: string;
  readonly uploads: UploadLimits;
  /** Where a tenant's replicas may point. */
  readonly addressPolicy: AddressPolicy;
  /** Audit entries are log lines too. */
  readonly logger?: Logger;
  /** Seals the preview signing key. */
  readonly sealer: Sealer;
  /** Where static build output is stored as blobs (incremental deploys; `storage`). */
  readonly blobs: BlobStore;
}

export class ControlPlane {
  readonly projects: Projects;
  readonly deployments: Deployments;
  readonly aliases: Aliases;
  readonly domains: Domains;
  readonly tokens: Tokens;
  readonly purges: Purges;
  readonly uploads: Uploads;
  /** Incremental deploys: blobs and manifests. */
  readonly blobs: Blobs;
  /** Deletes blobs no deployment needs. */
  readonly blobGc: BlobGc;
  /** Every admin write: who, what, where, with what result. */
  readonly audit: Audit;
  /** Password protection of previews, share links. */
  readonly protection: ProtectionRules;
  /** Who a presented bearer secret is (admin API authentication). */
  readonly verifier: TokenVerifier;

  readonly #store: ControlStore;

  constructor(options: ControlPlaneOptions) {
    const store = new ControlStore(options.store);
    this.#store = store;
    this.projects = new Projects(store);
    this.deployments = new Deployments(store, options.addressPolicy);
    this.aliases = new Aliases(store);
    this.domains = new Domains(store);
    this.tokens = new Tokens(store);
    this.purges = new Purges(store);
    this.blobs = new Blobs(options.blobs, this.deployments, options.uploads);
    this.blobGc = new BlobGc(options.store, options.blobs, options.logger);
    this.uploads = new Uploads(this, options.dataDir, options.uploads, this.blobs);
    this.audit = new Audit(store, options.logger);
    this.protection = new ProtectionRules(store, options.sealer);
    this.verifier = new TokenVerifier(options.adminSecret, options.mirror);
  }

  /** Slugs declared in the configuration file: the API may not create or change them. */
  setDeclared(slugs: ReadonlySet<string>): void {
    this.projects.setDeclared(slugs);
    this.#store.declared = slugs;
  }

  /** The slugs the configuration file declares, sorted. */
  declaredProjects(): string[] {
    return [...this.#store.declared].sort();
  }

  /** Deletes a project whole and then its uploaded files. */
  async deleteProject(slug: string): Promise<void> {
    const { deployments } = await this.projects.delete(slug);
    await this.uploads.removeFiles(deployments);
  }
}
