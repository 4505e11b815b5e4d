import { thenOf, type Awaitable, type SqlStore } from '../store/sql-store';

export type AdSettings = {
  disclosureLabel: string;
  frequencyCapTurns: number;
  blockedCategories: string[];
  bridgeMode: 'template' | 'llm';
};

export const DEFAULT_AD_SETTINGS: AdSettings = { disclosureLabel: 'Sponsored', frequencyCapTurns: 3, blockedCategories: [], bridgeMode: 'template' };

type Row = { disclosure_label: string; frequency_cap_turns: number; blocked_categories: string; bridge_mode: 'template' | 'llm' };

const GET = 'SELECT disclosure_label, frequency_cap_turns, blocked_categories, bridge_mode FROM ad_settings WHERE project_id = $projectId';
const UPSERT = `INSERT INTO ad_settings (project_id, disclosure_label, frequency_cap_turns, blocked_categories, bridge_mode, updated_at)
     VALUES ($projectId, $label, $cap, $blocked, $mode, $now)
     ON CONFLICT (project_id) DO UPDATE SET disclosure_label = excluded.disclosure_label,
       frequency_cap_turns = excluded.frequency_cap_turns, blocked_categories = excluded.blocked_categories,
       bridge_mode = excluded.bridge_mode, updated_at = excluded.updated_at`;

function toSettings(row: Row | null): AdSettings {
  if (!row) return DEFAULT_AD_SETTINGS;
  return { disclosureLabel: row.disclosure_label, frequencyCapTurns: row.frequency_cap_turns, blockedCategories: JSON.parse(row.blocked_categories), bridgeMode: row.bridge_mode };
}

export function createAdSettingsRepo(store: SqlStore) {
  const get = store.stmt<Row>(GET);
  const upsert = store.stmt(UPSERT);
  return {
    get(projectId: string): Awaitable<AdSettings> {
      return thenOf(get.get({ projectId }), toSettings);
    },
    async put(projectId: string, s: AdSettings, now: number): Promise<void> {
      await upsert.run({ projectId, label: s.disclosureLabel, cap: s.frequencyCapTurns, blocked: JSON.stringify(s.blockedCategories), mode: s.bridgeMode, now });
    },
  };
}
export type AdSettingsRepo = ReturnType<typeof createAdSettingsRepo>;
