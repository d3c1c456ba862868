import { useEffect, useState } from 'preact/hooks';
import type { Schemas } from '../api.ts';
import { ErrorBox, messageOf } from '../ui.tsx';

/**
 * The steps of a workflow as a drawn graph: elkjs computes the layered layout (nodes and routed
 * edges), this component only draws what it returns as SVG.
 */

type Step = Schemas['WorkflowStepOutput'];

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly label?: string;
}

/** Every transition a step can take: next, each choice, the default, and each catch. */
export function edgesOf(steps: Record<string, Step>): GraphEdge[] {
  const edges: GraphEdge[] = [];
  for (const [id, step] of Object.entries(steps)) {
    if ('next' in step && step.next) edges.push({ from: id, to: step.next });
    if (step.type === 'choice') {
      step.choices.forEach((choice, i) => {
        edges.push({ from: id, to: choice.next, label: `when ${i + 1}` });
      });
      if (step.default) edges.push({ from: id, to: step.default, label: 'default' });
    }
    if ('catch' in step && step.catch) {
      for (const c of step.catch) edges.push({ from: id, to: c.next, label: `catch ${c.errors.join(',')}` });
    }
  }
  return edges.filter((e) => e.to in steps);
}

const NODE_W = 170;
const NODE_H = 46;

interface Laid {
  width: number;
  height: number;
  nodes: { id: string; x: number; y: number; type: string }[];
  edges: {
    id: string;
    points: { x: number; y: number }[];
    label?: string | undefined;
    labelAt?: { x: number; y: number };
  }[];
}

type Elk = InstanceType<typeof import('elkjs/lib/elk.bundled.js').default>;
type ElkNode = import('elkjs/lib/elk-api').ElkNode;
let elk: Promise<Elk> | undefined;

/** elkjs is large (about 450 KB gzipped): loaded on the first graph, not with the page. */
function loadElk(): Promise<Elk> {
  elk ??= import('elkjs/lib/elk.bundled.js').then((m) => new m.default());
  return elk;
}

async function layout(steps: Record<string, Step>): Promise<Laid> {
  const edges = edgesOf(steps);
  const engine = await loadElk();
  const input: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.layered.spacing.nodeNodeBetweenLayers': '40',
      'elk.spacing.nodeNode': '30',
      'elk.edgeRouting': 'ORTHOGONAL',
    },
    children: Object.keys(steps).map((id) => ({ id, width: NODE_W, height: NODE_H })),
    edges: edges.map((e, i) => ({
      id: `e${i}`,
      sources: [e.from],
      targets: [e.to],
      ...(e.label ? { labels: [{ text: e.label, width: e.label.length * 6.5, height: 14 }] } : {}),
    })),
  };
  const graph = await engine.layout(input);
  return {
    width: graph.width ?? 0,
    height: graph.height ?? 0,
    nodes: (graph.children ?? []).map((n) => ({
      id: n.id,
      x: n.x ?? 0,
      y: n.y ?? 0,
      type: steps[n.id]?.type ?? '',
    })),
    edges: (graph.edges ?? []).map((e) => {
      const section = e.sections?.[0];
      const points = section ? [section.startPoint, ...(section.bendPoints ?? []), section.endPoint] : [];
      const label = e.labels?.[0];
      return {
        id: e.id,
        points,
        label: label?.text,
        ...(label ? { labelAt: { x: label.x ?? 0, y: (label.y ?? 0) + 11 } } : {}),
      };
    }),
  };
}

export function WorkflowGraph({ definition }: { definition: Schemas['WorkflowOutput'] }) {
  const [laid, setLaid] = useState<Laid>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    layout(definition.steps).then(setLaid, (e: unknown) => setError(messageOf(e)));
  }, [definition]);
  if (error) return <ErrorBox error={error} />;
  if (!laid) return <p class="muted">Drawing…</p>;
  const pad = 10;
  return (
    <figure class="graph">
      <svg
        role="img"
        aria-label={`Workflow graph: ${Object.keys(definition.steps).length} steps starting at ${definition.startAt}`}
        width={laid.width + pad * 2}
        height={laid.height + pad * 2}
        viewBox={`${-pad} ${-pad} ${laid.width + pad * 2} ${laid.height + pad * 2}`}
      >
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" class="arrow" />
          </marker>
        </defs>
        {laid.edges.map((e) => (
          <g key={e.id}>
            <polyline
              class="edge"
              points={e.points.map((p) => `${p.x},${p.y}`).join(' ')}
              marker-end="url(#arrow)"
            />
            {e.label && e.labelAt && (
              <text class="edge-label" x={e.labelAt.x} y={e.labelAt.y}>
                {e.label}
              </text>
            )}
          </g>
        ))}
        {laid.nodes.map((n) => (
          <g key={n.id} class={`node node-${n.type}${n.id === definition.startAt ? ' node-start' : ''}`}>
            <rect x={n.x} y={n.y} width={NODE_W} height={NODE_H} rx="6" />
            <text x={n.x + NODE_W / 2} y={n.y + 19} text-anchor="middle" class="node-id">
              {n.id}
            </text>
            <text x={n.x + NODE_W / 2} y={n.y + 36} text-anchor="middle" class="node-type">
              {n.type}
            </text>
          </g>
        ))}
      </svg>
      <figcaption class="visually-hidden">
        {Object.entries(definition.steps)
          .map(([id, s]) => `${id} (${s.type})`)
          .join(', ')}
      </figcaption>
    </figure>
  );
}
