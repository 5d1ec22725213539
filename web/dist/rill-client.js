// rill-client.js: streams chat completions from rill or any OpenAI-compatible server.
// Built from web/src/client by web/build.mjs; edit the sources, not this file.

// src/client/errors.js
var RillError = class extends Error {
  /**
   * @param {ErrorKind} kind
   * @param {string} message
   * @param {{status?: number, type?: string|null, code?: string|null, param?: string|null,
   *   retryAfter?: number|null, cause?: unknown}} [details]
   */
  constructor(kind, message, details = {}) {
    super(message, details.cause === void 0 ? void 0 : { cause: details.cause });
    this.name = "RillError";
    this.kind = kind;
    this.status = details.status ?? 0;
    this.type = details.type ?? null;
    this.code = details.code ?? null;
    this.param = details.param ?? null;
    this.retryAfter = details.retryAfter ?? null;
  }
};
function httpError(status, statusText, headers, body) {
  let error = null;
  try {
    const parsed = JSON.parse(body);
    if (parsed && typeof parsed === "object") {
      if (parsed.error && typeof parsed.error === "object") error = parsed.error;
      else if (typeof parsed.error === "string") error = { message: parsed.error };
      else if (typeof parsed.message === "string") error = parsed;
    }
  } catch {
  }
  const message = error && typeof error.message === "string" && error.message ? error.message : `the server answered with HTTP ${status}${statusText ? ` ${statusText}` : ""}`;
  return new RillError("http", message, {
    status,
    type: stringOrNull(error?.type),
    code: stringOrNull(error?.code),
    param: stringOrNull(error?.param),
    retryAfter: retryAfterSeconds(headers?.get?.("retry-after"))
  });
}
function streamError(payload) {
  const error = typeof payload === "object" && payload !== null ? payload : { message: String(payload) };
  const message = typeof error.message === "string" && error.message ? error.message : "the server reported an error";
  return new RillError("stream", message, {
    type: stringOrNull(error.type),
    code: stringOrNull(error.code),
    param: stringOrNull(error.param)
  });
}
function stringOrNull(value) {
  if (value === void 0 || value === null) return null;
  return String(value);
}
function retryAfterSeconds(value) {
  if (!value) return null;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.round((date - Date.now()) / 1e3));
}

// src/client/partial-json.js
var WS = /* @__PURE__ */ new Set([" ", "	", "\n", "\r"]);
var Incomplete = class extends Error {
};
var Invalid = class extends Error {
};
function parsePartialJson(text) {
  if (typeof text !== "string") return void 0;
  try {
    return JSON.parse(text);
  } catch {
  }
  const parser = new PartialParser(text);
  try {
    parser.ws();
    if (parser.i >= text.length) return void 0;
    const value = parser.value();
    parser.ws();
    if (parser.i < text.length) return void 0;
    return value;
  } catch (error) {
    if (error instanceof Incomplete) return error.partial;
    if (error instanceof Invalid) return void 0;
    throw error;
  }
}
var PartialParser = class {
  constructor(text) {
    this.text = text;
    this.i = 0;
  }
  ws() {
    while (this.i < this.text.length && WS.has(this.text[this.i])) this.i += 1;
  }
  /** Throws Incomplete carrying `partial` when the text ends inside this value. */
  value() {
    this.ws();
    if (this.i >= this.text.length) throw Object.assign(new Incomplete(), { partial: void 0 });
    const c = this.text[this.i];
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"') return this.string();
    if (c === "-" || c >= "0" && c <= "9") return this.number();
    return this.literal();
  }
  object() {
    const out = {};
    this.i += 1;
    for (; ; ) {
      this.ws();
      if (this.i >= this.text.length) throw incomplete(out);
      if (this.text[this.i] === "}") {
        this.i += 1;
        return out;
      }
      if (this.text[this.i] === ",") {
        this.i += 1;
        continue;
      }
      if (this.text[this.i] !== '"') throw new Invalid();
      let key;
      try {
        key = this.string();
      } catch (error) {
        if (error instanceof Incomplete) throw incomplete(out);
        throw error;
      }
      this.ws();
      if (this.i >= this.text.length) throw incomplete(out);
      if (this.text[this.i] !== ":") throw new Invalid();
      this.i += 1;
      try {
        out[key] = this.value();
      } catch (error) {
        if (error instanceof Incomplete) {
          if (error.partial !== void 0) out[key] = error.partial;
          throw incomplete(out);
        }
        throw error;
      }
    }
  }
  array() {
    const out = [];
    this.i += 1;
    for (; ; ) {
      this.ws();
      if (this.i >= this.text.length) throw incomplete(out);
      if (this.text[this.i] === "]") {
        this.i += 1;
        return out;
      }
      if (this.text[this.i] === ",") {
        this.i += 1;
        continue;
      }
      try {
        out.push(this.value());
      } catch (error) {
        if (error instanceof Incomplete) {
          if (error.partial !== void 0) out.push(error.partial);
          throw incomplete(out);
        }
        throw error;
      }
    }
  }
  string() {
    const start = this.i;
    this.i += 1;
    let escaped = false;
    while (this.i < this.text.length) {
      const c = this.text[this.i];
      if (escaped) escaped = false;
      else if (c === "\\") escaped = true;
      else if (c === '"') {
        this.i += 1;
        try {
          return JSON.parse(this.text.slice(start, this.i));
        } catch {
          throw new Invalid();
        }
      }
      this.i += 1;
    }
    let body = this.text.slice(start + 1);
    const cut = body.match(/\\(u[0-9a-fA-F]{0,3})?$/);
    if (cut) body = body.slice(0, cut.index);
    let partial;
    try {
      partial = JSON.parse('"' + body + '"');
    } catch {
      throw new Invalid();
    }
    throw incomplete(partial);
  }
  number() {
    const rest = this.text.slice(this.i);
    const match = rest.match(/^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/);
    const end = match ? match[0].length : 0;
    if (end < rest.length && /^[0-9eE.+-]/.test(rest[end])) {
      const prefix = rest.match(/^-?[0-9]*(?:\.[0-9]*)?(?:[eE][+-]?[0-9]*)?$/);
      if (prefix) {
        this.i = this.text.length;
        throw incomplete(void 0);
      }
      throw new Invalid();
    }
    if (!match) {
      if (rest === "-") {
        this.i = this.text.length;
        throw incomplete(void 0);
      }
      throw new Invalid();
    }
    this.i += end;
    if (this.i >= this.text.length) {
      throw incomplete(Number(match[0]));
    }
    return Number(match[0]);
  }
  literal() {
    for (const [word, value] of [
      ["true", true],
      ["false", false],
      ["null", null]
    ]) {
      const rest = this.text.slice(this.i, this.i + word.length);
      if (rest === word) {
        this.i += word.length;
        return value;
      }
      if (this.i + rest.length >= this.text.length && word.startsWith(rest)) {
        this.i = this.text.length;
        throw incomplete(void 0);
      }
    }
    throw new Invalid();
  }
};
function incomplete(partial) {
  return Object.assign(new Incomplete(), { partial });
}

// src/client/sse.js
var LF = 10;
var CR = 13;
var SseParser = class {
  /** @param {(event: SseEvent) => void} onEvent called once per dispatched event */
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: false });
    this.buffer = "";
    this.skipLeadingLf = false;
    this.data = "";
    this.hasData = false;
    this.type = "";
    this.lastEventId = "";
    this.retry = null;
    this.ended = false;
    this.atStart = true;
  }
  /** Feeds bytes (a Uint8Array) or already-decoded text. */
  push(chunk) {
    if (this.ended) throw new Error("SseParser: push after end");
    let text;
    if (typeof chunk === "string") {
      text = this.atStart && chunk.charCodeAt(0) === 65279 ? chunk.slice(1) : chunk;
    } else {
      text = this.decoder.decode(chunk, { stream: true });
    }
    if (chunk.length > 0) this.atStart = false;
    this.feedText(text);
  }
  /** Ends the stream: flushes the decoder. A trailing event without its blank line is dropped. */
  end() {
    if (this.ended) return;
    const rest = this.decoder.decode();
    if (rest) this.feedText(rest);
    this.ended = true;
    this.buffer = "";
    this.data = "";
    this.hasData = false;
    this.type = "";
  }
  /** @param {string} text */
  feedText(text) {
    if (text.length === 0) return;
    let start = 0;
    if (this.skipLeadingLf) {
      this.skipLeadingLf = false;
      if (text.charCodeAt(0) === LF) start = 1;
    }
    let i = start;
    const n = text.length;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== LF && c !== CR) {
        let lf = text.indexOf("\n", i);
        let cr = text.indexOf("\r", i);
        if (lf === -1) lf = n;
        if (cr === -1) cr = n;
        i = Math.min(lf, cr);
        continue;
      }
      const line = this.buffer + text.slice(start, i);
      this.buffer = "";
      if (c === CR) {
        if (i + 1 < n) {
          if (text.charCodeAt(i + 1) === LF) i += 1;
        } else {
          this.skipLeadingLf = true;
        }
      }
      i += 1;
      start = i;
      this.line(line);
    }
    if (start < n) this.buffer += text.slice(start);
  }
  /** @param {string} line one line without its line end */
  line(line) {
    if (line.length === 0) {
      this.dispatch();
      return;
    }
    if (line.charCodeAt(0) === 58) return;
    const colon = line.indexOf(":");
    let name;
    let value;
    if (colon === -1) {
      name = line;
      value = "";
    } else {
      name = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
    }
    switch (name) {
      case "data":
        if (this.hasData) this.data += "\n" + value;
        else {
          this.data = value;
          this.hasData = true;
        }
        break;
      case "event":
        this.type = value;
        break;
      case "id":
        if (!value.includes("\0")) this.lastEventId = value;
        break;
      case "retry":
        if (/^[0-9]+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break;
    }
  }
  dispatch() {
    if (!this.hasData) {
      this.type = "";
      return;
    }
    const event = { type: this.type || "message", data: this.data, lastEventId: this.lastEventId };
    this.data = "";
    this.hasData = false;
    this.type = "";
    this.onEvent(event);
  }
};
function parseSse(input) {
  const events = [];
  const parser = new SseParser((event) => events.push(event));
  for (const chunk of Array.isArray(input) ? input : [input]) parser.push(chunk);
  parser.end();
  return events;
}

// src/client/chat.js
var now = () => globalThis.performance.now();
function streamChat(options) {
  return new ChatStream(options);
}
var ChatStream = class {
  /** @param {ChatOptions} options */
  constructor(options) {
    if (!options || !Array.isArray(options.messages) && !options.resume) {
      throw new TypeError("streamChat: `messages` must be an array of chat messages");
    }
    if (options.resume && typeof options.resume.streamId !== "string") {
      throw new TypeError("streamChat: `resume.streamId` must be the id of a stream");
    }
    this.options = options;
    this.url = endpoint(options.baseUrl, "/v1/chat/completions");
    this.streamId = options.resume?.streamId ?? null;
    this.lastEventId = options.resume?.lastEventId ?? null;
    this.resumable = Boolean(options.resumable || options.resume);
    this.idleTimeoutMs = options.idleTimeoutMs ?? 45e3;
    this.reconnectAttempts = options.reconnectAttempts ?? 5;
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== "function") {
      throw new TypeError("streamChat: no fetch implementation (pass `fetch`, or use node >= 18)");
    }
    this.fetch = (url, init) => fetchImpl(url, init);
    this.controller = new AbortController();
    const external = options.signal;
    if (external) {
      if (external.aborted) this.controller.abort(external.reason);
      else {
        this.unlink = () => external.removeEventListener("abort", this.onExternalAbort);
        this.onExternalAbort = () => this.controller.abort(external.reason);
        external.addEventListener("abort", this.onExternalAbort, { once: true });
      }
    }
    this.id = null;
    this.model = null;
    this.text = "";
    this.reasoning = "";
    this.refusal = "";
    this.toolCalls = [];
    this.usage = null;
    this.finishReason = null;
    this.error = null;
    this.status = "streaming";
    this.startedAt = 0;
    this.firstTokenAt = null;
    this.endedAt = null;
    this.chunkTokens = 0;
    this.queue = [];
    this.waiting = null;
    this.iterating = false;
    this.terminal = false;
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
    this.fetch(url, { method: "POST", headers: this.authHeaders() }).catch(() => {
    });
  }
  authHeaders() {
    const { options } = this;
    return {
      ...options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
      ...options.headers ?? {}
    };
  }
  /** Metrics so far (final once the stream is over). @returns {Metrics} */
  get metrics() {
    const end = this.endedAt ?? now();
    const fromUsage = typeof this.usage?.completion_tokens === "number";
    const completionTokens = fromUsage ? this.usage.completion_tokens : this.chunkTokens;
    const span = this.firstTokenAt === null ? 0 : end - this.firstTokenAt;
    return {
      ttftMs: this.firstTokenAt === null ? null : this.firstTokenAt - this.startedAt,
      tokensPerSecond: span > 0 && completionTokens > 0 ? completionTokens / (span / 1e3) : null,
      completionTokens,
      tokenSource: fromUsage ? "usage" : "chunks",
      durationMs: end - this.startedAt
    };
  }
  [Symbol.asyncIterator]() {
    if (this.iterating) throw new Error("ChatStream: iterate a stream only once");
    this.iterating = true;
    return {
      next: () => {
        if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift(), done: false });
        if (this.terminal) return Promise.resolve({ value: void 0, done: true });
        return new Promise((resolve) => {
          this.waiting = resolve;
        });
      },
      return: () => {
        if (!this.terminal) this.abort();
        this.queue.length = 0;
        this.iterating = "closed";
        return Promise.resolve({ value: void 0, done: true });
      },
      [Symbol.asyncIterator]() {
        return this;
      }
    };
  }
  async run() {
    this.startedAt = now();
    let resuming = Boolean(this.options.resume);
    for (let attempt = 1; ; attempt += 1) {
      const outcome = await this.connect(resuming);
      if (outcome.summary) return outcome.summary;
      if (!this.resumable || this.streamId === null || attempt > this.reconnectAttempts) {
        return this.fail(outcome.lost);
      }
      if (!await this.pause(Math.min(250 * 2 ** (attempt - 1), 4e3))) return this.finishAborted();
      resuming = true;
      this.emit({ type: "reconnect", attempt, lastEventId: this.lastEventId });
    }
  }
  /** Waits `ms`; false if the stream was aborted meanwhile. */
  pause(ms) {
    const signal = this.controller.signal;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve(false);
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve(true);
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener("abort", onAbort, { once: true });
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
    const connection = new AbortController();
    const onAbort = () => connection.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await this.exchange(resuming, connection, options);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }
  async exchange(resuming, connection, options) {
    const signal = this.controller.signal;
    let url;
    let init;
    if (resuming) {
      url = endpoint(options.baseUrl, `/v1/streams/${encodeURIComponent(this.streamId)}`);
      const headers = { accept: "text/event-stream", ...this.authHeaders() };
      if (this.lastEventId !== null) headers["last-event-id"] = this.lastEventId;
      init = { method: "GET", headers, signal: connection.signal };
    } else {
      const headers = {
        "content-type": "application/json",
        accept: "text/event-stream",
        ...this.resumable ? { "x-rill-resumable": "true" } : {},
        ...this.authHeaders()
      };
      const extra = options.body ?? {};
      const body = {
        ...extra,
        ...options.model ? { model: options.model } : {},
        messages: options.messages,
        stream: true,
        stream_options: { ...extra.stream_options ?? {}, include_usage: true }
      };
      url = this.url;
      init = { method: "POST", headers, body: JSON.stringify(body), signal: connection.signal };
    }
    let response;
    try {
      if (signal.aborted) throw signal.reason ?? new Error("aborted");
      response = await this.fetch(url, init);
    } catch (cause) {
      if (signal.aborted) return { summary: this.finishAborted() };
      const error = new RillError("network", `could not reach the server (${describe(cause)})`, { cause });
      return resuming ? { lost: error } : { summary: this.fail(error) };
    }
    if (!response.ok) {
      let text = "";
      try {
        text = await response.text();
      } catch (cause) {
        if (signal.aborted) return { summary: this.finishAborted() };
      }
      return { summary: this.fail(httpError(response.status, response.statusText, response.headers, text)) };
    }
    this.streamId ?? (this.streamId = response.headers.get("x-rill-stream-id"));
    const contentType = response.headers.get("content-type") ?? "";
    if (contentType.includes("application/json")) {
      return { summary: await this.readWhole(response) };
    }
    if (!response.body) {
      return { summary: this.fail(new RillError("protocol", "the server sent an empty response")) };
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
      for (; ; ) {
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
        const message = idle ? `the server sent nothing for ${this.idleTimeoutMs} ms` : `the connection to the server was lost (${describe(cause)})`;
        return { lost: new RillError("network", message, { cause }) };
      }
    } finally {
      clearTimeout(timer);
      if (this.terminal || signal.aborted || idle) reader.cancel().catch(() => {
      });
    }
    if (this.terminal) return { summary: this.summary() };
    if (signal.aborted) return { summary: this.finishAborted() };
    if (this.finishReason !== null) return { summary: this.finishDone() };
    return { lost: new RillError("truncated", "the stream ended before the answer was complete") };
  }
  async readWhole(response) {
    let payload;
    try {
      payload = await response.json();
    } catch (cause) {
      if (this.controller.signal.aborted) return this.finishAborted();
      return this.fail(new RillError("protocol", "the server sent a response that is not JSON", { cause }));
    }
    if (payload?.error) return this.fail(streamError(payload.error));
    const choice = payload?.choices?.[0];
    const message = choice?.message ?? {};
    this.start(payload);
    const reasoning = message.reasoning_content ?? message.reasoning;
    if (typeof reasoning === "string" && reasoning) this.addReasoning(reasoning);
    if (typeof message.content === "string" && message.content) this.addText(message.content);
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
    if (event.lastEventId) this.lastEventId = event.lastEventId;
  }
  handleSse(event) {
    const data = event.data;
    if (data === "[DONE]") {
      this.finishDone();
      return;
    }
    let chunk;
    try {
      chunk = JSON.parse(data);
    } catch (cause) {
      this.fail(new RillError("protocol", "the server sent an event that is not JSON", { cause }));
      return;
    }
    if (chunk && typeof chunk === "object" && chunk.error) {
      this.fail(streamError(chunk.error));
      return;
    }
    this.onChunk(chunk);
  }
  onChunk(chunk) {
    if (!chunk || typeof chunk !== "object") return;
    if (this.id === null) this.start(chunk);
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    for (const choice of choices) {
      if ((choice?.index ?? 0) !== 0) continue;
      const delta = choice.delta ?? {};
      const reasoning = delta.reasoning_content ?? delta.reasoning;
      if (typeof reasoning === "string" && reasoning) this.addReasoning(reasoning);
      if (typeof delta.content === "string" && delta.content) this.addText(delta.content);
      if (typeof delta.refusal === "string" && delta.refusal) this.addRefusal(delta.refusal);
      if (Array.isArray(delta.tool_calls)) {
        for (const call of delta.tool_calls) this.addToolCall(call);
      }
      if (choice.finish_reason) this.finishReason = choice.finish_reason;
    }
    if (chunk.usage && typeof chunk.usage === "object") this.setUsage(chunk.usage);
  }
  start(chunk) {
    this.id = typeof chunk.id === "string" ? chunk.id : "";
    this.model = typeof chunk.model === "string" ? chunk.model : null;
    this.emit({ type: "start", id: this.id, model: this.model, streamId: this.streamId });
  }
  firstToken() {
    this.chunkTokens += 1;
    if (this.firstTokenAt === null) this.firstTokenAt = now();
  }
  addText(delta) {
    this.firstToken();
    this.text += delta;
    this.emit({ type: "text", delta, text: this.text });
  }
  addReasoning(delta) {
    this.firstToken();
    this.reasoning += delta;
    this.emit({ type: "reasoning", delta, reasoning: this.reasoning });
  }
  addRefusal(delta) {
    this.firstToken();
    this.refusal += delta;
    this.emit({ type: "refusal", delta, refusal: this.refusal });
  }
  addToolCall(fragment) {
    if (!fragment || typeof fragment !== "object") return;
    const index = Number.isInteger(fragment.index) ? fragment.index : this.toolCalls.length;
    let call = this.toolCalls.find((c) => c.index === index);
    if (!call) {
      call = { index, id: null, name: null, arguments: "", parsedArguments: void 0 };
      this.toolCalls.push(call);
    }
    if (typeof fragment.id === "string" && fragment.id) call.id = fragment.id;
    const fn = fragment.function ?? {};
    if (typeof fn.name === "string" && fn.name) call.name = fn.name;
    const argumentsDelta = typeof fn.arguments === "string" ? fn.arguments : "";
    if (argumentsDelta) {
      this.chunkTokens += 1;
      call.arguments += argumentsDelta;
      call.parsedArguments = parsePartialJson(call.arguments);
    }
    this.emit({
      type: "tool_call",
      index: call.index,
      id: call.id,
      name: call.name,
      argumentsDelta,
      arguments: call.arguments,
      parsedArguments: call.parsedArguments
    });
  }
  setUsage(usage) {
    this.usage = usage;
    this.emit({ type: "usage", usage });
  }
  finishDone() {
    if (this.terminal) return this.summary();
    this.endedAt = now();
    this.status = "done";
    this.close({ type: "done", finishReason: this.finishReason, usage: this.usage, metrics: this.metrics });
    return this.summary();
  }
  fail(error) {
    if (this.terminal) return this.summary();
    this.endedAt = now();
    this.status = "error";
    this.error = error;
    this.close({ type: "error", error, metrics: this.metrics });
    return this.summary();
  }
  finishAborted() {
    if (this.terminal) return this.summary();
    this.endedAt = now();
    this.status = "aborted";
    this.close({ type: "abort", metrics: this.metrics });
    return this.summary();
  }
  close(event) {
    this.emit(event);
    this.terminal = true;
    this.unlink?.();
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: void 0, done: true });
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
      metrics: this.metrics
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
      reconnect: options.onReconnect && (() => options.onReconnect(event))
    }[event.type];
    if (typed) safely(typed);
    if (options.onEvent) safely(() => options.onEvent(event));
    if (this.iterating === "closed") return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: event, done: false });
    } else {
      this.queue.push(event);
    }
  }
};
async function listModels(options = {}) {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const headers = {
    accept: "application/json",
    ...options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
    ...options.headers ?? {}
  };
  let response;
  try {
    response = await fetchImpl(endpoint(options.baseUrl, "/v1/models"), {
      headers,
      signal: options.signal
    });
  } catch (cause) {
    if (options.signal?.aborted) throw cause;
    throw new RillError("network", `could not reach the server (${describe(cause)})`, { cause });
  }
  const text = await response.text();
  if (!response.ok) throw httpError(response.status, response.statusText, response.headers, text);
  let list;
  try {
    list = JSON.parse(text);
  } catch (cause) {
    throw new RillError("protocol", "the model list is not JSON", { cause });
  }
  if (!Array.isArray(list?.data)) throw new RillError("protocol", "the model list has no `data` array");
  return list.data.filter((m) => m && typeof m.id === "string");
}
function endpoint(base, path) {
  let root = (base ?? "").replace(/\/+$/, "");
  if (root.endsWith("/v1")) root = root.slice(0, -3);
  if (!root && typeof globalThis.location === "undefined") {
    throw new TypeError("rill-client: `baseUrl` is required outside a web page");
  }
  return root + path;
}
function describe(cause) {
  if (cause && typeof cause === "object") {
    const inner = cause.cause && typeof cause.cause === "object" ? cause.cause.code ?? cause.cause.message : null;
    const message = cause.message || String(cause);
    return inner ? `${message}: ${inner}` : message;
  }
  return String(cause);
}
function safely(fn) {
  try {
    fn();
  } catch (error) {
    if (typeof globalThis.reportError === "function") globalThis.reportError(error);
    else console.error(error);
  }
}
export {
  ChatStream,
  RillError,
  SseParser,
  endpoint,
  listModels,
  parsePartialJson,
  parseSse,
  streamChat
};
