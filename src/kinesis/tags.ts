import { InvalidArgumentException } from '../protocol/errors.js';
import type { Resource } from './resources.js';
import type { KinesisContext } from './context.js';

/** The most tags a stream or consumer may carry (the model lets one request name up to 200). */
export const MAX_TAGS = 50;

/**
 * Characters AWS accepts in tag keys and values: Unicode letters and digits, spaces and
 * `_ . / = + - % @ :` (AWS then refuses `%` with a message of its own). Tabs and line breaks are
 * not spaces here: AWS refuses them.
 */
const TAG_TEXT = /^[\p{L}\p{N}\p{Zs}_./=+\-%@:]*$/u;

type Action = 'add tags to' | 'remove tags from';

function failed(k: KinesisContext, resource: Resource, action: Action, reason: string) {
  return new InvalidArgumentException(
    `Failed to ${action} ${resource.label} under account ${k.settings.accountId} because ${reason}.`,
  );
}

/** Checks the characters of tag keys and values, with AWS's two messages. */
function checkCharacters(k: KinesisContext, resource: Resource, action: Action, texts: readonly string[]): void {
  if (texts.some((t) => !TAG_TEXT.test(t))) {
    throw new InvalidArgumentException(
      'Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @ :.',
    );
  }
  if (texts.some((t) => t.includes('%'))) {
    throw failed(
      k,
      resource,
      action,
      "some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@',':'",
    );
  }
}

/** Adds or overwrites tags (AddTagsToStream, TagResource, and CreateStream's tags). */
export async function addTags(k: KinesisContext, resource: Resource, tags: Readonly<Record<string, string>>): Promise<void> {
  resource.checkChangeable(k);
  const keys = Object.keys(tags);
  checkCharacters(k, resource, 'add tags to', [...keys, ...Object.values(tags)]);
  if (keys.some((key) => key.toLowerCase().startsWith('aws:'))) {
    throw failed(k, resource, 'add tags to', "tag keys beginning with 'aws:' are reserved for AWS use");
  }
  await resource.change(k, (current) => {
    const next = { ...current.tags, ...tags };
    if (Object.keys(next).length > MAX_TAGS) {
      throw failed(k, resource, 'add tags to', `a given stream cannot have more than ${MAX_TAGS} tags associated with it`);
    }
    return { ...current, tags: next };
  });
}

/** Removes tags by key; keys the resource does not carry are ignored. */
export async function removeTags(k: KinesisContext, resource: Resource, keys: readonly string[]): Promise<void> {
  resource.checkChangeable(k);
  checkCharacters(k, resource, 'remove tags from', keys);
  await resource.change(k, (current) => {
    if (!keys.some((key) => Object.hasOwn(current.tags, key))) return undefined;
    const next = { ...current.tags };
    for (const key of keys) delete next[key];
    return { ...current, tags: next };
  });
}

/** Tags in key order (by UTF-16 code units, as Java's String.compareTo orders them). */
export function sortedTags(tags: Readonly<Record<string, string>>): { Key: string; Value: string }[] {
  return Object.keys(tags)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((Key) => ({ Key, Value: tags[Key]! }));
}
