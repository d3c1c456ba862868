import { useState } from 'preact/hooks';
import { BusyForm, ErrorBox, messageOf } from './ui.tsx';
import { type FieldError, type SchemaName, summarize, validate } from './validation.ts';

/**
 * A JSON definition editor checked against the API's published schema before it is sent: errors
 * name the field, as the API's 400 would. The server's answer (e.g. an unknown agent id) is shown
 * the same way.
 */
export function SchemaEditor({
  schema,
  label,
  initial,
  submitLabel,
  onSubmit,
}: {
  schema: SchemaName;
  label: string;
  initial: string;
  submitLabel: string;
  onSubmit: (value: Record<string, unknown>) => Promise<void>;
}) {
  const [text, setText] = useState(initial);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [serverError, setServerError] = useState<string>();
  const id = `editor-${schema}`;
  // Busy from the first click, the schema check included (its validators load on first use).
  return (
    <BusyForm
      class="editor"
      aria-label={label}
      onSubmit={async (event) => {
        event.preventDefault();
        setServerError(undefined);
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch (e) {
          setErrors([{ path: '', message: `is not valid JSON (${messageOf(e)})` }]);
          return;
        }
        const found = summarize(await validate(schema, value));
        setErrors(found);
        if (found.length > 0 || typeof value !== 'object' || value === null || Array.isArray(value)) return;
        try {
          await onSubmit(value as Record<string, unknown>);
        } catch (e) {
          setServerError(messageOf(e));
        }
      }}
    >
      <label for={id}>
        {label} (JSON, checked against the API's {schema} schema)
      </label>
      <textarea
        id={id}
        name="definition"
        rows={14}
        spellcheck={false}
        value={text}
        aria-invalid={errors.length > 0}
        aria-describedby={errors.length > 0 ? `${id}-errors` : undefined}
        onInput={(e) => setText(e.currentTarget.value)}
      />
      {errors.length > 0 && (
        <ul id={`${id}-errors`} class="error" role="alert" data-testid="schema-errors">
          {errors.map((e) => (
            <li key={`${e.path}-${e.message}`}>
              <code>{e.path || '(document)'}</code> {e.message}
            </li>
          ))}
        </ul>
      )}
      <ErrorBox error={serverError} />
      <button type="submit">{submitLabel}</button>
    </BusyForm>
  );
}
