// Makes the still-open last block of a streaming answer look finished for display.
//
// While a model is mid-sentence the markdown is often incomplete: `**bold` has no closing
// `**` yet, a link is half-written (`[docs](htt`), a table has only its header row, a
// code fence is being typed (a lone "`" at the start of a line). Rendered as is, those
// flash raw markers that disappear a moment later. `provisional(src)` returns a version
// of the open block with such constructs closed or hidden. It is only ever used for the
// open block; the settled version is rendered from the real text.

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})/;
// A line that starts a new block: the inline state does not carry over it.
const BLOCK_START = /^ {0,3}(?:[-*+][ \t]|\d{1,9}[.)][ \t]|#{1,6}[ \t]|>)/;
const PUNCT = /[\p{P}\p{S}]/u;
const SPACE = /\s/u;

/**
 * @param {string} src the open block(s) of markdown, starting at a block boundary
 * @returns {string}
 */
export function provisional(src) {
  let lines = src.split('\n');

  const fence = openFence(lines);
  if (fence) {
    // Inside an unclosed code fence everything is code; only hide a closing fence that is
    // still being typed ("`" or "``" on the last line).
    const last = lines.at(-1);
    const closing = last.trim();
    if (lines.length > 1 && closing.length > 0 && closing.length < fence.length && fence.startsWith(closing)) {
      lines = lines.slice(0, -1);
    }
    return lines.join('\n');
  }

  // A last line that may become a code fence, a setext underline or a rule: hide it until
  // it says what it is.
  const last = lines.at(-1);
  if (lines.length > 0 && /^ {0,3}(?:`{1,2}|~{1,2}|[-=]{1,2}|[*_]{1,2})[ \t]*$/.test(last)) {
    lines = lines.slice(0, -1);
  }

  lines = provisionalTable(lines);

  // Close inline markup in the last paragraph-like run of lines.
  let start = lines.length - 1;
  while (start > 0) {
    const line = lines[start];
    if (line.trim() === '' || BLOCK_START.test(line) || /^\s*\|/.test(line)) break;
    const prev = lines[start - 1];
    if (prev.trim() === '') break;
    start -= 1;
  }
  // Table rows were handled above; their cells are left as they are.
  if (start < 0 || /^\s*\|/.test(lines[start])) return lines.join('\n');
  const head = lines.slice(0, start);
  const tail = lines.slice(start).join('\n');
  // Keep the block marker (list bullet, heading hashes, quote) out of the inline scan.
  const marker = tail.match(/^ {0,3}(?:(?:[-*+]|\d{1,9}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?|#{1,6}[ \t]+|(?:>[ \t]?)+)/);
  const prefix = marker ? marker[0] : '';
  const fixed = prefix + closeInline(tail.slice(prefix.length));
  return [...head, fixed].join('\n');
}

/** The opening fence (its backtick or tilde run) if the lines end inside a code fence. */
function openFence(lines) {
  let open = null;
  for (const line of lines) {
    if (open === null) {
      const m = line.match(FENCE_OPEN);
      // A backtick fence's info string cannot contain backticks.
      if (m && !(m[1][0] === '`' && line.slice(m[0].length).includes('`'))) open = m[1];
    } else {
      const trimmed = line.trim();
      if (trimmed.length >= open.length && /^(`+|~+)$/.test(trimmed) && trimmed[0] === open[0]) open = null;
    }
  }
  return open;
}

/**
 * A table whose header row has arrived but whose delimiter row has not (or only in part):
 * supply the delimiter row so it renders as a table at once.
 */
function provisionalTable(lines) {
  if (lines.length === 0) return lines;
  // Find the last run of lines that starts with a pipe.
  let end = lines.length - 1;
  if (!/^\s*\|/.test(lines[end])) return lines;
  let begin = end;
  while (begin > 0 && /^\s*\|/.test(lines[begin - 1])) begin -= 1;
  if (begin > 0 && lines[begin - 1].trim() !== '') return lines; // a table starts a block
  const header = lines[begin];
  const cells = splitCells(header);
  // Just the opening pipe so far: hide it until a cell has text.
  if (begin === end && cells.every((c) => c.trim() === '')) return lines.slice(0, begin);
  const delimiter = `|${' --- |'.repeat(cells.length)}`;
  if (begin === end) {
    return [...lines.slice(0, begin), closeRow(header), delimiter];
  }
  const second = lines[begin + 1];
  if (/^\s*\|?[\s:|-]*$/.test(second) && begin + 1 === end) {
    return [...lines.slice(0, begin), closeRow(header), delimiter];
  }
  // Rows are arriving: close the last row's pipe so its cells render.
  const copy = lines.slice();
  copy[end] = closeRow(copy[end]);
  return copy;
}

function splitCells(row) {
  const inner = row.trim().replace(/^\|/, '').replace(/\|$/, '');
  return inner.split(/(?<!\\)\|/);
}

function closeRow(row) {
  return row.trimEnd().endsWith('|') ? row : `${row.trimEnd()} |`;
}

/**
 * Closes emphasis, strikethrough and code spans left open at the end of `text`, turns a
 * half-written link or image into its text, and drops a delimiter run dangling at the end.
 */
export function closeInline(text) {
  const link = openLink(text);
  if (link) text = text.slice(0, link.start) + link.text;

  const { stack, dangling } = scan(text);
  if (dangling) text = text.slice(0, dangling.start) + text.slice(dangling.end);
  let closers = '';
  for (let i = stack.length - 1; i >= 0; i -= 1) {
    const open = stack[i];
    if (dangling && open.start === dangling.start) continue;
    closers += open.char.repeat(open.length);
  }
  if (!closers) return text;
  // Closers must touch the text: `**bold **` would not close.
  const trailing = text.match(/\s*$/)[0];
  const body = text.slice(0, text.length - trailing.length);
  if (body.length === 0) return text;
  return body + closers + trailing;
}

/** An unfinished `[text](dest` / `[text]` / `[text` at the end, outside code spans. */
function openLink(text) {
  const spans = codeSpans(text);
  const inCode = (i) => spans.some(([a, b]) => i >= a && i < b);
  // The last `[` that is not inside code and not escaped.
  for (let i = text.length - 1; i >= 0; i -= 1) {
    if (text[i] !== '[' || inCode(i) || text[i - 1] === '\\') continue;
    const rest = text.slice(i + 1);
    const close = rest.indexOf(']');
    const start = i > 0 && text[i - 1] === '!' ? i - 1 : i;
    if (close === -1) {
      // `[text` with nothing closing it yet; a task-list box `[ ]` is never left open.
      if (rest.includes('\n')) return null;
      return { start, text: rest };
    }
    const label = rest.slice(0, close);
    const after = rest.slice(close + 1);
    if (after === '') return { start, text: label };
    if (after[0] === '(' && !after.includes(')')) return { start, text: label };
    return null;
  }
  return null;
}

/** [start, end) ranges of complete code spans, and an open one to the end. */
function codeSpans(text) {
  const spans = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === '\\') {
      i += 2;
      continue;
    }
    if (text[i] !== '`') {
      i += 1;
      continue;
    }
    let n = 0;
    while (text[i + n] === '`') n += 1;
    const run = '`'.repeat(n);
    let j = i + n;
    let end = -1;
    while (j < text.length) {
      const k = text.indexOf(run, j);
      if (k === -1) break;
      if (text[k + n] !== '`' && text[k - 1] !== '`') {
        end = k + n;
        break;
      }
      j = k + 1;
      while (text[j] === '`') j += 1;
    }
    if (end === -1) {
      spans.push([i, text.length, n]);
      break;
    }
    spans.push([i, end, 0]);
    i = end;
  }
  return spans;
}

/**
 * Walks the text like CommonMark's delimiter rules (simplified) and returns the openers
 * still unmatched at the end, and a delimiter run at the very end that opens nothing yet.
 */
function scan(text) {
  const stack = [];
  let dangling = null;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === '`') {
      let n = 0;
      while (text[i + n] === '`') n += 1;
      const run = '`'.repeat(n);
      // Find the matching run of exactly n backticks.
      let j = i + n;
      let end = -1;
      while (j < text.length) {
        const k = text.indexOf(run, j);
        if (k === -1) break;
        if (text[k + n] !== '`' && text[k - 1] !== '`') {
          end = k + n;
          break;
        }
        j = k + 1;
        while (text[j] === '`') j += 1;
      }
      if (end === -1) {
        // An open code span: everything after it is code. Close it (or drop an empty one).
        if (i + n >= text.length) dangling = { start: i, end: text.length };
        else stack.push({ char: '`', length: n, start: i });
        return { stack, dangling };
      }
      i = end;
      continue;
    }
    if (c === '*' || c === '_' || c === '~') {
      let n = 0;
      while (text[i + n] === c) n += 1;
      if (c === '~' && n > 2) {
        i += n;
        continue;
      }
      const before = i > 0 ? text[i - 1] : ' ';
      const after = i + n < text.length ? text[i + n] : null;
      const atEnd = after === null;
      const nextSpace = atEnd || SPACE.test(after);
      const prevSpace = SPACE.test(before);
      const leftFlanking = !nextSpace && (!PUNCT.test(after) || prevSpace || PUNCT.test(before));
      const rightFlanking = !prevSpace && (!PUNCT.test(before) || nextSpace || PUNCT.test(after));
      let canOpen = leftFlanking;
      let canClose = rightFlanking;
      if (c === '_') {
        canOpen = leftFlanking && (!rightFlanking || PUNCT.test(before));
        canClose = rightFlanking && (atEnd || !leftFlanking || PUNCT.test(after));
      }
      let remaining = n;
      if (canClose) {
        for (let s = stack.length - 1; s >= 0 && remaining > 0; s -= 1) {
          if (stack[s].char !== c) continue;
          const take = Math.min(stack[s].length, remaining);
          stack[s].length -= take;
          remaining -= take;
          if (stack[s].length === 0) {
            stack.splice(s);
            break;
          }
        }
      }
      if (remaining > 0 && canOpen) {
        stack.push({ char: c, length: remaining, start: i + (n - remaining) });
      } else if (remaining > 0 && atEnd && !canClose && c !== '_') {
        // `text **` at the very end: an opener whose content has not arrived yet.
        dangling = { start: i, end: i + n };
      }
      i += n;
      continue;
    }
    i += 1;
  }
  return { stack, dangling };
}
