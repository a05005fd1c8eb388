/**
 * The records the control plane keeps in the state store (the store itself sees only JSON):
 * what the admin API answers with, and what the route table is compiled from.
 */
import type { ProjectRateLimits } from './rate-limit.js';
import type { DeploymentStatus } from './vocabulary.js';
import type { OriginSpec } from './site.js';

export interface ProjectRecord {
  readonly slug: string;
  readonly rootPaths: readonly string[];
  /** Redirect plain HTTP to HTTPS (absent in records written before it existed: false). */
  readonly httpsRedirect?: boolean;
  /** Request body limit of this project (bytes); absent: `limits.maxBodyBytes`. */
  readonly maxBodyBytes?: number;
  /** This project's own rate limits (absent: `rateLimit.*`). */
  readonly rateLimit?: ProjectRateLimits;
  /** The public building page shows log lines too (absent: false). */
  readonly publicBuildLogs?: boolean;
  /** Password protection of previews (or of every host); absent: public. */
  readonly protection?: Protection;
  /** Deployment id the production alias points at; null before the first promote. */
  readonly production: string | null;
  /** Earlier production deployments, most recent first (rollback walks this). */
  readonly history: readonly string[];
  /** Branch aliases: name → deployment id. */
  readonly aliases: Readonly<Record<string, string>>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface DeploymentRecord {
  readonly project: string;
  readonly id: string;
  readonly status: DeploymentStatus;
  /** What the build server said with the last status (an error's cause, say). */
  readonly message: string | null;
  readonly origin: OriginSpec | null;
  /** Free-form labels from the build server (branch, commit …). */
  readonly meta: Readonly<Record<string, string>>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface DomainRecord {
  readonly domain: string;
  readonly project: string;
  readonly verified: boolean;
  /** What the owner publishes in the TXT record `_switchyard.<domain>`. */
  readonly verificationToken: string;
  readonly createdAt: string;
}

export type { TokenScope } from './vocabulary.js';
import type { TokenScope } from './vocabulary.js';

export interface TokenRecord {
  readonly id: string;
  readonly name: string;
  readonly scope: TokenScope;
  /** SHA-256 of the secret, hex; the secret itself is shown once, at creation. */
  readonly sha256: string;
  readonly createdAt: string;
  /** The only projects the token reaches (slugs); absent: every project (the platform's own). */
  readonly projects?: readonly string[];
  /** After this ISO time the token is refused (401); absent: no expiry. */
  readonly expiresAt?: string;
}

/** How a project's hosts are protected: a password (scrypt digest) and a bypass secret. */
export interface Protection {
  /** `previews`: preview and alias hosts; `all`: production too. */
  readonly scope: 'previews' | 'all';
  /** scrypt digest of the password (secrets/password.ts). */
  readonly passwordDigest: string;
  /** SHA-256 (hex) of the secret that automation sends as `X-Switchyard-Bypass`. */
  readonly bypassDigest: string;
}
