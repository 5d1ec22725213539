// rill-client: stream chat completions from rill (or any OpenAI-compatible server) in a
// browser or in node >= 18. No dependencies.
//
//   import { streamChat } from '/rill-client.js';
//   const stream = streamChat({ model: 'smollm2', messages: [{ role: 'user', content: 'Hi' }] });
//   for await (const event of stream) if (event.type === 'text') output.append(event.delta);
//   const { status, text, metrics } = await stream.result;

export { streamChat, ChatStream, listModels, endpoint } from './chat.js';
export { RillError } from './errors.js';
export { SseParser, parseSse } from './sse.js';
export { parsePartialJson } from './partial-json.js';
