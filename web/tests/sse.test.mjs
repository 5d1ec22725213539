// The SSE parser of dist/rill-client.js: every input is fed whole, split in two at every
// byte, and one byte at a time, and must give the same events each way.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SseParser, parseSse } from '../dist/rill-client.js';

const encode = (text) => new TextEncoder().encode(text);

/** Feeds `bytes` in every way and checks the events (and the final retry value). */
function check(bytes, expected, { retry } = {}) {
  const ways = [['whole', [bytes]]];
  for (let i = 1; i < bytes.length; i += 1) {
    ways.push([`split at byte ${i}`, [bytes.slice(0, i), bytes.slice(i)]]);
  }
  ways.push(['one byte at a time', Array.from(bytes, (_, i) => bytes.slice(i, i + 1))]);
  for (const [how, chunks] of ways) {
    const events = [];
    const parser = new SseParser((event) => events.push(event));
    for (const chunk of chunks) parser.push(chunk);
    parser.end();
    assert.deepEqual(events, expected.map(normalize), how);
    if (retry !== undefined) assert.equal(parser.retry, retry, `${how}: retry`);
  }
}

function normalize(event) {
  if (typeof event === 'string') return { type: 'message', data: event, lastEventId: '' };
  return { type: 'message', lastEventId: '', ...event };
}

const cases = [
  ['CRLF, LF and a final lone CR', 'data:test\r\ndata\ndata:test\r\n\r', ['test\n\ntest']],
  ['empty data and an undispatched last block', 'data:\n\ndata\ndata\n\ndata:', ['', '\n']],
  ['a tab is kept, CR ends lines', 'data:\ttest\rdata: \ndata:test\n\n', ['\ttest\n\ntest']],
  ['one leading BOM is stripped, a second is part of the field name', '\uFEFFdata:1\n\n\uFEFFdata:2\n\ndata:3\n\n', ['1', '3']],
  ['comments are ignored', ': ping\ndata: a\n:another comment\ndata: b\n\n', ['a\nb']],
  ['CR, LF and CRLF mixed in one stream', 'data: a\r\n\r\ndata: b\r\rdata: c\n\r\ndata: d\r\n\n', ['a', 'b', 'c', 'd']],
  ['CRLF everywhere', 'data: one\r\n\r\ndata: two\r\ndata: three\r\n\r\n', ['one', 'two\nthree']],
  ['only one leading space is removed', 'data:  two spaces\ndata:none\n\n', [' two spaces\nnone']],
  ['field names are case-sensitive; unknown fields are ignored', 'Data: no\nfoo: bar\n\ndata: yes\n\n', ['yes']],
  ['a field without a colon has an empty value', 'data\n\n', ['']],
  ['events without data are not dispatched', 'event: x\n\nid: 3\n\ndata: z\n\n', [{ data: 'z', lastEventId: '3' }]],
  [
    'event types reset after each event, ids persist',
    'event: add\nid: 7\ndata: x\n\ndata: y\n\nid\ndata: z\n\n',
    [
      { type: 'add', data: 'x', lastEventId: '7' },
      { data: 'y', lastEventId: '7' },
      { data: 'z', lastEventId: '' },
    ],
  ],
  ['an id with NUL is ignored', 'id: 1\ndata: a\n\nid: 2\u00003\ndata: b\n\n', [{ data: 'a', lastEventId: '1' }, { data: 'b', lastEventId: '1' }]],
  ['a 4-byte emoji and accents survive any split', 'data: 🦀 naïve café 👩‍💻\n\n', ['🦀 naïve café 👩‍💻']],
  [
    'an OpenAI chat stream',
    'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n: keep-alive\n\ndata: {"choices":[{"index":0,"delta":{"content":" 🦀"}}]}\n\ndata: [DONE]\n\n',
    ['{"choices":[{"index":0,"delta":{"content":"Hi"}}]}', '{"choices":[{"index":0,"delta":{"content":" 🦀"}}]}', '[DONE]'],
  ],
  ['an event at the end without its blank line is dropped', 'data: a\n\ndata: b\n', ['a']],
];

for (const [name, input, expected] of cases) {
  test(`sse: ${name}`, () => check(encode(input), expected));
}

test('sse: a valid retry is kept, bogus ones are ignored', () => {
  check(encode('retry: 1500\ndata: a\n\nretry: +5\nretry: 1_000\nretry: 10x\ndata: b\n\n'), ['a', 'b'], { retry: 1500 });
});

test('sse: invalid UTF-8 becomes U+FFFD, never an error', () => {
  const bytes = new Uint8Array([...encode('data: a'), 0xff, 0xfe, ...encode('b\n\n')]);
  check(bytes, ['a\uFFFD\uFFFDb']);
});

test('sse: a 4-byte character split across reads is joined, not replaced', () => {
  const bytes = encode('data: x🦀y\n\n');
  const crab = bytes.indexOf(0xf0);
  for (const cut of [crab + 1, crab + 2, crab + 3]) {
    const events = parseSse([bytes.slice(0, cut), bytes.slice(cut)]);
    assert.deepEqual(events.map((e) => e.data), ['x🦀y'], `cut at ${cut}`);
  }
});

test('sse: a CR at the end of one read and the LF at the start of the next are one line end', () => {
  const events = parseSse([encode('data: a\r'), encode('\ndata: b\r'), encode('\n\r'), encode('\n')]);
  assert.deepEqual(events.map((e) => e.data), ['a\nb']);
});

test('sse: text input works like bytes, with one BOM stripped', () => {
  const events = parseSse(['\uFEFFdata: a\r', '\n\r\n', 'data: b\n\n']);
  assert.deepEqual(events.map((e) => e.data), ['a', 'b']);
});

test('sse: a large stream in random chunks matches the whole parse', () => {
  let input = '';
  const expected = [];
  for (let i = 0; i < 300; i += 1) {
    const eol = ['\n', '\r\n', '\r'][i % 3];
    const data = `chunk ${i} ü 🦀 ${'x'.repeat(i % 17)}`;
    input += `: c${i}${eol}data: ${data}${eol}${eol}`;
    expected.push(data);
  }
  const bytes = encode(input);
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const chunks = [];
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + Math.floor(random() * 40);
    chunks.push(bytes.slice(at, at + size));
    at += size;
  }
  assert.deepEqual(parseSse(chunks).map((e) => e.data), expected);
});
