/**
 * Limits, checked before anything else (cheap, so hostile input is refused fast): size, JSON depth,
 * templates per string, reserved keys, step count, parallel/map nesting and condition depth.
 */
import { isRecord, joinPath, RESERVED_KEYS } from '../../catalog/problems.ts';
import { type FieldProblem, PayloadTooLargeError } from '../../errors.ts';
import { MAX_CONDITION_DEPTH } from '../model.ts';
import { traitsOf, walkGraphs } from '../steps.ts';
import { countTemplates } from '../templates.ts';

/** Limits checked before anything else. */
export const WORKFLOW_LIMITS = Object.freeze({
  /** Serialized definition, UTF-8 bytes; more is a 413. */
  maxBytes: 1024 * 1024,
  /** Steps in total, counting those inside branches and iterators. */
  maxSteps: 500,
  /** Parallel/map nesting: a step inside 8 nested parallels or maps is the deepest accepted. */
  maxNestingDepth: 8,
  maxTemplatesPerString: 100,
  maxConditionDepth: MAX_CONDITION_DEPTH,
  /** Any JSON nesting (args, schemas...): bounds every recursive walk that follows. */
  maxJsonDepth: 128,
});

/** Problems reported by the limit checks before giving up (hostile input could have thousands). */
const MAX_LIMIT_PROBLEMS = 20;

interface Frame {
  readonly value: unknown;
  readonly depth: number;
  readonly parent: Frame | undefined;
  readonly key: string | number | undefined;
}

function framePath(frame: Frame): string {
  const parts: (string | number)[] = [];
  for (let f: Frame | undefined = frame; f?.key !== undefined; f = f.parent) parts.push(f.key);
  return joinPath(...parts.reverse());
}

const ENCODER = new TextEncoder();

/**
 * Size, JSON depth, templates per string, step count, parallel/map nesting and condition depth.
 * Every walk is iterative and bounded, so deep or huge input costs little before it is refused.
 * Throws `PayloadTooLargeError` for size; returns the other problems.
 */
export function limitProblems(input: unknown): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const full = () => problems.length >= MAX_LIMIT_PROBLEMS;
  const tooLarge = () =>
    new PayloadTooLargeError(`The workflow definition is larger than ${WORKFLOW_LIMITS.maxBytes} bytes.`);
  // A lower bound of the serialized size, so a huge body is refused before anything costly.
  let estimate = 0;
  // Strings and scalars are handled where they are met; only containers go on the stack.
  const visit = (
    value: unknown,
    parent: Frame | undefined,
    key: string | number | undefined,
    depth: number,
  ) => {
    if (typeof value === 'string') {
      estimate += value.length + 2;
      // Too large already: the caller throws after this container; skip scanning a huge string.
      if (estimate > WORKFLOW_LIMITS.maxBytes) return;
      if (
        !full() &&
        countTemplates(value, WORKFLOW_LIMITS.maxTemplatesPerString) > WORKFLOW_LIMITS.maxTemplatesPerString
      ) {
        problems.push({
          path: framePath({ value, depth, parent, key }),
          message: `more than ${WORKFLOW_LIMITS.maxTemplatesPerString} templates in one string`,
        });
      }
    } else if (typeof value === 'object' && value !== null) {
      stack.push({ value, depth, parent, key });
    } else {
      estimate += 1;
    }
  };
  const stack: Frame[] = [];
  visit(input, undefined, undefined, 0);
  let deep = false;
  while (stack.length > 0) {
    const frame = stack.pop() as Frame;
    const value = frame.value as object;
    if (frame.depth >= WORKFLOW_LIMITS.maxJsonDepth) {
      deep = true;
      if (!full())
        problems.push({
          path: framePath(frame),
          message: `nested deeper than ${WORKFLOW_LIMITS.maxJsonDepth} levels`,
        });
      continue;
    }
    if (Array.isArray(value)) {
      estimate += 1 + value.length;
      if (estimate > WORKFLOW_LIMITS.maxBytes) throw tooLarge();
      for (let i = value.length - 1; i >= 0; i--) visit(value[i], frame, i, frame.depth + 1);
    } else {
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      estimate += 1 + keys.length;
      for (const key of keys) estimate += key.length + 3;
      if (estimate > WORKFLOW_LIMITS.maxBytes) throw tooLarge();
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i] as string;
        // A plain object would drop such a key silently: refuse it instead.
        if (RESERVED_KEYS.has(key)) {
          if (!full()) problems.push({ path: joinPath(framePath(frame), key), message: 'reserved key' });
          continue;
        }
        visit(record[key], frame, key, frame.depth + 1);
      }
    }
    if (estimate > WORKFLOW_LIMITS.maxBytes) throw tooLarge();
  }
  // Exact size only once the structure is known to be shallow enough to serialize safely.
  if (!deep && ENCODER.encode(JSON.stringify(input) ?? '').byteLength > WORKFLOW_LIMITS.maxBytes)
    throw tooLarge();
  if (isRecord(input)) structureProblems(input, problems);
  return problems;
}

function structureProblems(input: Record<string, unknown>, problems: FieldProblem[]): void {
  let count = 0;
  walkGraphs(
    input,
    {
      // Checked before each graph: past the cap, the graphs left are not read.
      graph: () => problems.length < MAX_LIMIT_PROBLEMS,
      step: ({ step, path, depth, children }) => {
        count++;
        if (count > WORKFLOW_LIMITS.maxSteps) {
          problems.push({
            path: 'steps',
            message: `more than ${WORKFLOW_LIMITS.maxSteps} steps (counting those inside branches and iterators)`,
          });
          return 'stop';
        }
        if (!isRecord(step)) return undefined;
        if (children.length > 0 && depth + 1 > WORKFLOW_LIMITS.maxNestingDepth) {
          problems.push({
            path,
            message: `parallel and map steps nest at most ${WORKFLOW_LIMITS.maxNestingDepth} levels`,
          });
          return 'skip';
        }
        const reads = traitsOf(step.type)?.reads;
        if (reads?.as !== 'conditions') return undefined;
        const rules = step[reads.field];
        if (Array.isArray(rules)) {
          rules.forEach((rule, i) => {
            if (isRecord(rule))
              conditionDepthProblem(rule.when, `${path}.${reads.field}.${i}.when`, problems);
          });
        }
        return undefined;
      },
    },
    'stack',
  );
}

function conditionDepthProblem(condition: unknown, path: string, problems: FieldProblem[]): void {
  const stack: { value: unknown; depth: number; path: string }[] = [{ value: condition, depth: 1, path }];
  while (stack.length > 0) {
    const { value, depth, path: at } = stack.pop() as { value: unknown; depth: number; path: string };
    if (!isRecord(value)) continue;
    if (depth > WORKFLOW_LIMITS.maxConditionDepth) {
      problems.push({
        path: at,
        message: `conditions nest at most ${WORKFLOW_LIMITS.maxConditionDepth} levels`,
      });
      return;
    }
    for (const combinator of ['and', 'or'] as const) {
      const list = value[combinator];
      if (Array.isArray(list)) {
        list.forEach((inner, i) => {
          stack.push({ value: inner, depth: depth + 1, path: `${at}.${combinator}.${i}` });
        });
      }
    }
    // Pushed even when absent: the next pop skips what is not an object.
    stack.push({ value: value.not, depth: depth + 1, path: `${at}.not` });
  }
}
