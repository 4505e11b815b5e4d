/** Small building blocks shared by every page: async state, tables, dialogs, charts. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState, useCallback } from 'preact/hooks';
import uPlot from 'uplot';
import { ApiFailure } from './api';

export type Async<T> = { data: T | null; error: string | null; loading: boolean; reload: () => void };

/** Runs `load` when a dependency changes; keeps loading and error state for the view. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data: T | null; error: string | null; loading: boolean }>({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (e) => live && setState({ data: null, error: messageOf(e), loading: false }),
    );
    return () => { live = false; };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { ...state, reload };
}

export const messageOf = (e: unknown) => (e instanceof ApiFailure || e instanceof Error ? e.message : String(e));

/** Loading, error or the content of an async view. */
export function View<T>({ of, children, empty }: { of: Async<T>; children: (data: T) => ComponentChildren; empty?: (data: T) => ComponentChildren | null }) {
  if (of.loading && of.data === null) return <p class="muted" role="status" aria-live="polite">Loading…</p>;
  if (of.error) return <ErrorBox message={of.error} retry={of.reload} />;
  if (of.data === null) return null;
  const none = empty?.(of.data);
  return <>{none ?? children(of.data)}</>;
}

export function ErrorBox({ message, retry }: { message: string; retry?: () => void }) {
  return (
    <div class="error" role="alert">
      <span>{message}</span>
      {retry && <button type="button" class="secondary" onClick={retry}>Try again</button>}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return <div class="empty"><strong>{title}</strong>{children && <div>{children}</div>}</div>;
}

export function Stat({ label, value, hint }: { label: string; value: ComponentChildren; hint?: string }) {
  return <div class="stat"><span class="stat-label">{label}</span><span class="stat-value">{value}</span>{hint && <span class="muted small">{hint}</span>}</div>;
}

export function Card({ title, children, actions }: { title?: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="card">
      {(title || actions) && <header class="card-head">{title && <h2>{title}</h2>}{actions}</header>}
      {children}
    </section>
  );
}

/** A form whose submit runs `action`, showing its error and a busy state. */
export function useSubmit(action: () => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (ev?: Event) => {
    ev?.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, submit, setError };
}

let fieldSeq = 0;
/** A labelled input (the label is tied to the control for screen readers). */
export function Field({ label, hint, children }: { label: string; hint?: string; children: (id: string) => ComponentChildren }) {
  const id = useRef(`f${++fieldSeq}`).current;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children(id)}
      {hint && <span class="muted small">{hint}</span>}
    </div>
  );
}

/** The native dialog element: focus moves in and back, Escape closes. */
/** A native dialog element shown as a modal while `open`. */
function useModal(open: boolean) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return ref;
}

export function Dialog({ open, title, onClose, children }: { open: boolean; title: string; onClose: () => void; children: ComponentChildren }) {
  const ref = useModal(open);
  return (
    <dialog ref={ref} onClose={onClose} aria-labelledby={`${title}-title`}>
      <header class="card-head"><h2 id={`${title}-title`}>{title}</h2><button type="button" class="icon" aria-label="Close" onClick={onClose}>×</button></header>
      {open && children}
    </dialog>
  );
}

/** A drawer from the right (full width on a phone) holding detail. */
export function Drawer({ open, title, onClose, children }: { open: boolean; title: string; onClose: () => void; children: ComponentChildren }) {
  const ref = useModal(open);
  return (
    <dialog ref={ref} class="drawer" onClose={onClose} aria-label={title}>
      <header class="card-head"><h2>{title}</h2><button type="button" class="icon" aria-label="Close" onClick={onClose}>×</button></header>
      {open && children}
    </dialog>
  );
}

export function Confirm({ open, text, confirmLabel, onConfirm, onClose }: { open: boolean; text: string; confirmLabel: string; onConfirm: () => Promise<void>; onClose: () => void }) {
  const { busy, error, submit } = useSubmit(async () => { await onConfirm(); onClose(); });
  return (
    <Dialog open={open} title="Please confirm" onClose={onClose}>
      <p>{text}</p>
      {error && <ErrorBox message={error} />}
      <div class="row end">
        <button type="button" class="secondary" onClick={onClose}>Cancel</button>
        <button type="button" class="danger" disabled={busy} onClick={() => submit()}>{busy ? 'Working…' : confirmLabel}</button>
      </div>
    </Dialog>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button type="button" class="secondary small" onClick={async () => {
      try { await navigator.clipboard.writeText(text); setDone(true); setTimeout(() => setDone(false), 1500); } catch { /* clipboard refused: the text stays selectable */ }
    }}>{done ? 'Copied' : label}</button>
  );
}

export function Tabs({ tabs, current, hrefOf }: { tabs: Array<[string, string]>; current: string; hrefOf: (id: string) => string }) {
  return (
    <nav class="tabs" aria-label="Sections">
      {tabs.map(([id, label]) => <a href={hrefOf(id)} aria-current={id === current ? 'page' : undefined}>{label}</a>)}
    </nav>
  );
}

export function Badge({ tone, children }: { tone: 'ok' | 'warn' | 'bad' | 'info'; children: ComponentChildren }) {
  return <span class={`badge ${tone}`}>{children}</span>;
}

/** Series colours of the charts (distinct in both themes). */
export const CHART_COLORS = ['#2563eb', '#16a34a', '#d97706', '#dc2626', '#7c3aed'];

/**
 * Newer/older paging over a cursor-paged list: `cursor` is the page shown (null: the newest); the cursors of the
 * pages before it are kept to go back. `reset()` returns to the newest page (a new search).
 */
export function useCursorPages() {
  const [cursor, setCursor] = useState<string | null>(null);
  const [previous, setPrevious] = useState<Array<string | null>>([]);
  return {
    cursor,
    hasNewer: previous.length > 0,
    reset: () => { setCursor(null); setPrevious([]); },
    newer: () => { const p = [...previous]; setCursor(p.pop() ?? null); setPrevious(p); },
    older: (next: string | null) => { setPrevious([...previous, cursor]); setCursor(next); },
  };
}

/** The Newer and Older buttons of a page that says whether there is more and where it continues. */
export function PageButtons({ pages, page }: { pages: ReturnType<typeof useCursorPages>; page: { has_more: boolean; next_cursor: string | null } }) {
  return (
    <div class="row end">
      <button type="button" class="secondary small" disabled={!pages.hasNewer} onClick={pages.newer}>Newer</button>
      <button type="button" class="secondary small" disabled={!page.has_more} onClick={() => pages.older(page.next_cursor)}>Older</button>
    </div>
  );
}

/** A uPlot chart of daily series: dates on x, one line (or bars) per series; redrawn on resize and theme change. */
export function Chart({ days, series, bars = false, height = 220, label }: {
  days: string[]; series: Array<{ label: string; values: number[]; color: string; format?: (v: number) => string }>; bars?: boolean; height?: number; label: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el || days.length === 0) return;
    const xs = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
    const text = getComputedStyle(document.documentElement).getPropertyValue('--text').trim() || '#222';
    const grid = getComputedStyle(document.documentElement).getPropertyValue('--line').trim() || '#ddd';
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height,
      series: [{}, ...series.map((s) => ({
        label: s.label, stroke: s.color, width: 2, fill: bars ? s.color + '55' : undefined,
        paths: bars ? uPlot.paths.bars!({ size: [0.6, 40] }) : undefined,
        value: (_u: uPlot, v: number | null) => (v === null ? '—' : s.format ? s.format(v) : v.toLocaleString()),
      }))],
      axes: [
        { stroke: text, grid: { stroke: grid } },
        {
          stroke: text, grid: { stroke: grid },
          values: (_u, vals) => vals.map((v) => (series[0]?.format ? series[0].format(v) : v.toLocaleString())),
          // Wide enough for the longest label (money labels such as $0.0075 would be clipped by a fixed width).
          size: (_u, values) => (values ? Math.max(40, Math.max(...values.map((v) => String(v).length)) * 7 + 18) : 40),
        },
      ],
      scales: { x: { time: true } },
    };
    const plot = new uPlot(opts, [xs, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const resize = () => plot.setSize({ width: Math.max(280, el.clientWidth), height });
    const ro = new ResizeObserver(resize);
    ro.observe(el);
    return () => { ro.disconnect(); plot.destroy(); };
  }, [JSON.stringify(days), JSON.stringify(series.map((s) => [s.label, s.values])), bars]);
  if (days.length === 0) return <Empty title="No data in this range yet" />;
  return <figure class="chart" aria-label={label}><div ref={box} /></figure>;
}

/** The days from `from` to `to` (inclusive), so charts show days without activity as zero. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

export function RangePicker({ value, onChange }: { value: number; onChange: (days: number) => void }) {
  return (
    <label class="inline">Range{' '}
      <select value={String(value)} onChange={(e) => onChange(Number((e.target as HTMLSelectElement).value))}>
        <option value="7">Last 7 days</option>
        <option value="30">Last 30 days</option>
        <option value="90">Last 90 days</option>
      </select>
    </label>
  );
}
