import type { ProviderKind } from '../../config/config';
import type { ProviderApi } from './provider-api';

/** The translating adapters by provider kind ('openai' and 'demo' need none). */
export const providerApis: Partial<Record<ProviderKind, ProviderApi>> = {};
