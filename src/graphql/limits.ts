/**
 * Query limits, checked before anything runs (MEMER_MAX_TOKENS, _DEPTH, _ALIASES, _DIRECTIVES, _COST; 0 = off):
 *  - tokens: graphql-js's own parser limit, which stops lexing at the limit (graphql-armor's max-tokens would parse
 *    every new document a second time, through a proxied lexer);
 *  - depth, aliases, directives: graphql-armor's counts, first thing in validation (a refused document skips the
 *    rest of it); Apollo caches validated documents, so they run once per distinct document;
 *  - cost: graphql-query-complexity with our cost model (cost.ts), per request where `first`, batch sizes or a
 *    directive come in variables, else once per document.
 * Every rejection is QUERY_TOO_COMPLEX (HTTP 400) with `extensions.limit`, `max` and, where known, `actual`.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { BREAK, GraphQLError, Kind, visit, type ASTNode, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode, type ParseOptions, type ValidationContext, type ValidationRule } from 'graphql';
import { getComplexity } from 'graphql-query-complexity';
import type { Config } from '../config/config.js';
import { AppError, ErrorCode } from '../errors.js';
import { costEstimator, costShape } from './cost.js';

/** Cost shapes remembered per document (a client's few batch sizes; forgotten all at once past it). */
const SHAPES = 64;

export type LimitName = 'tokens' | 'depth' | 'aliases' | 'directives' | 'cost';

export type QueryLimits = Pick<Config, 'maxTokens' | 'maxDepth' | 'maxAliases' | 'maxDirectives' | 'maxCost' | 'maxRecommendations' | 'maxBatch'>;

export function tooComplex(limit: LimitName, max: number, actual: number | null, message: string): AppError {
  return new AppError(ErrorCode.QUERY_TOO_COMPLEX, message, { limit, max, ...(actual === null ? {} : { actual }) });
}

/** The parser's token limit: Apollo parses with these options (its error is mapped to QUERY_TOO_COMPLEX in errors.ts). */
export function parseOptions(limits: QueryLimits): ParseOptions {
  return limits.maxTokens > 0 ? { maxTokens: limits.maxTokens } : {};
}

/** graphql-js's message when the parser stops at maxTokens (graphql 16.15: "Document contains more that N tokens."). */
const TOKEN_LIMIT = /^Syntax Error: Document contains more tha[nt] (\d+) tokens/;

/** The parser's token-limit error as QUERY_TOO_COMPLEX; null for any other error. */
export function tokenLimitError(message: string): AppError | null {
  const m = TOKEN_LIMIT.exec(message);
  if (!m) return null;
  return tooComplex('tokens', Number(m[1]), null, `the document has more than ${m[1]} tokens (MEMER_MAX_TOKENS); send large values as variables`);
}

/**
 * The parser is recursive: a document nested a few thousand levels deep (within the token limit: `ofType {` is two
 * tokens) overflows its stack, which Apollo reports as a parse failure. It is the depth limit's case, found earlier.
 */
export function nestingLimitError(message: string): AppError | null {
  if (message !== 'Maximum call stack size exceeded') return null;
  return new AppError(ErrorCode.QUERY_TOO_COMPLEX, 'the document nests too deeply to parse (MEMER_MAX_DEPTH)', { limit: 'depth' });
}

/**
 * graphql-armor's depth, alias and directive rules, each rejection reported as QUERY_TOO_COMPLEX, run as one rule
 * that checks every operation when validation enters the document and, when one is refused, hands the other rules
 * an empty document: a refused document then costs its parse and these counts, not a full validation (200 aliased
 * posts fields: 15 ms of graphql-js's rules otherwise). Apollo runs our rules after its own, in one pass, and an error
 * thrown from a rule would be a 500, so the replacement is the way to stop early.
 */
export function validationRules(limits: QueryLimits): ValidationRule[] {
  const refused = new WeakSet<ValidationContext>();
  const reject =
    (limit: LimitName, max: number, setting: string) =>
    (ctx: ValidationContext | null, error: GraphQLError) => {
      // armor's message (exposeLimits): "Syntax Error: Aliases limit of 30 exceeded, found 200."
      const found = /found (\d+)/.exec(error.message);
      const text = `${error.message.replace(/^Syntax Error: /, '').replace(/\.$/, '')} (${setting})`;
      if (!ctx) return;
      ctx.reportError(new GraphQLError(text, { originalError: tooComplex(limit, max, found ? Number(found[1]) : null, text) }));
      refused.add(ctx);
    };
  const rule = (limit: LimitName, n: number, setting: string) =>
    n > 0 ? { enabled: true, n, exposeLimits: true, propagateOnRejection: false, onReject: [reject(limit, n, setting)] } : { enabled: false };
  const armor = new ApolloArmor({
    // Introspection counts too: nested `ofType` selections are as deep as a client cares to write them.
    maxDepth: { ...rule('depth', limits.maxDepth, 'MEMER_MAX_DEPTH'), ignoreIntrospection: false, flattenFragments: true },
    maxAliases: rule('aliases', limits.maxAliases, 'MEMER_MAX_ALIASES'),
    maxDirectives: rule('directives', limits.maxDirectives, 'MEMER_MAX_DIRECTIVES'),
    // Ours instead: parseOptions (tokens) and the cost plugin (costLimit has no notion of `first`).
    maxTokens: { enabled: false },
    costLimit: { enabled: false },
    // Introspection is on, so hiding "Did you mean" would hide nothing.
    blockFieldSuggestion: { enabled: false },
  });
  const rules = armor.protect().validationRules;
  if (rules.length === 0) return [];
  type OperationVisitor = { OperationDefinition: { enter(this: unknown, node: OperationDefinitionNode): void } };
  const limitsRule: ValidationRule = (context) => {
    const visitors = rules.map((r) => r(context) as unknown as OperationVisitor);
    return {
      Document: {
        enter(document) {
          for (const def of document.definitions) {
            if (def.kind !== Kind.OPERATION_DEFINITION) continue;
            for (const v of visitors) if (!refused.has(context)) v.OperationDefinition.enter.call(v, def);
          }
          // A returned node replaces the document for the rest of this (parallel) visit: nothing left to check.
          if (refused.has(context)) return { kind: Kind.DOCUMENT, definitions: [] } satisfies DocumentNode;
          return undefined;
        },
      },
    };
  };
  return [limitsRule];
}

/** graphql-js's message for a variable it could not coerce; execution rejects the whole operation for those. */
const VARIABLE_ERROR = /^Variable "\$/;

/** Arguments whose variables change the cost (cost.ts), and the directives that drop fields (@skip, @include). */
const COST_ARGUMENTS = new Set(['first', 'inputs']);

/**
 * Whether an operation's cost can depend on its variables: a variable in a `first` or `inputs` argument, or in a
 * directive's. Otherwise one computation serves every request with the same (cached) document.
 */
function costDependsOnVariables(document: DocumentNode): boolean {
  let depends = false;
  const inCostArgument: boolean[] = [];
  visit(document, {
    Argument: {
      enter: (node, _key, _parent, _path, ancestors) => {
        const owner = ancestors[ancestors.length - 1];
        inCostArgument.push(COST_ARGUMENTS.has(node.name.value) || (owner !== undefined && !Array.isArray(owner) && (owner as ASTNode).kind === Kind.DIRECTIVE));
      },
      leave: () => void inCostArgument.pop(),
    },
    Variable: () => {
      if (inCostArgument.some(Boolean)) {
        depends = true;
        return BREAK;
      }
      return undefined;
    },
  });
  return depends;
}

/**
 * The cost of the operation, computed once its document is validated and the operation chosen: over MEMER_MAX_COST,
 * QUERY_TOO_COMPLEX before anything executes. A document whose cost cannot depend on its variables (registerPost,
 * recommendations with a literal `first`) is costed once: the walk took ~30 µs, a tenth of a registerPost's CPU; one
 * whose cost does is costed once per shape of its variables (a batch size, a `first`): the walk coerces every
 * variable, a third of the CPU of a 1,000-interaction recordInteractions.
 */
export function costPlugin<C extends BaseContext>(schema: GraphQLSchema, limits: QueryLimits): ApolloServerPlugin<C> {
  const estimators = [costEstimator(limits)];
  const max = limits.maxCost;
  // Fields, fragments included, that the cost walk may visit: far more than any accepted query has (see maxAliases).
  const maxQueryNodes = 10_000;
  const fail = (err: AppError, status = 400) => new GraphQLError(err.message, { originalError: err, extensions: { http: { status } } });
  // Per document (Apollo reuses the parsed document of a repeated query), the cost by operation name and, when it
  // depends on variables, by the variables' cost shape (cost.ts costShape; at most SHAPES per document).
  const costs = new WeakMap<DocumentNode, { byVariables: boolean; known: Map<string, number> }>();
  const costOf = (document: DocumentNode, variables: Record<string, unknown>, operationName: string | undefined): number => {
    let entry = costs.get(document);
    if (!entry) costs.set(document, (entry = { byVariables: costDependsOnVariables(document), known: new Map() }));
    const key = entry.byVariables ? `${operationName ?? ''}\u0000${JSON.stringify(costShape(variables))}` : operationName ?? '';
    const cached = entry.known.get(key);
    if (cached !== undefined) return cached;
    // Costed from the variables themselves: invalid ones throw here and are never cached.
    const cost = getComplexity({ schema, query: document, variables, operationName, estimators, maxQueryNodes });
    if (entry.known.size >= SHAPES) entry.known.clear();
    entry.known.set(key, cost);
    return cost;
  };
  return {
    async requestDidStart() {
      if (max <= 0) return;
      return {
        async didResolveOperation({ document, request, operationName }) {
          let cost: number;
          try {
            cost = costOf(document as DocumentNode, request.variables ?? {}, operationName ?? undefined);
          } catch (err) {
            const message = (err as Error).message;
            // Bad variables: execution reports them as it always has, before any field runs.
            if (VARIABLE_ERROR.test(message)) return;
            if (/maximum allowed number of nodes/.test(message)) {
              throw fail(tooComplex('cost', max, null, `the operation selects more than ${maxQueryNodes} fields`));
            }
            // An argument graphql-js cannot coerce (a null for a non-null argument with a default, ...): the client's
            // mistake, and the operation cannot be costed, so none of it runs.
            throw fail(new AppError(ErrorCode.BAD_USER_INPUT, message));
          }
          if (cost > max) {
            throw fail(tooComplex('cost', max, cost, `the operation costs ${cost}, over the limit of ${max} (MEMER_MAX_COST): list fields and batches cost their first or their inputs; ask for fewer or split the request`));
          }
        },
      };
    },
  };
}
