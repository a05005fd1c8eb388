// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The direction of dependencies (docs/architecture.md): each folder of src/ may import only
 * the folders named here (and itself). `app/` is the composition root and may use any.
 */
export const LAYERS = {
  model: [],
  net: ['model'],
  secrets: [],
  observability: ['model'],
  http: ['model'],
  live: ['model'],
  balancing: ['model'],
  limits: ['model', 'net', 'observability'],
  dns: ['model', 'observability'],
  storage: ['model', 'observability', 'config'],
  request: ['model', 'observability', 'http'],
  proxy: ['model', 'observability', 'http', 'request'],
  store: ['model', 'observability'],
  config: ['model', 'http', 'proxy'],
  origin: ['model', 'http', 'request'],
  routing: ['model', 'http', 'origin', 'request'],
  static: ['model', 'http', 'origin', 'request', 'observability', 'storage'],
  upstream: ['model', 'http', 'net', 'origin', 'request', 'proxy', 'balancing', 'observability'],
  cache: ['model', 'http', 'origin', 'request', 'proxy', 'upstream', 'observability', 'config'],
  tls: ['model', 'http', 'store', 'observability', 'config', 'secrets'],
  control: ['model', 'http', 'net', 'store', 'observability', 'live', 'secrets', 'storage'],
  admin: ['model', 'net', 'control', 'live', 'observability', 'config'],
  server: [
    'model',
    'net',
    'secrets',
    'http',
    'origin',
    'request',
    'proxy',
    'balancing',
    'limits',
    'observability',
    'routing',
    'static',
    'upstream',
    'cache',
    'live',
    'tls',
    'config',
    'storage',
  ],
  cli: ['app', 'config', 'model', 'http', 'observability'],
  app: null, // everything
};

const layerRules = Object.entries(LAYERS)
  .filter(([, allowed]) => allowed !== null)
  .map(([folder, allowed]) => ({
    files: [`src/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: Object.keys(LAYERS)
            .filter((other) => other !== folder && !allowed.includes(other))
            .map((other) => ({
              group: [`**/${other}/**`],
              message: `src/${folder}/ may not import src/${other}/ (eslint.config.js LAYERS; docs/architecture.md).`,
            })),
        },
      ],
    },
  }));

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'demo/', 'test/fixtures/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // In a long-running server an unhandled rejection is an outage.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  ...layerRules,
  {
    // Tests read parsed JSON responses (`res.body.field`); a missing field fails the
    // assertion that reads it, so typing every response buys nothing there.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // The dashboard runs in the browser (plain ES modules, no build step).
    files: ['dashboard/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          'document',
          'window',
          'Node',
          'fetch',
          'AbortController',
          'TextDecoderStream',
          'sessionStorage',
          'setTimeout',
          'alert',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);
