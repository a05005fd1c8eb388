/** Small HTTP helpers for tests: a real client (undici) and raw-socket requests. */
import { connect } from 'node:net';
import { request as undiciRequest } from 'undici';

export interface Response {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** GET (or any method) through a fresh connection; the body read as text. */
export async function fetchText(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Response> {
  const res = await undiciRequest(url, {
    method: (options.method ?? 'GET') as 'GET',
    headers: options.headers,
    body: options.body,
    reset: true,
  });
  const body = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body };
}

/** Send bytes exactly as given; resolve with everything the server sent until it closed or went quiet. */
export function rawRequest(port: number, text: string, quietMs = 300): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data);
    };
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      data += chunk;
      clearTimeout(timer);
      timer = setTimeout(done, quietMs);
    });
    socket.on('end', done);
    socket.on('error', (err) => (data === '' ? reject(err) : done()));
    socket.write(text);
    timer = setTimeout(done, quietMs * 10);
  });
}

/** Status code of a raw HTTP response. */
export function statusOf(raw: string): number {
  return Number(/^HTTP\/1\.[01] (\d{3})/.exec(raw)?.[1] ?? 0);
}
