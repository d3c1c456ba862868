/**
 * Data flow: a step may read `steps.<id>.output` only when `<id>` is guaranteed to have completed
 * successfully on every path that reaches it. That is a must-availability analysis over each graph
 * (the workflow, each branch, each iterator): a step's output becomes available after it; a catch
 * edge carries what was available before the failing step (it produced nothing); a parallel makes
 * its branches' guaranteed steps available after it; a map makes only itself available (its
 * iterator steps are read through `steps.<mapId>.output`). A branch or iterator sees what was
 * available before its parallel or map, plus its own earlier steps. Templates and paths are
 * parsed here too, so a malformed one is reported where it is read.
 */
import { isRecord, type ProblemList } from '../../catalog/problems.ts';
import { traitsOf } from '../steps.ts';
import { type DataRef, type DataRoot, parseDataPath, scanTemplates } from '../templates.ts';
import { Bits } from './bits.ts';
import { type Graph, type GraphTree, type Node, reachableFrom, startNode, validEdges } from './graph.ts';
import { WORKFLOW_LIMITS } from './limits.ts';

/** Result of the local availability analysis of one graph (before adding what it inherits). */
interface GraphFlow {
  /** Steps of this graph (and its completed branches) available on entry to each reachable node. */
  readonly availIn: Map<Node, Bits>;
  /** Steps available whenever the graph ends successfully (`end: true` or `succeed`). */
  readonly atEnd: Bits;
  readonly reachable: Set<Node>;
}

/** Checks every data read (templates, paths, conditions) against what is available where it runs. */
export function checkDataFlow(tree: GraphTree, problems: ProblemList): void {
  new DataFlow(tree, problems).run();
}

type Read = (ref: DataRef, at: string, what: string) => void;

class DataFlow {
  private readonly flows = new Map<Graph, GraphFlow>();

  constructor(
    private readonly tree: GraphTree,
    private readonly problems: ProblemList,
  ) {}

  run(): void {
    // Children before parents: a parallel's availability needs its branches' results.
    for (let i = this.tree.graphs.length - 1; i >= 0; i--) {
      const graph = this.tree.graphs[i] as Graph;
      this.flows.set(graph, this.flow(graph));
    }
    this.checkReads(this.tree.root, Bits.empty(this.tree.nodes.length));
  }

  // Must-availability, local to one graph (inherited steps are added by checkReads).
  private flow(graph: Graph): GraphFlow {
    const size = this.tree.nodes.length;
    const start = startNode(graph);
    const reachable = reachableFrom(start);
    const order = [...reachable];
    const preds = new Map<Node, { from: Node; onError: boolean }[]>();
    for (const node of order) {
      for (const { edge, target } of validEdges(node)) {
        const list = preds.get(target) ?? [];
        list.push({ from: node, onError: edge.onError });
        preds.set(target, list);
      }
    }
    const gen = new Map<Node, Bits>();
    for (const node of order) {
      const bits = Bits.empty(size);
      if (traitsOf(node.type)?.output) bits.add(node.index);
      for (const child of node.children) {
        const branchFlow = child.kind === 'branch' ? this.flows.get(child) : undefined;
        if (branchFlow) bits.or(branchFlow.atEnd);
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
      if (node.raw.end === true || traitsOf(node.type)?.transitions === 'succeed')
        atEnd = atEnd ? atEnd.and(out(node)) : out(node);
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
    const reads = traitsOf(node.type)?.reads;
    const value = reads ? raw[reads.field] : undefined;
    const at = `${path}.${reads?.field}`;
    if (reads?.as === 'template' && typeof value === 'string') this.checkTemplates(value, at, roots, read);
    if (reads?.as === 'args' && isRecord(value)) this.checkArgs(value, at, roots, read);
    if (reads?.as === 'path' && typeof value === 'string') this.checkPath(value, at, roots, read);
    if (reads?.as === 'conditions' && Array.isArray(value)) {
      value.forEach((rule, i) => {
        if (isRecord(rule)) this.checkCondition(rule.when, `${at}.${i}.when`, roots, read);
      });
    }
  }

  private insideIterator(node: Node): boolean {
    for (let g: Graph | undefined = node.graph; g; g = g.parent) if (g.kind === 'iterator') return true;
    return false;
  }

  private checkTemplates(text: string, at: string, roots: DataRoot[], read: Read): void {
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

  private checkPath(text: string, at: string, roots: DataRoot[], read: Read): void {
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
  private checkArgs(args: Record<string, unknown>, at: string, roots: DataRoot[], read: Read): void {
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

  private checkCondition(condition: unknown, at: string, roots: DataRoot[], read: Read): void {
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
      // Pushed even when absent: the next pop skips what is not an object.
      stack.push({ value: value.not, path: `${path}.not` });
      if (typeof value.path === 'string') this.checkPath(value.path, `${path}.path`, roots, read);
    }
  }

  private checkRef(node: Node, ref: DataRef, at: string, what: string, available: Bits | undefined): void {
    if (ref.root !== 'steps' || ref.stepId === undefined) return;
    const target = this.tree.byId.get(ref.stepId);
    if (!target) {
      this.problems.add(at, `${what} reads unknown step ${ref.stepId}`);
      return;
    }
    if (target === node) {
      this.problems.add(at, `${what}: a step cannot read its own output`);
      return;
    }
    if (target.type !== undefined && !traitsOf(target.type)?.output) {
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
