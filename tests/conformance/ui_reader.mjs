// Reads one answer per model from rill's `POST /api/chat` with the `ai` package's own
// code only: `DefaultChatTransport` (the request `useChat` sends, and the chunk schema
// every chunk is validated against) and `readUIMessageStream` (what builds the message
// `useChat` shows). Prints one JSON line per model and version: the final message's
// parts and metadata, and the error the stream reported, if any.
//
//   node ui_reader.mjs <rill url> <model> [<model> ...]

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
/** The oldest 5.x (strict chunk schema) and the newest pinned version. */
const VERSIONS = ['ai-5.0.0', 'ai-6.0.326'];

async function read(ai, url, model) {
  const transport = new ai.DefaultChatTransport({ api: `${url}/api/chat`, body: { model } });
  const errors = [];
  let message;
  try {
    const stream = await transport.sendMessages({
      chatId: 'conformance',
      trigger: 'submit-message',
      messageId: undefined,
      messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: 'hi' }] }],
      abortSignal: undefined,
    });
    for await (const snapshot of ai.readUIMessageStream({
      stream,
      onError: (error) => errors.push(String(error?.message ?? error)),
    })) {
      message = snapshot;
    }
  } catch (error) {
    errors.push(String(error?.message ?? error));
  }
  return { parts: message?.parts ?? [], metadata: message?.metadata ?? null, errors };
}

const [url, ...models] = process.argv.slice(2);
for (const version of VERSIONS) {
  const ai = require(version);
  for (const model of models) {
    const result = await read(ai, url, model);
    process.stdout.write(`${JSON.stringify({ version, model, ...result })}\n`);
  }
}
