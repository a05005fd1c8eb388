/**
 * The TLS settings every HTTPS context uses: TLS 1.2 and 1.3 only; for 1.2, ECDHE key
 * exchange with AEAD ciphers only (Node's default list still offers CBC and static-RSA
 * suites); the server's cipher order; no renegotiation; session resumption on (tickets, and
 * the session cache). See https://wiki.mozilla.org/Security/Server_Side_TLS ("intermediate").
 *
 * Key agreement offers the post-quantum hybrid X25519MLKEM768 first (TLS 1.3 only;
 * draft-ietf-tls-ecdhe-mlkem, OpenSSL 3.5 in Node 24), so a recording of today's traffic
 * cannot be decrypted later by a quantum computer; then X25519, P-256 and P-384 for clients
 * without it (and for TLS 1.2). docs/tls.md compares it with nginx and Caddy.
 */
import { constants } from 'node:crypto';
import type { SecureContextOptions } from 'node:tls';

/** TLS 1.2 suites; TLS 1.3's own suites are all AEAD and stay at Node's default. */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

const TLS13_CIPHERS = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';

export const TLS_POLICY: SecureContextOptions = {
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  ciphers: `${TLS13_CIPHERS}:${TLS12_CIPHERS}`,
  honorCipherOrder: true,
  // OpenSSL 3.5 group tuples (https://docs.openssl.org/3.5/man3/SSL_CTX_set1_curves/): the
  // server takes a key share from the first tuple the client supports, so a client that
  // supports the hybrid but sent only an X25519 share is asked for a hybrid one (one more
  // round trip, as Go's crypto/tls does); a classic-only client is served without one.
  ecdhCurve: 'X25519MLKEM768/X25519:P-256:P-384',
  // RFC 5746 renegotiation is a DoS lever and has no use here.
  secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
};
