/** The segments of a JSON pointer (`/a~1b/0` → `['a/b', '0']`), as Ajv's `instancePath` gives them. */
export function decodePointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
}
