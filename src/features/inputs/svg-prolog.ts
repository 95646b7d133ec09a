/**
 * The XML prolog of an SVG file: the declaration, comments, processing instructions and a DOCTYPE,
 * which may carry an internal DTD subset (`<!DOCTYPE svg [ <!ENTITY ns "..."> ]>`, as drawing
 * programs write it). Read by a small scanner rather than a regular expression so that `>` inside the
 * subset or inside quoted strings does not end the DOCTYPE early; no entity is ever expanded.
 */

/** The largest text the internal entities may expand to before the file is refused unparsed. */
export const SVG_ENTITY_EXPANSION_LIMIT = 16 * 1024 * 1024;

export interface SvgProlog {
  /** Index of the root `<svg` tag. */
  readonly root: number;
  /** The DOCTYPE's internal subset (between `[` and `]`), or '' when there is none. */
  readonly subset: string;
}

function skipQuoted(text: string, at: number): number {
  const quote = text[at];
  const end = text.indexOf(quote, at + 1);
  return end < 0 ? -1 : end + 1;
}

/** Index just after the internal subset's closing `]`, or -1 when it never closes. */
function subsetEnd(text: string, at: number): number {
  let i = at;
  while (i < text.length) {
    const c = text[i];
    if (c === ']') return i + 1;
    if (c === '"' || c === "'") {
      i = skipQuoted(text, i);
    } else if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      i = end < 0 ? -1 : end + 3;
    } else if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      i = end < 0 ? -1 : end + 2;
    } else {
      i++;
    }
    if (i < 0) return -1;
  }
  return -1;
}

/** Where the root <svg> element starts after the prolog, or null when the text is not an SVG. */
export function svgProlog(text: string): SvgProlog | null {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let subset = '';
  let sawDoctype = false;
  for (;;) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      if (end < 0) return null;
      i = end + 2;
    } else if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) return null;
      i = end + 3;
    } else if (!sawDoctype && text.slice(i, i + 9).toUpperCase() === '<!DOCTYPE') {
      sawDoctype = true;
      i += 9;
      // Name and external id, then an optional [internal subset], then '>'.
      while (i < text.length && text[i] !== '>' && text[i] !== '[') {
        if (text[i] === '"' || text[i] === "'") {
          i = skipQuoted(text, i);
          if (i < 0) return null;
        } else {
          i++;
        }
      }
      if (text[i] === '[') {
        const end = subsetEnd(text, i + 1);
        if (end < 0) return null;
        subset = text.slice(i + 1, end - 1);
        i = end;
        while (i < text.length && /\s/.test(text[i])) i++;
      }
      if (text[i] !== '>') return null;
      i++;
    } else {
      break;
    }
  }
  return /^<svg[\s>/]/i.test(text.slice(i, i + 5)) ? { root: i, subset } : null;
}

const ENTITY = /<!ENTITY\s+(%\s+)?([^\s"'>]+)\s+(?:"([^"]*)"|'([^']*)'|(SYSTEM|PUBLIC)\b)/g;
const REFERENCE = /[&%]([A-Za-z_:][\w.:-]*);/g;

/**
 * Why the internal entities must not be expanded (a "billion laughs" bomb, a quadratic blow-up or
 * a self-reference), or null when they are harmless. Counts the text expansion would produce,
 * with memoised sizes, so the check takes time linear in the file whatever the bomb's depth.
 */
export function svgEntityProblem(subset: string, body: string): string | null {
  if (!subset.includes('<!ENTITY')) return null;
  const values = new Map<string, string>();
  for (const m of subset.matchAll(ENTITY)) {
    const key = `${m[1] ? '%' : '&'}${m[2]}`;
    // The first declaration wins (XML 1.0 §4.2); external entities are never loaded by an <img>.
    if (!values.has(key)) values.set(key, m[5] ? '' : (m[3] ?? m[4] ?? ''));
  }
  const sizes = new Map<string, number>();
  const open = new Set<string>();
  let cycle: string | null = null;
  const size = (key: string): number => {
    const known = sizes.get(key);
    if (known !== undefined) return known;
    const value = values.get(key);
    if (value === undefined) return 0;
    if (open.has(key)) {
      cycle ??= key.slice(1);
      return Infinity;
    }
    open.add(key);
    let total = value.length;
    for (const m of value.matchAll(REFERENCE)) {
      total += size(`${m[0][0]}${m[1]}`) - m[0].length;
      if (total > SVG_ENTITY_EXPANSION_LIMIT) break;
    }
    open.delete(key);
    sizes.set(key, total);
    return total;
  };
  let total = body.length;
  for (const m of body.matchAll(REFERENCE)) {
    if (m[0][0] !== '&') continue;
    total += size(`&${m[1]}`) - m[0].length;
    if (total > SVG_ENTITY_EXPANSION_LIMIT) break;
  }
  // Parameter entities expand inside the subset itself.
  for (const m of subset.matchAll(REFERENCE)) {
    if (m[0][0] !== '%') continue;
    total += size(`%${m[1]}`);
    if (total > SVG_ENTITY_EXPANSION_LIMIT) break;
  }
  if (cycle !== null) return `its DTD entity “${cycle}” refers to itself`;
  if (total > SVG_ENTITY_EXPANSION_LIMIT) {
    return (
      `its DTD entities would expand to more than ${SVG_ENTITY_EXPANSION_LIMIT / 1024 / 1024} MB of ` +
      'text (an entity-expansion bomb), so it is refused without being parsed'
    );
  }
  return null;
}
