// Writes the golden vectors in this folder: node test/vectors/generate.js (after npm run build:ts).
// They are committed; the test checks that the encoder still produces them byte for byte.
'use strict';
const { createHash } = require('node:crypto');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const { GENESIS, encodeRecord } = require('../../dist/log/format.js');

const KEYS = { k1: 'golden key one, 32 bytes long...', k2: 'golden key two, 32 bytes long...' };
const key = (id) => ({ id, secret: Buffer.from(KEYS[id]) });

function chain(entries, start = null) {
  let seq = start?.seq ?? 0;
  let prev = start?.hash ?? GENESIS;
  let text = '';
  for (const [index, entry] of entries.entries()) {
    seq += 1;
    const ts = `2026-11-22T10:00:0${index}.000Z`;
    const { line, hash } = encodeRecord({ seq, ts, prev, type: entry.type ?? 'data', keyId: entry.key ?? null, dataJson: JSON.stringify(entry.data) }, entry.key ? key(entry.key) : null);
    text += line;
    prev = hash;
  }
  return { text, head: { seq, hash: prev } };
}

const events = [
  { actor: 'alice', action: 'login', ip: '192.0.2.10' },
  { actor: 'alice', action: 'export', report: 'q3-revenue', rows: 1250 },
  { actor: 'bob', action: 'delete-request', subject: 'é ünïcödé \u2028 😀', meta: { ticket: 42, urgent: true, note: null } },
];

const unsigned = chain(events.map((data) => ({ data })));
const signed = chain([...events.map((data, index) => ({ data, key: index < 2 ? 'k1' : 'k2' })), { data: ['rotated', 2], key: 'k2' }]);

// A torn record (the first 150 bytes of the record a crash interrupted: it carries the next seq and
// the last record's hash as prev), closed by "~\n" and a recovery record, then one more record.
const first = chain(events.slice(0, 2).map((data) => ({ data })));
const interrupted = chain([{ data: events[2] }], first.head);
const torn = Buffer.from(interrupted.text.slice(0, 150) + '~\n');
const recovery = { reason: 'torn-tail', offset: Buffer.byteLength(first.text), length: torn.length, sha256: createHash('sha256').update(torn).digest('hex') };
const rest = chain([{ type: 'recovery', data: recovery }, { data: events[2] }], first.head);
const recovered = { text: first.text + torn.toString() + rest.text, head: rest.head };

const files = { 'unsigned.jsonl': unsigned, 'signed.jsonl': signed, 'recovered.jsonl': recovered };
for (const [name, { text }] of Object.entries(files)) writeFileSync(join(__dirname, name), text);
writeFileSync(
  join(__dirname, 'vectors.json'),
  JSON.stringify(
    {
      keys: KEYS,
      files: Object.fromEntries(Object.entries(files).map(([name, { head }]) => [name, { head }])),
      recovered: [{ line: 3, seq: 3, offset: recovery.offset, length: recovery.length }],
    },
    null,
    2,
  ) + '\n',
);
