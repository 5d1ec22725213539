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
 * @property {boolean} [resumable]  ask rill to keep generating through a lost connection
 *   (`x-rill-resumable`), and reconnect with `Last-Event-ID` when it is lost; default false
 * @property {{streamId: string, lastEventId?: string}} [resume]  follow a stream started
 *   earlier (e.g. before a page reload) instead of starting one: `GET /v1/streams/{id}`,
 *   from the start unless `lastEventId` is given; `messages` is not needed then
 * @property {number} [idleTimeoutMs]  a connection silent this long (rill sends a
 *   heartbeat every 15 s) counts as lost; default 45000, 0 never
 * @property {number} [reconnectAttempts]  reconnections of a resumable stream before it
 *   fails; default 5
 * @property {typeof fetch} [fetch]  a fetch implementation (default: the global one)
 * @property {(delta: string, event: object) => void} [onText]
 * @property {(delta: string, event: object) => void} [onReasoning]
 * @property {(delta: string, event: object) => void} [onRefusal]
 * @property {(call: ToolCallState, event: object) => void} [onToolCall]
 * @property {(usage: object, event: object) => void} [onUsage]
 * @property {(error: RillError, event: object) => void} [onError]
 * @property {(event: object) => void} [onDone]
 * @property {(event: object) => void} [onAbort]
 * @property {(event: object) => void} [onReconnect]
 * @property {(event: object) => void} [onEvent]  every event
 */

/**
 * Starts streaming a chat completion.
 *
 * Events, in order: `start` {id, model}; any number of `text` {delta, text},
 * `reasoning` {delta, reasoning}, `refusal` {delta, refusal}, `tool_call` {index, id,
 * name, argumentsDelta, arguments, parsedArguments}, `usage` {usage}; then exactly one of
 * `done` {finishReason, usage, metrics}, `error` {error, metrics} or `abort` {metrics}.
 * A resumable stream that lost its connection emits `reconnect` {attempt, lastEventId}
 * and goes on with the events it missed, none twice.
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
    if (!options || (!Array.isArray(options.messages) && !options.resume)) {
      throw new TypeError('streamChat: `messages` must be an array of chat messages');
    }
    if (options.resume && typeof options.resume.streamId !== 'string') {
      throw new TypeError('streamChat: `resume.streamId` must be the id of a stream');
    }
    this.options = options;
    this.url = endpoint(options.baseUrl, '/v1/chat/completions');
    /** rill's id for the stream (`x-rill-stream-id`), once known. */
    this.streamId = options.resume?.streamId ?? null;
    /** The id of the last SSE event read, for `Last-Event-ID`. */
    this.lastEventId = options.resume?.lastEventId ?? null;
    this.resumable = Boolean(options.resumable || options.resume);
    this.idleTimeoutMs = options.idleTimeoutMs ?? 45000;
    this.reconnectAttempts = options.reconnectAttempts ?? 5;
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

  /**
   * Stops the stream: rill is told to cancel the generation (`POST
   * /v1/streams/{id}/cancel`, which also stops a resumable one at once) and the request
   * is aborted.
   */
  abort(reason) {
    if (this.streamId && !this.terminal) this.sendCancel();
    this.controller.abort(reason);
  }

  sendCancel() {
    const url = endpoint(this.options.baseUrl, `/v1/streams/${encodeURIComponent(this.streamId)}/cancel`);
    this.fetch(url, { method: 'POST', headers: this.authHeaders() }).catch(() => {
      // Best effort: the aborted connection cancels a non-resumable generation anyway.
    });
  }

  authHeaders() {
    const { options } = this;
    return {
      ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
      ...(options.headers ?? {}),
    };
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
    this.startedAt = now();
    let resuming = Boolean(this.options.resume);
    for (let attempt = 1; ; attempt += 1) {
      const outcome = await this.connect(resuming);
      if (outcome.summary) return outcome.summary;
      // The connection was lost before the answer ended.
      if (!this.resumable || this.streamId === null || attempt > this.reconnectAttempts) {
        return this.fail(outcome.lost);
      }
      if (!(await this.pause(Math.min(250 * 2 ** (attempt - 1), 4000)))) return this.finishAborted();
      resuming = true;
      this.emit({ type: 'reconnect', attempt, lastEventId: this.lastEventId });
    }
  }

  /** Waits `ms`; false if the stream was aborted meanwhile. */
  pause(ms) {
    const signal = this.controller.signal;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve(false);
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * One connection: the request (`POST`, or `GET /v1/streams/{id}` when resuming) and its
   * body. Resolves with `{summary}` when the stream is over, or `{lost: RillError}` when
   * the connection broke (or went silent) first.
   */
  async connect(resuming) {
    const { options } = this;
    const signal = this.controller.signal;
    // Its own controller, so that a silent connection can be dropped without ending the
    // stream; aborting the stream aborts it too.
    const connection = new AbortController();
    const onAbort = () => connection.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.exchange(resuming, connection, options);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async exchange(resuming, connection, options) {
    const signal = this.controller.signal;
    let url;
    let init;
    if (resuming) {
      url = endpoint(options.baseUrl, `/v1/streams/${encodeURIComponent(this.streamId)}`);
      const headers = { accept: 'text/event-stream', ...this.authHeaders() };
      if (this.lastEventId !== null) headers['last-event-id'] = this.lastEventId;
      init = { method: 'GET', headers, signal: connection.signal };
    } else {
      const headers = {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        ...(this.resumable ? { 'x-rill-resumable': 'true' } : {}),
        ...this.authHeaders(),
      };
      const extra = options.body ?? {};
      const body = {
        ...extra,
        ...(options.model ? { model: options.model } : {}),
        messages: options.messages,
        stream: true,
        stream_options: { ...(extra.stream_options ?? {}), include_usage: true },
      };
      url = this.url;
      init = { method: 'POST', headers, body: JSON.stringify(body), signal: connection.signal };
    }

    let response;
    try {
      if (signal.aborted) throw signal.reason ?? new Error('aborted');
      response = await this.fetch(url, init);
    } catch (cause) {
      if (signal.aborted) return { summary: this.finishAborted() };
      const error = new RillError('network', `could not reach the server (${describe(cause)})`, { cause });
      // Before a stream exists there is nothing to resume.
      return resuming ? { lost: error } : { summary: this.fail(error) };
    }

    if (!response.ok) {
      let text = '';
      try {
        text = await response.text();
      } catch (cause) {
        if (signal.aborted) return { summary: this.finishAborted() };
      }
      // A resume that is refused (410: the stream expired) ends the stream.
      return { summary: this.fail(httpError(response.status, response.statusText, response.headers, text)) };
    }
    this.streamId ??= response.headers.get('x-rill-stream-id');

    const contentType = response.headers.get('content-type') ?? '';
    if (contentType.includes('application/json')) {
      // The server ignored `stream: true` and sent the whole answer at once.
      return { summary: await this.readWhole(response) };
    }
    if (!response.body) {
      return { summary: this.fail(new RillError('protocol', 'the server sent an empty response')) };
    }
    return this.readBody(response.body.getReader(), connection);
  }

  async readBody(reader, connection) {
    const signal = this.controller.signal;
    const parser = new SseParser((event) => this.onSse(event));
    let idle = false;
    let timer = null;
    const arm = () => {
      clearTimeout(timer);
      if (this.idleTimeoutMs > 0) {
        timer = setTimeout(() => {
          idle = true;
          connection.abort();
        }, this.idleTimeoutMs);
      }
    };
    try {
      arm();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          parser.end();
          break;
        }
        arm();
        parser.push(value);
        if (this.terminal) break;
      }
    } catch (cause) {
      if (signal.aborted) return { summary: this.finishAborted() };
      if (!this.terminal) {
        const message = idle
          ? `the server sent nothing for ${this.idleTimeoutMs} ms`
          : `the connection to the server was lost (${describe(cause)})`;
        return { lost: new RillError('network', message, { cause }) };
      }
    } finally {
      clearTimeout(timer);
      if (this.terminal || signal.aborted || idle) reader.cancel().catch(() => {});
    }
    if (this.terminal) return { summary: this.summary() };
    if (signal.aborted) return { summary: this.finishAborted() };
    // The body ended without `[DONE]`.
    if (this.finishReason !== null) return { summary: this.finishDone() };
    return { lost: new RillError('truncated', 'the stream ended before the answer was complete') };
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
    this.handleSse(event);
    // Only an event handled is one the server need not send again.
    if (event.lastEventId) this.lastEventId = event.lastEventId;
  }

  handleSse(event) {
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
    this.emit({ type: 'start', id: this.id, model: this.model, streamId: this.streamId });
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
      streamId: this.streamId,
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
      reconnect: options.onReconnect && (() => options.onReconnect(event)),
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
