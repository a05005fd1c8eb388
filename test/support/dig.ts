/** Ask a DNS server with the real `dig` (Debian's bind9-dnsutils), as an operator would. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface DigAnswer {
  /** NOERROR, NXDOMAIN, REFUSED … */
  readonly status: string;
  /** Header flags: qr, aa, tc, rd … */
  readonly flags: readonly string[];
  /** Record lines by section, whitespace collapsed: `name ttl IN type data`. */
  readonly answer: readonly string[];
  readonly authority: readonly string[];
  readonly additional: readonly string[];
  /** EDNS line of the response (`; EDNS: version: 0, flags:; udp: 1232`), if any. */
  readonly edns: string | undefined;
  readonly raw: string;
}

/** `dig @127.0.0.1 -p <port> <name> <type> <options…>`, one try, a 2 s wait. */
export async function dig(
  port: number,
  name: string,
  type = 'A',
  options: readonly string[] = [],
): Promise<DigAnswer> {
  const { stdout } = await run(
    'dig',
    [
      '@127.0.0.1',
      '-p',
      String(port),
      name,
      type,
      '+tries=1',
      '+time=2',
      '+nocmd',
      '+nostats',
      '+noquestion',
      ...options,
    ],
    { timeout: 10_000 },
  );
  const sections: Record<string, string[]> = { ANSWER: [], AUTHORITY: [], ADDITIONAL: [] };
  let current: string | undefined;
  for (const line of stdout.split('\n')) {
    const heading = /^;; (ANSWER|AUTHORITY|ADDITIONAL) SECTION:/.exec(line);
    if (heading) {
      current = heading[1];
      continue;
    }
    if (line.trim() === '' || line.startsWith(';')) {
      if (line.trim() === '') current = undefined;
      continue;
    }
    if (current !== undefined) sections[current]!.push(line.trim().split(/\s+/).join(' '));
  }
  return {
    status: /status: (\w+)/.exec(stdout)?.[1] ?? 'NONE',
    flags: (/;; flags: ([^;]*);/.exec(stdout)?.[1] ?? '').trim().split(/\s+/),
    answer: sections.ANSWER!,
    authority: sections.AUTHORITY!,
    additional: sections.ADDITIONAL!,
    edns: /; EDNS: .*/.exec(stdout)?.[0],
    raw: stdout,
  };
}
