// The floor for static files and cache hits: a bare node:http server answering prebuilt
// Buffers from a Map — no routing, no validation, no headers beyond length and type. What a
// Node server cannot beat. Usage: node bare-static.mjs <port> <dir> [fields-json]
//
// fields-json: header fields to add to every answer, to measure what Node spends on the
// fields Switchyard sends (its own work is then the rest). An `x-request-id` value gets a
// per-request counter appended, as Switchyard's ids do.
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const [port, dir, fieldsJson] = process.argv.slice(2);
const files = new Map();
for (const name of readdirSync(dir)) files.set(`/${name}`, readFileSync(join(dir, name)));
const fields = fieldsJson === undefined ? {} : JSON.parse(fieldsJson);
const idPrefix = fields['x-request-id'];
let counter = 0;

function plain(req, res) {
  const body = files.get(req.url);
  if (body === undefined) {
    res.writeHead(404, { 'content-length': 0 }).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
  res.end(body);
}

function withFields(req, res) {
  const body = files.get(req.url);
  if (body === undefined) {
    res.writeHead(404, { 'content-length': 0 }).end();
    return;
  }
  const headers = {
    'content-type': 'application/octet-stream',
    'content-length': body.length,
    ...fields,
  };
  if (idPrefix !== undefined) headers['x-request-id'] = `${idPrefix}-${(++counter).toString(36)}`;
  res.writeHead(200, headers);
  res.end(body);
}

createServer(fieldsJson === undefined ? plain : withFields).listen(Number(port), '127.0.0.1');
