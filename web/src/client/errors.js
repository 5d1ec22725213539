// The one error type the client reports, with a `kind` that says where it came from.

/**
 * @typedef {'http' | 'stream' | 'network' | 'truncated' | 'protocol'} ErrorKind
 *  - http: the server answered with an error status before streaming (see `status`)
 *  - stream: the server sent an error event after streaming began
 *  - network: the request could not be sent, or the connection broke
 *  - truncated: the stream ended without `[DONE]` or a finish reason
 *  - protocol: the server sent something that is not an OpenAI chat stream
 */

export class RillError extends Error {
  /**
   * @param {ErrorKind} kind
   * @param {string} message
   * @param {{status?: number, type?: string|null, code?: string|null, param?: string|null,
   *   retryAfter?: number|null, cause?: unknown}} [details]
   */
  constructor(kind, message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'RillError';
    this.kind = kind;
    /** HTTP status, for kind "http" (and 0 otherwise). */
    this.status = details.status ?? 0;
    /** The server's error `type`, e.g. "invalid_request_error". */
    this.type = details.type ?? null;
    /** The server's error `code`, e.g. "model_not_found". */
    this.code = details.code ?? null;
    this.param = details.param ?? null;
    /** Seconds from the `Retry-After` header, when the server sent one. */
    this.retryAfter = details.retryAfter ?? null;
  }
}

/**
 * Builds the error for a non-2xx response from its status, headers and body text.
 * @param {number} status
 * @param {string} statusText
 * @param {Headers} headers
 * @param {string} body
 */
export function httpError(status, statusText, headers, body) {
  let error = null;
  try {
    const parsed = JSON.parse(body);
    if (parsed && typeof parsed === 'object') {
      if (parsed.error && typeof parsed.error === 'object') error = parsed.error;
      else if (typeof parsed.error === 'string') error = { message: parsed.error };
      else if (typeof parsed.message === 'string') error = parsed;
    }
  } catch {
    // not JSON: the message names the status instead
  }
  const message =
    error && typeof error.message === 'string' && error.message
      ? error.message
      : `the server answered with HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
  return new RillError('http', message, {
    status,
    type: stringOrNull(error?.type),
    code: stringOrNull(error?.code),
    param: stringOrNull(error?.param),
    retryAfter: retryAfterSeconds(headers?.get?.('retry-after')),
  });
}

/** An in-stream `{"error": {...}}` payload as an error. */
export function streamError(payload) {
  const error = typeof payload === 'object' && payload !== null ? payload : { message: String(payload) };
  const message =
    typeof error.message === 'string' && error.message ? error.message : 'the server reported an error';
  return new RillError('stream', message, {
    type: stringOrNull(error.type),
    code: stringOrNull(error.code),
    param: stringOrNull(error.param),
  });
}

function stringOrNull(value) {
  if (value === undefined || value === null) return null;
  return String(value);
}

function retryAfterSeconds(value) {
  if (!value) return null;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.round((date - Date.now()) / 1000));
}
