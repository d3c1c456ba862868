/**
 * Workflow validation: limits first (cheap, so hostile input is refused fast), then the field schema,
 * then the graph: targets, reachability, next/end, cycles, agents and tools, templates and data flow.
 * Every problem found is reported at once, each with its path (`steps.a.next`).
 *
 * Data flow: a step may read `steps.<id>.output` only when `<id>` is guaranteed to have completed
 * successfully on every path that reaches it. That is a must-availability analysis over each graph
 * (the workflow, each branch, each iterator): a step's output becomes available after it; a catch
 * edge carries what was available before the failing step (it produced nothing); a parallel makes
 * its branches' guaranteed steps available after it; a map makes only itself available (its
 * iterator steps are read through `steps.<mapId>.output`). A branch or iterator sees what was
 * available before its parallel or map, plus its own earlier steps.
 */

import { check } from '#shared/schema.ts';
import { jsonSchemaProblems } from '../catalog/json-schema.ts';
import { DEFINITION, isRecord, joinPath, ProblemList, RESERVED_KEYS } from '../catalog/problems.ts';
import { type FieldProblem, PayloadTooLargeError, ValidationError } from '../errors.ts';
import { MAX_CONDITION_DEPTH, type WorkflowDefinition, workflowSchema } from './model.ts';
import { countTemplates, type DataRef, type DataRoot, parseDataPath, scanTemplates } from './templates.ts';

/** What validation needs to know about the tenant's catalog, already resolved by the caller. */
export interface WorkflowValidationContext {
  /** Whether an agent with this id exists in the caller's tenant. */
  agentExists(id: string): boolean;
  /** Whether a tool with this id exists in the caller's tenant. */
  toolExists(id: string): boolean;
}

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

/**
 * Validates a workflow definition and returns it typed. Throws `PayloadTooLargeError` when the
 * serialized definition exceeds 1 MB, `ValidationError` (with every problem and its path) otherwise.
 */
export function validateWorkflow(input: unknown, ctx: WorkflowValidationContext): WorkflowDefinition {
  const limits = limitProblems(input);
  if (limits.length > 0) throw new ValidationError(`Workflow exceeds limits: ${describe(limits)}`, limits);
  const problems = new ProblemList();
  const parsed = check(workflowSchema, input, DEFINITION);
  if (!parsed.ok) problems.addAll(parsed.problems);
  if (isRecord(input)) new GraphAnalysis(input, ctx, problems).run();
  if (problems.size > 0 || !parsed.ok) {
    throw new ValidationError(`Invalid workflow: ${describe(problems.items)}`, problems.items);
  }
  return parsed.value;
}

function describe(problems: readonly FieldProblem[]): string {
  const first = problems[0];
  if (!first) return 'invalid';
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return `${first.path || 'definition'}: ${first.message}${more}`;
}

// ---------------------------------------------------------------------------------------------
// Limits

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
function limitProblems(input: unknown): FieldProblem[] {
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
  const graphs: { steps: unknown; path: string; depth: number }[] = [
    { steps: input.steps, path: 'steps', depth: 0 },
  ];
  let count = 0;
  while (graphs.length > 0 && problems.length < MAX_LIMIT_PROBLEMS) {
    const graph = graphs.pop() as { steps: unknown; path: string; depth: number };
    if (!isRecord(graph.steps)) continue;
    for (const id in graph.steps) {
      count++;
      if (count > WORKFLOW_LIMITS.maxSteps) {
        problems.push({
          path: 'steps',
          message: `more than ${WORKFLOW_LIMITS.maxSteps} steps (counting those inside branches and iterators)`,
        });
        return;
      }
      const step = graph.steps[id];
      if (!isRecord(step)) continue;
      const path = `${graph.path}.${id}`;
      const children: { steps: unknown; path: string }[] = [];
      if (step.type === 'parallel' && Array.isArray(step.branches)) {
        step.branches.forEach((branch, i) => {
          if (isRecord(branch)) children.push({ steps: branch.steps, path: `${path}.branches.${i}.steps` });
        });
      }
      if (step.type === 'map' && isRecord(step.iterator)) {
        children.push({ steps: step.iterator.steps, path: `${path}.iterator.steps` });
      }
      if (children.length > 0 && graph.depth + 1 > WORKFLOW_LIMITS.maxNestingDepth) {
        problems.push({
          path,
          message: `parallel and map steps nest at most ${WORKFLOW_LIMITS.maxNestingDepth} levels`,
        });
        continue;
      }
      for (const child of children) graphs.push({ ...child, depth: graph.depth + 1 });
      if (step.type === 'choice' && Array.isArray(step.choices)) {
        step.choices.forEach((choice, i) => {
          if (isRecord(choice)) conditionDepthProblem(choice.when, `${path}.choices.${i}.when`, problems);
        });
      }
    }
  }
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
    if ('not' in value) stack.push({ value: value.not, depth: depth + 1, path: `${at}.not` });
  }
}

// ---------------------------------------------------------------------------------------------
// Graph analysis (tolerant: reads the raw input, so it runs even when some fields failed the schema)

/** Steps that continue with `next` or stop with `end: true`. */
const TRANSITION_TYPES = new Set(['agent', 'tool', 'parallel', 'map', 'approval', 'wait']);
/** Steps whose result is written to `steps.<id>.output`. */
const OUTPUT_TYPES = new Set(['agent', 'tool', 'approval', 'map']);
/** Steps that pause an execution (a cycle needs one, or it would spin). */
const PAUSE_TYPES = new Set(['wait', 'approval']);
/** Steps whose `catch` sends failures elsewhere. */
const CATCH_TYPES = new Set(['agent', 'tool', 'approval']);

interface Edge {
  readonly target: string;
  readonly path: string;
  /** A catch edge: the source failed and produced no output. */
  readonly onError: boolean;
}

interface Node {
  readonly id: string;
  /** Unique per node (ids may collide in bad input); the bit in availability sets. */
  readonly index: number;
  readonly path: string;
  readonly raw: Record<string, unknown>;
  readonly type: string | undefined;
  readonly graph: Graph;
  readonly edges: Edge[];
  readonly children: Graph[];
}

interface Graph {
  readonly kind: 'workflow' | 'branch' | 'iterator';
  /** Path of the object holding `startAt` and `steps` ('' for the workflow). */
  readonly path: string;
  readonly owner: Node | undefined;
  readonly parent: Graph | undefined;
  readonly nodes: Map<string, Node>;
  readonly startAt: unknown;
}

/** A fixed-size bit set over node indexes. */
class Bits {
  private constructor(readonly words: Uint32Array) {}
  static empty(size: number): Bits {
    return new Bits(new Uint32Array(Math.ceil(size / 32) || 1));
  }
  static full(size: number): Bits {
    const bits = Bits.empty(size);
    bits.words.fill(0xffffffff);
    return bits;
  }
  clone(): Bits {
    return new Bits(this.words.slice());
  }
  has(i: number): boolean {
    return ((this.words[i >>> 5] ?? 0) & (1 << (i & 31))) !== 0;
  }
  add(i: number): this {
    this.words[i >>> 5] = (this.words[i >>> 5] ?? 0) | (1 << (i & 31));
    return this;
  }
  and(other: Bits): this {
    for (let w = 0; w < this.words.length; w++) this.words[w] = (this.words[w] ?? 0) & (other.words[w] ?? 0);
    return this;
  }
  or(other: Bits): this {
    for (let w = 0; w < this.words.length; w++) this.words[w] = (this.words[w] ?? 0) | (other.words[w] ?? 0);
    return this;
  }
  equals(other: Bits): boolean {
    for (let w = 0; w < this.words.length; w++) if (this.words[w] !== other.words[w]) return false;
    return true;
  }
}

/** Result of the local availability analysis of one graph (before adding what it inherits). */
interface GraphFlow {
  /** Steps of this graph (and its completed branches) available on entry to each reachable node. */
  readonly availIn: Map<Node, Bits>;
  /** Steps available whenever the graph ends successfully (`end: true` or `succeed`). */
  readonly atEnd: Bits;
  readonly reachable: Set<Node>;
}

class GraphAnalysis {
  private readonly nodes: Node[] = [];
  private readonly byId = new Map<string, Node>();
  private readonly graphs: Graph[] = [];
  private readonly flows = new Map<Graph, GraphFlow>();
  private readonly agentSeen = new Map<string, boolean>();
  private readonly toolSeen = new Map<string, boolean>();

  constructor(
    private readonly input: Record<string, unknown>,
    private readonly ctx: WorkflowValidationContext,
    private readonly problems: ProblemList,
  ) {}

  run(): void {
    if (this.input.inputSchema !== undefined) {
      this.problems.addAll(jsonSchemaProblems(this.input.inputSchema, 'inputSchema'));
    }
    const root = this.buildGraph('workflow', '', this.input, undefined, undefined);
    for (const graph of this.graphs) this.checkGraph(graph);
    // Children before parents: a parallel's availability needs its branches' results.
    for (let i = this.graphs.length - 1; i >= 0; i--) {
      const graph = this.graphs[i] as Graph;
      this.flows.set(graph, this.flow(graph));
    }
    this.checkReads(root, Bits.empty(this.nodes.length));
  }

  // Builds the graph tree (depth is bounded by the limit checks), registering every node.
  private buildGraph(
    kind: Graph['kind'],
    path: string,
    holder: Record<string, unknown>,
    owner: Node | undefined,
    parent: Graph | undefined,
  ): Graph {
    const graph: Graph = { kind, path, owner, parent, nodes: new Map(), startAt: holder.startAt };
    this.graphs.push(graph);
    const steps = holder.steps;
    const stepsPath = joinPath(path, 'steps');
    if (isRecord(steps) && Object.keys(steps).length === 0)
      this.problems.add(stepsPath, 'needs at least one step');
    if (!isRecord(steps)) return graph;
    for (const [id, raw] of Object.entries(steps)) {
      if (!isRecord(raw)) continue;
      const node: Node = {
        id,
        index: this.nodes.length,
        path: joinPath(stepsPath, id),
        raw,
        type: typeof raw.type === 'string' ? raw.type : undefined,
        graph,
        edges: [],
        children: [],
      };
      this.nodes.push(node);
      graph.nodes.set(id, node);
      const first = this.byId.get(id);
      if (first) {
        this.problems.add(
          node.path,
          `step id ${id} is also used at ${first.path}; ids must be unique in the whole workflow, branches and iterators included`,
        );
      } else {
        this.byId.set(id, node);
      }
      this.collectEdges(node);
      if (node.type === 'parallel' && Array.isArray(raw.branches)) {
        raw.branches.forEach((branch, i) => {
          if (isRecord(branch)) {
            node.children.push(this.buildGraph('branch', `${node.path}.branches.${i}`, branch, node, graph));
          }
        });
      }
      if (node.type === 'map' && isRecord(raw.iterator)) {
        node.children.push(this.buildGraph('iterator', `${node.path}.iterator`, raw.iterator, node, graph));
      }
    }
    return graph;
  }

  private collectEdges(node: Node): void {
    const { raw, path, edges } = node;
    if (typeof raw.next === 'string') edges.push({ target: raw.next, path: `${path}.next`, onError: false });
    if (node.type === 'choice') {
      if (Array.isArray(raw.choices)) {
        raw.choices.forEach((choice, i) => {
          if (isRecord(choice) && typeof choice.next === 'string') {
            edges.push({ target: choice.next, path: `${path}.choices.${i}.next`, onError: false });
          }
        });
      }
      if (typeof raw.default === 'string')
        edges.push({ target: raw.default, path: `${path}.default`, onError: false });
    }
    if (node.type !== undefined && CATCH_TYPES.has(node.type) && Array.isArray(raw.catch)) {
      raw.catch.forEach((catcher, i) => {
        if (isRecord(catcher) && typeof catcher.next === 'string') {
          edges.push({ target: catcher.next, path: `${path}.catch.${i}.next`, onError: true });
        }
      });
    }
  }

  /** Edges whose target is a step of the same graph. */
  private validEdges(node: Node): { edge: Edge; target: Node }[] {
    const out: { edge: Edge; target: Node }[] = [];
    for (const edge of node.edges) {
      const target = node.graph.nodes.get(edge.target);
      if (target) out.push({ edge, target });
    }
    return out;
  }

  private startNode(graph: Graph): Node | undefined {
    return typeof graph.startAt === 'string' ? graph.nodes.get(graph.startAt) : undefined;
  }

  private checkGraph(graph: Graph): void {
    const startPath = joinPath(graph.path, 'startAt');
    if (typeof graph.startAt === 'string' && !graph.nodes.has(graph.startAt)) {
      this.problems.add(startPath, this.unknownTargetMessage(graph.startAt));
    }
    for (const node of graph.nodes.values()) {
      for (const edge of node.edges) {
        if (!graph.nodes.has(edge.target))
          this.problems.add(edge.path, this.unknownTargetMessage(edge.target));
      }
      if (node.type !== undefined && TRANSITION_TYPES.has(node.type)) {
        const hasNext = node.raw.next !== undefined;
        const ends = node.raw.end === true;
        if (!hasNext && !ends) this.problems.add(node.path, 'needs "next" or "end": true');
        if (hasNext && ends) this.problems.add(`${node.path}.end`, 'has both "next" and "end"; keep one');
      }
      this.checkCatalog(node);
    }
    const start = this.startNode(graph);
    const reachable = this.reachableFrom(start);
    for (const node of graph.nodes.values()) {
      if (start && !reachable.has(node))
        this.problems.add(node.path, `unreachable from startAt (${graph.startAt})`);
    }
    this.checkCycles(graph);
  }

  private unknownTargetMessage(target: string): string {
    const elsewhere = this.byId.get(target);
    return elsewhere
      ? `step ${target} is in another branch or iterator (${elsewhere.path}); transitions stay inside their own graph`
      : `unknown step ${target}`;
  }

  private reachableFrom(start: Node | undefined): Set<Node> {
    const seen = new Set<Node>();
    if (!start) return seen;
    const queue = [start];
    seen.add(start);
    for (let i = 0; i < queue.length; i++) {
      for (const { target } of this.validEdges(queue[i] as Node)) {
        if (!seen.has(target)) {
          seen.add(target);
          queue.push(target);
        }
      }
    }
    return seen;
  }

  private checkCatalog(node: Node): void {
    const { raw } = node;
    if (
      node.type === 'agent' &&
      typeof raw.agentId === 'string' &&
      !this.exists(this.agentSeen, raw.agentId, (id) => this.ctx.agentExists(id))
    ) {
      this.problems.add(`${node.path}.agentId`, `unknown agent ${raw.agentId}`);
    }
    if (
      node.type === 'tool' &&
      typeof raw.toolId === 'string' &&
      !this.exists(this.toolSeen, raw.toolId, (id) => this.ctx.toolExists(id))
    ) {
      this.problems.add(`${node.path}.toolId`, `unknown tool ${raw.toolId}`);
    }
  }

  private exists(cache: Map<string, boolean>, id: string, lookup: (id: string) => boolean): boolean {
    let known = cache.get(id);
    if (known === undefined) {
      known = lookup(id);
      cache.set(id, known);
    }
    return known;
  }

  // Tarjan's strongly connected components, iterative (no recursion on tenant-sized graphs).
  private checkCycles(graph: Graph): void {
    const index = new Map<Node, number>();
    const low = new Map<Node, number>();
    const onStack = new Set<Node>();
    const stack: Node[] = [];
    let counter = 0;
    for (const root of graph.nodes.values()) {
      if (index.has(root)) continue;
      const work: { node: Node; next: number; succ: Node[] }[] = [];
      const enter = (node: Node) => {
        index.set(node, counter);
        low.set(node, counter);
        counter++;
        stack.push(node);
        onStack.add(node);
        work.push({ node, next: 0, succ: this.validEdges(node).map((e) => e.target) });
      };
      enter(root);
      while (work.length > 0) {
        const top = work[work.length - 1] as { node: Node; next: number; succ: Node[] };
        if (top.next < top.succ.length) {
          const succ = top.succ[top.next++] as Node;
          if (!index.has(succ)) enter(succ);
          else if (onStack.has(succ))
            low.set(top.node, Math.min(low.get(top.node) ?? 0, index.get(succ) ?? 0));
          continue;
        }
        work.pop();
        const parent = work[work.length - 1];
        if (parent) low.set(parent.node, Math.min(low.get(parent.node) ?? 0, low.get(top.node) ?? 0));
        if (low.get(top.node) !== index.get(top.node)) continue;
        const component: Node[] = [];
        let member: Node | undefined;
        do {
          member = stack.pop() as Node;
          onStack.delete(member);
          component.push(member);
        } while (member !== top.node);
        const cyclic =
          component.length > 1 || this.validEdges(top.node).some(({ target }) => target === top.node);
        if (cyclic && !component.some((n) => n.type !== undefined && PAUSE_TYPES.has(n.type))) {
          component.sort((a, b) => a.index - b.index);
          const first = component[0] as Node;
          const ids = [...component.map((n) => n.id), first.id].join(' → ');
          this.problems.add(
            first.path,
            `cycle ${ids} has no wait or approval step, so it could loop without pause`,
          );
        }
      }
    }
  }

  // Must-availability, local to one graph (inherited steps are added by checkReads).
  private flow(graph: Graph): GraphFlow {
    const size = this.nodes.length;
    const start = this.startNode(graph);
    const reachable = this.reachableFrom(start);
    const order = [...reachable];
    const preds = new Map<Node, { from: Node; onError: boolean }[]>();
    for (const node of order) {
      for (const { edge, target } of this.validEdges(node)) {
        const list = preds.get(target) ?? [];
        list.push({ from: node, onError: edge.onError });
        preds.set(target, list);
      }
    }
    const gen = new Map<Node, Bits>();
    for (const node of order) {
      const bits = Bits.empty(size);
      if (node.type !== undefined && OUTPUT_TYPES.has(node.type)) bits.add(node.index);
      if (node.type === 'parallel') {
        for (const branch of node.children) {
          const branchFlow = this.flows.get(branch);
          if (branchFlow) bits.or(branchFlow.atEnd);
        }
      }
      gen.set(node, bits);
    }
    const availIn = new Map<Node, Bits>();
    for (const node of order) availIn.set(node, node === start ? Bits.empty(size) : Bits.full(size));
    const out = (node: Node) => (availIn.get(node) as Bits).clone().or(gen.get(node) as Bits);
    let changed = true;
    while (changed) {
      changed = false;
      for (const node of order) {
        if (node === start) continue;
        const next = Bits.full(size);
        for (const pred of preds.get(node) ?? []) {
          next.and(pred.onError ? (availIn.get(pred.from) as Bits) : out(pred.from));
        }
        if (!next.equals(availIn.get(node) as Bits)) {
          availIn.set(node, next);
          changed = true;
        }
      }
    }
    let atEnd: Bits | undefined;
    for (const node of order) {
      if (node.raw.end === true || node.type === 'succeed') atEnd = atEnd ? atEnd.and(out(node)) : out(node);
    }
    return { availIn, atEnd: atEnd ?? Bits.empty(size), reachable };
  }

  private checkReads(graph: Graph, inherited: Bits | undefined): void {
    const flow = this.flows.get(graph);
    for (const node of graph.nodes.values()) {
      const local = flow?.reachable.has(node) ? flow.availIn.get(node) : undefined;
      const available = inherited && local ? inherited.clone().or(local) : undefined;
      this.checkNodeReads(node, available);
      for (const child of node.children) this.checkReads(child, available);
    }
  }

  private checkNodeReads(node: Node, available: Bits | undefined): void {
    const { raw, path } = node;
    const roots: DataRoot[] = this.insideIterator(node) ? ['input', 'steps', 'item'] : ['input', 'steps'];
    const read = (ref: DataRef, at: string, what: string) => this.checkRef(node, ref, at, what, available);
    if (node.type === 'agent' && typeof raw.prompt === 'string') {
      this.checkTemplates(raw.prompt, `${path}.prompt`, roots, read);
    }
    if (node.type === 'tool' && isRecord(raw.args)) this.checkArgs(raw.args, `${path}.args`, roots, read);
    if (node.type === 'map' && typeof raw.itemsPath === 'string') {
      this.checkPath(raw.itemsPath, `${path}.itemsPath`, roots, read);
    }
    if (node.type === 'choice' && Array.isArray(raw.choices)) {
      raw.choices.forEach((choice, i) => {
        if (isRecord(choice)) this.checkCondition(choice.when, `${path}.choices.${i}.when`, roots, read);
      });
    }
  }

  private insideIterator(node: Node): boolean {
    for (let g: Graph | undefined = node.graph; g; g = g.parent) if (g.kind === 'iterator') return true;
    return false;
  }

  private checkTemplates(
    text: string,
    at: string,
    roots: DataRoot[],
    read: (ref: DataRef, at: string, what: string) => void,
  ): void {
    const { matches, error } = scanTemplates(text, WORKFLOW_LIMITS.maxTemplatesPerString);
    if (error) this.problems.add(at, `malformed template: ${error}`);
    for (const match of matches) {
      const parsed = parseDataPath(match.expression, roots);
      if (!parsed.ok)
        this.problems.add(
          at,
          `template {{${match.expression}}}: ${this.rootHint(parsed.message, match.expression)}`,
        );
      else read(parsed.ref, at, `template {{${match.expression}}}`);
    }
  }

  private checkPath(
    text: string,
    at: string,
    roots: DataRoot[],
    read: (ref: DataRef, at: string, what: string) => void,
  ): void {
    const parsed = parseDataPath(text, roots);
    if (!parsed.ok) this.problems.add(at, `path ${text}: ${this.rootHint(parsed.message, text)}`);
    else read(parsed.ref, at, `path ${text}`);
  }

  private rootHint(message: string, expression: string): string {
    return expression === 'item' || expression.startsWith('item.')
      ? 'item is only available inside a map iterator'
      : message;
  }

  // Tool args: any JSON. String values are templates; keys ending in `.$` would be read by Step
  // Functions as JSONPath when the args are embedded in the task's Parameters, so they are refused.
  private checkArgs(
    args: Record<string, unknown>,
    at: string,
    roots: DataRoot[],
    read: (ref: DataRef, at: string, what: string) => void,
  ): void {
    const stack: { value: unknown; path: string }[] = [{ value: args, path: at }];
    while (stack.length > 0) {
      const { value, path } = stack.pop() as { value: unknown; path: string };
      if (typeof value === 'string') this.checkTemplates(value, path, roots, read);
      else if (Array.isArray(value)) {
        value.forEach((v, i) => {
          stack.push({ value: v, path: `${path}.${i}` });
        });
      } else if (isRecord(value)) {
        for (const [key, v] of Object.entries(value)) {
          if (key.endsWith('.$')) this.problems.add(`${path}.${key}`, 'keys ending in ".$" are reserved');
          stack.push({ value: v, path: `${path}.${key}` });
        }
      }
    }
  }

  private checkCondition(
    condition: unknown,
    at: string,
    roots: DataRoot[],
    read: (ref: DataRef, at: string, what: string) => void,
  ): void {
    const stack: { value: unknown; path: string }[] = [{ value: condition, path: at }];
    while (stack.length > 0) {
      const { value, path } = stack.pop() as { value: unknown; path: string };
      if (!isRecord(value)) continue;
      for (const combinator of ['and', 'or'] as const) {
        const list = value[combinator];
        if (Array.isArray(list)) {
          list.forEach((c, i) => {
            stack.push({ value: c, path: `${path}.${combinator}.${i}` });
          });
        }
      }
      if (value.not !== undefined) stack.push({ value: value.not, path: `${path}.not` });
      if (typeof value.path === 'string') this.checkPath(value.path, `${path}.path`, roots, read);
    }
  }

  private checkRef(node: Node, ref: DataRef, at: string, what: string, available: Bits | undefined): void {
    if (ref.root !== 'steps' || ref.stepId === undefined) return;
    const target = this.byId.get(ref.stepId);
    if (!target) {
      this.problems.add(at, `${what} reads unknown step ${ref.stepId}`);
      return;
    }
    if (target === node) {
      this.problems.add(at, `${what}: a step cannot read its own output`);
      return;
    }
    if (target.type !== undefined && !OUTPUT_TYPES.has(target.type)) {
      this.problems.add(at, `${what}: step ${target.id} is a ${target.type} step and has no output`);
      return;
    }
    if (!available || available.has(target.index)) return;
    const enclosing = this.enclosingHiddenGraph(target, node);
    if (enclosing?.kind === 'iterator') {
      this.problems.add(
        at,
        `${what}: step ${target.id} runs inside the iterator of map ${enclosing.owner?.id}; outside it, read steps.${enclosing.owner?.id}.output`,
      );
    } else if (enclosing?.kind === 'branch' && this.graphsOf(node).some((g) => g.owner === enclosing.owner)) {
      this.problems.add(
        at,
        `${what}: step ${target.id} runs in another branch of parallel ${enclosing.owner?.id}; branches cannot read each other`,
      );
    } else if (enclosing?.kind === 'branch') {
      this.problems.add(
        at,
        `${what}: step ${target.id} (in a branch of parallel ${enclosing.owner?.id}) is not guaranteed to have completed before this step`,
      );
    } else {
      this.problems.add(at, `${what}: step ${target.id} is not guaranteed to have run before this step`);
    }
  }

  private graphsOf(node: Node): Graph[] {
    const graphs: Graph[] = [];
    for (let g: Graph | undefined = node.graph; g; g = g.parent) graphs.push(g);
    return graphs;
  }

  // The outermost graph holding `target` that does not also hold `reader`, if any.
  private enclosingHiddenGraph(target: Node, reader: Node): Graph | undefined {
    const readerGraphs = new Set(this.graphsOf(reader));
    let hidden: Graph | undefined;
    for (let g: Graph | undefined = target.graph; g && !readerGraphs.has(g); g = g.parent) hidden = g;
    return hidden;
  }
}
