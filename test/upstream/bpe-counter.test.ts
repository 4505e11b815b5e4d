import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { countTokens as referenceCount } from 'gpt-tokenizer/encoding/o200k_base';
import { O200K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';
import { bpeCounterInternals, countTokens, O200K_SPLIT_PATTERN, warm } from '../../src/upstream/bpe-counter';
import { mulberry32 } from '../../scripts/dev-lib';

/** The reference with special tokens as plain text (its default throws on them, see the special-token test). */
const PLAIN = { disallowedSpecial: new Set<string>() };
const reference = (text: string) => referenceCount(text, PLAIN);


const PROSE = `It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness,
it was the epoch of belief, it was the epoch of incredulity. The quick brown fox jumps over the lazy dog!
Mr. O'Neill's well-known "reference" (see p. 42) wasn't — as far as anyone could tell — entirely accurate; nevertheless...`;

const TYPESCRIPT = `import { readFileSync } from 'node:fs';

export async function handler(req: Request): Promise<Response> {
  const body = (await req.json()) as { messages?: Array<{ role: string; content: string }> };
  if (!body.messages?.length) return new Response(JSON.stringify({ error: 'no messages' }), { status: 400 });
  const total = body.messages.reduce((sum, m) => sum + m.content.length, 0);
  for (let i = 0; i < 10; i++) { console.log(\`item \${i}: \${total >>> 1}\`); }
  return Response.json({ ok: true, total, ratio: total / 3.14159 });
}
`;

const PYTHON = `def fibonacci(n: int) -> list[int]:
    """Return the first n Fibonacci numbers."""
    a, b = 0, 1
    out = []
    for _ in range(n):
        out.append(a)
        a, b = b, a + b
    return out


if __name__ == "__main__":
\tprint(fibonacci(20))  # tabs and    spaces
    lambda x: x ** 2 if x > 0 else -x
`;

const JSON_TEXT = JSON.stringify(
  {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'What is 2+2? Answer in JSON: {"answer": <number>}' },
    ],
    temperature: 0.7,
    max_tokens: 1024,
    nested: { a: [1, 2, 3, null, true, false], b: { c: 'd\\n\\t"quoted"' } },
  },
  null,
  2,
);

const SAMPLES: Record<string, string> = {
  prose: PROSE,
  typescript: TYPESCRIPT,
  python: PYTHON,
  json: JSON_TEXT,
  jsonCompact: JSON.stringify(JSON.parse(JSON_TEXT)),
  urls: 'https://example.com/path/to/resource?query=value&other=123#fragment http://localhost:8080/v1/chat/completions ftp://files.example.org/pub/file-1.2.3.tar.gz mailto:someone@example.com www.x.co/a//b///c',
  numbers: '0 1 12 123 1234 12345 123456 1234567 3.14159265358979 -42 1e10 0x1F 1,000,000 12345678901234567890123456789012345678901234567890 2024-01-15T10:30:00Z +1 (555) 123-4567',
  whitespace: '   leading\n\n\ntrailing   \t\t\ttabs\r\nwindows\r\n\r\n  \n \n  mixed \u00a0nbsp\u2003em\u3000ideographic  \n\n\n\n     end    ',
  onlyWhitespace: ' \n \t\n\n   \r\n\t ',
  emoji: '😀 😃 😄 👍🏽 👨‍👩‍👧‍👦 🇫🇷🇯🇵 ❤️ 🎉🎉🎉 🧑🏿‍💻 ☕️ test🙂end',
  cjk: '你好，世界！这是一个测试句子，用来检查中文分词。日本語のテキストも含まれています。한국어 문장도 있습니다. 東京タワー、ｶﾀｶﾅ、ＦＵＬＬＷＩＤＴＨ１２３',
  arabic: 'مرحبا بالعالم! هذه جملة اختبار باللغة العربية، مع أرقام ١٢٣٤٥ وعلامات ترقيم؟ السَّلامُ عَلَيْكُمْ',
  cyrillic: 'Привет, мир! Это тестовое предложение на русском языке. ЁЛКИ-ПАЛКИ, Ёжик в тумане. Українська мова: ґанок, їжак, єнот.',
  accented: 'Café, naïve, résumé, façade, jalapeño, Ångström, Zürich, São Paulo, Kraków, Øresund, ŒUVRE, ﬁnancial, e\u0301 (combining)',
  contractions: "I'm you're he's she'd we'll they've it's DON'T I'M YOU'RE THEY'LL We'Ve can't won't shouldn't y'all 'tis rock'n'roll O'Reilly's",
  mixedCase: 'camelCaseIdentifier PascalCaseName snake_case_name SCREAMING_SNAKE kebab-case-name XMLHttpRequest iPhone eBay McDonald HTTPServerError',
  greekHebrewHindi: 'Καλημέρα κόσμε · שלום עולם · नमस्ते दुनिया · ภาษาไทย · Ελληνικά ΑΒΓΔ',
  symbols: '!!! ??? ... --- === +++ *** /// \\\\\\ ||| &&& ### $$$ %%% ^^^ ~~~ ``` <<<>>> (){}[] @@ ;; :: ,, // /*/ */ <!-- -->',
  markdown: '# Title\n\n## Sub-title\n\n- item one\n- item **two**\n  1. nested `code`\n\n> quote\n\n```ts\nconst x = 1;\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n',
  specialTokenText: 'before <|endoftext|> middle <|im_start|>user<|im_sep|>hi<|im_end|> <|fim_prefix|><|endofprompt|> after',
  bom: '\uFEFFusing System;\n\uFEFF\uFEFF\n\uFEFF#include\n\uFEFFnamespace x\uFEFF\n\n\uFEFF//\uFEFF',
  loneSurrogates: 'a\uD800b \uDC00 \uD83D \uDE00x \uFFFD \uD800\uD800 ok\uDBFF',
  longRuns: 'a'.repeat(500) + ' ' + 'ab'.repeat(300) + ' ' + '='.repeat(400) + ' ' + '中'.repeat(200) + ' ' + '9'.repeat(100) + ' ' + ' '.repeat(300) + 'x',
  base64Blob: Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 7919) & 0xff)).toString('base64'),
};

function randomAscii(rand: () => number): string {
  const len = 1 + Math.floor(rand() * 120);
  let s = '';
  for (let i = 0; i < len; i++) {
    const r = rand();
    // Mostly printable ASCII, with some newlines/tabs/runs of spaces.
    if (r < 0.05) s += '\n';
    else if (r < 0.07) s += '\t';
    else if (r < 0.15) s += ' ';
    else s += String.fromCharCode(32 + Math.floor(rand() * 95));
  }
  return s;
}

const UNICODE_RANGES: Array<[number, number]> = [
  [0x20, 0x7e],
  [0xa0, 0xff],
  [0x100, 0x24f],
  [0x300, 0x36f], // combining marks
  [0x370, 0x3ff],
  [0x400, 0x4ff],
  [0x590, 0x5ff],
  [0x600, 0x6ff],
  [0x900, 0x97f],
  [0xe00, 0xe7f],
  [0x1100, 0x11ff],
  [0x2000, 0x206f], // punctuation, spaces, zero-width, BOM-like
  [0x3000, 0x30ff],
  [0x4e00, 0x9fff],
  [0xac00, 0xd7a3],
  [0xd800, 0xdfff], // lone surrogates
  [0xfe00, 0xffff],
  [0x1f300, 0x1faff], // emoji
  [0x10000, 0x10ffff],
];

function randomUnicode(rand: () => number): string {
  const len = 1 + Math.floor(rand() * 60);
  let s = '';
  for (let i = 0; i < len; i++) {
    const r = rand();
    if (r < 0.1) s += ' ';
    else if (r < 0.13) s += '\n';
    else if (r < 0.15) s += '\uFEFF';
    else if (r < 0.2) s += "'";
    else {
      const [lo, hi] = UNICODE_RANGES[Math.floor(rand() * UNICODE_RANGES.length)];
      s += String.fromCodePoint(lo + Math.floor(rand() * (hi - lo + 1)));
    }
  }
  return s;
}

function bigText(bytes: number): string {
  const rand = mulberry32(7);
  const parts = Object.values(SAMPLES);
  let s = '';
  while (s.length < bytes) {
    const r = rand();
    if (r < 0.6) s += parts[Math.floor(rand() * parts.length)];
    else if (r < 0.8) s += randomAscii(rand);
    else s += randomUnicode(rand);
    s += rand() < 0.5 ? '\n' : ' ';
  }
  return s.slice(0, bytes);
}

function expectSameAsReference(texts: string[]) {
  const mismatches: Array<{ text: string; expected: number; actual: number }> = [];
  for (const text of texts) {
    const expected = reference(text);
    const actual = countTokens(text);
    if (actual !== expected) mismatches.push({ text: text.slice(0, 200), expected, actual });
  }
  expect(mismatches).toEqual([]);
}

describe('bpe-counter: equality with gpt-tokenizer o200k_base', () => {
  test('uses the same split pattern as gpt-tokenizer', () => {
    expect(O200K_SPLIT_PATTERN).toBe(O200K_TOKEN_SPLIT_REGEX.source);
  });

  test('loads all 199,998 ranks into small tables', () => {
    warm();
    warm();
    expect(bpeCounterInternals.tokenCount()).toBe(199_998);
    expect(bpeCounterInternals.tableBytes()).toBeLessThan(6 * 1024 * 1024);
  });

  test('empty and tiny strings', () => {
    expect(countTokens('')).toBe(0);
    expectSameAsReference(['a', ' ', '\n', 'é', '中', '😀', '\uD800', "'", "'s", ' a', 'ab', '  ', 'hello', 'Hello, world!']);
  });

  for (const [name, text] of Object.entries(SAMPLES)) {
    test(`sample: ${name}`, () => {
      expectSameAsReference([text, text.toUpperCase(), text.toLowerCase(), ...text.split('\n'), ...text.split(' ')]);
    });
  }

  test('special tokens count as plain text (the reference default throws on them)', () => {
    const text = 'hello <|endoftext|> world';
    expect(() => referenceCount(text)).toThrow(/Disallowed special token/);
    expect(countTokens(text)).toBe(reference(text));
    expect(countTokens('<|endoftext|>')).toBe(7);
    expectSameAsReference(['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|endofprompt|>', '<|fim_middle|>', '<|endoftext']);
  });

  test('a leading U+FEFF is ranked the way the reference ranks it', () => {
    expect(countTokens('\uFEFFusing')).toBe(3);
    expect(countTokens('\uFEFF')).toBe(2);
    expectSameAsReference(['\uFEFFusing', '\uFEFF', '\uFEFF\uFEFF', 'x\uFEFF\n\n', '\uFEFFnamespace', '\uFEFF#', '\uFEFF//', '\uFEFF\n', 'a\uFEFFb']);
  });

  test('500 random printable ASCII strings (seeded)', () => {
    const rand = mulberry32(42);
    expectSameAsReference(Array.from({ length: 500 }, () => randomAscii(rand)));
  });

  test('200 random unicode strings (seeded)', () => {
    const rand = mulberry32(1234);
    expectSameAsReference(Array.from({ length: 200 }, () => randomUnicode(rand)));
  });

  test('a 100 KB text, with a cold and a warm piece cache', () => {
    const text = bigText(100 * 1024);
    expect(text.length).toBe(100 * 1024);
    bpeCounterInternals.clearCache();
    expectSameAsReference([text]);
    expectSameAsReference([text]);
  });

  test('small encoding windows give the same counts (window edges inside surrogate pairs, long pieces)', () => {
    const text = bigText(20 * 1024);
    const rand = mulberry32(5);
    const unicode = Array.from({ length: 50 }, () => randomUnicode(rand));
    for (const window of [1, 2, 3, 7, 64, 1000]) {
      const previous = bpeCounterInternals.setWindowChars(window);
      try {
        expectSameAsReference([text, ...Object.values(SAMPLES), ...unicode]);
      } finally {
        bpeCounterInternals.setWindowChars(previous);
      }
    }
  });

  test('texts longer than one encoding window', () => {
    // (Pieces stay short: the reference's merge is quadratic in a piece's length.)
    expectSameAsReference([PROSE.repeat(200), '😀 '.repeat(10_000), 'café '.repeat(8_000), 'ab '.repeat(5_461) + '😀'.repeat(3) + ' end']);
  });

  test('the heap-based merge for long pieces gives the same counts', () => {
    const previous = bpeCounterInternals.setLongPieceBytes(1);
    try {
      const rand = mulberry32(99);
      expectSameAsReference([
        ...Object.values(SAMPLES),
        ...Array.from({ length: 100 }, () => randomAscii(rand)),
        ...Array.from({ length: 100 }, () => randomUnicode(rand)),
      ]);
    } finally {
      bpeCounterInternals.setLongPieceBytes(previous);
    }
    // Naturally long pieces (well beyond the short-merge limit).
    expectSameAsReference(['a'.repeat(5000), 'ab'.repeat(3000), 'Hello'.repeat(1000), '中文字'.repeat(1000), '!?'.repeat(2000), ' '.repeat(5000) + 'x']);
  });
});

describe('bpe-counter: speed and memory', () => {
  const english = (PROSE.replace(/\n/g, ' ') + ' ').repeat(10).slice(0, 2048);

  test('counts 2 KB of English in < 0.3 ms on average', () => {
    warm();
    expect(countTokens(english)).toBe(reference(english));
    const time = (count: (s: string) => number) => {
      for (let i = 0; i < 100; i++) count(english);
      const started = performance.now();
      for (let i = 0; i < 500; i++) count(english);
      return (performance.now() - started) / 500;
    };
    const mine = time(countTokens);
    const theirs = time(reference);
    console.log(`2 KB English: bpe-counter ${(mine * 1000).toFixed(1)} µs, gpt-tokenizer ${(theirs * 1000).toFixed(1)} µs per count`);
    expect(mine).toBeLessThan(0.3);
  });

  test('adds < 25 MB RSS to a bun process (measured in a separate process)', () => {
    const bun = join(import.meta.dir, '..', '..', 'node_modules', '.bin', 'bun');
    const modulePath = join(import.meta.dir, '..', '..', 'src', 'upstream', 'bpe-counter.ts');
    const report = `const rss = process.memoryUsage().rss;
      const hwm = Number(/VmHWM:\\s+(\\d+) kB/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
      console.log(JSON.stringify({ rss, hwm, tokens: globalThis.tokens ?? 0 }));`;
    const sample = 'Hello, world! こんにちは 😀 '.repeat(200);
    const run = (setup: string) => {
      const proc = Bun.spawnSync([bun, '-e', `${setup}\nBun.gc(true);\n${report}`], { cwd: join(import.meta.dir, '..', '..'), env: { ...process.env } });
      if (proc.exitCode !== 0) throw new Error(proc.stderr.toString());
      return JSON.parse(proc.stdout.toString().trim().split('\n').pop()!) as { rss: number; hwm: number; tokens: number };
    };
    const empty = run(`globalThis.tokens = 0;`);
    // The first optimizing JIT compile in a process costs ~7 MB RSS by itself (a server has paid it long before it
    // counts tokens); this baseline shows the counter's own share. Reported, not asserted.
    const hot = `let x = 0; for (let i = 0; i < 5e6; i++) x = (x * 31 + i) | 0; globalThis.sink = x;`;
    const jitEmpty = run(`${hot} globalThis.tokens = 0;`);
    const jitMine = run(`${hot} const m = await import(${JSON.stringify(modulePath)}); m.warm(); globalThis.tokens = m.countTokens(${JSON.stringify(sample)});`);
    const mine = run(`const m = await import(${JSON.stringify(modulePath)}); m.warm(); globalThis.tokens = m.countTokens(${JSON.stringify(sample)});`);
    const theirs = run(`const m = await import('gpt-tokenizer/encoding/o200k_base'); globalThis.tokens = m.countTokens(${JSON.stringify(sample)});`);
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    console.log(
      `RSS after gc / peak (VmHWM): empty bun ${mb(empty.rss)} / ${mb(empty.hwm)} MB, bpe-counter ${mb(mine.rss)} / ${mb(mine.hwm)} MB` +
        ` (+${mb(mine.rss - empty.rss)} / +${mb(mine.hwm - empty.hwm)}), gpt-tokenizer ${mb(theirs.rss)} / ${mb(theirs.hwm)} MB` +
        ` (+${mb(theirs.rss - empty.rss)} / +${mb(theirs.hwm - empty.hwm)}); after a JIT warm-up: empty ${mb(jitEmpty.rss)} / ${mb(jitEmpty.hwm)} MB,` +
        ` bpe-counter ${mb(jitMine.rss)} / ${mb(jitMine.hwm)} MB (+${mb(jitMine.rss - jitEmpty.rss)} / +${mb(jitMine.hwm - jitEmpty.hwm)})`,
    );
    expect(jitMine.tokens).toBe(theirs.tokens);
    expect(mine.tokens).toBe(theirs.tokens);
    expect(mine.rss - empty.rss).toBeLessThan(25 * 1024 * 1024);
    expect(mine.hwm - empty.hwm).toBeLessThan(25 * 1024 * 1024);
  });
});
