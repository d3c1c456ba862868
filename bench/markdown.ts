/** Markdown helpers shared by the report's sections. */

/** A table cell: pipes escaped, one line. */
export const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** A Markdown table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** Whether a target is met; INFO rows report a figure without a target. */
export type Verdict = 'PASS' | 'MISS' | 'ERROR' | 'INFO';

/** One line of the targets table. */
export interface TargetRow {
  readonly target: string;
  readonly measured: string;
  readonly verdict: Verdict;
}

/** A section's result, or why it could not be measured. */
export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string };

/** Runs a section, turning a failure into an outcome the report shows. */
export async function attempt<T>(run: () => Promise<T> | T): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
}

/** The first line of an error, for a table cell. */
export const firstLine = (error: string): string => error.split('\n')[0] ?? error;

/** The `## ` sections of a Markdown text, each from its heading line to the next. */
export function sections(text: string): { heading: string; text: string }[] {
  const starts = [...text.matchAll(/^## .*$/gm)].map((m) => m.index ?? 0);
  return starts.map((at, i) => {
    const body = text.slice(at, starts[i + 1] ?? text.length).trimEnd();
    return {
      heading: body.slice(0, body.indexOf('\n') === -1 ? body.length : body.indexOf('\n')),
      text: body,
    };
  });
}

/**
 * `text` with the section that has `section`'s heading replaced by `section` (appended when it has
 * none); every other section stays as it is. Runs that measure one area rewrite only their own.
 */
export function spliceSection(text: string, section: string): string {
  const heading = section.slice(0, section.indexOf('\n') === -1 ? section.length : section.indexOf('\n'));
  const own = sections(text).find((s) => s.heading === heading);
  if (!own) return `${text.trimEnd()}\n\n${section.trimEnd()}\n`;
  return text.replace(own.text, section.trimEnd());
}
