/**
 * The `switchyard` command line: `start` (the default), `--help`, `--version`.
 * Exit codes: 0 after a clean shutdown, 2 for a bad command line or configuration, 1 otherwise.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import { VERSION } from '../package-info.js';
import { start } from './start.js';

export const USAGE = `Usage: switchyard [start] [--config <file>]
       switchyard --help | --version

Commands:
  start              Serve (the default). Without a configuration file, serves the demo
                     project "hello" on port 8080 (PORT overrides).

Options:
  -c, --config <file>  YAML configuration file (default: $SWITCHYARD_CONFIG, else none).
                       Re-read on change and on SIGHUP; a bad edit is refused and logged.
  -h, --help           Show this help.
  -v, --version        Print the version.

Every option can also be set from the environment: see docs/configuration.md.
`;

export async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (err) {
    process.stderr.write(`switchyard: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.version === true) {
    process.stdout.write(`switchyard ${VERSION}\n`);
    return 0;
  }
  const [command = 'start', ...rest] = positionals;
  if (command !== 'start' || rest.length > 0) {
    process.stderr.write(
      `switchyard: unknown command "${[command, ...rest].join(' ')}"\n\n${USAGE}`,
    );
    return 2;
  }
  try {
    return await start({ file: values.config ?? process.env.SWITCHYARD_CONFIG, env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`switchyard: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`switchyard: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}
