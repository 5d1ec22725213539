// A whole `useChat` conversation against rill's streams, with each pinned version's own
// `AbstractChat`: tool calls answered by the client (`addToolResult`) and sent back
// automatically (`sendAutomaticallyWhen`), the answer continuing the same message,
// reasoning in the history, and `regenerate()` ending in an error. Every request body
// the transport sends is compared with `requests/<version>.json`, which the Rust tests
// parse (`tests/wire/vercel_ui/captured.rs`): those are the real default bodies.
//
// After a change to the scenarios: RILL_UPDATE_REQUESTS=1 node --test, then review the diff.

import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';

import { REQUESTS, VERSIONS, makeChat, parts, sse, until } from './harness.mjs';

const OUTPUTS = { Paris: { temperature: 21, sky: 'sunny' }, Rome: 'rain' };

for (const version of VERSIONS) {
  describe(version, () => {
    it('a conversation with client-side tools, reasoning, regenerate and an error', async () => {
      const ai = await import(version);
      const responses = await Promise.all(
        ['tool_calls', 'continuation', 'reasoning', 'text', 'error_mid_stream'].map(sse),
      );
      const { chat, requests } = makeChat(ai, {
        responses,
        // What apps pass to `useChat({transport: new DefaultChatTransport({body})})`.
        body: { model: 'rill-test', temperature: 0.2 },
        // The documented pattern: answer in `onToolCall` without awaiting.
        onToolCall: (chat, { toolCall }) => {
          chat.addToolResult({
            tool: toolCall.toolName,
            toolCallId: toolCall.toolCallId,
            output: OUTPUTS[toolCall.input.city],
          });
        },
        sendAutomaticallyWhen: ai.lastAssistantMessageIsCompleteWithToolCalls,
      });

      await chat.sendMessage({ text: 'Weather in Paris and Rome?' });
      await until(() => requests.length === 2 && chat.status === 'ready', 'the automatic second request');
      // The continuation extends the tool message instead of adding one.
      assert.deepEqual(
        chat.messages.map((m) => [m.role, m.id]),
        [
          ['user', 'id-1'],
          ['assistant', 'msg-tools'],
        ],
      );
      assert.deepEqual(parts(chat.messages[1]), [
        { type: 'step-start' },
        { type: 'text', text: 'Let me check both.' },
        {
          type: 'tool-get_weather',
          toolCallId: 'call_paris',
          state: 'output-available',
          input: { city: 'Paris' },
          output: OUTPUTS.Paris,
        },
        {
          type: 'tool-get_weather',
          toolCallId: 'call_rome',
          state: 'output-available',
          input: { city: 'Rome' },
          output: OUTPUTS.Rome,
        },
        { type: 'step-start' },
        { type: 'text', text: 'Paris is sunny, Rome is rainy.' },
      ]);

      await chat.sendMessage({ text: 'And tomorrow?' });
      await until(() => chat.status === 'ready', 'the reasoning answer');
      assert.deepEqual(parts(chat.messages[3]).map((p) => p.type), ['step-start', 'reasoning', 'text']);

      // The next request carries the reasoning part in its history.
      await chat.sendMessage({ text: 'Thanks!' });
      await until(() => chat.status === 'ready', 'the text answer');

      // Regenerating drops the last answer; this time the stream fails midway.
      await chat.regenerate();
      await until(() => chat.status === 'error', 'the error');
      assert.equal(chat.error.message, 'no capacity right now');
      assert.deepEqual(
        chat.messages.map((m) => (m.role === 'user' ? 'user' : m.id)),
        ['user', 'msg-tools', 'user', 'msg-reasoning', 'user', 'msg-error'],
      );

      for (const request of requests) {
        assert.equal(request.url, '/api/chat');
        assert.equal(request.headers.get('content-type'), 'application/json');
      }
      await compareRequests(version, requests.map((r) => r.body));
    });
  });
}

async function compareRequests(version, bodies) {
  const file = path.join(REQUESTS, `${version}.json`);
  const text = `${JSON.stringify(bodies, null, 2)}\n`;
  if (process.env.RILL_UPDATE_REQUESTS === '1') {
    await writeFile(file, text);
    return;
  }
  const committed = JSON.parse(await readFile(file, 'utf8'));
  assert.deepEqual(bodies, committed, `${file} is stale: RILL_UPDATE_REQUESTS=1 node --test`);
}
