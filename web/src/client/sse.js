// A Server-Sent Events parser that follows the WHATWG "interpret the event stream" rules.
//
// Feed it bytes (`push`) as they arrive from the network and call `end()` when the body
// is over. It decodes UTF-8 in streaming mode (a character split across reads is joined;
// invalid bytes become U+FFFD), strips one leading BOM of the whole stream, accepts CRLF,
// LF and lone CR line ends (a CR at the end of one read with the LF at the start of the
// next is one line end), ignores comments and data-less events, and never dispatches an
// event that is missing its terminating blank line at the end of the stream.

const LF = 10;
const CR = 13;

/**
 * @typedef {object} SseEvent
 * @property {string} type  the `event:` field, or "message"
 * @property {string} data  the `data:` lines joined with "\n"
 * @property {string} lastEventId  the last `id:` seen on the stream so far
 */

export class SseParser {
  /** @param {(event: SseEvent) => void} onEvent called once per dispatched event */
  constructor(onEvent) {
    this.onEvent = onEvent;
    // `ignoreBOM: false` makes the decoder drop one BOM at the start of the whole stream.
    this.decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false });
    this.buffer = '';
    // The previous chunk ended with a CR: an LF at the start of the next one belongs to it.
    this.skipLeadingLf = false;
    this.data = '';
    this.hasData = false;
    this.type = '';
    this.lastEventId = '';
    /** The last valid `retry:` value, in milliseconds, or null. */
    this.retry = null;
    this.ended = false;
    this.atStart = true;
  }

  /** Feeds bytes (a Uint8Array) or already-decoded text. */
  push(chunk) {
    if (this.ended) throw new Error('SseParser: push after end');
    let text;
    if (typeof chunk === 'string') {
      // Text input skips the decoder, so the stream's one leading BOM is dropped here.
      text = this.atStart && chunk.charCodeAt(0) === 0xfeff ? chunk.slice(1) : chunk;
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
    this.buffer = '';
    this.data = '';
    this.hasData = false;
    this.type = '';
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
        // Jump to the next line end.
        let lf = text.indexOf('\n', i);
        let cr = text.indexOf('\r', i);
        if (lf === -1) lf = n;
        if (cr === -1) cr = n;
        i = Math.min(lf, cr);
        continue;
      }
      const line = this.buffer + text.slice(start, i);
      this.buffer = '';
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
    if (line.charCodeAt(0) === 58 /* ':' */) return; // comment
    const colon = line.indexOf(':');
    let name;
    let value;
    if (colon === -1) {
      name = line;
      value = '';
    } else {
      name = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.charCodeAt(0) === 32 /* ' ' */) value = value.slice(1);
    }
    switch (name) {
      case 'data':
        if (this.hasData) this.data += '\n' + value;
        else {
          this.data = value;
          this.hasData = true;
        }
        break;
      case 'event':
        this.type = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  dispatch() {
    if (!this.hasData) {
      this.type = '';
      return;
    }
    const event = { type: this.type || 'message', data: this.data, lastEventId: this.lastEventId };
    this.data = '';
    this.hasData = false;
    this.type = '';
    this.onEvent(event);
  }
}

/**
 * Parses a whole input (bytes or text, or an array of chunks) and returns its events.
 * @param {Uint8Array | string | Array<Uint8Array | string>} input
 * @returns {SseEvent[]}
 */
export function parseSse(input) {
  const events = [];
  const parser = new SseParser((event) => events.push(event));
  for (const chunk of Array.isArray(input) ? input : [input]) parser.push(chunk);
  parser.end();
  return events;
}
