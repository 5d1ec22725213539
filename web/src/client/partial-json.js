// Best-effort parsing of a JSON text that is still arriving (a tool call's arguments).
//
// `parsePartialJson('{"city":"Par')` is `{ city: "Par" }`: open strings, arrays and
// objects are closed where the text stops; a key without its value yet, a dangling
// comma or colon, and a half-written number or literal (`tr`, `-`, `1e`) are left out.
// Complete JSON parses exactly as `JSON.parse` would. Returns `undefined` when nothing
// usable has arrived yet or the text is not JSON at all.

const WS = new Set([' ', '\t', '\n', '\r']);

class Incomplete extends Error {}
class Invalid extends Error {}

/**
 * @param {string} text
 * @returns {unknown} the value so far, or undefined
 */
export function parsePartialJson(text) {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    // fall through to the tolerant parser
  }
  const parser = new PartialParser(text);
  try {
    parser.ws();
    if (parser.i >= text.length) return undefined;
    const value = parser.value();
    parser.ws();
    // Trailing garbage after a complete value means this is not JSON.
    if (parser.i < text.length) return undefined;
    return value;
  } catch (error) {
    if (error instanceof Incomplete) return error.partial;
    if (error instanceof Invalid) return undefined;
    throw error;
  }
}

class PartialParser {
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
    if (this.i >= this.text.length) throw Object.assign(new Incomplete(), { partial: undefined });
    const c = this.text[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    return this.literal();
  }

  object() {
    const out = {};
    this.i += 1;
    for (;;) {
      this.ws();
      if (this.i >= this.text.length) throw incomplete(out);
      if (this.text[this.i] === '}') {
        this.i += 1;
        return out;
      }
      if (this.text[this.i] === ',') {
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
      if (this.text[this.i] !== ':') throw new Invalid();
      this.i += 1;
      try {
        out[key] = this.value();
      } catch (error) {
        if (error instanceof Incomplete) {
          if (error.partial !== undefined) out[key] = error.partial;
          throw incomplete(out);
        }
        throw error;
      }
    }
  }

  array() {
    const out = [];
    this.i += 1;
    for (;;) {
      this.ws();
      if (this.i >= this.text.length) throw incomplete(out);
      if (this.text[this.i] === ']') {
        this.i += 1;
        return out;
      }
      if (this.text[this.i] === ',') {
        this.i += 1;
        continue;
      }
      try {
        out.push(this.value());
      } catch (error) {
        if (error instanceof Incomplete) {
          if (error.partial !== undefined) out.push(error.partial);
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
      else if (c === '\\') escaped = true;
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
    // The string is still open: close it, dropping a half-written escape.
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
      // A number cannot continue like this, unless the text ends here: `-`, `1.`, `1e+`.
      const prefix = rest.match(/^-?[0-9]*(?:\.[0-9]*)?(?:[eE][+-]?[0-9]*)?$/);
      if (prefix) {
        this.i = this.text.length;
        throw incomplete(undefined);
      }
      throw new Invalid();
    }
    if (!match) {
      if (rest === '-') {
        this.i = this.text.length;
        throw incomplete(undefined);
      }
      throw new Invalid();
    }
    this.i += end;
    if (this.i >= this.text.length) {
      // The number may still grow: give what it is so far.
      throw incomplete(Number(match[0]));
    }
    return Number(match[0]);
  }

  literal() {
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ]) {
      const rest = this.text.slice(this.i, this.i + word.length);
      if (rest === word) {
        this.i += word.length;
        return value;
      }
      if (this.i + rest.length >= this.text.length && word.startsWith(rest)) {
        this.i = this.text.length;
        throw incomplete(undefined);
      }
    }
    throw new Invalid();
  }
}

function incomplete(partial) {
  return Object.assign(new Incomplete(), { partial });
}
