/**
 * The gate phase (docs/architecture.md): the deployment's status decides what a routed
 * request gets — only a ready deployment goes on to its origin — and a declared body over
 * the project's limit stops here.
 */
import type { IncomingMessage } from 'node:http';
import { SwitchyardError } from '../model/errors.js';
import type { RequestContext } from '../request/request-context.js';
import type { RoutedDeployment } from '../routing/route-table.js';

export type Routed =
  | { answered: true }
  | { deployment: RoutedDeployment }
  | { building: RoutedDeployment }
  | { redirect: string }
  | { platform: string };

/** The gate phase: only a ready deployment goes on to its origin. */
export function gate(
  deployment: RoutedDeployment | undefined,
  slug: string,
  ctx: RequestContext,
): Routed {
  if (deployment === undefined) {
    throw new SwitchyardError(
      'SY_NO_PRODUCTION',
      `project "${slug}" has no production deployment yet`,
    );
  }
  ctx.deployment = deployment.id;
  switch (deployment.status) {
    case 'ready':
      return { deployment };
    case 'queued':
    case 'building':
      return { building: deployment };
    case 'error':
      throw new SwitchyardError(
        'SY_DEPLOYMENT_FAILED',
        `deployment ${deployment.id} of "${slug}" failed to build${deployment.message === undefined ? '' : `: ${deployment.message}`}`,
      );
    case 'canceled':
      throw new SwitchyardError(
        'SY_DEPLOYMENT_CANCELED',
        `deployment ${deployment.id} of "${slug}" was canceled`,
      );
  }
}

/** A declared body over the limit (RFC 9110 §15.5.14); chunked bodies are counted as they pass. */
export function tooLarge(req: IncomingMessage, ctx: RequestContext): boolean {
  const limit = ctx.bodyLimit;
  const length = req.headers['content-length'];
  return limit > 0 && length !== undefined && Number(length) > limit;
}
