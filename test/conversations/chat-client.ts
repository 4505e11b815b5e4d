import { expect } from 'bun:test';
import { readSse, type TestApp } from '../helpers/test-app';

export type Turn = { role: string; content: string };

/** How a client builds its request from what it has seen. */
export type SendMode =
  | { kind: 'full' }
  | { kind: 'latest'; withSystem: boolean }
  | { kind: 'window'; size: number; withSystem: boolean };

/**
 * A chat app talking to the gateway under one x-conversation-id. It keeps the true transcript (what it sent and
 * what it was answered) and sends, per request, the whole history, only the new question, or the last few
 * turns. The conversation the gateway stores must equal `transcript()`.
 */
export function chatClient(t: TestApp, headers: Record<string, string>, id: string, opts: { system?: string; model?: string } = {}) {
  const system: Turn | null = opts.system === undefined ? null : { role: 'system', content: opts.system };
  const turns: Turn[] = [];
  const answers: string[] = [];

  function request(question: Turn, mode: SendMode): Turn[] {
    const prompt = system && (turns.length === 0 || mode.kind === 'full' || mode.withSystem) ? [system] : [];
    if (mode.kind === 'full') return [...prompt, ...turns, question];
    if (mode.kind === 'latest') return [...prompt, question];
    return [...prompt, ...turns.slice(Math.max(0, turns.length - mode.size)), question];
  }

  async function send(question: string, mode: SendMode, extra: { stream?: boolean } = {}): Promise<string> {
    const q = { role: 'user', content: question };
    const res = await t.chat(headers, { model: opts.model ?? 'vexrail-demo', messages: request(q, mode), ...extra }, { 'x-conversation-id': id });
    expect(res.status).toBe(200);
    const answer = extra.stream ? streamedText(await readSse(res)) : ((await res.json()) as any).choices[0].message.content as string;
    turns.push(q, { role: 'assistant', content: answer });
    answers.push(answer);
    return answer;
  }

  return {
    send,
    /** Every turn exchanged so far, the system prompt first (sent with the first request). */
    transcript: (): Turn[] => (system ? [system, ...turns] : [...turns]),
    answers,
  };
}

function streamedText(sse: { frames: string[] }): string {
  return sse.frames
    .filter((f) => f !== '[DONE]')
    .map((f) => JSON.parse(f).choices?.[0]?.delta?.content ?? '')
    .join('');
}

/** The stored conversation as the API returns it (after writing everything queued). */
export async function storedTurns(t: TestApp, headers: Record<string, string>, id: string): Promise<Turn[]> {
  await t.rt.flushAll();
  const res = await t.call('GET', `/v1/conversations/${encodeURIComponent(id)}`, { headers });
  expect(res.status).toBe(200);
  const body = (await res.json()) as any;
  expect(body.has_more).toBe(false);
  expect(body.message_count).toBe(body.messages.length);
  body.messages.forEach((m: any, i: number) => expect(m.seq).toBe(i));
  return body.messages.map((m: any) => ({ role: m.role, content: m.content }));
}
