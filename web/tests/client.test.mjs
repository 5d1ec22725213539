// dist/rill-client.js against a real HTTP server in this process (helpers/sse-server.mjs).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RillError, listModels, streamChat } from '../dist/rill-client.js';
import { startSseServer } from './helpers/sse-server.mjs';

let server;
before(async () => {
  server = await startSseServer();
});
after(() => server.close());

const messages = [{ role: 'user', content: 'hi' }];

async function collect(options) {
  const stream = streamChat({ baseUrl: server.url, messages, ...options });
  const events = [];
  for await (const event of stream) events.push(event);
  return { events, result: await stream.result, stream };
}

const types = (events) => events.map((e) => e.type);
const lastRequest = () => server.requests.at(-1);

test('client: streams text with usage, and sends the request it should', async () => {
  const { events, result } = await collect({
    model: 'text',
    headers: { authorization: 'Bearer sk-test' },
    body: { temperature: 0.5, max_tokens: 20, stream_options: { include_obfuscation: false } },
  });
  assert.deepEqual(types(events), ['start', 'text', 'text', 'text', 'text', 'text', 'usage', 'done']);
  assert.deepEqual(
    events.filter((e) => e.type === 'text').map((e) => [e.delta, e.text]),
    [
      ['Hello', 'Hello'],
      [',', 'Hello,'],
      [' wor', 'Hello, wor'],
      ['ld', 'Hello, world'],
      ['!', 'Hello, world!'],
    ],
  );
  const done = events.at(-1);
  assert.equal(done.finishReason, 'stop');
  assert.equal(done.usage.completion_tokens, 5);
  assert.equal(result.status, 'done');
  assert.equal(result.text, 'Hello, world!');
  assert.equal(result.id, 'chatcmpl-test');

  const { ttftMs, tokensPerSecond, completionTokens, tokenSource, durationMs } = result.metrics;
  assert.ok(ttftMs >= 25, `TTFT ${ttftMs} ms includes the server's 30 ms wait`);
  assert.equal(completionTokens, 5);
  assert.equal(tokenSource, 'usage');
  // 5 tokens over the ~120 ms between the first token and the end.
  assert.ok(tokensPerSecond > 10 && tokensPerSecond < 200, `tokens/s ${tokensPerSecond}`);
  assert.ok(durationMs >= ttftMs);

  const request = lastRequest();
  assert.equal(request.method, 'POST');
  assert.equal(request.url, '/v1/chat/completions');
  assert.equal(request.headers.authorization, 'Bearer sk-test');
  assert.equal(request.headers['content-type'], 'application/json');
  assert.deepEqual(request.body, {
    model: 'text',
    messages,
    temperature: 0.5,
    max_tokens: 20,
    stream: true,
    stream_options: { include_obfuscation: false, include_usage: true },
  });
});

test('client: a baseUrl ending in /v1 and apiKey work too', async () => {
  const { result } = await collect({ baseUrl: `${server.url}/v1/`, model: 'text', apiKey: 'k1' });
  assert.equal(result.text, 'Hello, world!');
  assert.equal(lastRequest().url, '/v1/chat/completions');
  assert.equal(lastRequest().headers.authorization, 'Bearer k1');
  assert.deepEqual(lastRequest().body.stream_options, { include_usage: true });
});

test('client: CRLF and CR framing, comments and bytes split inside an emoji', async () => {
  const { events, result } = await collect({ model: 'bytes' });
  assert.equal(result.status, 'done');
  assert.equal(result.text, 'crab 🦀 and café');
  assert.deepEqual(types(events), ['start', 'text', 'text', 'done']);
});

test('client: reasoning in both spellings, then text; usage on the finish chunk', async () => {
  const { events, result } = await collect({ model: 'reasoning' });
  assert.deepEqual(types(events), ['start', 'reasoning', 'reasoning', 'text', 'usage', 'done']);
  assert.equal(result.reasoning, 'Thinking.');
  assert.equal(result.text, '42');
  assert.equal(result.usage.completion_tokens, 3);
  // TTFT counts the first reasoning token, which came after ~20 ms.
  assert.ok(result.metrics.ttftMs >= 15, `ttft ${result.metrics.ttftMs}`);
});

test('client: tool call fragments grow, with a parsed partial value', async () => {
  const { events, result } = await collect({ model: 'tools' });
  const calls = events.filter((e) => e.type === 'tool_call');
  assert.deepEqual(
    calls.map((c) => [c.index, c.id, c.name, c.arguments]),
    [
      [0, 'call_a', 'get_weather', ''],
      [0, 'call_a', 'get_weather', '{"ci'],
      [0, 'call_a', 'get_weather', '{"city":"Par'],
      [0, 'call_a', 'get_weather', '{"city":"Paris","unit"'],
      [0, 'call_a', 'get_weather', '{"city":"Paris","unit":"celsius"}'],
      [1, 'call_b', 'get_time', ''],
      [1, 'call_b', 'get_time', '{"tz":'],
      [1, 'call_b', 'get_time', '{"tz":"Europe/Paris"}'],
    ],
  );
  assert.deepEqual(calls[2].parsedArguments, { city: 'Par' });
  assert.equal(calls[2].argumentsDelta, 'ty":"Par');
  assert.deepEqual(calls[3].parsedArguments, { city: 'Paris' });
  assert.equal(result.finishReason, 'tool_calls');
  assert.deepEqual(
    result.toolCalls.map((c) => [c.id, c.name, c.parsedArguments]),
    [
      ['call_a', 'get_weather', { city: 'Paris', unit: 'celsius' }],
      ['call_b', 'get_time', { tz: 'Europe/Paris' }],
    ],
  );
  assert.equal(result.text, 'Checking.');
});

test('client: an error event mid-stream is an error; the text so far is kept', async () => {
  const { events, result } = await collect({ model: 'mid-error' });
  assert.deepEqual(types(events), ['start', 'text', 'text', 'error']);
  const { error } = events.at(-1);
  assert.ok(error instanceof RillError);
  assert.equal(error.kind, 'stream');
  assert.equal(error.message, 'upstream failed after 2 tokens');
  assert.equal(error.type, 'upstream_error');
  assert.equal(error.code, 'upstream');
  assert.equal(result.status, 'error');
  assert.equal(result.text, 'This breaks off in the');
  assert.equal(result.error, error);
});

test('client: a body that ends without [DONE] or a finish is "truncated"', async () => {
  const { events, result } = await collect({ model: 'truncated' });
  assert.deepEqual(types(events), ['start', 'text', 'error']);
  assert.equal(result.error.kind, 'truncated');
  assert.match(result.error.message, /ended before the answer was complete/);
  assert.equal(result.text, 'Half an');
});

test('client: a finish reason without [DONE] still completes', async () => {
  const { result } = await collect({ model: 'finish-no-done' });
  assert.equal(result.status, 'done');
  assert.equal(result.finishReason, 'length');
  assert.equal(result.text, 'Complete.');
});

test('client: a connection cut mid-stream is a network error', async () => {
  const { result } = await collect({ model: 'cut' });
  assert.equal(result.status, 'error');
  assert.equal(result.error.kind, 'network');
  assert.match(result.error.message, /connection to the server was lost/);
  assert.equal(result.text, 'Cut');
});

test('client: an unreachable server is a network error', async () => {
  const { createServer } = await import('node:net');
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  const { events, result } = await collect({ baseUrl: `http://127.0.0.1:${port}`, model: 'text' });
  assert.deepEqual(types(events), ['error']);
  assert.equal(result.error.kind, 'network');
  assert.match(result.error.message, /could not reach the server/);
});

test('client: HTTP 400 carries the status and the server message', async () => {
  const { events, result } = await collect({ model: 'http-400' });
  assert.deepEqual(types(events), ['error']);
  const { error } = result;
  assert.equal(error.kind, 'http');
  assert.equal(error.status, 400);
  assert.equal(error.message, 'unknown field `temprature`');
  assert.equal(error.type, 'invalid_request_error');
  assert.equal(error.param, 'temprature');
  assert.equal(result.metrics.ttftMs, null);
});

test('client: HTTP 429 carries Retry-After', async () => {
  const { result } = await collect({ model: 'http-429' });
  assert.equal(result.error.status, 429);
  assert.equal(result.error.retryAfter, 3);
  assert.equal(result.error.code, 'rate_limited');
  assert.equal(result.error.message, 'too many requests are waiting');
});

test('client: an HTTP error without a JSON body names the status', async () => {
  const { result } = await collect({ model: 'http-502-html' });
  assert.equal(result.error.status, 502);
  assert.match(result.error.message, /HTTP 502/);
});

test('client: an event that is not JSON is a protocol error', async () => {
  const { result } = await collect({ model: 'not-json' });
  assert.equal(result.error.kind, 'protocol');
});

test('client: a whole JSON answer (no stream) is accepted', async () => {
  const { events, result } = await collect({ model: 'whole' });
  assert.deepEqual(types(events), ['start', 'text', 'usage', 'done']);
  assert.equal(result.text, 'All at once.');
  assert.equal(result.metrics.completionTokens, 4);
});

test('client: without usage, tokens/s counts the content chunks', async () => {
  const { result } = await collect({ model: 'no-usage' });
  assert.equal(result.metrics.tokenSource, 'chunks');
  assert.equal(result.metrics.completionTokens, 4);
  // 4 chunks over ~100 ms.
  assert.ok(result.metrics.tokensPerSecond > 10 && result.metrics.tokensPerSecond < 160, `${result.metrics.tokensPerSecond}`);
});

test('client: abort() stops the stream and the server sees the client go', async () => {
  const stream = streamChat({ baseUrl: server.url, model: 'slow', messages });
  const events = [];
  for await (const event of stream) {
    events.push(event);
    if (events.filter((e) => e.type === 'text').length === 3) stream.abort();
  }
  const result = await stream.result;
  assert.equal(result.status, 'aborted');
  assert.equal(events.at(-1).type, 'abort');
  assert.equal(result.text, ' t0 t1 t2');
  const record = lastRequest();
  const deadline = Date.now() + 2000;
  while (record.clientClosedAt === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.notEqual(record.clientClosedAt, null, 'the server saw the connection close');
  assert.ok(record.clientClosedAt < 2000);
});

test('client: an AbortSignal passed in stops the stream', async () => {
  const controller = new AbortController();
  const seen = [];
  const stream = streamChat({
    baseUrl: server.url,
    model: 'slow',
    messages,
    signal: controller.signal,
    onText: (delta) => {
      seen.push(delta);
      if (seen.length === 2) controller.abort();
    },
  });
  const result = await stream.result;
  assert.equal(result.status, 'aborted');
  assert.deepEqual(seen, [' t0', ' t1']);
});

test('client: breaking out of the loop aborts the request', async () => {
  const stream = streamChat({ baseUrl: server.url, model: 'slow', messages });
  for await (const event of stream) {
    if (event.type === 'text') break;
  }
  const result = await stream.result;
  assert.equal(result.status, 'aborted');
});

test('client: typed callbacks see the same events as the iterator', async () => {
  const calls = [];
  const stream = streamChat({
    baseUrl: server.url,
    model: 'tools',
    messages,
    onText: (delta, event) => calls.push(['text', delta, event.text]),
    onToolCall: (call) => calls.push(['tool', call.index, call.arguments]),
    onUsage: (usage) => calls.push(['usage', usage.completion_tokens]),
    onDone: (event) => calls.push(['done', event.finishReason]),
    onError: (error) => calls.push(['error', error.message]),
  });
  const result = await stream.result;
  assert.equal(result.status, 'done');
  assert.deepEqual(calls[0], ['text', 'Checking.', 'Checking.']);
  assert.deepEqual(calls.filter((c) => c[0] === 'tool').length, 8);
  assert.deepEqual(calls.slice(-2), [['usage', 9], ['done', 'tool_calls']]);

  const errors = [];
  await streamChat({ baseUrl: server.url, model: 'http-429', messages, onError: (e) => errors.push(e.status) }).result;
  assert.deepEqual(errors, [429]);
});

test('client: a throwing callback does not break the stream', async () => {
  const reported = [];
  const original = console.error;
  console.error = (error) => reported.push(error);
  try {
    const result = await streamChat({
      baseUrl: server.url,
      model: 'text',
      messages,
      onText: () => {
        throw new Error('callback bug');
      },
    }).result;
    assert.equal(result.text, 'Hello, world!');
  } finally {
    console.error = original;
  }
  assert.equal(reported.length, 5);
  assert.equal(reported[0].message, 'callback bug');
});

test('client: fetch is called the way browsers require (no foreign `this`)', async () => {
  // Browsers throw "Illegal invocation" when window.fetch is called on another object.
  function strictFetch(url, init) {
    if (this !== undefined && this !== globalThis) throw new TypeError('Illegal invocation');
    return globalThis.fetch(url, init);
  }
  const result = await streamChat({ baseUrl: server.url, model: 'text', messages, fetch: strictFetch }).result;
  assert.equal(result.status, 'done');
  const models = await listModels({ baseUrl: server.url, fetch: strictFetch });
  assert.equal(models.length, 2);
});

test('client: listModels reads the OpenAI list', async () => {
  const models = await listModels({ baseUrl: server.url });
  assert.deepEqual(models.map((m) => m.id), ['alpha', 'beta']);
});

test('client: bad options fail at once', () => {
  assert.throws(() => streamChat({ baseUrl: server.url }), /messages/);
  assert.throws(() => streamChat({ messages }), /baseUrl/);
});

test('client: a resumable stream whose connection is cut resumes with Last-Event-ID, nothing twice', async () => {
  const { events, result } = await collect({ model: 'resumable-cut', resumable: true });
  const posted = server.requests.filter((r) => r.body?.model === 'resumable-cut').at(-1);
  assert.equal(posted.headers['x-rill-resumable'], 'true');
  const resumed = server.requests.at(-1);
  assert.equal(resumed.method, 'GET');
  assert.equal(resumed.url, '/v1/streams/chatcmpl-cut');
  assert.equal(resumed.headers['last-event-id'], '3');
  assert.equal(result.status, 'done');
  assert.equal(result.text, 'One two three four five six');
  assert.equal(result.streamId, 'chatcmpl-cut');
  assert.deepEqual(
    events.filter((e) => e.type === 'text').map((e) => e.delta),
    ['One', ' two', ' three', ' four', ' five', ' six'],
  );
  assert.deepEqual(
    events.filter((e) => e.type === 'reconnect').map((e) => [e.attempt, e.lastEventId]),
    [[1, '3']],
  );
  assert.equal(result.usage.completion_tokens, 6);
});

test('client: a silent connection counts as lost after idleTimeoutMs and is resumed', async () => {
  const { result, events } = await collect({ model: 'resumable-silent', resumable: true, idleTimeoutMs: 200 });
  assert.equal(result.status, 'done');
  assert.equal(result.text, 'One two three four five six');
  assert.equal(server.requests.at(-1).headers['last-event-id'], '2');
  assert.equal(events.filter((e) => e.type === 'reconnect').length, 1);
});

test('client: without resumable, a silent connection is a network error', async () => {
  const { result } = await collect({ model: 'resumable-silent', idleTimeoutMs: 150 });
  assert.equal(result.status, 'error');
  assert.equal(result.error.kind, 'network');
  assert.match(result.error.message, /sent nothing for 150 ms/);
  assert.equal(result.text, 'One two');
});

test('client: a resume the server refuses (410, expired) ends the stream with that error', async () => {
  const { result } = await collect({ model: 'resumable-gone', resumable: true });
  assert.equal(result.status, 'error');
  assert.equal(result.error.kind, 'http');
  assert.equal(result.error.status, 410);
  assert.equal(result.error.code, 'gone');
  assert.equal(result.text, 'One');
});

test('client: resume follows a stream started elsewhere, from its start', async () => {
  const { result, events } = await collect({ messages: undefined, resume: { streamId: 'chatcmpl-cut' } });
  assert.equal(server.requests.at(-1).method, 'GET');
  assert.equal(server.requests.at(-1).headers['last-event-id'], undefined);
  assert.equal(result.status, 'done');
  assert.equal(result.text, 'One two three four five six');
  assert.equal(events[0].type, 'start');
});

test('client: abort() on a rill stream asks the server to cancel it', async () => {
  const stream = streamChat({ baseUrl: server.url, model: 'resumable-slow', messages, resumable: true });
  let texts = 0;
  for await (const event of stream) {
    if (event.type === 'text' && ++texts === 2) stream.abort();
  }
  assert.equal((await stream.result).status, 'aborted');
  const deadline = Date.now() + 2000;
  const cancelled = () => server.requests.find((r) => r.url === '/v1/streams/chatcmpl-slow/cancel');
  while (!cancelled() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(cancelled()?.method, 'POST');
});
