/**
 * The header fields Switchyard's answers carry, for the Node floors that send them too
 * (`bench/peers/bare-static.mjs <port> <dir> <fields-json>`): what Node spends on the fields
 * is the difference between the two floors, and Switchyard's own work the rest.
 */

/** A static file's answer. */
export const STATIC_FIELDS = JSON.stringify({
  etag: '"sg-mx3mnr84"',
  'last-modified': 'Mon, 30 Nov 2026 18:54:45 GMT',
  'cache-control': 'public, max-age=0, must-revalidate',
  'accept-ranges': 'bytes',
  'x-content-type-options': 'nosniff',
  'x-request-id': 'sXrU0i-X',
});

/** What a cache hit adds to what the origin sent. */
export const HIT_FIELDS = JSON.stringify({
  'cache-control': 'max-age=600',
  age: '1',
  via: '1.1 switchyard',
  'x-request-id': 'Ab3dE5gH',
  'cache-status': 'Switchyard; hit; ttl=599',
});
