/**
 * How deep a CBOR document nests, found without recursion. The CBOR decoder recurses once per
 * level of arrays, maps and tags, so where it runs out of stack depends on how deep the caller's
 * own stack already is: a body nested two thousand levels could be read by one request and be
 * unreadable for the next. Bodies are measured first and refused past a fixed depth instead, far
 * beyond anything a request needs (DynamoDB's 32 levels of attribute values are the deepest).
 */

/** The deepest nesting of arrays, maps and tags a CBOR request may have. */
export const MAX_CBOR_DEPTH = 500;

/** An open container: the items it still expects, or -1 for one of indefinite length. */
type Open = number;

/**
 * Whether the first data item in `buf` (and anything after it) opens more than `limit` arrays,
 * maps, tags or indefinite-length strings inside each other. The scan stops without a verdict
 * (false) at malformed or truncated input: the decoder refuses that on its own.
 */
export function cborNestsDeeperThan(buf: Uint8Array, limit: number): boolean {
  const open: Open[] = [];
  const end = buf.length;
  let pos = 0;
  while (pos < end) {
    const initial = buf[pos++]!;
    const major = initial >> 5;
    const info = initial & 0x1f;
    let arg: number;
    if (info < 24) {
      arg = info;
    } else if (info === 24) {
      if (pos + 1 > end) return false;
      arg = buf[pos]!;
      pos += 1;
    } else if (info === 25) {
      if (pos + 2 > end) return false;
      arg = (buf[pos]! << 8) | buf[pos + 1]!;
      pos += 2;
    } else if (info === 26) {
      if (pos + 4 > end) return false;
      arg = buf[pos]! * 0x1000000 + ((buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!);
      pos += 4;
    } else if (info === 27) {
      if (pos + 8 > end) return false;
      // Exact up to 2^53; beyond that any length or count runs past the end anyway.
      arg = (buf[pos]! * 0x1000000 + ((buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!)) * 0x100000000 +
        (buf[pos + 4]! * 0x1000000 + ((buf[pos + 5]! << 16) | (buf[pos + 6]! << 8) | buf[pos + 7]!));
      pos += 8;
    } else if (info === 31) {
      arg = -1;
    } else {
      return false;
    }

    let complete = false;
    switch (major) {
      case 0:
      case 1:
        if (arg < 0) return false;
        complete = true;
        break;
      case 2:
      case 3:
        if (arg < 0) {
          open.push(-1);
        } else {
          pos += arg;
          if (pos > end) return false;
          complete = true;
        }
        break;
      case 4:
        if (arg < 0) open.push(-1);
        else if (arg === 0) complete = true;
        else open.push(arg);
        break;
      case 5:
        if (arg < 0) open.push(-1);
        else if (arg === 0) complete = true;
        else open.push(arg * 2);
        break;
      case 6:
        if (arg < 0) return false;
        // A tag wraps exactly one item.
        open.push(1);
        break;
      default:
        if (arg < 0) {
          // A break ends the innermost indefinite-length container.
          if (open.length === 0 || open[open.length - 1] !== -1) return false;
          open.pop();
        }
        // Simple values and floats (their bytes were read as the argument).
        complete = true;
        break;
    }
    if (open.length > limit) return true;
    if (!complete) continue;
    // The item is done: it counts toward its container, which may be done in turn.
    while (open.length > 0) {
      const last = open.length - 1;
      const left = open[last]!;
      if (left === -1) break;
      if (left > 1) {
        open[last] = left - 1;
        break;
      }
      open.pop();
    }
  }
  return false;
}
