import type { ProviderKind } from '../../config/config';
import { anthropicApi } from './anthropic-api';
import { geminiApi } from './gemini-api';
import type { ProviderApi } from './provider-api';

/** The translating adapters by provider kind ('openai' and 'demo' need none). */
export const providerApis: Partial<Record<ProviderKind, ProviderApi>> = { anthropic: anthropicApi, gemini: geminiApi };
