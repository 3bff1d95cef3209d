/**
 * Renders the Temporal server image's config template (`docker/config_template.yaml` in the server module) the way
 * the `temporalio/server` image does: Go's text/template with dockerize's functions, where `.Env` is the process
 * environment. Only the subset that template uses is implemented (actions with `-` trimming, comments, `$var :=`,
 * pipelines, parentheses, `if`/`else if`/`else`, `range`, and the functions below); anything else is an error, so a
 * new server version whose template needs more fails loudly instead of rendering something different.
 *
 * dockerize semantics kept: `default X "d"` gives `d` only when X is unset (an empty variable stays empty); a missing
 * `.Env.NAME` prints `<no value>` like Go; truthiness is Go's (empty string, false, nil and empty lists are false).
 */

type Value = string | boolean | string[] | undefined;

interface Scope {
  env: Record<string, string | undefined>;
  dot: Value | { Env: Record<string, string | undefined> };
  vars: Map<string, Value>;
}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; expr: string }
  | { kind: 'if'; branches: { cond: string; body: Node[] }[]; otherwise: Node[] }
  | { kind: 'range'; expr: string; body: Node[] };

class TemplateError extends Error {
  override name = 'TemplateError';
}

/** Splits the template into text and `{{ }}` actions, applying the `{{-` / `-}}` whitespace trimming. */
function lex(source: string): ({ kind: 'text'; text: string } | { kind: 'action'; body: string })[] {
  const tokens: ({ kind: 'text'; text: string } | { kind: 'action'; body: string })[] = [];
  let at = 0;
  let trimNext = false;
  while (at < source.length) {
    const open = source.indexOf('{{', at);
    let text = source.slice(at, open < 0 ? source.length : open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open < 0) {
      tokens.push({ kind: 'text', text });
      break;
    }
    const close = source.indexOf('}}', open);
    if (close < 0) throw new TemplateError(`unclosed action at offset ${open}`);
    let body = source.slice(open + 2, close);
    if (/^-\s/.test(body)) {
      text = text.replace(/\s+$/, '');
      body = body.slice(1);
    }
    trimNext = /\s-$/.test(body);
    if (trimNext) body = body.slice(0, -1);
    tokens.push({ kind: 'text', text }, { kind: 'action', body: body.trim() });
    at = close + 2;
  }
  return tokens.filter((t) => t.kind !== 'text' || t.text !== '');
}

function parse(source: string): Node[] {
  const tokens = lex(source);
  let i = 0;
  const block = (terminators: string[]): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (i < tokens.length) {
      const token = tokens[i++]!;
      if (token.kind === 'text') {
        nodes.push(token);
        continue;
      }
      const body = token.body;
      const keyword = /^(if|else if|else|end|range)\b\s*(.*)$/s.exec(body);
      if (body.startsWith('/*')) continue;
      if (!keyword) {
        nodes.push({ kind: 'action', expr: body });
        continue;
      }
      const [, word, rest] = keyword as unknown as [string, string, string];
      if (terminators.includes(word)) {
        i--;
        return { nodes, end: word };
      }
      if (word === 'if') {
        const branches = [{ cond: rest, body: [] as Node[] }];
        let otherwise: Node[] = [];
        for (;;) {
          const inner = block(['else if', 'else', 'end']);
          const closing = tokens[i++] as { kind: 'action'; body: string } | undefined;
          if (!closing) throw new TemplateError('`if` without `end`');
          branches[branches.length - 1]!.body = inner.nodes;
          if (inner.end === 'else if') branches.push({ cond: closing.body.replace(/^else if\s+/, ''), body: [] });
          else if (inner.end === 'else') {
            otherwise = block(['end']).nodes;
            i++;
            break;
          } else break;
        }
        nodes.push({ kind: 'if', branches, otherwise });
      } else if (word === 'range') {
        const inner = block(['end']);
        i++;
        nodes.push({ kind: 'range', expr: rest, body: inner.nodes });
      } else {
        throw new TemplateError(`unexpected {{${body}}}`);
      }
    }
    if (terminators.length > 0) throw new TemplateError(`missing {{end}} (expected one of ${terminators.join(', ')})`);
    return { nodes, end: '' };
  };
  return block([]).nodes;
}

/** Words of an expression: strings, parenthesised groups, `|`, and bare words (`.Env.X`, `$v`, function names). */
function words(expr: string): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < expr.length) {
    const c = expr[at]!;
    if (/\s/.test(c)) {
      at++;
    } else if (c === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/.exec(expr.slice(at));
      if (!m) throw new TemplateError(`unterminated string in ${expr}`);
      out.push(m[0]);
      at += m[0].length;
    } else if (c === '(') {
      let depth = 0;
      let end = at;
      for (; end < expr.length; end++) {
        if (expr[end] === '(') depth++;
        if (expr[end] === ')' && --depth === 0) break;
      }
      out.push(expr.slice(at, end + 1));
      at = end + 1;
    } else if (c === '|') {
      out.push('|');
      at++;
    } else {
      const m = /^[^\s|()]+/.exec(expr.slice(at))!;
      out.push(m[0]);
      at += m[0].length;
    }
  }
  return out;
}

const truthy = (v: Value): boolean => (Array.isArray(v) ? v.length > 0 : Boolean(v));
const str = (v: Value): string => {
  if (v === undefined) return '<no value>';
  if (Array.isArray(v)) return `[${v.join(' ')}]`;
  return String(v);
};
const asString = (name: string, v: Value): string => {
  if (typeof v !== 'string') throw new TemplateError(`${name}: expected a string, got ${str(v)}`);
  return v;
};

const FUNCTIONS: Record<string, (args: Value[]) => Value> = {
  // dockerize: the first argument unless it is nil (unset), else the second.
  default: ([value, fallback]) => (typeof value === 'string' ? value : asString('default', fallback)),
  lower: ([s]) => asString('lower', s).toLowerCase(),
  trim: ([s]) => asString('trim', s).trim(),
  split: ([s, sep]) => asString('split', s).split(asString('split', sep)),
  print: (args) => args.map(str).join(''), // fmt.Sprint adds no space between string operands
  eq: ([first, ...others]) => others.some((o) => o === first),
  ne: ([a, b]) => a !== b,
  not: ([a]) => !truthy(a),
  and: (args) => args.find((a) => !truthy(a)) ?? args.at(-1),
  or: (args) => args.find((a) => truthy(a)) ?? args.at(-1),
};

function evaluate(expr: string, scope: Scope): Value {
  const stages: string[][] = [[]];
  for (const w of words(expr)) {
    if (w === '|') stages.push([]);
    else stages.at(-1)!.push(w);
  }
  let piped: { value: Value } | undefined;
  for (const stage of stages) {
    if (stage.length === 0) throw new TemplateError(`empty pipeline stage in ${expr}`);
    const [head, ...rest] = stage as [string, ...string[]];
    const args = rest.map((w) => operand(w, scope));
    if (piped) args.push(piped.value);
    if (head in FUNCTIONS) piped = { value: FUNCTIONS[head]!(args) };
    else if (args.length === 0) piped = { value: operand(head, scope) };
    else throw new TemplateError(`unknown function ${head} in ${expr}`);
  }
  return piped!.value;
}

function operand(word: string, scope: Scope): Value {
  if (word.startsWith('"')) return JSON.parse(word) as string;
  if (word.startsWith('(')) return evaluate(word.slice(1, -1), scope);
  if (word === '.') {
    if (typeof scope.dot === 'object' && !Array.isArray(scope.dot)) throw new TemplateError('cannot print the root context');
    return scope.dot;
  }
  const env = /^\.Env\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
  if (env) return scope.env[env[1]!];
  if (word.startsWith('$')) {
    if (!scope.vars.has(word)) throw new TemplateError(`undefined variable ${word}`);
    return scope.vars.get(word);
  }
  if (word === 'true' || word === 'false') return word === 'true';
  if (word in FUNCTIONS) return FUNCTIONS[word]!([]);
  throw new TemplateError(`unsupported operand ${word}`);
}

function execute(nodes: Node[], scope: Scope): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'action') {
      const assign = /^(\$[A-Za-z_][A-Za-z0-9_]*)\s*:=\s*(.+)$/s.exec(node.expr);
      if (assign) scope.vars.set(assign[1]!, evaluate(assign[2]!, scope));
      else out += str(evaluate(node.expr, scope));
    } else if (node.kind === 'if') {
      const branch = node.branches.find((b) => truthy(evaluate(b.cond, scope)));
      out += execute(branch ? branch.body : node.otherwise, scope);
    } else {
      const items = evaluate(node.expr, scope);
      if (!Array.isArray(items)) throw new TemplateError(`range over a non-list: ${node.expr}`);
      for (const item of items) out += execute(node.body, { ...scope, dot: item });
    }
  }
  return out;
}

/** The template rendered with `env` as `.Env`. */
export function renderGoTemplate(source: string, env: Record<string, string | undefined>): string {
  return execute(parse(source), { env, dot: { Env: env }, vars: new Map() });
}
