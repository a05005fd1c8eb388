/** The demo project `hello`, a small static site shipped in `demo/hello`. */
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-info.js';
import type { ProjectSpec } from './site.js';

export const DEMO_DIR = join(PACKAGE_ROOT, 'demo', 'hello');

export function demoProject(dir: string = DEMO_DIR): ProjectSpec {
  return {
    slug: 'hello',
    production: 'demo',
    aliases: {},
    domains: [],
    rootPaths: [],
    httpsRedirect: false,
    deployments: [
      {
        id: 'demo',
        status: 'ready',
        origin: { kind: 'static', dir, spa: false, cleanUrls: true, immutable: false },
      },
    ],
  };
}
