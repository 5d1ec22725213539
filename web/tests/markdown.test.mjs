// The pure parts of the incremental markdown renderer: block splitting (settled blocks
// must be exactly the blocks of the finished document) and provisional closing of the
// open block.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Marked } from 'marked';
import { splitBlocks } from '../src/app/markdown/blocks.js';
import { closeInline, provisional } from '../src/app/markdown/provisional.js';

const md = new Marked({ gfm: true, breaks: false });
const lex = (src) => md.lexer(src);

/** Tokens like rill's scripted provider makes them: a word or one symbol, with the whitespace before it. */
function splitTokens(text) {
  return text.match(/\s*(?:[\p{L}\p{N}]+|[^\s])|\s+$/gsu) ?? [];
}

/** Streams `doc` token by token through splitBlocks as the renderer does; returns the settled blocks. */
function stream(doc) {
  const tokens = splitTokens(doc);
  assert.equal(tokens.join(''), doc, 'the tokenizer keeps every character');
  let settled = 0;
  const blocks = [];
  let text = '';
  for (const token of tokens) {
    text += token;
    const result = splitBlocks(text.slice(settled), lex, false);
    for (const block of result.settled) blocks.push({ at: settled + block.offset, raw: block.raw, during: text.length });
    settled += result.settledLength;
    // Offsets stay inside blocks of raw text.
    for (const block of result.settled) assert.ok(block.raw.length > 0);
  }
  const last = splitBlocks(text.slice(settled), lex, true);
  for (const block of last.settled) blocks.push({ at: settled + block.offset, raw: block.raw, during: text.length });
  return blocks;
}

/** The content blocks of the finished document, with their offsets. */
function finalBlocks(doc) {
  const out = [];
  let at = 0;
  for (const token of lex(doc)) {
    if (token.type !== 'space' && token.type !== 'def') out.push({ at, raw: token.raw });
    at += token.raw.length;
  }
  return out;
}

const DOCS = {
  mixed: `# Streaming markdown

Paragraphs arrive **token by token**, with *emphasis*, \`inline code\` and [links](https://example.com/docs).
A second line in the same paragraph.

- a tight list
- with **two** items
  - and a nested one

1. loose

2. ordered list

> A quote that spans
> two lines.

\`\`\`rust
fn main() {
    println!("hello");
}
\`\`\`

| name | value |
|------|------:|
| one  | 1     |
| two  | 2     |

---

Setext heading
==============

Para before a list
- item right after
- another

~~~
tilde fence
~~~

Last paragraph with a trailing [ref link](http://example.org "title").
`,
  interrupts: `A paragraph
#hashtag is not a heading
## but this is
still text after a heading

Text then a fence
\`\`\`js
let x = 1;
\`\`\`
after the fence
`,
  crlfFree: `Short.

Two.

Three with **bold** end.`,
  openFenceAtEnd: `Intro.

\`\`\`python
def f():
    return 1
`,
};

for (const [name, doc] of Object.entries(DOCS)) {
  test(`blocks: streaming "${name}" settles exactly the finished document's blocks`, () => {
    const streamed = stream(doc);
    const expected = finalBlocks(doc);
    assert.deepEqual(
      streamed.map(({ at, raw }) => ({ at, raw })),
      expected,
      'every settled block is a block of the final document, at the same offset',
    );
    // Most blocks settle while the text is still streaming, not only at the end.
    const early = streamed.filter((b) => b.during < doc.length).length;
    assert.ok(early >= expected.length - 2, `${early} of ${expected.length} blocks settled early`);
  });
}

test('blocks: nothing settles until a later block has a complete first line', () => {
  assert.deepEqual(splitBlocks('Para\n\n#', lex, false).settled, []);
  assert.deepEqual(splitBlocks('Para\n\n# Title', lex, false).settled, []);
  const r = splitBlocks('Para\n\n# Title\n', lex, false);
  assert.deepEqual(r.settled.map((b) => b.raw), ['Para']);
  assert.equal(r.open, '# Title\n');
  assert.equal(r.settledLength, 'Para\n\n'.length);
});

test('blocks: a list with a blank line between items stays one open block', () => {
  const r = splitBlocks('- a\n\n- b\n\n', lex, false);
  assert.deepEqual(r.settled, []);
  assert.equal(r.open, '- a\n\n- b\n\n');
});

test('blocks: final settles everything', () => {
  const r = splitBlocks('# T\n\ntext', lex, true);
  assert.deepEqual(r.settled.map((b) => b.token.type), ['heading', 'paragraph']);
  assert.equal(r.open, '');
});

const PROVISIONAL = [
  ['Hello **wor', 'Hello **wor**'],
  ['Hello **world**', 'Hello **world**'],
  ['a **b**, then c', 'a **b**, then c'],
  ['a **b**, then *c', 'a **b**, then *c*'],
  ['(**b**) and **c', '(**b**) and **c**'],
  ['**"quoted"** more', '**"quoted"** more'],
  ['a *b', 'a *b*'],
  ['**bold *both', '**bold *both***'],
  ['~~struck', '~~struck~~'],
  ['## Head _it', '## Head _it_'],
  ['- item **bo', '- item **bo**'],
  ['1. one\n2. two *x', '1. one\n2. two *x*'],
  ['line one\n\nline **two ', 'line one\n\nline **two** '],
  ['see `code', 'see `code`'],
  ['**see `code', '**see `code`**'],
  ['text **', 'text '],
  ['Use `', 'Use '],
  ['snake_case_name', 'snake_case_name'],
  ['5 * 3', '5 * 3'],
  ['word*', 'word*'],
  ['[docs](htt', 'docs'],
  ['[docs]', 'docs'],
  ['see [the **site', 'see the **site**'],
  ['![a cat](http://x', 'a cat'],
  ['x [a](b) y', 'x [a](b) y'],
  ['- [ ] task **one', '- [ ] task **one**'],
  ['```py\nprint("**")\n``', '```py\nprint("**")'],
  ['```py\nprint(1)', '```py\nprint(1)'],
  ['Para\n-', 'Para'],
  ['Para\n`', 'Para'],
  ['| a | b |', '| a | b |\n| --- | --- |'],
  ['Intro\n\n|', 'Intro\n'],
  ['Intro\n\n| ', 'Intro\n'],
  ['| met', '| met |\n| --- |'],
  ['| a | b |\n|--', '| a | b |\n| --- | --- |'],
  ['| a | b |\n|---|---|\n| 1 | 2', '| a | b |\n|---|---|\n| 1 | 2 |'],
];

for (const [input, expected] of PROVISIONAL) {
  test(`provisional: ${JSON.stringify(input)}`, () => {
    assert.equal(provisional(input), expected);
  });
}

test('provisional: the rendered open block never shows a raw ** or a half link', () => {
  const sentences = [
    'Read **the [official guide](https://example.com/guide)** and `npm ci` first.',
    'rill sends each token **the moment the model produces it**, so you can read it while it is *still being written*. Done.',
    '1. **Time to first token**: how soon the first word appears, see [the spec](https://example.com/spec).',
    '## A heading with `code` and **bold**, then *emphasis*.',
  ];
  for (const sentence of sentences) {
    let text = '';
    for (const token of splitTokens(sentence)) {
      text += token;
      const html = md.parse(provisional(text));
      const visible = html.replace(/<[^>]+>/g, '');
      assert.ok(!visible.includes('**'), `no raw ** for ${JSON.stringify(text)}: ${html}`);
      assert.ok(!/\]\(|\[/.test(visible), `no link syntax for ${JSON.stringify(text)}: ${html}`);
      assert.ok(!visible.includes('`'), `no stray backtick for ${JSON.stringify(text)}: ${html}`);
    }
  }
});

test('closeInline: closers go before trailing whitespace', () => {
  assert.equal(closeInline('*a '), '*a* ');
  assert.equal(closeInline('plain'), 'plain');
});
