/**
 * What the benchmark sets up in a running gateway through its admin API: funded publisher projects with a
 * key pair, and an advertiser whose campaigns match the benchmark's questions (scripts/wrk/conversation.lua).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const ADMIN_TOKEN = 'bench-token';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * dist/vexrail under `root`, built first when missing or when `rebuild` is set (`say` tells which); `stale`
 * when it is older than the newest file in src/ (or package.json), so a run would not measure the current code.
 */
export function compiledGateway(root: string, rebuild: boolean, say: (line: string) => void): { binary: string; stale: boolean } {
  const binary = join(root, 'dist', 'vexrail');
  if (rebuild || !existsSync(binary)) {
    say(rebuild ? 'Rebuilding dist/vexrail (--rebuild)' : 'dist/vexrail not found: building it (npm run build)');
    if (Bun.spawnSync([process.execPath, join(root, 'scripts', 'build.ts')], { cwd: root, stdout: 'inherit', stderr: 'inherit' }).exitCode !== 0) throw new Error('build failed');
  }
  const srcMtime = Math.max(newestMtime(join(root, 'src')), statSync(join(root, 'package.json')).mtimeMs);
  return { binary, stale: srcMtime > statSync(binary).mtimeMs };
}

export async function admin(base: string, path: string, body: object | string, method = 'POST'): Promise<any> {
  const raw = typeof body === 'string';
  const res = await fetch(`${base}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': raw ? 'application/x-ndjson' : 'application/json' },
    body: method === 'GET' ? undefined : raw ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`admin ${method} ${path} -> ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

export type Caller = { projectId: string; publishableKey: string; secretKey: string };

/** A verified, funded publisher with a key pair; with `monetization`, a promotion is allowed on every turn. */
export async function setUpPublisher(base: string, name: string, monetization: boolean): Promise<Caller> {
  const project = await admin(base, '/projects', { name, domain: `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.example.com` });
  await admin(base, `/projects/${project.id}/domain/verify`, { method: 'manual' });
  await admin(base, `/projects/${project.id}/credits`, { amount: '100000.00' });
  const keys = await admin(base, `/projects/${project.id}/keys`, { name: 'bench' });
  if (!keys.publishable_key || !keys.secret_key) throw new Error(`key creation returned no key pair: ${JSON.stringify(keys)}`);
  if (monetization) {
    const patched = await admin(base, `/projects/${project.id}`, { monetization: true, frequency_cap_turns: 1 }, 'PATCH');
    if (patched.monetization !== true || patched.ad_settings?.frequency_cap_turns !== 1)
      throw new Error(`monetization did not switch on: ${JSON.stringify(patched).slice(0, 300)}`);
  }
  return { projectId: project.id, publishableKey: keys.publishable_key, secretKey: keys.secret_key };
}

/**
 * An advertiser (verified, funded) with about 1,000 products of the relevance fixture catalog in 6 active
 * campaigns; three of them (project tools, notes and CRM) match the benchmark's questions, so a promotion
 * can follow another one in the same conversation (the previous turn's campaign is left out).
 */
export async function setUpAdvertiser(base: string, root: string): Promise<{ products: number; campaigns: number }> {
  type Fixture = { name: string; description: string; url: string; keywords: string[]; category: string };
  const catalog: Fixture[] = readFileSync(join(root, 'test', 'fixtures', 'relevance', 'catalog.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const matching = catalog.filter((p) => p.category === 'project_management');
  const nearby = catalog.filter((p) => p.category === 'note_taking' || p.category === 'crm');
  const rest = catalog.filter((p) => !matching.includes(p) && !nearby.includes(p)).slice(0, Math.max(0, 1000 - matching.length - nearby.length));
  const advertiser = await admin(base, '/projects', { name: 'Bench advertiser', domain: 'bench-advertiser.example.com', kind: 'advertiser' });
  await admin(base, `/projects/${advertiser.id}/domain/verify`, { method: 'manual' });
  await admin(base, `/projects/${advertiser.id}/credits`, { amount: '100000.00' });
  // Product URLs must be on the advertiser's verified domain: the fixtures' paths move onto it.
  const imported = async (ps: Fixture[]) => {
    const lines = ps.map(({ name, description, url, keywords, category }) =>
      JSON.stringify({ name, description, url: `https://bench-advertiser.example.com${new URL(url).pathname}`, keywords, category })).join('\n');
    const report = await admin(base, `/projects/${advertiser.id}/products/import`, lines);
    if (report.failed > 0) throw new Error(`product import failed on ${report.failed} lines: ${JSON.stringify(report.errors.slice(0, 3))}`);
    return report.product_ids as string[];
  };
  const pm = await imported(matching);
  const near = await imported(nearby);
  const other = await imported(rest);
  const every = (xs: string[], n: number, k: number) => xs.filter((_, i) => i % n === k);
  const plan = [
    { name: 'Project tools: planning', context: 'Project management software for teams: task boards, timelines and workload planning.', base_cpc: '0.40', product_ids: every(pm, 3, 0) },
    { name: 'Project tools: collaboration', context: 'Tools that help teams manage projects, deadlines and shared to-do lists.', base_cpc: '0.35', product_ids: every(pm, 3, 1) },
    { name: 'Project tools: time', context: 'Time tracking and sprint planning apps for client projects and small remote teams.', base_cpc: '0.33', product_ids: every(pm, 3, 2) },
    { name: 'Notes and CRM', context: 'Note-taking apps and CRM for small businesses.', base_cpc: '0.30', product_ids: near },
    { name: 'Catalog A', context: 'Always-on catalog campaign.', base_cpc: '0.25', product_ids: every(other, 2, 0) },
    { name: 'Catalog B', context: 'Always-on catalog campaign.', base_cpc: '0.20', product_ids: every(other, 2, 1) },
  ];
  for (const c of plan) {
    const campaign = await admin(base, `/projects/${advertiser.id}/campaigns`, { ...c, budget: '100000.00' });
    await admin(base, `/projects/${advertiser.id}/campaigns/${campaign.id}/activate`, {});
  }
  return { products: pm.length + near.length + other.length, campaigns: plan.length };
}

/** Balance and open holds of a project's wallet after a run: every hold must be settled once the load stops. */
export async function walletNote(base: string, projectId: string): Promise<string> {
  try {
    const w = await admin(base, `/projects/${projectId}/wallet?limit=1`, {}, 'GET');
    return `balance ${w.balance} USD, held ${w.held} USD${w.held_micros === 0 ? ' (all holds settled)' : ' (HOLDS STILL OPEN)'}`;
  } catch (err) {
    return `wallet could not be read (${(err as Error).message})`;
  }
}
