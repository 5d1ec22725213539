// Streams one chat completion from an OpenAI-compatible server (rill) and reports it as
// typed events, through callbacks and as an async iterator.

import { RillError, httpError, streamError } from './errors.js';
import { parsePartialJson } from './partial-json.js';
import { SseParser } from './sse.js';

const now = () => globalThis.performance.now();

/**
 * @typedef {object} Metrics
 * @property {number|null} ttftMs  request start -> first text or reasoning token
 * @property {number|null} tokensPerSecond  completion tokens / (first token -> end)
 * @property {number} completionTokens  from the usage report, else the content chunks counted
 * @property {'usage'|'chunks'} tokenSource  where completionTokens came from
 * @property {number} durationMs  request start -> end
 */

/**
 * @typedef {object} ToolCallState
 * @property {number} index
 * @property {string|null} id
 * @property {string|null} name
 * @property {string} arguments  the arguments JSON text received so far
 * @property {unknown} parsedArguments  best-effort parse of `arguments` (undefined if none yet)
 */

/**
 * @typedef {object} ChatOptions
 * @property {string} [baseUrl]  the server's root URL, e.g. "http://127.0.0.1:8080" (a
 *   trailing "/v1" is accepted too); default: the page's own origin
 * @property {Record<string,string>} [headers]  extra request headers (e.g. Authorization)
 * @property {string} [apiKey]  sent as `Authorization: Bearer <apiKey>`
 * @property {string} [model]
 * @property {Array<{role: string, content: unknown}>} messages
 * @property {Record<string, unknown>} [body]  any other request fields (temperature, ...)
 * @property {AbortSignal} [signal]  aborting it stops the stream
 * @property {typeof fetch} [fetch]  a fetch implementation (default: the global one)
 * @property {(delta: string, event: object) => void} [onText]
 * @property {(delta: string, event: object) => void} [onReasoning]
 * @property {(delta: string, event: object) => void} [onRefusal]
 * @property {(call: ToolCallState, event: object) => void} [onToolCall]
 * @property {(usage: object, event: object) => void} [onUsage]
 * @property {(error: RillError, event: object) => void} [onError]
 * @property {(event: object) => void} [onDone]
 * @property {(event: object) => void} [onAbort]
 * @property {(event: object) => void} [onEvent]  every event
 */

/**
 * Starts streaming a chat completion.
 *
 * Events, in order: `start` {id, model}; any number of `text` {delta, text},
 * `reasoning` {delta, reasoning}, `refusal` {delta, refusal}, `tool_call` {index, id,
 * name, argumentsDelta, arguments, parsedArguments}, `usage` {usage}; then exactly one of
 * `done` {finishReason, usage, metrics}, `error` {error, metrics} or `abort` {metrics}.
 *
 * The returned stream is an async iterable of those events (breaking out of the loop
 * aborts the request), has `abort()`, and `result`: a promise of the whole answer that
 * always resolves, with `status` "done", "error" or "aborted".
 *
 * @param {ChatOptions} options
 * @returns {ChatStream}
 */
export function streamChat(options) {
  return new ChatStream(options);
}

export class ChatStream {
  /** @param {ChatOptions} options */
  constructor(options) {
    if (!options || !Array.isArray(options.messages)) {
      throw new TypeError('streamChat: `messages` must be an array of chat messages');
    }
    this.options = options;
    this.url = endpoint(options.baseUrl, '/v1/chat/completions');
    // Called as a plain function: browsers throw "Illegal invocation" when fetch gets
    // any `this` other than the global object.
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') {
      throw new TypeError('streamChat: no fetch implementation (pass `fetch`, or use node >= 18)');
    }
    this.fetch = (url, init) => fetchImpl(url, init);
    this.controller = new AbortController();
    const external = options.signal;
    if (external) {
      if (external.aborted) this.controller.abort(external.reason);
      else {
        this.unlink = () => external.removeEventListener('abort', this.onExternalAbort);
        this.onExternalAbort = () => this.controller.abort(external.reason);
        external.addEventListener('abort', this.onExternalAbort, { once: true });
      }
    }

    this.id = null;
    this.model = null;
    this.text = '';
    this.reasoning = '';
    this.refusal = '';
    /** @type {ToolCallState[]} */
    this.toolCalls = [];
    this.usage = null;
    this.finishReason = null;
    this.error = null;
    this.status = 'streaming';

    this.startedAt = 0;
    this.firstTokenAt = null;
    this.endedAt = null;
    this.chunkTokens = 0;

    this.queue = [];
    this.waiting = null;
    this.iterating = false;
    this.terminal = false;

    /** @type {Promise<object>} the whole answer once the stream is over (never rejects) */
    this.result = this.run();
  }

  /** Stops the stream: the request is aborted and the server drops the generation. */
  abort(reason) {
    this.controller.abort(reason);
  }

  /** Metrics so far (final once the stream is over). @returns {Metrics} */
  get metrics() {
    const end = this.endedAt ?? now();
    const fromUsage = typeof this.usage?.completion_tokens === 'number';
    const completionTokens = fromUsage ? this.usage.completion_tokens : this.chunkTokens;
    const span = this.firstTokenAt === null ? 0 : end - this.firstTokenAt;
    return {
      ttftMs: this.firstTokenAt === null ? null : this.firstTokenAt - this.startedAt,
      tokensPerSecond: span > 0 && completionTokens > 0 ? completionTokens / (span / 1000) : null,
      completionTokens,
      tokenSource: fromUsage ? 'usage' : 'chunks',
      durationMs: end - this.startedAt,
    };
  }

  [Symbol.asyncIterator]() {
    if (this.iterating) throw new Error('ChatStream: iterate a stream only once');
    this.iterating = true;
    return {
      next: () => {
        if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift(), done: false });
        if (this.terminal) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waiting = resolve;
        });
      },
      return: () => {
        if (!this.terminal) this.abort();
        this.queue.length = 0;
        this.iterating = 'closed';
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  async run() {
    const { options } = this;
    const signal = this.controller.signal;
    this.startedAt = now();
    const headers = {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
      ...(options.headers ?? {}),
    };
    const extra = options.body ?? {};
    const body = {
      ...extra,
      ...(options.model ? { model: options.model } : {}),
      messages: options.messages,
      stream: true,
      stream_options: { ...(extra.stream_options ?? {}), include_usage: true },
    };

    let response;
    try {
      if (signal.aborted) throw signal.reason ?? new Error('aborted');
      response = await this.fetch(this.url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal,
      });
    } catch (cause) {
      if (signal.aborted) return this.finishAborted();
      return this.fail(
        new RillError('network', `could not reach the server (${describe(cause)})`, { cause }),
      );
    }

    if (!response.ok) {
      let text = '';
      try {
        text = await response.text();
      } catch (cause) {
        if (signal.aborted) return this.finishAborted();
      }
      return this.fail(httpError(response.status, response.statusText, response.headers, text));
    }

    const contentType = response.headers.get('content-type') ?? '';
    if (contentType.includes('application/json')) {
      // The server ignored `stream: true` and sent the whole answer at once.
      return this.readWhole(response);
    }
    if (!response.body) {
      return this.fail(new RillError('protocol', 'the server sent an empty response'));
    }

    const reader = response.body.getReader();
    const parser = new SseParser((event) => this.onSse(event));
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          parser.end();
          break;
        }
        parser.push(value);
        if (this.terminal) break;
      }
    } catch (cause) {
      if (signal.aborted) return this.finishAborted();
      if (!this.terminal) {
        return this.fail(
          new RillError('network', `the connection to the server was lost (${describe(cause)})`, {
            cause,
          }),
        );
      }
    } finally {
      if (this.terminal || signal.aborted) reader.cancel().catch(() => {});
    }
    if (this.terminal) return this.summary();
    if (signal.aborted) return this.finishAborted();
    // The body ended without `[DONE]`.
    if (this.finishReason !== null) return this.finishDone();
    return this.fail(
      new RillError('truncated', 'the stream ended before the answer was complete'),
    );
  }

  async readWhole(response) {
    let payload;
    try {
      payload = await response.json();
    } catch (cause) {
      if (this.controller.signal.aborted) return this.finishAborted();
      return this.fail(new RillError('protocol', 'the server sent a response that is not JSON', { cause }));
    }
    if (payload?.error) return this.fail(streamError(payload.error));
    const choice = payload?.choices?.[0];
    const message = choice?.message ?? {};
    this.start(payload);
    const reasoning = message.reasoning_content ?? message.reasoning;
    if (typeof reasoning === 'string' && reasoning) this.addReasoning(reasoning);
    if (typeof message.content === 'string' && message.content) this.addText(message.content);
    for (const [index, call] of (message.tool_calls ?? []).entries()) {
      this.addToolCall({ index, id: call.id, function: call.function });
    }
    if (payload?.usage) this.setUsage(payload.usage);
    this.finishReason = choice?.finish_reason ?? null;
    return this.finishDone();
  }

  /** One SSE event from the body. */
  onSse(event) {
    if (this.terminal) return;
    const data = event.data;
    if (data === '[DONE]') {
      this.finishDone();
      return;
    }
    let chunk;
    try {
      chunk = JSON.parse(data);
    } catch (cause) {
      this.fail(new RillError('protocol', 'the server sent an event that is not JSON', { cause }));
      return;
    }
    if (chunk && typeof chunk === 'object' && chunk.error) {
      this.fail(streamError(chunk.error));
      return;
    }
    this.onChunk(chunk);
  }

  onChunk(chunk) {
    if (!chunk || typeof chunk !== 'object') return;
    if (this.id === null) this.start(chunk);
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    for (const choice of choices) {
      // One answer is followed: the first choice (n = 1 is what a chat UI asks for).
      if ((choice?.index ?? 0) !== 0) continue;
      const delta = choice.delta ?? {};
      const reasoning = delta.reasoning_content ?? delta.reasoning;
      if (typeof reasoning === 'string' && reasoning) this.addReasoning(reasoning);
      if (typeof delta.content === 'string' && delta.content) this.addText(delta.content);
      if (typeof delta.refusal === 'string' && delta.refusal) this.addRefusal(delta.refusal);
      if (Array.isArray(delta.tool_calls)) {
        for (const call of delta.tool_calls) this.addToolCall(call);
      }
      if (choice.finish_reason) this.finishReason = choice.finish_reason;
    }
    // Usage arrives on its own `choices: []` chunk, or (DeepSeek) on the finish chunk.
    if (chunk.usage && typeof chunk.usage === 'object') this.setUsage(chunk.usage);
  }

  start(chunk) {
    this.id = typeof chunk.id === 'string' ? chunk.id : '';
    this.model = typeof chunk.model === 'string' ? chunk.model : null;
    this.emit({ type: 'start', id: this.id, model: this.model });
  }

  firstToken() {
    this.chunkTokens += 1;
    if (this.firstTokenAt === null) this.firstTokenAt = now();
  }

  addText(delta) {
    this.firstToken();
    this.text += delta;
    this.emit({ type: 'text', delta, text: this.text });
  }

  addReasoning(delta) {
    this.firstToken();
    this.reasoning += delta;
    this.emit({ type: 'reasoning', delta, reasoning: this.reasoning });
  }

  addRefusal(delta) {
    this.firstToken();
    this.refusal += delta;
    this.emit({ type: 'refusal', delta, refusal: this.refusal });
  }

  addToolCall(fragment) {
    if (!fragment || typeof fragment !== 'object') return;
    const index = Number.isInteger(fragment.index) ? fragment.index : this.toolCalls.length;
    let call = this.toolCalls.find((c) => c.index === index);
    if (!call) {
      call = { index, id: null, name: null, arguments: '', parsedArguments: undefined };
      this.toolCalls.push(call);
    }
    if (typeof fragment.id === 'string' && fragment.id) call.id = fragment.id;
    const fn = fragment.function ?? {};
    if (typeof fn.name === 'string' && fn.name) call.name = fn.name;
    const argumentsDelta = typeof fn.arguments === 'string' ? fn.arguments : '';
    if (argumentsDelta) {
      this.chunkTokens += 1;
      call.arguments += argumentsDelta;
      call.parsedArguments = parsePartialJson(call.arguments);
    }
    this.emit({
      type: 'tool_call',
      index: call.index,
      id: call.id,
      name: call.name,
      argumentsDelta,
      arguments: call.arguments,
      parsedArguments: call.parsedArguments,
    });
  }

  setUsage(usage) {
    this.usage = usage;
    this.emit({ type: 'usage', usage });
  }

  finishDone() {
    if (this.terminal) return this.summary();
    this.endedAt = now();
    this.status = 'done';
    this.close({ type: 'done', finishReason: this.finishReason, usage: this.usage, metrics: this.metrics });
    return this.summary();
  }

  fail(error) {
    if (this.terminal) return this.summary();
    this.endedAt = now();
    this.status = 'error';
    this.error = error;
    this.close({ type: 'error', error, metrics: this.metrics });
    return this.summary();
  }

  finishAborted() {
    if (this.terminal) return this.summary();
    this.endedAt = now();
    this.status = 'aborted';
    this.close({ type: 'abort', metrics: this.metrics });
    return this.summary();
  }

  close(event) {
    this.emit(event);
    this.terminal = true;
    this.unlink?.();
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: undefined, done: true });
    }
  }

  summary() {
    return {
      status: this.status,
      id: this.id,
      model: this.model,
      text: this.text,
      reasoning: this.reasoning,
      refusal: this.refusal,
      toolCalls: this.toolCalls.map((c) => ({ ...c })),
      usage: this.usage,
      finishReason: this.finishReason,
      error: this.error,
      metrics: this.metrics,
    };
  }

  emit(event) {
    const { options } = this;
    const typed = {
      text: options.onText && (() => options.onText(event.delta, event)),
      reasoning: options.onReasoning && (() => options.onReasoning(event.delta, event)),
      refusal: options.onRefusal && (() => options.onRefusal(event.delta, event)),
      tool_call: options.onToolCall && (() => options.onToolCall(this.toolCalls.find((c) => c.index === event.index), event)),
      usage: options.onUsage && (() => options.onUsage(event.usage, event)),
      error: options.onError && (() => options.onError(event.error, event)),
      done: options.onDone && (() => options.onDone(event)),
      abort: options.onAbort && (() => options.onAbort(event)),
    }[event.type];
    if (typed) safely(typed);
    if (options.onEvent) safely(() => options.onEvent(event));
    if (this.iterating === 'closed') return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: event, done: false });
    } else {
      this.queue.push(event);
    }
  }
}

/**
 * Lists the server's models (`GET /v1/models`).
 * @param {{baseUrl?: string, headers?: Record<string,string>, apiKey?: string,
 *   signal?: AbortSignal, fetch?: typeof fetch}} [options]
 * @returns {Promise<Array<{id: string, owned_by?: string}>>}
 * @throws {RillError} kind "http" or "network" (or "protocol" for a body that is not a list)
 */
export async function listModels(options = {}) {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const headers = {
    accept: 'application/json',
    ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
    ...(options.headers ?? {}),
  };
  let response;
  try {
    response = await fetchImpl(endpoint(options.baseUrl, '/v1/models'), {
      headers,
      signal: options.signal,
    });
  } catch (cause) {
    if (options.signal?.aborted) throw cause;
    throw new RillError('network', `could not reach the server (${describe(cause)})`, { cause });
  }
  const text = await response.text();
  if (!response.ok) throw httpError(response.status, response.statusText, response.headers, text);
  let list;
  try {
    list = JSON.parse(text);
  } catch (cause) {
    throw new RillError('protocol', 'the model list is not JSON', { cause });
  }
  if (!Array.isArray(list?.data)) throw new RillError('protocol', 'the model list has no `data` array');
  return list.data.filter((m) => m && typeof m.id === 'string');
}

/** `base` + `path`, where `base` may be empty (same origin) or end in "/v1". */
export function endpoint(base, path) {
  let root = (base ?? '').replace(/\/+$/, '');
  if (root.endsWith('/v1')) root = root.slice(0, -3);
  if (!root && typeof globalThis.location === 'undefined') {
    throw new TypeError('rill-client: `baseUrl` is required outside a web page');
  }
  return root + path;
}

function describe(cause) {
  if (cause && typeof cause === 'object') {
    const inner = cause.cause && typeof cause.cause === 'object' ? cause.cause.code ?? cause.cause.message : null;
    const message = cause.message || String(cause);
    return inner ? `${message}: ${inner}` : message;
  }
  return String(cause);
}

function safely(fn) {
  try {
    fn();
  } catch (error) {
    // A failing callback must not break the stream: report it the way the platform
    // reports an error in an event listener.
    if (typeof globalThis.reportError === 'function') globalThis.reportError(error);
    else console.error(error);
  }
}
