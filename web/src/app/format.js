// Text shown to people: error explanations and the numbers under an answer.

/** A clear sentence for a RillError (or anything thrown). */
export function describeError(error) {
  if (!error) return 'Something went wrong.';
  // The server's message, without a final period (the sentence adds its own).
  const detail = error.message ? String(error.message).trim().replace(/\.+$/, '') : 'no details';
  switch (error.kind) {
    case 'http': {
      const status = error.status;
      if (status === 429 || status === 503) {
        const wait = error.retryAfter ? ` Try again in ${error.retryAfter} s.` : ' Try again in a moment.';
        return `The server is busy (HTTP ${status}): ${detail}.${wait}`;
      }
      if (status === 404) return `That model is not available (HTTP 404): ${detail}.`;
      if (status === 401 || status === 403) return `The server refused the request (HTTP ${status}): ${detail}.`;
      if (status >= 500) return `The server failed (HTTP ${status}): ${detail}.`;
      return `The request was refused (HTTP ${status}): ${detail}.`;
    }
    case 'stream':
      return `The answer broke off: ${detail}.`;
    case 'truncated':
      return 'The connection closed before the answer was complete.';
    case 'network':
      return /lost/.test(detail)
        ? 'The connection to the rill server was lost before the answer was complete.'
        : 'Could not reach the rill server. Check that it is still running, then retry.';
    case 'protocol':
      return `The server sent something unexpected: ${detail}.`;
    default:
      return `Something went wrong: ${detail}.`;
  }
}

/** "TTFT 212 ms · 19.8 tok/s · 64 tokens" (only the parts that are known). */
export function describeMetrics(metrics) {
  if (!metrics) return '';
  const parts = [];
  if (typeof metrics.ttftMs === 'number') parts.push(`TTFT ${formatMs(metrics.ttftMs)}`);
  if (typeof metrics.tokensPerSecond === 'number') parts.push(`${metrics.tokensPerSecond.toFixed(1)} tok/s`);
  if (metrics.completionTokens > 0) {
    parts.push(`${metrics.completionTokens} token${metrics.completionTokens === 1 ? '' : 's'}`);
  }
  return parts.join(' · ');
}

function formatMs(ms) {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}
