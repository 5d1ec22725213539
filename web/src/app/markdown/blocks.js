// Splits streaming markdown into blocks that are settled (they can no longer change) and
// the open rest at the end, using marked's block lexer.
//
// A block is settled once a later block has begun AND that later block's first line is
// complete: what the first line of a block is (a heading, a list item, a fence...)
// decides whether it interrupts the block before it, so until that line ends the two are
// kept open together. Blank lines (marked's "space" tokens) settle with the block before.

/**
 * @typedef {{ type: string, raw: string }} Token
 * @typedef {{ raw: string, token: Token | null, offset: number }} Block  offset: within `tail`
 */

/**
 * @param {string} tail  markdown starting at a block boundary (everything not yet settled)
 * @param {(src: string) => Token[]} lex  marked's block lexer
 * @param {boolean} final  the text is complete: settle everything
 * @returns {{ settled: Block[], settledLength: number, open: string }}
 */
export function splitBlocks(tail, lex, final) {
  if (tail.length === 0) return { settled: [], settledLength: 0, open: '' };
  const tokens = lex(tail);
  const offsets = [];
  let offset = 0;
  for (const token of tokens) {
    offsets.push(offset);
    offset += token.raw.length;
  }
  if (offset !== tail.length) {
    // The tokens do not cover the text exactly, so their offsets cannot be trusted:
    // keep everything open (or, at the end, as one block).
    if (final) return { settled: [{ raw: tail, token: null, offset: 0 }], settledLength: tail.length, open: '' };
    return { settled: [], settledLength: 0, open: tail };
  }
  const blocks = (end) => {
    const out = [];
    for (let i = 0; i < end; i += 1) {
      const token = tokens[i];
      if (token.type === 'space' || token.type === 'def') continue;
      out.push({ raw: token.raw, token, offset: offsets[i] });
    }
    return out;
  };
  if (final) return { settled: blocks(tokens.length), settledLength: tail.length, open: '' };

  const content = [];
  tokens.forEach((token, i) => {
    if (token.type !== 'space') content.push(i);
  });
  if (content.length < 2) return { settled: [], settledLength: 0, open: tail };
  let openIndex = content.at(-1);
  if (!tail.slice(offsets[openIndex]).includes('\n')) openIndex = content.at(-2);
  const settledLength = offsets[openIndex];
  return { settled: blocks(openIndex), settledLength, open: tail.slice(settledLength) };
}
