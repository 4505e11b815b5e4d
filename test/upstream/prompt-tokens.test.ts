import { describe, expect, test } from 'bun:test';
import { countTokens, O200K_SPLIT_PATTERN } from '../../src/upstream/bpe-counter';
import { countImageTokens, DEFAULT_IMAGE_PRICING, imageTileCount, MAX_TILES } from '../../src/upstream/image-tokens';
import { countPromptTextTokens, promptTextInternals } from '../../src/upstream/prompt-text-tokens';
import { countMessagesTokens, countRequestPromptTokens } from '../../src/upstream/prompt-tokens';

const tok = (s: string) => countTokens(s);
const ask = (extra: Record<string, unknown> = {}, model = 'gpt-4o') => ({
  model,
  messages: [
    { role: 'system', content: 'You are a helpful assistant that can answer to questions about the weather.' },
    { role: 'user', content: "What's the weather like in San Francisco?" },
  ],
  ...extra,
});
/** Tokens a request adds over the same request without `extra`. */
const added = (extra: Record<string, unknown>, model = 'gpt-4o') => countRequestPromptTokens(ask(extra, model)) - countRequestPromptTokens(ask({}, model));

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_current_weather',
    description: 'Get the current weather in a given location',
    parameters: {
      type: 'object',
      properties: {
        location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' },
        unit: { type: 'string', description: 'The unit of temperature to return', enum: ['celsius', 'fahrenheit'] },
      },
      required: ['location'],
    },
  },
};

/** The OpenAI cookbook's num_tokens_for_tools for gpt-4o, written out independently as the reference. */
function cookbookToolsTokens(tools: (typeof weatherTool)[]): number {
  let total = 0;
  for (const { function: f } of tools) {
    total += 7 + tok(`${f.name}:${f.description.replace(/\.$/, '')}`);
    const props = Object.entries(f.parameters.properties) as [string, { type: string; description: string; enum?: string[] }][];
    if (props.length > 0) total += 3;
    for (const [key, p] of props) {
      total += 3;
      if (p.enum) total += -3 + p.enum.reduce((sum, item) => sum + 3 + tok(item), 0);
      total += tok(`${key}:${p.type}:${p.description.replace(/\.$/, '')}`);
    }
  }
  return total + 12;
}

/** Text that tokenizes like prose (about 4.5 characters a token). */
function prose(chars: number): string {
  const words = 'the quick brown fox jumps over the lazy dog while engineers review holds and wallets carefully'.split(' ');
  let out = '';
  for (let i = 0; out.length < chars; i++) out += words[(i * 7919) % words.length] + (i % 11 === 0 ? '. ' : ' ');
  return out.slice(0, chars);
}

describe('messages', () => {
  test('plain messages count as OpenAI documents: 3 per message, 1 per name, 3 to prime the reply', () => {
    const body = ask();
    body.messages.push({ role: 'user', content: 'And tomorrow?', name: 'alice' } as any);
    const expected = 3 + body.messages.reduce((sum, m: any) => sum + 3 + tok(m.role) + tok(m.content) + (m.name ? 1 + tok(m.name) : 0), 0);
    expect(countRequestPromptTokens(body)).toBe(expected);
    expect(countMessagesTokens(body.messages)).toBe(expected);
  });

  test('a long name is counted in full', () => {
    const name = prose(20_000);
    const body = ask();
    const withName = { ...body, messages: [...body.messages, { role: 'user', content: 'hi', name }] };
    const withoutName = { ...body, messages: [...body.messages, { role: 'user', content: 'hi' }] };
    expect(countRequestPromptTokens(withName) - countRequestPromptTokens(withoutName)).toBe(1 + tok(name));
  });

  test('assistant tool_calls count their name and arguments; function_call too', () => {
    const args = JSON.stringify({ location: 'San Francisco, CA', notes: prose(5000) });
    const call = { id: 'call_abc123', type: 'function', function: { name: 'get_current_weather', arguments: args } };
    const withCalls = ask();
    withCalls.messages.push({ role: 'assistant', content: null, tool_calls: [call] } as any);
    const withoutCalls = ask();
    withoutCalls.messages.push({ role: 'assistant', content: null } as any);
    const delta = countRequestPromptTokens(withCalls) - countRequestPromptTokens(withoutCalls);
    expect(delta).toBeGreaterThanOrEqual(tok('get_current_weather') + tok(args));
    expect(delta).toBeLessThan(tok('get_current_weather') + tok(args) + 30);

    const legacy = ask();
    legacy.messages.push({ role: 'assistant', content: null, function_call: { name: 'get_current_weather', arguments: args } } as any);
    expect(countRequestPromptTokens(legacy) - countRequestPromptTokens(withoutCalls)).toBeGreaterThanOrEqual(tok(args));
  });

  test('tool results count their content and tool_call_id', () => {
    const result = ask();
    result.messages.push({ role: 'tool', tool_call_id: 'call_abc123', content: prose(3000) } as any);
    expect(countRequestPromptTokens(result) - countRequestPromptTokens(ask())).toBe(3 + tok('tool') + tok('call_abc123') + tok(prose(3000)));
  });
});

describe('tools, functions, tool_choice, response_format', () => {
  test('tools add at least the cookbook estimate, and not wildly more', () => {
    const reference = cookbookToolsTokens([weatherTool]);
    const delta = added({ tools: [weatherTool] });
    expect(delta).toBeGreaterThanOrEqual(reference);
    expect(delta).toBeLessThanOrEqual(2 * reference);
  });

  test('an enum-heavy tool is never below the cookbook estimate', () => {
    const tool = structuredClone(weatherTool);
    tool.function.parameters.properties.unit.enum = Array.from({ length: 500 }, (_, i) => `u${i}`);
    expect(added({ tools: [tool] })).toBeGreaterThanOrEqual(cookbookToolsTokens([tool]));
  });

  test('legacy functions count like tools; tool_choice naming a function counts', () => {
    expect(added({ functions: [weatherTool.function] })).toBe(added({ tools: [weatherTool] }));
    const choice = { type: 'function', function: { name: 'get_current_weather' } };
    expect(added({ tools: [weatherTool], tool_choice: choice })).toBeGreaterThan(added({ tools: [weatherTool] }) + tok('get_current_weather') - 1);
  });

  test('nested parameter schemas count (the cookbook ignores them)', () => {
    const nested = structuredClone(weatherTool) as any;
    nested.function.parameters.properties.details = { type: 'object', properties: { history: { type: 'string', description: prose(4000) } } };
    expect(added({ tools: [nested] }) - added({ tools: [weatherTool] })).toBeGreaterThanOrEqual(tok(prose(4000)));
  });

  test('a json_schema response_format counts its schema', () => {
    const schema = { type: 'object', properties: { answer: { type: 'string', description: prose(4000) } }, required: ['answer'] };
    const delta = added({ response_format: { type: 'json_schema', json_schema: { name: 'answer', strict: true, schema } } });
    expect(delta).toBeGreaterThanOrEqual(tok(JSON.stringify(schema)));
  });

  test('3 MB of tool definitions count at least about as much as 3 MB of message text', () => {
    const text = prose(3_000_000);
    const tools = Array.from({ length: 300 }, (_, i) => ({ type: 'function', function: { name: `tool_${i}`, description: text.slice(i * 10_000, (i + 1) * 10_000), parameters: { type: 'object', properties: {} } } }));
    const asTools = added({ tools });
    const asMessage = countRequestPromptTokens({ model: 'gpt-4o', messages: [{ role: 'user', content: text }] });
    expect(asTools).toBeGreaterThanOrEqual(0.95 * asMessage);
    expect(asTools).toBeLessThanOrEqual(1.2 * asMessage);
  });

  test('unknown fields count as their JSON text, generation settings do not', () => {
    const documents = [{ title: 'Manual', text: prose(5000) }];
    expect(added({ documents })).toBeGreaterThanOrEqual(tok(prose(5000)));
    expect(added({ temperature: 0.2, max_tokens: 100, n: 2, seed: 7, stream: true, metadata: { a: 'b' }, user: 'u-1' })).toBe(0);
  });
});

describe('content parts', () => {
  const withParts = (parts: unknown[], model = 'gpt-4o') => ({ model, messages: [{ role: 'user', content: [{ type: 'text', text: 'What is in this image?' }, ...parts] }] });
  const partTokens = (parts: unknown[], model = 'gpt-4o') => countRequestPromptTokens(withParts(parts, model)) - countRequestPromptTokens(withParts([], model));
  const image = (detail?: string) => ({ type: 'image_url', image_url: { url: 'https://example.com/cat.png', ...(detail ? { detail } : {}) } });

  test('GPT-4o images: 85 tokens at low detail, the largest tiling (85 + 8 x 170) when the size is unknown', () => {
    expect(partTokens([image('low')])).toBe(85);
    expect(partTokens([image('high')])).toBe(85 + 170 * 8);
    expect(partTokens([image()])).toBe(85 + 170 * 8);
    expect(partTokens([image('low'), image('low'), image('auto')])).toBe(85 + 85 + 1445);
  });

  test('models that bill images differently: gpt-4o-mini tiles, gpt-4.1-mini patches', () => {
    expect(partTokens([image('low')], 'gpt-4o-mini')).toBe(2833);
    expect(partTokens([image('high')], 'gpt-4o-mini')).toBe(2833 + 5667 * 8);
    expect(partTokens([image('low')], 'gpt-4.1-mini')).toBe(Math.ceil(1536 * 1.62));
  });

  test('the tiling follows the documented examples, and no image size needs more than the bound', () => {
    expect(countImageTokens(DEFAULT_IMAGE_PRICING, 'high', { widthPx: 1024, heightPx: 1024 })).toBe(765);
    expect(countImageTokens(DEFAULT_IMAGE_PRICING, 'high', { widthPx: 2048, heightPx: 4096 })).toBe(1105);
    let most = 0;
    for (let w = 16; w <= 8192; w += 61) for (let h = 16; h <= 8192; h += 67) most = Math.max(most, imageTileCount({ widthPx: w, heightPx: h }));
    expect(most).toBe(MAX_TILES);
    expect(imageTileCount({ widthPx: 768, heightPx: 2048 })).toBe(MAX_TILES);
  });

  test('an inline image (data URL) is counted at the size its PNG, GIF or JPEG header gives', () => {
    const dataUrl = (mime: string, bytes: number[]) => ({ type: 'image_url', image_url: { url: `data:${mime};base64,${Buffer.from(bytes).toString('base64')}` } });
    const be32 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
    const be16 = (n: number) => [n >> 8, n & 255];
    const png = (w: number, h: number) => [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, ...Buffer.from('IHDR'), ...be32(w), ...be32(h), 8, 6, 0, 0, 0, 0, 0, 0, 0];
    const gif = (w: number, h: number) => [...Buffer.from('GIF89a'), w & 255, w >> 8, h & 255, h >> 8, 0, 0, 0];
    // SOI, an APP0 segment, a DQT segment, then the SOF0 frame header.
    const jpeg = (w: number, h: number) => [0xff, 0xd8, 0xff, 0xe0, ...be16(16), ...new Array(14).fill(0), 0xff, 0xdb, ...be16(67), ...new Array(65).fill(1), 0xff, 0xc0, ...be16(17), 8, ...be16(h), ...be16(w), 3, ...new Array(9).fill(0)];
    expect(partTokens([dataUrl('image/png', png(256, 256))])).toBe(85 + 170);
    expect(partTokens([dataUrl('image/gif', gif(1024, 1024))])).toBe(765);
    expect(partTokens([dataUrl('image/jpeg', jpeg(2048, 4096))])).toBe(1105);
    expect(partTokens([dataUrl('image/png', png(256, 256))], 'gpt-4.1-mini')).toBe(Math.ceil(64 * 1.62));
    // Unknown format, empty size, or a header that is not there: the largest size.
    expect(partTokens([dataUrl('image/webp', [...Buffer.from('RIFF'), 0, 0, 0, 0, ...Buffer.from('WEBPVP8 '), ...new Array(20).fill(0)])])).toBe(1445);
    expect(partTokens([dataUrl('image/png', png(0, 256))])).toBe(1445);
    expect(partTokens([dataUrl('image/jpeg', jpeg(64, 64).slice(0, 30))])).toBe(1445);
  });

  test('audio, files and unknown parts are held at an upper bound', () => {
    const data = Buffer.from(crypto.getRandomValues(new Uint8Array(30_000))).toString('base64');
    expect(partTokens([{ type: 'input_audio', input_audio: { data, format: 'wav' } }])).toBeGreaterThanOrEqual(data.length);
    // A file the upstream resolves by id: 100 pages of text and page images.
    expect(partTokens([{ type: 'file', file: { file_id: 'file-abc' } }])).toBeGreaterThanOrEqual(100 * (1000 + 1445));
    const odd = { type: 'video_frame', payload: prose(4000) };
    expect(partTokens([odd])).toBeGreaterThanOrEqual(tok(prose(4000)));
  });
});

describe('speed and bounds', () => {
  function rnd(n: number, alphabet: string): string {
    let x = 12345;
    let s = '';
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      s += alphabet[x % alphabet.length];
    }
    return s;
  }
  const MiB = 1024 * 1024;
  const worst: Record<string, string> = {
    'one letter': 'a'.repeat(4 * MiB - 200),
    spaces: ' '.repeat(4 * MiB - 200),
    'random letters': rnd(4 * MiB - 200, 'abcdefghijklmnopqrstuvwxyz'),
    'random punctuation': rnd(4 * MiB - 200, '!#$%&*+-.:;<=>?@^_|~'),
    'punctuation then newlines': '!' + '/\n'.repeat(2 * MiB - 100),
  };

  for (const [name, text] of Object.entries(worst)) {
    test(`a 4 MiB tool description of ${name} is counted in under 1.5 s (the exact count took up to 3.6 s)`, () => {
      const started = performance.now();
      const n = countRequestPromptTokens({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'f', description: text } }] });
      const ms = performance.now() - started;
      expect(n).toBeGreaterThan(0);
      // The exact counter took 1.5 to 3.6 s on these (2 shared cores); the bound leaves room for a loaded machine.
      expect(ms).toBeLessThan(1500);
    });
  }

  test('where the exact count is slow the bound is at least the exact count and close to it', () => {
    for (const sample of [rnd(200_000, 'abcdefghijklmnopqrstuvwxyz'), rnd(100_000, '的一是不了人我在有他这为之大来以个中上们'), 'a'.repeat(200_000)]) {
      const exact = countTokens(sample);
      const bound = countPromptTextTokens(sample);
      expect(bound).toBeGreaterThanOrEqual(exact);
      expect(bound).toBeLessThanOrEqual(exact * 1.15);
    }
  });

  test('the pre-tokenizer never puts a piece across a "sure boundary" (except inside a run of digits)', () => {
    const alphabet = ['a', 'B', 'z', 'é', 'Ж', '東', '😀', '\u0301', '1', '9', '٣', ' ', '  ', '\t', '\n', '\r\n', "'", "'s", '.', ',', '/', '!', '"', '-', '_', '<|', '\u00a0', '\u3000', '。'];
    const split = new RegExp(O200K_SPLIT_PATTERN, 'gu');
    let x = 7;
    for (let round = 0; round < 400; round++) {
      let sample = '';
      for (let i = 0; i < 200; i++) {
        x = (x * 1103515245 + 12345) & 0x7fffffff;
        sample += alphabet[x % alphabet.length];
      }
      for (const m of sample.matchAll(split))
        for (let i = m.index! + 1; i < m.index! + m[0].length; i++)
          if (promptTextInternals.sureBoundary(sample, i)) expect(/^\p{N}+$/u.test(m[0]) ? 'digits' : JSON.stringify(m[0])).toBe('digits');
    }
  });

  test('base64 blobs count one token a character, at least their exact count; short or letter-only runs stay exact', () => {
    const blob = Buffer.from(crypto.getRandomValues(new Uint8Array(30_000))).toString('base64');
    const framed = `Here is the file: ${blob} and that was it.`;
    expect(countPromptTextTokens(framed)).toBeGreaterThanOrEqual(countTokens(framed));
    expect(countPromptTextTokens(framed)).toBeLessThanOrEqual(blob.length + countTokens('Here is the file: and that was it.') + 4);
    const short = blob.slice(0, promptTextInternals.BASE64_RUN_CHARS - 1);
    expect(countPromptTextTokens(`x ${short} y`)).toBe(countTokens(`x ${short} y`));
  });

  test('ordinary text is counted exactly', () => {
    for (const sample of [prose(500_000), 'Größe 東京 данные 😀 '.repeat(20_000), JSON.stringify(weatherTool).repeat(2000)])
      expect(countPromptTextTokens(sample)).toBe(countTokens(sample));
  });
});
