import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

type JsonObject = Record<string, unknown>;

interface Operation {
  readonly path: string;
  readonly segments: readonly string[];
  readonly responses: Record<string, JsonObject>;
}

/** The spec an API serves, compiled once per worker, checking responses against their operation. */
export class Contract {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  private readonly operations = new Map<string, Operation[]>();
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(spec: JsonObject) {
    this.ajv.addSchema(spec, 'openapi.json');
    const paths = (spec.paths ?? {}) as Record<string, Record<string, JsonObject>>;
    for (const [path, ops] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const list = this.operations.get(method.toUpperCase()) ?? [];
        list.push({
          path,
          segments: path.split('/'),
          responses: (op.responses ?? {}) as Record<string, JsonObject>,
        });
        this.operations.set(method.toUpperCase(), list);
      }
    }
  }

  /** The operation whose template matches the path; literal segments win over parameters, as in the router. */
  operationFor(method: string, rawPath: string): Operation | undefined {
    const path = rawPath.split('?')[0]?.replace(/\/$/, '') || '/';
    const segments = path.split('/');
    let best: { op: Operation; literals: number } | undefined;
    for (const op of this.operations.get(method.toUpperCase()) ?? []) {
      if (op.segments.length !== segments.length) continue;
      let literals = 0;
      const fits = op.segments.every((s, i) => {
        if (/^\{\w+\}$/.test(s)) return segments[i] !== '';
        literals++;
        return s === segments[i];
      });
      if (fits && (!best || literals > best.literals)) best = { op, literals };
    }
    return best?.op;
  }

  /**
   * The reasons a response breaks the contract, none when it keeps it: an undeclared status, a
   * content type the status does not declare, or a body its schema rejects. Requests no operation
   * matches (unknown paths, other methods) must answer problem+json, or the gateway's own 404.
   */
  check(
    method: string,
    path: string,
    status: number,
    contentType: string,
    body: unknown,
    text: string,
  ): string[] {
    const where = `${method} ${path} → ${status}`;
    const op = this.operationFor(method, path);
    const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
    if (!op) {
      // API Gateway answers paths outside every route itself, with `{"message": ...}`.
      if (status === 404 && mediaType === 'application/json') {
        return this.validate(where, '#/components/schemas/GatewayMessage', body, mediaType, mediaType);
      }
      if (status === 404 || status === 405) {
        return this.validate(
          `${where}`,
          '#/components/schemas/Problem',
          body,
          mediaType,
          'application/problem+json',
        );
      }
      return [`${where}: no operation in the spec matches this request`];
    }
    const response = op.responses[String(status)];
    if (!response) return [`${where}: status ${status} is not declared for ${method} ${op.path}`];
    const content = response.content as Record<string, JsonObject> | undefined;
    if (!content) {
      return text === '' ? [] : [`${where}: the spec declares no body, the response has one (${mediaType})`];
    }
    if (text === '')
      return [
        `${where}: the spec declares a body (${Object.keys(content).join(', ')}), the response has none`,
      ];
    if (!content[mediaType]) {
      return [
        `${where}: content type ${mediaType || 'none'} is not declared (${Object.keys(content).join(', ')})`,
      ];
    }
    const pointer = `#/paths/${pointerSegment(op.path)}/${method.toLowerCase()}/responses/${status}/content/${pointerSegment(mediaType)}/schema`;
    return this.validate(where, pointer, body, mediaType, mediaType);
  }

  private validate(
    where: string,
    pointer: string,
    body: unknown,
    mediaType: string,
    expected: string,
  ): string[] {
    if (mediaType !== expected)
      return [`${where}: content type ${mediaType || 'none'}, expected ${expected}`];
    let validate = this.validators.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `openapi.json${pointer}` });
      this.validators.set(pointer, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).map(
      (e) => `${where}: body${e.instancePath} ${e.message ?? 'is invalid'} (${e.schemaPath})`,
    );
  }
}

function pointerSegment(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
