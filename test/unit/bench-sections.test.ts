import { describe, expect, it } from 'vitest';
import { sections, spliceSection } from '../../bench/markdown.ts';

const RESULTS =
  '# Results\n\n## 1. Bundles\nold bundles\n\n## Rate limiter\nold limits\n\n## Mutation\nscores\n';

describe('RESULTS.md sections', () => {
  it('are read from each heading to the next', () => {
    expect(sections(RESULTS).map((s) => s.heading)).toEqual([
      '## 1. Bundles',
      '## Rate limiter',
      '## Mutation',
    ]);
    expect(sections(RESULTS)[1]?.text).toBe('## Rate limiter\nold limits');
  });

  it('a run replaces only its own section, and keeps the ones after it', () => {
    const updated = spliceSection(RESULTS, '## Rate limiter\nnew limits\n');
    expect(updated).toBe(
      '# Results\n\n## 1. Bundles\nold bundles\n\n## Rate limiter\nnew limits\n\n## Mutation\nscores\n',
    );
  });

  it('a section the file lacks is appended', () => {
    expect(spliceSection(RESULTS, '## Patterns\nre2')).toBe(`${RESULTS.trimEnd()}\n\n## Patterns\nre2\n`);
  });
});
