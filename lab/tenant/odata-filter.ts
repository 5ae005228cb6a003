/**
 * The `$filter` engine: a parser for the OData subset Graph accepts on directory objects (eq, ne, not,
 * in, ge/le/gt/lt, startsWith, endsWith, any() lambdas, `/$count`, and/or, parentheses), a validator
 * that applies the Default-vs-Advanced gating and limits of graph-reference.md §2.4, and an evaluator
 * with case-insensitive string comparison.
 */
import {
  GraphHttpError, advancedOperatorRequired, unsupportedFilterProperty, unsupportedQuery,
} from './errors.ts';
import type { Json } from './model.ts';
import type { FilterCaps, Support } from './resources.ts';

export type Literal = string | number | boolean | null;
export type Operand =
  | { readonly kind: 'prop'; readonly path: string }
  | { readonly kind: 'var'; readonly name: string }
  | { readonly kind: 'count'; readonly path: string }
  | { readonly kind: 'lit'; readonly value: Literal; readonly quoted: boolean };
export type CompareOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
export type FilterExpr =
  | { readonly kind: 'and' | 'or'; readonly left: FilterExpr; readonly right: FilterExpr }
  | { readonly kind: 'not'; readonly expr: FilterExpr }
  | { readonly kind: 'cmp'; readonly op: CompareOp; readonly left: Operand; readonly right: Operand }
  | { readonly kind: 'in'; readonly left: Operand; readonly values: ReadonlyArray<Literal> }
  | { readonly kind: 'fn'; readonly name: 'startsWith' | 'endsWith' | 'contains'; readonly target: Operand; readonly arg: Operand }
  | { readonly kind: 'any'; readonly path: string; readonly variable: string | null; readonly body: FilterExpr | null };

type Token =
  | { kind: 'ident'; text: string; pos: number }
  | { kind: 'string'; text: string; pos: number }
  | { kind: 'bare'; text: string; pos: number }
  | { kind: 'punct'; text: '(' | ')' | ',' | ':'; pos: number };

function syntaxError(filter: string, pos: number): GraphHttpError {
  return new GraphHttpError(400, 'BadRequest', `Invalid filter clause: Syntax error at position ${pos} in '${filter}'.`);
}

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < filter.length) {
    const c = filter.charAt(i);
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '(' || c === ')' || c === ',' || c === ':') {
      tokens.push({ kind: 'punct', text: c, pos: i });
      i += 1;
    } else if (c === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= filter.length) throw syntaxError(filter, i);
        const d = filter.charAt(j);
        if (d === "'") {
          if (filter.charAt(j + 1) === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += d;
        j += 1;
      }
      tokens.push({ kind: 'string', text: value, pos: i });
      i = j + 1;
    } else {
      const ident = /^[A-Za-z_$][A-Za-z0-9_$/.]*/.exec(filter.slice(i));
      const bare = /^-?[0-9][0-9A-Za-z:.+-]*/.exec(filter.slice(i));
      const match = ident ?? bare;
      if (!match) throw syntaxError(filter, i);
      tokens.push({ kind: ident ? 'ident' : 'bare', text: match[0], pos: i });
      i += match[0].length;
    }
  }
  return tokens;
}

const COMPARE_OPS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);

/** Parses a `$filter` value; throws 400 BadRequest on syntax errors. */
export function parseFilter(filter: string): FilterExpr {
  const tokens = tokenize(filter);
  let index = 0;
  const variables: string[] = [];
  const peek = (): Token | undefined => tokens[index];
  const fail = (): never => {
    throw syntaxError(filter, peek()?.pos ?? filter.length);
  };
  const next = (): Token => {
    const token = tokens[index];
    if (!token) return fail();
    index += 1;
    return token;
  };
  const isWord = (token: Token | undefined, word: string): boolean =>
    token?.kind === 'ident' && token.text.toLowerCase() === word;
  const expectPunct = (text: string): void => {
    const token = next();
    if (token.kind !== 'punct' || token.text !== text) fail();
  };

  const literalOf = (token: Token): Literal | undefined => {
    if (token.kind === 'string') return token.text;
    if (token.kind === 'bare') return /^-?\d+(\.\d+)?$/.test(token.text) ? Number(token.text) : token.text;
    if (token.kind === 'ident') {
      const lower = token.text.toLowerCase();
      if (lower === 'true') return true;
      if (lower === 'false') return false;
      if (lower === 'null') return null;
    }
    return undefined;
  };

  const operand = (): Operand => {
    const token = next();
    const literal = literalOf(token);
    if (literal !== undefined) return { kind: 'lit', value: literal, quoted: token.kind === 'string' };
    if (token.kind !== 'ident') return fail();
    if (variables.includes(token.text)) return { kind: 'var', name: token.text };
    if (/\/\$count$/i.test(token.text)) return { kind: 'count', path: token.text.replace(/\/\$count$/i, '') };
    return { kind: 'prop', path: token.text };
  };

  const literalList = (): Literal[] => {
    expectPunct('(');
    const values: Literal[] = [];
    for (;;) {
      const token = next();
      const literal = literalOf(token);
      if (literal === undefined) fail();
      values.push(literal as Literal);
      const sep = next();
      if (sep.kind === 'punct' && sep.text === ')') break;
      if (sep.kind !== 'punct' || sep.text !== ',') fail();
    }
    return values;
  };

  const primary = (): FilterExpr => {
    const token = peek();
    if (!token) return fail();
    if (token.kind === 'punct' && token.text === '(') {
      next();
      const inner = orExpr();
      expectPunct(')');
      return inner;
    }
    const following = tokens[index + 1];
    const callFollows = following?.kind === 'punct' && following.text === '(';
    if (token.kind === 'ident' && callFollows) {
      const lower = token.text.toLowerCase();
      if (lower === 'startswith' || lower === 'endswith' || lower === 'contains') {
        next();
        expectPunct('(');
        const target = operand();
        expectPunct(',');
        const arg = operand();
        expectPunct(')');
        const name = lower === 'startswith' ? 'startsWith' : lower === 'endswith' ? 'endsWith' : 'contains';
        return { kind: 'fn', name, target, arg };
      }
      if (/\/(any|all)$/i.test(token.text)) {
        next();
        if (/\/all$/i.test(token.text)) throw unsupportedQuery("Unsupported query: the 'all' lambda operator is not supported.");
        const path = token.text.replace(/\/any$/i, '');
        expectPunct('(');
        const close = peek();
        if (close?.kind === 'punct' && close.text === ')') {
          next();
          return { kind: 'any', path, variable: null, body: null };
        }
        const variable = next();
        if (variable.kind !== 'ident') fail();
        expectPunct(':');
        variables.push(variable.text);
        const body = orExpr();
        variables.pop();
        expectPunct(')');
        return { kind: 'any', path, variable: variable.text, body };
      }
    }
    const left = operand();
    const op = next();
    if (op.kind !== 'ident') return fail();
    const lowerOp = op.text.toLowerCase();
    if (lowerOp === 'in') return { kind: 'in', left, values: literalList() };
    if (!COMPARE_OPS.has(lowerOp)) return fail();
    return { kind: 'cmp', op: lowerOp as CompareOp, left, right: operand() };
  };

  const unary = (): FilterExpr => {
    if (isWord(peek(), 'not')) {
      next();
      return { kind: 'not', expr: unary() };
    }
    return primary();
  };

  const andExpr = (): FilterExpr => {
    let left = unary();
    while (isWord(peek(), 'and')) {
      next();
      left = { kind: 'and', left, right: unary() };
    }
    return left;
  };

  const orExpr = (): FilterExpr => {
    let left = andExpr();
    while (isWord(peek(), 'or')) {
      next();
      left = { kind: 'or', left, right: andExpr() };
    }
    return left;
  };

  if (tokens.length === 0) fail();
  const expr = orExpr();
  if (index !== tokens.length) fail();
  return expr;
}

export type FilterValidation = {
  /** Capabilities of a property path (undefined = not filterable). */
  readonly capsFor: (path: string) => FilterCaps | undefined;
  readonly resourceName: string;
  /** ConsistencyLevel: eventual + $count=true. */
  readonly advanced: boolean;
};

const EDM: Record<string, string> = { string: 'Edm.String', boolean: 'Edm.Boolean', number: 'Edm.Int32', datetime: 'Edm.DateTimeOffset', guid: 'Edm.Guid' };
const OP_KIND: Record<CompareOp, string> = { eq: 'Equal', ne: 'NotEqual', gt: 'GreaterThan', ge: 'GreaterThanOrEqual', lt: 'LessThan', le: 'LessThanOrEqual' };

function lastSegment(path: string): string {
  return path.split('/').pop() ?? path;
}

/** Checks every clause against the capability tables; throws the documented 400s. */
export function validateFilter(expr: FilterExpr, options: FilterValidation): void {
  const { advanced, resourceName } = options;
  const scope: { variable: string; path: string; caps: FilterCaps }[] = [];

  const need = (support: Support | undefined, path: string): void => {
    if (!support || (support === 'advanced' && !advanced)) throw unsupportedFilterProperty(lastSegment(path), resourceName);
  };

  const target = (operand: Operand): { path: string; caps: FilterCaps; element: boolean } => {
    if (operand.kind === 'var') {
      const bound = scope.find((s) => s.variable === operand.name);
      if (!bound) throw unsupportedQuery('Unsupported query.');
      return { path: bound.path, caps: bound.caps, element: true };
    }
    if (operand.kind === 'prop') {
      const caps = options.capsFor(operand.path);
      if (!caps) throw unsupportedFilterProperty(lastSegment(operand.path), resourceName);
      if (caps.collection) throw unsupportedFilterProperty(lastSegment(operand.path), resourceName);
      return { path: operand.path, caps, element: false };
    }
    throw unsupportedQuery('Unsupported query.');
  };

  const checkLiteralType = (caps: FilterCaps, value: Literal, op: CompareOp): void => {
    if (value === null) return;
    const literalType = typeof value === 'boolean' ? 'boolean' : typeof value === 'number' ? 'number' : 'string';
    const compatible = caps.type === 'boolean' ? literalType === 'boolean'
      : caps.type === 'number' ? literalType === 'number'
        : literalType === 'string';
    if (!compatible) {
      throw new GraphHttpError(400, 'BadRequest', 'A binary operator with incompatible types was detected. ' +
        `Found operand types '${EDM[caps.type] ?? 'Edm.String'}' and '${EDM[literalType] ?? 'Edm.String'}' for operator kind '${OP_KIND[op]}'.`);
    }
  };

  const checkEqLength = (value: Literal): void => {
    if (!advanced && typeof value === 'string' && value.length > 120) {
      throw unsupportedQuery('The value of the eq operator exceeds the maximum length of 120 characters. ' +
        'Use advanced query capabilities (ConsistencyLevel: eventual and $count=true) for longer values.');
    }
  };

  const visit = (node: FilterExpr): void => {
    switch (node.kind) {
      case 'and':
      case 'or':
        visit(node.left);
        visit(node.right);
        return;
      case 'not':
        if (!advanced) throw advancedOperatorRequired('not');
        visit(node.expr);
        return;
      case 'cmp': {
        let { left, right, op } = node;
        if (left.kind === 'lit' && right.kind !== 'lit') {
          [left, right] = [right, left];
          op = op === 'gt' ? 'lt' : op === 'lt' ? 'gt' : op === 'ge' ? 'le' : op === 'le' ? 'ge' : op;
        }
        if (right.kind !== 'lit') throw unsupportedQuery('Unsupported query.');
        if (left.kind === 'count') {
          const caps = options.capsFor(left.path);
          need(caps?.count, left.path);
          return;
        }
        const t = target(left);
        const value = right.value;
        if (op === 'eq' || op === 'ne') {
          need(value === null ? t.caps.eqNull : t.caps.eq, t.path);
          if (op === 'ne' && !advanced) throw advancedOperatorRequired('ne');
          checkEqLength(value);
        } else {
          need(t.caps.range, t.path);
        }
        checkLiteralType(t.caps, value, op);
        return;
      }
      case 'in': {
        const t = target(node.left);
        need(t.caps.eq, t.path);
        if (!advanced && node.values.length > 15) {
          throw unsupportedQuery("The 'in' operator is limited to 15 expressions in the filter clause by default. " +
            'Use advanced query capabilities (ConsistencyLevel: eventual and $count=true) for more values.');
        }
        for (const value of node.values) {
          checkLiteralType(t.caps, value, 'eq');
          checkEqLength(value);
        }
        return;
      }
      case 'fn': {
        const t = target(node.target);
        if (node.arg.kind !== 'lit' || typeof node.arg.value !== 'string') throw unsupportedQuery('Unsupported query.');
        if (node.name === 'contains') throw unsupportedFilterProperty(lastSegment(t.path), resourceName);
        if (node.name === 'startsWith') {
          need(t.caps.startsWith, t.path);
        } else {
          if (!t.caps.endsWith) throw unsupportedFilterProperty(lastSegment(t.path), resourceName);
          if (t.caps.endsWith === 'advanced' && !advanced) throw advancedOperatorRequired('endsWith');
        }
        return;
      }
      case 'any': {
        const caps = options.capsFor(node.path);
        if (!caps || !caps.collection) throw unsupportedFilterProperty(lastSegment(node.path), resourceName);
        if (node.variable === null || node.body === null) {
          need(caps.count, node.path);
          return;
        }
        scope.push({ variable: node.variable, path: node.path, caps });
        visit(node.body);
        scope.pop();
        return;
      }
    }
  };
  visit(expr);
}

type Env = ReadonlyMap<string, Json>;

function lower(value: Json | undefined): Json | undefined {
  return typeof value === 'string' ? value.toLowerCase() : value;
}

function compare(a: Json | undefined, b: Literal, op: CompareOp): boolean {
  if (op === 'eq') return b === null ? a === null || a === undefined : lower(a) === lower(b);
  if (op === 'ne') return b === null ? a !== null && a !== undefined : lower(a) !== lower(b);
  if (a === null || a === undefined || b === null) return false;
  let x: string | number | boolean = typeof a === 'string' ? a.toLowerCase() : typeof a === 'number' || typeof a === 'boolean' ? a : '';
  let y: string | number | boolean = typeof b === 'string' ? b.toLowerCase() : b;
  if (typeof x === 'string' && typeof y === 'string' && /^\d{4}-\d{2}-\d{2}/.test(x) && /^\d{4}-\d{2}-\d{2}/.test(y)) {
    const dx = Date.parse(x);
    const dy = Date.parse(y);
    if (!Number.isNaN(dx) && !Number.isNaN(dy)) {
      x = dx;
      y = dy;
    }
  }
  if (op === 'gt') return x > y;
  if (op === 'ge') return x >= y;
  if (op === 'lt') return x < y;
  return x <= y;
}

/** Evaluates a validated filter against one object; `read` returns the value of a property path. */
export function evaluateFilter(expr: FilterExpr, read: (path: string) => Json | undefined, env: Env = new Map()): boolean {
  const value = (operand: Operand): Json | undefined => {
    switch (operand.kind) {
      case 'lit': return operand.value;
      case 'var': return env.get(operand.name);
      case 'prop': return read(operand.path);
      case 'count': {
        const collection = read(operand.path);
        return Array.isArray(collection) ? collection.length : 0;
      }
    }
  };
  switch (expr.kind) {
    case 'and': return evaluateFilter(expr.left, read, env) && evaluateFilter(expr.right, read, env);
    case 'or': return evaluateFilter(expr.left, read, env) || evaluateFilter(expr.right, read, env);
    case 'not': return !evaluateFilter(expr.expr, read, env);
    case 'cmp': {
      if (expr.left.kind === 'lit' && expr.right.kind !== 'lit') {
        const swapped = expr.op === 'gt' ? 'lt' : expr.op === 'lt' ? 'gt' : expr.op === 'ge' ? 'le' : expr.op === 'le' ? 'ge' : expr.op;
        return compare(value(expr.right), expr.left.value, swapped);
      }
      const right = value(expr.right);
      if (right !== null && typeof right === 'object') return false;
      return compare(value(expr.left), right ?? null, expr.op);
    }
    case 'in': {
      const left = lower(value(expr.left));
      return expr.values.some((v) => lower(v) === left);
    }
    case 'fn': {
      const target = value(expr.target);
      const arg = value(expr.arg);
      if (typeof target !== 'string' || typeof arg !== 'string') return false;
      const t = target.toLowerCase();
      const a = arg.toLowerCase();
      if (expr.name === 'startsWith') return t.startsWith(a);
      if (expr.name === 'endsWith') return t.endsWith(a);
      return t.includes(a);
    }
    case 'any': {
      const collection = read(expr.path);
      if (!Array.isArray(collection)) return false;
      const { variable, body } = expr;
      if (variable === null || body === null) return collection.length > 0;
      return collection.some((element) => evaluateFilter(body, read, new Map([...env, [variable, element]])));
    }
  }
}
