// rill's UI message streams, read by the real `ai` package: every chunk passes each
// pinned version's own `uiMessageChunkSchema` (strict in 5.0.0: no extra key, no unknown
// type) through its `DefaultChatTransport`, and `AbstractChat` (what `useChat` runs)
// rebuilds the expected message, status and error.
//
// Run after `cargo test -p rill-wire` (which writes the fixtures):
//   cd crates/rill-wire/tests/vercel_ui && npm ci && node --test

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { STRICT, VERSIONS, fixture, makeChat, parts, payloads, sse } from './harness.mjs';

/** The answer's `metadata`: the finish reason, and the usage when the stream had one. */
const meta = (finishReason, [input, output, extra = {}] = []) => ({
  finishReason,
  ...(input === undefined
    ? {}
    : { usage: { inputTokens: input, outputTokens: output, totalTokens: input + output, ...extra } }),
});

/** What each fixture must become. `calls` are the tool calls `onToolCall` gets. */
const EXPECTED = {
  text: {
    id: 'msg-text',
    parts: [{ type: 'step-start' }, { type: 'text', text: 'Hello, "world"\n' }],
    metadata: meta('stop', [12, 5, { reasoningTokens: 2, cachedInputTokens: 8 }]),
  },
  reasoning: {
    id: 'msg-reasoning',
    parts: [
      { type: 'step-start' },
      { type: 'reasoning', text: 'The user asks about tomorrow.' },
      { type: 'text', text: 'Tomorrow looks similar.' },
    ],
    metadata: meta('stop', [40, 9]),
  },
  tool_calls: {
    id: 'msg-tools',
    parts: [
      { type: 'step-start' },
      { type: 'text', text: 'Let me check both.' },
      { type: 'tool-get_weather', toolCallId: 'call_paris', state: 'input-available', input: { city: 'Paris' } },
      { type: 'tool-get_weather', toolCallId: 'call_rome', state: 'input-available', input: { city: 'Rome' } },
    ],
    metadata: meta('tool-calls', [30, 20]),
    calls: [
      { toolCallId: 'call_paris', toolName: 'get_weather', input: { city: 'Paris' } },
      { toolCallId: 'call_rome', toolName: 'get_weather', input: { city: 'Rome' } },
    ],
  },
  // Read on its own, a continuation is a message with the continued id.
  continuation: {
    id: 'msg-tools',
    parts: [{ type: 'step-start' }, { type: 'text', text: 'Paris is sunny, Rome is rainy.' }],
    metadata: meta('stop'),
  },
  error_mid_stream: {
    id: 'msg-error',
    parts: [{ type: 'step-start' }, { type: 'text', text: 'Partial' }],
    error: 'no capacity right now',
  },
  invalid_arguments: {
    id: 'msg-invalid',
    parts: [
      { type: 'step-start' },
      {
        type: 'tool-get_weather',
        toolCallId: 'call_bad',
        state: 'output-error',
        input: { city: 'Par' },
        errorText:
          'the arguments of the call to `get_weather` are not valid JSON: EOF while parsing a string at line 1 column 12',
      },
    ],
    metadata: meta('length'),
  },
  // An abort ends the answer without an error.
  cancelled: {
    id: 'msg-cancelled',
    parts: [{ type: 'step-start' }, { type: 'text', text: 'Stopped here' }],
  },
  truncated: {
    id: 'msg-truncated',
    parts: [{ type: 'step-start' }, { type: 'text', text: 'cut' }],
    error: 'the stream ended before the generation finished',
  },
  no_start: {
    id: 'msg-bare',
    parts: [
      { type: 'step-start' },
      { type: 'tool-lookup', toolCallId: 'msg-bare-call-0', state: 'input-available', input: {} },
    ],
    calls: [{ toolCallId: 'msg-bare-call-0', toolName: 'lookup', input: {} }],
    metadata: meta('tool-calls'),
  },
  // Each reasoning part keeps the `providerMetadata` its `reasoning-end` carried: what
  // the next request sends back (see `reasoningMetadata`).
  signed_reasoning: {
    id: 'msg-signed',
    parts: [
      { type: 'step-start' },
      { type: 'reasoning', text: 'Checking the forecast.' },
      { type: 'reasoning', text: '' },
      { type: 'text', text: 'Let me look.' },
      { type: 'reasoning', text: '' },
      { type: 'tool-get_weather', toolCallId: 'call_paris', state: 'input-available', input: { city: 'Paris' } },
    ],
    reasoningMetadata: [
      { rill: { signature: 'sig-forecast' } },
      { rill: { redactedData: 'opaque-data' } },
      { rill: { signature: 'sig-call' } },
    ],
    metadata: meta('tool-calls'),
    calls: [{ toolCallId: 'call_paris', toolName: 'get_weather', input: { city: 'Paris' } }],
  },
  finish_reason: {
    id: 'msg-length',
    parts: [{ type: 'step-start' }, { type: 'text', text: 'A long answer' }],
    metadata: meta('length'),
    finishReason: 'length',
    // ai < 5.0.92 knows no `finishReason` and refuses the chunk: that is why it is opt-in.
    refusedBy: { [STRICT]: /finishReason/ },
  },
};

async function run(version, name) {
  const ai = await import(version);
  const calls = [];
  const { chat, requests, chunks, finishes, errors } = makeChat(ai, {
    responses: [await sse(name)],
    onToolCall: (_chat, { toolCall }) => {
      calls.push({ toolCallId: toolCall.toolCallId, toolName: toolCall.toolName, input: toolCall.input });
    },
  });
  await chat.sendMessage({ text: 'hi' });
  return { chat, requests, chunks, finishes, errors, calls };
}

for (const version of VERSIONS) {
  describe(version, () => {
    for (const [name, expected] of Object.entries(EXPECTED)) {
      it(name, async () => {
        const { chat, chunks, finishes, errors, calls } = await run(version, name);
        const sent = payloads(await fixture(`${name}.sse`));
        const refusal = expected.refusedBy?.[version];
        if (refusal) {
          assert.equal(chat.status, 'error');
          assert.match(chat.error.message, refusal);
          return;
        }
        if (!expected.error && chat.status === 'error') {
          assert.fail(`the client failed: ${chat.error.message}`);
        }
        // Every chunk went through the schema, and came out unchanged.
        assert.deepEqual(chunks, sent);

        const [user, answer, ...rest] = chat.messages;
        assert.equal(user.role, 'user');
        assert.deepEqual(rest, []);
        assert.equal(answer.role, 'assistant');
        assert.equal(answer.id, expected.id);
        assert.deepEqual(parts(answer), expected.parts);
        assert.deepEqual(answer.metadata, expected.metadata);
        assert.deepEqual(calls, expected.calls ?? []);
        if (expected.reasoningMetadata) {
          const reasoning = answer.parts.filter((part) => part.type === 'reasoning');
          assert.deepEqual(
            reasoning.map((part) => part.providerMetadata),
            expected.reasoningMetadata,
          );
        }
        if (expected.error) {
          assert.equal(chat.status, 'error');
          assert.equal(chat.error.message, expected.error);
          assert.deepEqual(errors.map((e) => e.message), [expected.error]);
        } else {
          assert.equal(chat.status, 'ready');
          assert.equal(chat.error, undefined);
          assert.deepEqual(errors, []);
          // Text and reasoning parts were closed.
          for (const part of answer.parts) {
            if (part.state !== undefined && (part.type === 'text' || part.type === 'reasoning')) {
              assert.equal(part.state, 'done', `${part.type} part left streaming`);
            }
          }
        }
        if (expected.finishReason && version !== STRICT) {
          assert.equal(finishes.at(-1).finishReason, expected.finishReason);
        }
      });
    }

    it('every fixture has an expectation', async () => {
      const { readdir } = await import('node:fs/promises');
      const { FIXTURES } = await import('./harness.mjs');
      const names = (await readdir(FIXTURES)).filter((f) => f.endsWith('.sse')).map((f) => f.slice(0, -4));
      assert.deepEqual(names.sort(), Object.keys(EXPECTED).sort());
    });

    it('an error before the stream is shown as the body text', async () => {
      const ai = await import(version);
      const body = await fixture('error_body.txt');
      const { chat, errors } = makeChat(ai, {
        responses: [{ status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body }],
      });
      await chat.sendMessage({ text: 'hi' });
      assert.equal(chat.status, 'error');
      assert.equal(chat.error.message, 'the model `gpt-nope` does not exist');
      assert.deepEqual(errors.map((e) => e.message), [body]);
      assert.deepEqual(chat.messages.map((m) => m.role), ['user']);
    });
  });
}
