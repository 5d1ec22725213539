// What both tests share: the pinned `ai` versions, the fixtures `cargo test -p
// rill-wire` writes, and a chat that runs exactly as `useChat` does: the package's own
// `AbstractChat` and `DefaultChatTransport`, with `fetch` answered from the fixtures.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Every pinned version (package.json aliases). 5.0.0 validates chunks strictly. */
export const VERSIONS = ['ai-5.0.0', 'ai-5.0.277', 'ai-6.0.326'];
export const STRICT = 'ai-5.0.0';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Where `crates/rill-wire/tests/wire/vercel_ui/fixtures.rs` writes. */
export const FIXTURES =
  process.env.RILL_VERCEL_UI_FIXTURES ?? path.resolve(here, '../../../../target/vercel-ui-fixtures');

/** The captured request bodies, one JSON file per version. */
export const REQUESTS = path.join(here, 'requests');

export async function fixture(name) {
  try {
    return await readFile(path.join(FIXTURES, name), 'utf8');
  } catch (error) {
    throw new Error(
      `${name} is missing in ${FIXTURES}: run \`cargo test -p rill-wire\` first ` +
        '(or point RILL_VERCEL_UI_FIXTURES at the `vercel-ui-fixtures` folder)',
      { cause: error },
    );
  }
}

/** The headers rill sends with a UI message stream. */
const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  'x-vercel-ai-ui-message-stream': 'v1',
  'x-accel-buffering': 'no',
};

/** A stream response from a fixture. */
export async function sse(name) {
  return { status: 200, headers: SSE_HEADERS, body: await fixture(`${name}.sse`) };
}

/** The JSON chunks of an SSE fixture, `[DONE]` left out. */
export function payloads(text) {
  const data = text
    .split('\n\n')
    .filter((event) => event.length > 0)
    .map((event) => {
      if (!event.startsWith('data: ') || event.includes('\n')) {
        throw new Error(`not a one-line data-only event: ${JSON.stringify(event)}`);
      }
      return event.slice('data: '.length);
    });
  if (data.at(-1) !== '[DONE]' || data.indexOf('[DONE]') !== data.length - 1) {
    throw new Error('the stream must end in exactly one `data: [DONE]`');
  }
  return data.slice(0, -1).map((payload) => JSON.parse(payload));
}

/** In-memory `ChatState`, what `@ai-sdk/react` keeps in React state. */
class State {
  status = 'ready';
  error = undefined;
  messages = [];
  pushMessage = (message) => {
    this.messages = this.messages.concat(message);
  };
  popMessage = () => {
    this.messages = this.messages.slice(0, -1);
  };
  replaceMessage = (index, message) => {
    this.messages = [...this.messages.slice(0, index), message, ...this.messages.slice(index + 1)];
  };
  snapshot = (thing) => structuredClone(thing);
}

/**
 * A chat over `responses` (each `{status, headers, body}`, one per request, in order), or
 * over the real server at `api` when `responses` is left out.
 * Records every request (`url`, `headers`, parsed `body`), every chunk the transport
 * validated against the version's own `uiMessageChunkSchema`, and the callbacks' calls.
 */
export function makeChat(ai, { responses, api = '/api/chat', body, onToolCall, sendAutomaticallyWhen }) {
  const requests = [];
  const chunks = [];
  const finishes = [];
  const errors = [];
  let ids = 0;
  const fetch = async (url, init) => {
    requests.push({ url, headers: new Headers(init.headers), body: JSON.parse(init.body) });
    if (responses === undefined) {
      // A real server at `api`.
      return globalThis.fetch(url, init);
    }
    const next = responses.shift();
    if (next === undefined) {
      throw new Error(`no response for request ${requests.length}`);
    }
    return new Response(next.body, { status: next.status, headers: next.headers });
  };
  class RecordingTransport extends ai.DefaultChatTransport {
    processResponseStream(stream) {
      const record = new TransformStream({
        transform(chunk, controller) {
          chunks.push(chunk);
          controller.enqueue(chunk);
        },
      });
      return super.processResponseStream(stream).pipeThrough(record);
    }
  }
  class TestChat extends ai.AbstractChat {}
  const chat = new TestChat({
    id: 'chat-1',
    generateId: () => `id-${++ids}`,
    transport: new RecordingTransport({ api, fetch, body }),
    state: new State(),
    onToolCall: onToolCall && ((options) => onToolCall(chat, options)),
    sendAutomaticallyWhen,
    onFinish: (options) => finishes.push(options),
    onError: (error) => errors.push(error),
  });
  return { chat, requests, chunks, finishes, errors };
}

/** Waits until `condition()` holds (the chat settles asynchronously in newer versions). */
export async function until(condition, what) {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The parts of a message with what these tests compare (no provider metadata). */
export function parts(message) {
  return message.parts.map((part) => {
    const { type } = part;
    if (type === 'text' || type === 'reasoning') {
      return { type, text: part.text };
    }
    if (type.startsWith('tool-') || type === 'dynamic-tool') {
      const out = { type, toolCallId: part.toolCallId, state: part.state, input: part.input };
      if (part.output !== undefined) out.output = part.output;
      if (part.errorText !== undefined) out.errorText = part.errorText;
      return out;
    }
    return { type };
  });
}
