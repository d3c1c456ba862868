/**
 * The graph rules (tolerant: they read the raw input, so they run even when some fields failed the
 * schema): unique ids, targets inside their own graph, `next` or `end`, reachability, cycles that
 * never pause, and the agents and tools the steps name.
 */
import { isRecord, joinPath, type ProblemList } from '../../catalog/problems.ts';
import { type GraphKind, traitsOf, walkGraphs } from '../steps.ts';

/** What validation needs to know about the tenant's catalog, already resolved by the caller. */
export interface WorkflowValidationContext {
  /** Whether an agent with this id exists in the caller's tenant. */
  agentExists(id: string): boolean;
  /** Whether a tool with this id exists in the caller's tenant. */
  toolExists(id: string): boolean;
}

export interface Edge {
  readonly target: string;
  readonly path: string;
  /** A catch edge: the source failed and produced no output. */
  readonly onError: boolean;
}

export interface Node {
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

export interface Graph {
  readonly kind: GraphKind;
  /** Path of the object holding `startAt` and `steps` ('' for the workflow). */
  readonly path: string;
  readonly owner: Node | undefined;
  readonly parent: Graph | undefined;
  readonly nodes: Map<string, Node>;
  readonly startAt: unknown;
}

/** Every graph and node of a workflow. */
export interface GraphTree {
  readonly root: Graph;
  /** Parents before children (the order problems are reported in). */
  readonly graphs: readonly Graph[];
  readonly nodes: readonly Node[];
  /** The first node of each id. */
  readonly byId: ReadonlyMap<string, Node>;
}

/** Builds the graph tree (depth is bounded by the limit checks), registering every node. */
export function buildGraphs(input: Record<string, unknown>, problems: ProblemList): GraphTree {
  const graphs: Graph[] = [];
  const nodes: Node[] = [];
  const byId = new Map<string, Node>();
  walkGraphs<Graph>(input, {
    graph: ({ kind, path, holder, owner }) => {
      const parentNode = owner?.graph.nodes.get(owner.id);
      const graph: Graph = {
        kind,
        path,
        owner: parentNode,
        parent: owner?.graph,
        nodes: new Map(),
        startAt: holder.startAt,
      };
      graphs.push(graph);
      parentNode?.children.push(graph);
      const steps = holder.steps;
      if (isRecord(steps) && Object.keys(steps).length === 0)
        problems.add(joinPath(path, 'steps'), 'needs at least one step');
      return graph;
    },
    step: ({ id, step: raw, path, graph }) => {
      if (!isRecord(raw)) return undefined;
      const node: Node = {
        id,
        index: nodes.length,
        path,
        raw,
        type: typeof raw.type === 'string' ? raw.type : undefined,
        graph,
        edges: [],
        children: [],
      };
      nodes.push(node);
      graph.nodes.set(id, node);
      const first = byId.get(id);
      if (first) {
        problems.add(
          node.path,
          `step id ${id} is also used at ${first.path}; ids must be unique in the whole workflow, branches and iterators included`,
        );
      } else {
        byId.set(id, node);
      }
      collectEdges(node);
      return undefined;
    },
  });
  return { root: graphs[0] as Graph, graphs, nodes, byId };
}

function collectEdges(node: Node): void {
  const { raw, path, edges } = node;
  const traits = traitsOf(node.type);
  if (typeof raw.next === 'string') edges.push({ target: raw.next, path: `${path}.next`, onError: false });
  if (traits?.transitions === 'choices') {
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
  if (traits?.catches && Array.isArray(raw.catch)) {
    raw.catch.forEach((catcher, i) => {
      if (isRecord(catcher) && typeof catcher.next === 'string') {
        edges.push({ target: catcher.next, path: `${path}.catch.${i}.next`, onError: true });
      }
    });
  }
}

/** Edges whose target is a step of the same graph. */
export function validEdges(node: Node): { edge: Edge; target: Node }[] {
  const out: { edge: Edge; target: Node }[] = [];
  for (const edge of node.edges) {
    const target = node.graph.nodes.get(edge.target);
    if (target) out.push({ edge, target });
  }
  return out;
}

export function startNode(graph: Graph): Node | undefined {
  return typeof graph.startAt === 'string' ? graph.nodes.get(graph.startAt) : undefined;
}

export function reachableFrom(start: Node | undefined): Set<Node> {
  const seen = new Set<Node>();
  if (!start) return seen;
  const queue = [start];
  seen.add(start);
  for (let i = 0; i < queue.length; i++) {
    for (const { target } of validEdges(queue[i] as Node)) {
      if (!seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  return seen;
}

/** Checks each graph's targets, transitions, catalog references, reachability and cycles. */
export function checkGraphs(tree: GraphTree, ctx: WorkflowValidationContext, problems: ProblemList): void {
  const seen = { agent: new Map<string, boolean>(), tool: new Map<string, boolean>() };
  const lookup = { agent: (id: string) => ctx.agentExists(id), tool: (id: string) => ctx.toolExists(id) };
  const unknownTarget = (target: string): string => {
    const elsewhere = tree.byId.get(target);
    return elsewhere
      ? `step ${target} is in another branch or iterator (${elsewhere.path}); transitions stay inside their own graph`
      : `unknown step ${target}`;
  };
  for (const graph of tree.graphs) {
    const startPath = joinPath(graph.path, 'startAt');
    if (typeof graph.startAt === 'string' && !graph.nodes.has(graph.startAt)) {
      problems.add(startPath, unknownTarget(graph.startAt));
    }
    for (const node of graph.nodes.values()) {
      for (const edge of node.edges) {
        if (!graph.nodes.has(edge.target)) problems.add(edge.path, unknownTarget(edge.target));
      }
      const traits = traitsOf(node.type);
      if (traits?.transitions === 'next') {
        const hasNext = node.raw.next !== undefined;
        const ends = node.raw.end === true;
        if (!hasNext && !ends) problems.add(node.path, 'needs "next" or "end": true');
        if (hasNext && ends) problems.add(`${node.path}.end`, 'has both "next" and "end"; keep one');
      }
      const catalog = traits?.catalog;
      if (catalog) {
        const refId = node.raw[catalog.field];
        if (typeof refId === 'string') {
          // Asked once per id, however many steps name it.
          const cache = seen[catalog.kind];
          let known = cache.get(refId);
          if (known === undefined) {
            known = lookup[catalog.kind](refId);
            cache.set(refId, known);
          }
          if (!known) problems.add(`${node.path}.${catalog.field}`, `unknown ${catalog.kind} ${refId}`);
        }
      }
    }
    const start = startNode(graph);
    const reachable = reachableFrom(start);
    for (const node of graph.nodes.values()) {
      if (start && !reachable.has(node))
        problems.add(node.path, `unreachable from startAt (${graph.startAt})`);
    }
    checkCycles(graph, problems);
  }
}

// Tarjan's strongly connected components, iterative (no recursion on tenant-sized graphs).
function checkCycles(graph: Graph, problems: ProblemList): void {
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
      work.push({ node, next: 0, succ: validEdges(node).map((e) => e.target) });
    };
    enter(root);
    while (work.length > 0) {
      const top = work[work.length - 1] as { node: Node; next: number; succ: Node[] };
      if (top.next < top.succ.length) {
        const succ = top.succ[top.next++] as Node;
        if (!index.has(succ)) enter(succ);
        else if (onStack.has(succ)) low.set(top.node, Math.min(low.get(top.node) ?? 0, index.get(succ) ?? 0));
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
      const cyclic = component.length > 1 || validEdges(top.node).some(({ target }) => target === top.node);
      if (cyclic && !component.some((n) => traitsOf(n.type)?.pauses)) {
        component.sort((a, b) => a.index - b.index);
        const first = component[0] as Node;
        const ids = [...component.map((n) => n.id), first.id].join(' → ');
        problems.add(first.path, `cycle ${ids} has no wait or approval step, so it could loop without pause`);
      }
    }
  }
}
