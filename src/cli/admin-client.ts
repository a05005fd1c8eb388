/**
 * The admin API client behind `switchyard deploy | projects | rollback`. The URL and token
 * come from flags, else `SWITCHYARD_ADMIN_URL` / `SWITCHYARD_TOKEN`, else the local
 * defaults (`http://127.0.0.1:8081` and the token file a local `switchyard start` generated).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { request } from 'undici';

export class ClientError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

export interface ClientSettings {
  readonly url: string;
  readonly token: string;
}

export function clientSettings(
  flags: { adminUrl?: string; token?: string },
  env: NodeJS.ProcessEnv,
): ClientSettings {
  const url = (flags.adminUrl ?? env.SWITCHYARD_ADMIN_URL ?? 'http://127.0.0.1:8081').replace(
    /\/+$/,
    '',
  );
  let token = flags.token ?? env.SWITCHYARD_TOKEN ?? env.SWITCHYARD_ADMIN_TOKEN;
  if (token === undefined || token === '') {
    const file = join(resolve(env.SWITCHYARD_DATA_DIR ?? 'switchyard-data'), 'admin-token');
    try {
      token = readFileSync(file, 'utf8').trim();
    } catch {
      throw new ClientError(
        `no admin token: pass --token, set SWITCHYARD_TOKEN, or run where ${file} exists`,
      );
    }
  }
  return { url, token };
}

export class AdminClient {
  readonly #settings: ClientSettings;

  constructor(settings: ClientSettings) {
    this.#settings = settings;
  }

  /** JSON in, JSON out; a problem response becomes a ClientError with its detail. */
  async call<T>(
    method: string,
    path: string,
    body?: unknown,
    extra: { stream?: Readable; contentType?: string; okStatuses?: readonly number[] } = {},
  ): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#settings.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (extra.contentType !== undefined) headers['content-type'] = extra.contentType;
    let res;
    try {
      res = await request(`${this.#settings.url}${path}`, {
        method: method as 'GET',
        headers,
        body: extra.stream ?? (body === undefined ? undefined : JSON.stringify(body)),
      });
    } catch (err) {
      throw new ClientError(
        `cannot reach the admin API at ${this.#settings.url} (${(err as Error).message}); is switchyard running?`,
      );
    }
    const text = await res.body.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    if (res.statusCode >= 400 && extra.okStatuses?.includes(res.statusCode) !== true) {
      const detail = (parsed as { detail?: string } | undefined)?.detail ?? text;
      throw new ClientError(`${res.statusCode}: ${detail}`, res.statusCode);
    }
    return { status: res.statusCode, body: parsed as T };
  }
}
