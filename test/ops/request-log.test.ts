import { describe, expect, test } from 'bun:test';
import { createRequestLog, formatJson, isoTimestamp, type LogLine } from '../../src/ops/request-log';

const LINE: LogLine = {
  request_id: 'req_1', method: 'POST', path: '/v1/chat/completions', status: 200, latency_ms: 812.456,
  project_id: 'proj_1', model: 'gpt-4o-mini', prompt_tokens: 12, completion_tokens: 40, cost_micros: 31, streamed: true, error_code: null,
};

function written(format: 'json' | 'logfmt' | 'pretty', lines: LogLine[]): string[] {
  const out: string[] = [];
  const log = createRequestLog((text) => out.push(text), true, format);
  for (const line of lines) log.write(line);
  expect(out).toEqual([]); // nothing is written on the request path
  log.flush();
  return out.join('').split('\n').filter(Boolean);
}

describe('request log formats', () => {
  test('json: the same text as JSON.stringify({ ts: toISOString(), ...line }), at any millisecond', () => {
    const times = [0, 5, 99, 100, 999, 1000, 1_764_970_867_123, 1_764_970_867_999, 1_764_970_868_000, 1_764_970_868_007, 253_402_300_799_999];
    const lines: LogLine[] = [LINE, { request_id: 'r', method: 'GET', path: '/a"b\\c\u0001', status: 404, latency_ms: 0.1, error_code: null }, { ...LINE, model: undefined, streamed: false }];
    for (const t of [...times, ...times.slice().reverse()]) {
      expect(isoTimestamp(t)).toBe(new Date(t).toISOString());
      for (const line of lines) expect(formatJson(t, line)).toBe(JSON.stringify({ ts: new Date(t).toISOString(), ...line }));
    }
    expect(formatJson(1000, {} as LogLine)).toBe('{"ts":"1970-01-01T00:00:01.000Z"}');
  });

  test('json: one object a line with an ISO timestamp first', () => {
    const [line] = written('json', [LINE]);
    const parsed = JSON.parse(line);
    expect(Object.keys(parsed)[0]).toBe('ts');
    expect(new Date(parsed.ts).toISOString()).toBe(parsed.ts);
    expect(parsed).toMatchObject({ ...LINE });
  });

  test('logfmt: key=value pairs, values with spaces, quotes or equals signs quoted', () => {
    const [line] = written('logfmt', [{ ...LINE, path: '/odd path="x"', error_code: 'upstream_error' }]);
    expect(line).toMatch(/^ts=\d{4}-\d\d-\d\dT[\d:.]+Z request_id=req_1 method=POST /);
    expect(line).toContain(' path="/odd path=\\"x\\"" ');
    expect(line).toContain(' status=200 latency_ms=812.456 ');
    expect(line).toContain(' cost_micros=31 streamed=true error_code=upstream_error');
    expect(line).not.toContain('undefined');
  });

  test('logfmt: null values are written as null, absent ones left out', () => {
    const [line] = written('logfmt', [{ request_id: 'r', method: 'GET', path: '/healthz', status: 200, latency_ms: 0.1, error_code: null }]);
    expect(line.split(' ').slice(1)).toEqual(['request_id=r', 'method=GET', 'path=/healthz', 'status=200', 'latency_ms=0.1', 'error_code=null']);
  });

  test('pretty: time, method, path, status, latency and the facts that matter', () => {
    const [line] = written('pretty', [LINE]);
    expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} POST   \/v1\/chat\/completions 200 812\.5ms model=gpt-4o-mini tokens=12\+40 cost=\$0\.000031 stream project=proj_1 req=req_1$/);
  });

  test('pretty: control characters in a path cannot reach the terminal', () => {
    const [line] = written('pretty', [{ ...LINE, path: '/x\u001b[2Jy' }]);
    expect(line).not.toContain('\u001b');
    expect(line).toContain('/x?[2Jy');
  });

  test('a disabled log writes nothing; the buffer is bounded', () => {
    const out: string[] = [];
    const off = createRequestLog((t) => out.push(t), false, 'logfmt');
    off.write(LINE);
    off.flush();
    expect(out).toEqual([]);
    const on = createRequestLog((t) => out.push(t), true, 'json');
    for (let i = 0; i < 50_010; i++) on.write({ ...LINE, request_id: `r${i}` });
    on.flush();
    const lines = out.join('').split('\n').filter(Boolean);
    expect(lines.length).toBe(50_000);
    expect(JSON.parse(lines[0]).request_id).toBe('r10');
  });
});
