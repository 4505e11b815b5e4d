/**
 * The promotion is chosen from the question, but only added once the finished answer is known: an answer
 * that itself turns out sensitive gets no promotion, even when the question was harmless.
 */
import { describe, expect, test } from 'bun:test';
import { advertiser, publisher } from '../helpers/market';
import { readSse } from '../helpers/test-app';
import { useUpstreamApp } from '../helpers/upstream-app';

const env = useUpstreamApp({ setUp: (t) => advertiser(t) });

const QUESTION = 'What project management tool can help my team track tasks and deadlines?';
const HARMLESS = 'Many teams use a shared board to plan work and track deadlines.';
const SENSITIVE = 'A shared board helps. If stress at work has you thinking about suicide, please call a crisis line today.';
const ask = (extra: Record<string, unknown> = {}) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: QUESTION }], ...extra });

async function recorded(publisherId: string) {
  await env.t.rt.market.flush();
  const impressions = (await env.t.store.stmt<{ n: number }>('SELECT count(*) AS n FROM impressions WHERE publisher_project_id = ?').get([publisherId]))!.n;
  const rows = await env.t.store.stmt<{ reason: string; count: number }>('SELECT reason, count FROM no_fill_daily WHERE publisher_project_id = ?').all([publisherId]);
  return { impressions, noFill: Object.fromEntries(rows.map((r) => [r.reason, r.count])) };
}

async function streamedText(res: Response): Promise<string> {
  const { frames } = await readSse(res);
  expect(frames.at(-1)).toBe('[DONE]');
  return frames.slice(0, -1).map((f) => JSON.parse(f).choices[0]?.delta?.content ?? '').join('');
}

describe('the finished answer is checked too', () => {
  test('non-stream: a harmless answer gets the promotion, a sensitive one is returned untouched', async () => {
    const control = await publisher(env.t, 'Finished Control');
    env.upstream.script({ kind: 'normal', content: HARMLESS });
    const shown = await (await env.t.chat(control.headers, ask())).json() as any;
    expect(shown.choices[0].message.content).toContain('*Sponsored:*');
    expect((await recorded(control.id)).impressions).toBe(1);

    const pub = await publisher(env.t, 'Finished Json');
    env.upstream.script({ kind: 'normal', content: SENSITIVE });
    const res = await env.t.chat(pub.headers, ask());
    expect(res.status).toBe(200);
    expect(res.headers.get('x-vexrail-impression')).toBeNull();
    expect(((await res.json()) as any).choices[0].message.content).toBe(SENSITIVE);
    expect(await recorded(pub.id)).toEqual({ impressions: 0, noFill: { sensitive_topic: 1 } });
  });

  test('stream: a sensitive answer ends with no promotion chunk and no impression', async () => {
    const control = await publisher(env.t, 'Finished Stream Control');
    env.upstream.script({ kind: 'normal', content: HARMLESS });
    expect(await streamedText(await env.t.chat(control.headers, ask({ stream: true })))).toContain('*Sponsored:*');

    const pub = await publisher(env.t, 'Finished Stream');
    env.upstream.script({ kind: 'normal', content: SENSITIVE });
    expect(await streamedText(await env.t.chat(pub.headers, ask({ stream: true })))).toBe(SENSITIVE);
    expect(await recorded(pub.id)).toEqual({ impressions: 0, noFill: { sensitive_topic: 1 } });
  });
});
