/** Publisher pages: the overview across projects, earnings and conversations of one project. */
import { useState } from 'preact/hooks';
import { api } from '../api';
import { dayOffset, money, num, when } from '../format';
import { Badge, CHART_COLORS as COLORS, Card, Chart, Drawer, Empty, RangePicker, Stat, View, daysBetween, useAsync, PageButtons, useCursorPages } from '../ui';
import { useProjectsOverview, type Project } from './projects';


/** Sums per-day series of several projects onto one day axis. */
function byDay(days: string[], rows: Array<{ date: string; value: number }>): number[] {
  const m = new Map<string, number>();
  for (const r of rows) m.set(r.date, (m.get(r.date) ?? 0) + r.value);
  return days.map((d) => m.get(d) ?? 0);
}

export function PublisherOverview() {
  const [range, setRange] = useState(30);
  const data = useProjectsOverview('publisher', range, async (p, from, to) => ({
    earnings: await api('GET', `/projects/${p.id}/earnings?limit=1`),
    usage: await api('GET', `/projects/${p.id}/usage?from=${from}&to=${to}`),
    analytics: await api('GET', `/projects/${p.id}/analytics?from=${from}&to=${to}`),
  }));
  return (
    <>
      <div class="page-head"><h1>Publisher overview</h1><RangePicker value={range} onChange={setRange} /></div>
      <View of={data} empty={(d) => (d.per.length === 0 ? <Empty title="No projects yet"><a href="#/publisher/projects">Create your first project</a> to get API keys.</Empty> : null)}>
        {({ per, days }) => {
          const sum = (f: (x: (typeof per)[number]) => number) => per.reduce((n, x) => n + f(x), 0);
          const usage = per.flatMap((x) => x.usage.days);
          const daily = per.flatMap((x) => x.analytics.daily);
          return (
            <>
              <div class="stats">
                <Stat label="Credit balance" value={money(sum((x) => x.wallet.available_micros))} hint="available across projects" />
                <Stat label="Earnings available" value={money(sum((x) => x.earnings.available_micros))} />
                <Stat label="Earnings pending" value={money(sum((x) => x.earnings.pending_micros))} hint="released after the hold period" />
                <Stat label="Monetized projects" value={`${per.filter((x) => x.project.monetization).length} of ${per.length}`} />
              </div>
              <Card title="Requests and tokens per day">
                <Chart label="Requests per day" days={days} series={[{ label: 'Requests', color: COLORS[0], values: byDay(days, usage.map((u: any) => ({ date: u.date, value: u.requests }))) }]} bars />
                <Chart label="Tokens per day" days={days} series={[{ label: 'Tokens', color: COLORS[4], values: byDay(days, usage.map((u: any) => ({ date: u.date, value: u.total_tokens }))) }]} />
              </Card>
              <Card title="Spend and earnings per day">
                <Chart label="Spend and earnings per day" days={days} series={[
                  { label: 'Spend', color: COLORS[3], format: (v) => money(v), values: byDay(days, usage.map((u: any) => ({ date: u.date, value: u.cost_micros }))) },
                  { label: 'Earnings', color: COLORS[1], format: (v) => money(v), values: byDay(days, daily.map((d: any) => ({ date: d.date, value: d.earnings_micros }))) },
                ]} />
              </Card>
              <Card title="Impressions and clicks per day">
                <Chart label="Impressions and clicks per day" days={days} bars series={[
                  { label: 'Impressions', color: COLORS[0], values: byDay(days, daily.map((d: any) => ({ date: d.date, value: d.impressions }))) },
                  { label: 'Clicks', color: COLORS[2], values: byDay(days, daily.map((d: any) => ({ date: d.date, value: d.valid_clicks }))) },
                ]} />
              </Card>
              <Card title="Projects">
                <div class="table-wrap"><table>
                  <thead><tr><th>Project</th><th class="num">Requests</th><th class="num">Tokens</th><th class="num">Spend</th><th class="num">Impressions</th><th class="num">Clicks</th><th class="num">Earnings</th></tr></thead>
                  <tbody>{per.map((x) => (
                    <tr><td><a href={`#/publisher/projects/${x.project.id}`}>{x.project.name}</a></td><td class="num">{num(x.usage.requests)}</td><td class="num">{num(x.usage.total_tokens)}</td>
                      <td class="num">{money(x.usage.cost_micros)}</td><td class="num">{num(x.analytics.totals.impressions)}</td><td class="num">{num(x.analytics.totals.valid_clicks)}</td><td class="num">{money(x.analytics.totals.earnings_micros)}</td></tr>
                  ))}</tbody>
                </table></div>
              </Card>
            </>
          );
        }}
      </View>
    </>
  );
}

export function EarningsTab({ project }: { project: Project }) {
  const e = useAsync(() => api('GET', `/projects/${project.id}/earnings?limit=50`), [project.id]);
  const from = dayOffset(29);
  const a = useAsync(() => api('GET', `/projects/${project.id}/analytics?from=${from}&to=${dayOffset(0)}`), [project.id]);
  return (
    <>
      <View of={e}>
        {(x: any) => (
          <>
            <div class="stats">
              <Stat label="Available" value={money(x.available_micros)} />
              <Stat label="Pending" value={money(x.pending_micros)} hint="clicks still in their hold period" />
              <Stat label="Total earned" value={money(x.total_micros)} />
            </div>
            <Card title="Earnings transactions">
              {x.transactions.length === 0 ? <Empty title="No earnings yet">Turn monetization on (Settings); each valid click on a promotion in your answers earns your share.</Empty> : (
                <div class="table-wrap"><table>
                  <thead><tr><th>When</th><th>Type</th><th>Status</th><th class="num">Amount</th><th>Available from</th></tr></thead>
                  <tbody>{x.transactions.map((t: any) => <tr><td>{when(t.created_at)}</td><td>{t.type}</td><td>{t.status}</td><td class="num">{money(t.amount_micros)}</td><td>{when(t.available_at)}</td></tr>)}</tbody>
                </table></div>
              )}
            </Card>
          </>
        )}
      </View>
      <View of={a}>
        {(r: any) => {
          const days = daysBetween(r.from, r.to);
          const reasons = [...new Set(Object.values(r.daily_no_fill ?? {}).flatMap((d: any) => Object.keys(d)))];
          return (
            <Card title="Answers without a promotion, by reason (last 30 days)">
              {reasons.length === 0 ? <p class="muted">No unfilled answers recorded in this range.</p> : (
                <Chart label="No-fill reasons per day" days={days} bars series={reasons.map((reason, i) => ({ label: reason.replace(/_/g, ' '), color: COLORS[i % COLORS.length], values: days.map((d) => (r.daily_no_fill[d]?.[reason] ?? 0)) }))} />
              )}
            </Card>
          );
        }}
      </View>
    </>
  );
}

export function ConversationsTab({ project }: { project: Project }) {
  const [q, setQ] = useState('');
  const [search, setSearch] = useState('');
  const pages = useCursorPages();
  const [open, setOpen] = useState<string | null>(null);
  const list = useAsync(() => api('GET', `/projects/${project.id}/conversations?limit=20${search ? `&q=${encodeURIComponent(search)}` : ''}${pages.cursor ? `&cursor=${encodeURIComponent(pages.cursor)}` : ''}`), [project.id, search, pages.cursor]);
  return (
    <>
      <form class="row" role="search" onSubmit={(e) => { e.preventDefault(); pages.reset(); setSearch(q.trim()); }}>
        <label class="inline grow"><span class="sr-only">Search conversations</span><input type="search" placeholder="Search messages or conversation ids" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} /></label>
        <button type="submit">Search</button>
      </form>
      <View of={list} empty={(l: any) => (l.data.length === 0 ? <Empty title={search ? 'No conversation matches' : 'No conversations yet'}>{search ? 'Try other words.' : 'Send a chat completion with one of this project\'s keys; add an x-conversation-id header to group turns.'}</Empty> : null)}>
        {(l: any) => (
          <>
            <div class="table-wrap"><table>
              <thead><tr><th>Conversation</th><th>First user message</th><th class="num">Messages</th><th>Created</th><th>Updated</th></tr></thead>
              <tbody>{l.data.map((c: any) => (
                <tr><td><button type="button" class="link" onClick={() => setOpen(c.id)}>{c.id}</button>{!c.tracked && <span class="muted small"> (single request)</span>}</td>
                  <td class="clip">{c.first_user_message ?? '—'}</td><td class="num">{c.message_count}</td><td>{when(c.created_at)}</td><td>{when(c.updated_at)}</td></tr>
              ))}</tbody>
            </table></div>
            <PageButtons pages={pages} page={l} />
          </>
        )}
      </View>
      <Drawer open={open !== null} title={`Conversation ${open ?? ''}`} onClose={() => setOpen(null)}>
        {open && <ConversationDetail project={project} id={open} />}
      </Drawer>
    </>
  );
}

function ConversationDetail({ project, id }: { project: Project; id: string }) {
  const c = useAsync(() => api('GET', `/projects/${project.id}/conversations/${encodeURIComponent(id)}`), [id]);
  return (
    <View of={c}>
      {(x: any) => {
        const promoByRequest = new Map<string, any>(x.promotions.map((p: any) => [p.request_id, p]));
        return (
          <div class="chat">
            {x.messages.map((m: any) => {
              const promo = m.role === 'assistant' && m.request_id ? promoByRequest.get(m.request_id) : undefined;
              return (
                <article class={`bubble ${m.role}`}>
                  <header><strong>{m.role}</strong>{m.model && <span> · {m.model}</span>}<time> · {when(m.created_at)}</time></header>
                  <p class="content">{m.content}</p>
                  {m.role === 'assistant' && (
                    <footer class="small muted">
                      {m.usage && <span>{num(m.usage.prompt_tokens)} in + {num(m.usage.completion_tokens)} out tokens · </span>}
                      <span data-testid="message-cost">cost {money(m.cost_micros)}</span>
                      {m.latency_ms !== null && <span> · {num(m.latency_ms)} ms</span>}
                      {m.streamed !== null && <span> · {m.streamed ? 'streamed' : 'not streamed'}</span>}
                      {m.end_user && <span> · end user {m.end_user}</span>}
                    </footer>
                  )}
                  {promo && (
                    <p class="promo small">Promotion shown: <strong>{promo.product_name}</strong> · {promo.click_status ? <Badge tone={promo.click_status === 'charged' ? 'ok' : 'warn'}>clicked ({promo.click_status})</Badge> : <Badge tone="info">not clicked</Badge>}</p>
                  )}
                </article>
              );
            })}
            {x.has_more && <p class="muted small">Older messages beyond the first {x.messages.length} are not shown.</p>}
          </div>
        );
      }}
    </View>
  );
}
