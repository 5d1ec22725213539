import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePartialJson } from '../dist/rill-client.js';

test('partial json: complete JSON parses exactly', () => {
  for (const text of ['{"a":1,"b":[true,null,"x"]}', '[]', '"s"', '12.5', 'false', ' {"nested":{"k":[1,{"z":2}]}} ']) {
    assert.deepEqual(parsePartialJson(text), JSON.parse(text), text);
  }
});

test('partial json: every prefix of a tool call argument gives a sensible value', () => {
  const full = '{"city":"Paris","unit":"celsius","days":[1,2,3],"exact":true,"note":"a \\"quoted\\" \\u00e9"}';
  const seen = [];
  for (let i = 0; i <= full.length; i += 1) {
    const value = parsePartialJson(full.slice(0, i));
    if (i === 0) assert.equal(value, undefined);
    else assert.equal(typeof value, 'object', `prefix ${JSON.stringify(full.slice(0, i))}`);
    seen.push(JSON.stringify(value));
  }
  assert.deepEqual(parsePartialJson(full), JSON.parse(full));
  assert.ok(seen.includes('{"city":"Par"}'), 'an open string is closed');
  assert.ok(seen.includes('{"city":"Paris"}'), 'a key without its value is left out');
  assert.ok(seen.includes('{"city":"Paris","unit":"celsius","days":[1,2]}'), 'an open array is closed');
  assert.ok(seen.includes('{"city":"Paris","unit":"celsius","days":[1,2,3]}'));
});

test('partial json: half-written literals, numbers and escapes are left out', () => {
  assert.deepEqual(parsePartialJson('{"a":tr'), {});
  assert.deepEqual(parsePartialJson('{"a":-'), {});
  assert.deepEqual(parsePartialJson('{"a":1.'), {});
  assert.deepEqual(parsePartialJson('{"a":12'), { a: 12 });
  assert.deepEqual(parsePartialJson('{"a":"x\\'), { a: 'x' });
  assert.deepEqual(parsePartialJson('{"a":"x\\u00'), { a: 'x' });
  assert.deepEqual(parsePartialJson('["a", '), ['a']);
  assert.deepEqual(parsePartialJson('{"a":{"b":'), { a: {} });
});

test('partial json: text that is not JSON gives undefined', () => {
  for (const text of ['', '   ', 'hello', '{a:1}', '{"a" 1}', '[1] x', '{"a":1}}']) {
    assert.equal(parsePartialJson(text), undefined, JSON.stringify(text));
  }
});
