/** A configuration that cannot be used. The CLI prints `message` and exits with code 2. */
export class ConfigError extends Error {
  readonly code = 'SY_CONFIG_INVALID';
  constructor(
    message: string,
    readonly problems: readonly string[] = [message],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}
