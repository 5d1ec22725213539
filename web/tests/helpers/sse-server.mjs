// A tiny in-process OpenAI-style server for the client's unit tests. Each request's
// `model` picks a scenario; every request is recorded (headers, body, and whether the
// client hung up early).

import { createServer } from 'node:http';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const chunk = (delta, finish = null, extra = {}) =>
  JSON.stringify({
    id: 'chatcmpl-test',
    object: 'chat.completion.chunk',
    created: 1700000000,
    model: 'test',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    usage: null,
    ...extra,
  });

const usageChunk = (completion) =>
  JSON.stringify({
    id: 'chatcmpl-test',
    object: 'chat.completion.chunk',
    created: 1700000000,
    model: 'test',
    choices: [],
    usage: { prompt_tokens: 3, completion_tokens: completion, total_tokens: 3 + completion },
  });

const scenarios = {
  /** Text in five chunks 30 ms apart, a finish, the usage chunk, [DONE]. */
  async text(res, write) {
    sse(res);
    await write(`data: ${chunk({ role: 'assistant', content: '' })}\n\n`);
    for (const piece of ['Hello', ',', ' wor', 'ld', '!']) {
      await sleep(30);
      await write(`data: ${chunk({ content: piece })}\n\n`);
    }
    await write(`data: ${chunk({}, 'stop')}\n\n`);
    await write(`data: ${usageChunk(5)}\n\n`);
    await write('data: [DONE]\n\n');
    res.end();
  },

  /** CRLF framing, comments, and bytes written in 3-byte pieces (emoji split). */
  async bytes(res) {
    sse(res);
    const text =
      ': keep-alive\r\n\r\n' +
      `data: ${chunk({ role: 'assistant', content: '' })}\r\n\r\n` +
      `data: ${chunk({ content: 'crab 🦀' })}\r\n\r\n` +
      `data:${chunk({ content: ' and café' })}\r\r` +
      `data: ${chunk({}, 'stop')}\n\n` +
      'data: [DONE]\r\n\r\n';
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += 3) {
      res.write(bytes.subarray(i, i + 3));
      if (i % 60 === 0) await sleep(1);
    }
    res.end();
  },

  /** Reasoning (both field spellings), then text; usage on the finish chunk (DeepSeek). */
  async reasoning(res, write) {
    sse(res);
    await write(`data: ${chunk({ role: 'assistant', content: '' })}\n\n`);
    await sleep(20);
    await write(`data: ${chunk({ reasoning_content: 'Think' })}\n\n`);
    await sleep(20);
    await write(`data: ${chunk({ reasoning: 'ing.' })}\n\n`);
    await sleep(20);
    await write(`data: ${chunk({ content: '42' })}\n\n`);
    await write(
      `data: ${chunk({}, 'stop', { usage: { prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 } })}\n\n`,
    );
    await write('data: [DONE]\n\n');
    res.end();
  },

  /** Two parallel tool calls in fragments. */
  async tools(res, write) {
    sse(res);
    await write(`data: ${chunk({ role: 'assistant', content: '' })}\n\n`);
    await write(`data: ${chunk({ content: 'Checking.' })}\n\n`);
    const first = (index, id, name) =>
      chunk({ tool_calls: [{ index, id, type: 'function', function: { name, arguments: '' } }] });
    const frag = (index, args) => chunk({ tool_calls: [{ index, function: { arguments: args } }] });
    await write(`data: ${first(0, 'call_a', 'get_weather')}\n\n`);
    for (const part of ['{"ci', 'ty":"Par', 'is","unit"', ':"celsius"}']) {
      await sleep(5);
      await write(`data: ${frag(0, part)}\n\n`);
    }
    await write(`data: ${first(1, 'call_b', 'get_time')}\n\n`);
    for (const part of ['{"tz":', '"Europe/Paris"}']) await write(`data: ${frag(1, part)}\n\n`);
    await write(`data: ${chunk({}, 'tool_calls')}\n\n`);
    await write(`data: ${usageChunk(9)}\n\n`);
    await write('data: [DONE]\n\n');
    res.end();
  },

  /** Some text, then an in-stream error and [DONE]. */
  async 'mid-error'(res, write) {
    sse(res);
    await write(`data: ${chunk({ role: 'assistant', content: '' })}\n\n`);
    await write(`data: ${chunk({ content: 'This breaks off' })}\n\n`);
    await sleep(10);
    await write(`data: ${chunk({ content: ' in the' })}\n\n`);
    await write(
      'data: {"error":{"message":"upstream failed after 2 tokens","type":"upstream_error","param":null,"code":"upstream"}}\n\n',
    );
    await write('data: [DONE]\n\n');
    res.end();
  },

  /** Text, then the body ends cleanly without a finish or [DONE]. */
  async truncated(res, write) {
    sse(res);
    await write(`data: ${chunk({ role: 'assistant', content: '' })}\n\n`);
    await write(`data: ${chunk({ content: 'Half an' })}\n\n`);
    await sleep(10);
    res.end();
  },

  /** A finish reason, then the body ends without [DONE] (tolerated). */
  async 'finish-no-done'(res, write) {
    sse(res);
    await write(`data: ${chunk({ content: 'Complete.' })}\n\n`);
    await write(`data: ${chunk({}, 'length')}\n\n`);
    res.end();
  },

  /** Text, then the connection is cut. */
  async 'cut'(res, write) {
    sse(res);
    await write(`data: ${chunk({ content: 'Cut' })}\n\n`);
    await sleep(20);
    res.socket.destroy();
  },

  /** Text without a usage report: tokens/s comes from counting chunks. */
  async 'no-usage'(res, write) {
    sse(res);
    for (const piece of ['a', 'b', 'c', 'd']) {
      await write(`data: ${chunk({ content: piece })}\n\n`);
      await sleep(25);
    }
    await write(`data: ${chunk({}, 'stop')}\n\n`);
    await write('data: [DONE]\n\n');
    res.end();
  },

  /** A slow endless stream, for abort tests. */
  async slow(res, write) {
    sse(res);
    await write(`data: ${chunk({ role: 'assistant', content: '' })}\n\n`);
    for (let i = 0; i < 400 && !res.destroyed; i += 1) {
      await write(`data: ${chunk({ content: ` t${i}` })}\n\n`);
      await sleep(25);
    }
    res.end();
  },

  /** A bad event payload. */
  async 'not-json'(res, write) {
    sse(res);
    await write('data: {"choices": [\n\n');
    res.end();
  },

  /** The whole answer as JSON instead of a stream. */
  async whole(res) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: 'chatcmpl-whole',
        object: 'chat.completion',
        model: 'test',
        choices: [{ index: 0, message: { role: 'assistant', content: 'All at once.' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1, completion_tokens: 4, total_tokens: 5 },
      }),
    );
  },

  async 'http-400'(res) {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        error: {
          message: 'unknown field `temprature`',
          type: 'invalid_request_error',
          param: 'temprature',
          code: null,
        },
      }),
    );
  },

  async 'http-429'(res) {
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3' });
    res.end(
      JSON.stringify({
        error: { message: 'too many requests are waiting', type: 'rate_limit_error', param: null, code: 'rate_limited' },
      }),
    );
  },

  async 'http-502-html'(res) {
    res.writeHead(502, { 'content-type': 'text/html' });
    res.end('<html><body>Bad Gateway</body></html>');
  },
};

/**
 * A stream rill would resume: numbered frames (`id: 0`, `id: 1`, ...), the stream's id in
 * `x-rill-stream-id`. `GET /v1/streams/<id>` with `Last-Event-ID: N` sends the frames
 * after N. How the first connection ends is the scenario's: cut, or silent.
 */
const RESUMABLE_FRAMES = [
  chunk({ role: 'assistant', content: '' }),
  ...['One', ' two', ' three', ' four', ' five', ' six'].map((piece) => chunk({ content: piece })),
  chunk({}, 'stop'),
  usageChunk(6),
  '[DONE]',
];

async function numbered(res, write, from, until = RESUMABLE_FRAMES.length) {
  for (let id = from; id < until; id += 1) {
    await write(`id: ${id}\ndata: ${RESUMABLE_FRAMES[id]}\n\n`);
    await sleep(5);
  }
}

const resumable = {
  /** Four frames, then the connection is cut. */
  async 'resumable-cut'(res, write) {
    sse(res, { 'x-rill-stream-id': 'chatcmpl-cut' });
    await numbered(res, write, 0, 4);
    res.socket.destroy();
  },
  /** Three frames, then nothing at all (not even heartbeats): a dead connection. */
  async 'resumable-silent'(res, write) {
    sse(res, { 'x-rill-stream-id': 'chatcmpl-silent' });
    await numbered(res, write, 0, 3);
    await new Promise((resolve) => res.on('close', resolve));
  },
  /** Two frames, cut; the resume finds the stream expired. */
  async 'resumable-gone'(res, write) {
    sse(res, { 'x-rill-stream-id': 'chatcmpl-gone' });
    await numbered(res, write, 0, 2);
    res.socket.destroy();
  },
  /** An endless stream, for cancel. */
  async 'resumable-slow'(res, write) {
    sse(res, { 'x-rill-stream-id': 'chatcmpl-slow' });
    for (let i = 0; i < 400 && !res.destroyed; i += 1) {
      await write(`id: ${i}\ndata: ${chunk({ content: ` t${i}` })}\n\n`);
      await sleep(25);
    }
    res.end();
  },
};
Object.assign(scenarios, resumable);

/** `GET /v1/streams/<id>`: the frames after `Last-Event-ID` (all without it). */
async function resumeStream(req, res, write) {
  const id = decodeURIComponent(req.url.slice('/v1/streams/'.length));
  if (id === 'chatcmpl-gone') {
    res.writeHead(410, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: 'the stream `chatcmpl-gone` has expired', type: 'not_found_error', code: 'gone' } }));
    return;
  }
  const last = req.headers['last-event-id'];
  sse(res, { 'x-rill-stream-id': id });
  await numbered(res, write, last === undefined ? 0 : Number(last) + 1);
  res.end();
}

function sse(res, headers = {}) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
  res.flushHeaders();
}

/** Starts the server on a free loopback port. */
export async function startSseServer() {
  const requests = [];
  const server = createServer(async (req, res) => {
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'alpha', object: 'model', owned_by: 'rill' }, { id: 'beta', object: 'model', owned_by: 'rill' }] }));
      return;
    }
    let raw = '';
    for await (const part of req) raw += part;
    const record = { method: req.method, url: req.url, headers: req.headers, body: JSON.parse(raw || 'null'), clientClosedAt: null };
    const startedAt = performance.now();
    res.on('close', () => {
      if (!res.writableFinished) record.clientClosedAt = performance.now() - startedAt;
    });
    requests.push(record);
    const write = (text) =>
      new Promise((resolve) => {
        if (res.destroyed) return resolve();
        res.write(text, () => resolve());
      });
    if (req.method === 'GET' && req.url.startsWith('/v1/streams/')) {
      await resumeStream(req, res, write);
      return;
    }
    if (req.method === 'POST' && /^\/v1\/streams\/[^/]+\/cancel$/.test(req.url)) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: req.url.split('/')[3], object: 'stream', status: 'cancelled' }));
      return;
    }
    const scenario = scenarios[record.body?.model];
    if (!scenario) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no scenario ${record.body?.model}`, type: 'not_found_error' } }));
      return;
    }
    try {
      await scenario(res, write);
    } catch {
      res.destroy();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}
