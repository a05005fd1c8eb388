import { SwitchyardError } from '../model/errors.js';

/** A configuration that cannot be used. The CLI prints `message` and exits with code 2. */
export class ConfigError extends SwitchyardError {
  declare readonly code: 'SY_CONFIG_INVALID';

  constructor(
    message: string,
    readonly problems: readonly string[] = [message],
  ) {
    super('SY_CONFIG_INVALID', message);
    this.name = 'ConfigError';
  }
}
