import type { Runtime } from './runtime';

/** First-start set-up: on a fresh data directory with --demo, a verified, funded demo project. */
export const DEMO_CREDITS_USD = '5.00';

export type DemoProject = { projectId: string; publishableKey: string; secretKey: string };

export async function seedDemoProject(rt: Runtime): Promise<DemoProject | null> {
  if ((await rt.projects.list(1, null)).length > 0) return null;
  const project = await rt.projects.create({ name: 'Demo project', domain: 'demo.localhost.test' });
  await rt.wallet.ensureWallet(project.id);
  await rt.projects.verifyDomain(project.id, 'manual');
  await rt.wallet.topUp(project.id, { amount: DEMO_CREDITS_USD, idempotency_key: 'demo-seed' });
  const pair = await rt.keys.generatePair(await rt.projects.get(project.id), 'Demo');
  return { projectId: project.id, publishableKey: pair.publishable_key, secretKey: pair.secret_key };
}

export function curlExample(baseUrl: string, model: string, demo: DemoProject): string {
  return [
    `curl ${baseUrl}/v1/chat/completions \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -H "x-publishable-key: ${demo.publishableKey}" \\`,
    `  -H "x-secret-key: ${demo.secretKey}" \\`,
    `  -H "x-conversation-id: conv-123" \\`,
    `  -d '{"model": "${model}", "messages": [{"role": "user", "content": "What tools can help me manage my projects?"}]}'`,
  ].join('\n');
}

export function firstProjectHelp(baseUrl: string): string {
  return [
    'No projects yet. Create one with the admin API:',
    `  curl -X POST ${baseUrl}/admin/v1/projects -H "Authorization: Bearer $VEXRAIL_ADMIN_TOKEN" \\`,
    `    -H "Content-Type: application/json" -d '{"name": "My app", "domain": "example.com"}'`,
    '  then verify its domain (POST /admin/v1/projects/{id}/domain/verify), add credits',
    '  (POST /admin/v1/projects/{id}/credits) and generate a key pair (POST /admin/v1/projects/{id}/keys).',
  ].join('\n');
}
