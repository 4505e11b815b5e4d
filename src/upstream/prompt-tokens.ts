import { imageSizeOfDataUrl } from './image-size';
import { countImageTokens, DEFAULT_IMAGE_PRICING, imagePricingFor, type ImagePricing } from './image-tokens';
import { countJsonTokens, countPromptTextTokens } from './prompt-text-tokens';

/**
 * Prompt tokens an upstream will bill for a chat request, counted before it is sent to size the credit hold (and
 * to bill a stream cut short before the upstream reported usage). Everything the upstream renders into the
 * prompt counts: messages with their names, tool calls and every kind of content part, tool and function
 * definitions, tool_choice, response_format, and any field the gateway does not know. Exact (o200k_base) where
 * OpenAI publishes the rule, an upper bound where it cannot be exact: JSON text for unknown values, the largest
 * image size for images not sent inline, the encoded size for audio, a page allowance for files.
 */

// OpenAI's chat format (cookbook "How to count tokens with tiktoken"): 3 tokens frame every message, a name costs
// 1 more, and the reply is primed with 3.
const PER_MESSAGE_TOKENS = 3;
const PER_NAME_TOKENS = 1;
const REPLY_PRIMER_TOKENS = 3;
// Tools: OpenAI's cookbook ("counting tokens for tools") estimates each function as 10 tokens (GPT-3.5/4; 7 for
// GPT-4o) plus its "name:description" line, 3 for the property list, and per property 3 plus "key:type:description"
// (an enum: 3 plus the value per value); 12 close the list. It ignores nested schemas, so the gateway counts each
// definition's JSON text (which holds all those texts and more) inside the cookbook's frame tokens.
const PER_FUNCTION_TOKENS = 10;
const PROPERTIES_START_TOKENS = 3;
const PER_PROPERTY_TOKENS = 3;
const PER_ENUM_VALUE_TOKENS = 3;
const FUNCTIONS_END_TOKENS = 12;
/** An assistant tool call is rendered as a small frame around its name and arguments (a margin, not published). */
const PER_TOOL_CALL_TOKENS = 7;
/** Files (PDF input): the text of each page and an image of it; OpenAI accepts up to 100 pages a request. */
const FILE_MAX_PAGES = 100;
const FILE_PAGE_TEXT_TOKENS = 1000;

/** Request fields that steer generation and are never rendered into the prompt. */
const UNBILLED_FIELDS = new Set([
  'model', 'stream', 'stream_options', 'temperature', 'top_p', 'n', 'max_tokens', 'max_completion_tokens',
  'presence_penalty', 'frequency_penalty', 'logit_bias', 'logprobs', 'top_logprobs', 'seed', 'user', 'metadata',
  'store', 'parallel_tool_calls', 'service_tier', 'reasoning_effort', 'modalities', 'stop', 'verbosity',
  'prompt_cache_key', 'safety_identifier',
]);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const countValueTokens = (v: unknown): number => (typeof v === 'string' ? countPromptTextTokens(v) : countJsonTokens(v));

/** Prompt tokens of a whole chat request body. */
export function countRequestPromptTokens(body: Json): number {
  const images = imagePricingFor(typeof body.model === 'string' ? body.model : '');
  let total = 0;
  for (const [field, value] of Object.entries(body)) {
    if (UNBILLED_FIELDS.has(field) || value === undefined || value === null) continue;
    if (field === 'messages' && Array.isArray(value)) total += countMessagesTokens(value, images);
    else if (field === 'tools' && Array.isArray(value)) total += countFunctionsTokens(value.map((t) => (isObject(t) && t.function !== undefined ? t.function : t)));
    else if (field === 'functions' && Array.isArray(value)) total += countFunctionsTokens(value);
    else total += countJsonTokens(value); // tool_choice, function_call, response_format, prediction, unknown fields
  }
  return total;
}

/** Prompt tokens of the messages alone (with the reply primer). */
export function countMessagesTokens(messages: unknown[], images: ImagePricing = DEFAULT_IMAGE_PRICING): number {
  let total = REPLY_PRIMER_TOKENS;
  for (const message of messages) total += isObject(message) ? countMessageTokens(message, images) : countJsonTokens(message);
  return total;
}

function countMessageTokens(message: Json, images: ImagePricing): number {
  let total = PER_MESSAGE_TOKENS;
  for (const [field, value] of Object.entries(message)) {
    if (value === undefined || value === null) continue;
    if (field === 'content') total += countContentTokens(value, images);
    else if (field === 'name') total += PER_NAME_TOKENS + countValueTokens(value);
    else if (field === 'tool_calls' && Array.isArray(value)) for (const call of value) total += countToolCallTokens(call);
    else if (field === 'function_call') total += countToolCallTokens({ function: value });
    else total += countValueTokens(value); // role, tool_call_id, refusal, audio, anything else
  }
  return total;
}

/** Tool or function definitions. */
function countFunctionsTokens(functions: unknown[]): number {
  if (functions.length === 0) return 0;
  let total = FUNCTIONS_END_TOKENS;
  for (const definition of functions) total += functionFrameTokens(definition) + countJsonTokens(definition);
  return total;
}

/** The cookbook's tokens around a definition's texts (see PER_FUNCTION_TOKENS). */
function functionFrameTokens(definition: unknown): number {
  let total = PER_FUNCTION_TOKENS;
  const parameters = isObject(definition) && isObject(definition.parameters) ? definition.parameters : {};
  const properties = isObject(parameters.properties) ? Object.values(parameters.properties) : [];
  if (properties.length > 0) total += PROPERTIES_START_TOKENS;
  for (const property of properties) {
    total += PER_PROPERTY_TOKENS;
    if (isObject(property) && Array.isArray(property.enum)) total += PER_ENUM_VALUE_TOKENS * property.enum.length;
  }
  return total;
}

function countToolCallTokens(call: unknown): number {
  if (!isObject(call)) return PER_TOOL_CALL_TOKENS + countJsonTokens(call);
  let total = PER_TOOL_CALL_TOKENS;
  for (const [field, value] of Object.entries(call)) {
    if (field === 'function' && isObject(value)) for (const v of Object.values(value)) total += countValueTokens(v); // name, arguments
    else if (field !== 'type') total += countValueTokens(value); // id, and the payload of other call types
  }
  return total;
}

function countContentTokens(content: unknown, images: ImagePricing): number {
  if (!Array.isArray(content)) return countValueTokens(content);
  let total = 0;
  for (const part of content) total += countPartTokens(part, images);
  return total;
}

/** One content part: text and refusals exactly, images by OpenAI's rule, the rest by an upper bound. */
function countPartTokens(part: unknown, images: ImagePricing): number {
  if (!isObject(part)) return countJsonTokens(part);
  switch (part.type) {
    case 'text':
    case 'input_text':
      if (typeof part.text === 'string') return countPromptTextTokens(part.text);
      break;
    case 'refusal':
      if (typeof part.refusal === 'string') return countPromptTextTokens(part.refusal);
      break;
    case 'image_url':
      return countImagePartTokens(part.image_url, images);
    case 'input_audio':
      return countAudioPartTokens(part.input_audio);
    case 'file':
      return countFilePartTokens(part.file, images);
  }
  return countJsonTokens(part);
}

/** An image: its size is known when it is sent inline (a data URL), otherwise it is held at the largest size. */
function countImagePartTokens(image: unknown, images: ImagePricing): number {
  const url = isObject(image) ? image.url : image;
  const detail = isObject(image) ? image.detail : undefined;
  return countImageTokens(images, detail, imageSizeOfDataUrl(url));
}

/**
 * Audio is billed by duration, at most tens of tokens a second; its base64 text is over a thousand characters a
 * second even at the lowest bitrate, so one token per character bounds it (a token covers at least one byte).
 */
function countAudioPartTokens(audio: unknown): number {
  if (isObject(audio) && typeof audio.data === 'string') return audio.data.length + countValueTokens(audio.format);
  return countJsonTokens(audio);
}

/** A file (file_data inline or a file_id the upstream resolves): its encoded size plus every page as text and image. */
function countFilePartTokens(file: unknown, images: ImagePricing): number {
  const pageTokens = FILE_PAGE_TEXT_TOKENS + countImageTokens(images, 'high', null);
  let total = FILE_MAX_PAGES * pageTokens;
  if (!isObject(file)) return total + countJsonTokens(file);
  for (const [field, value] of Object.entries(file))
    total += field === 'file_data' && typeof value === 'string' ? value.length : countValueTokens(value);
  return total;
}
