import type { z } from 'zod';

/** A console form that did not validate: its message is shown as a flash on the page the form came from. */
export class FormError extends Error {}

const sentence = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}`;

/**
 * A form's problems as sentences a person reads, one per field: "Project name is required." The schemas' messages
 * are predicates ("is required", "must be …"); `labels` names each field as the form shows it.
 */
export function describeFormIssues(error: z.ZodError, labels: Record<string, string>): string {
  const seen = new Set<string>();
  const sentences: string[] = [];
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? '');
    if (seen.has(field)) continue;
    seen.add(field);
    const missing = issue.code === 'invalid_type' && issue.input === undefined;
    const predicate = missing ? 'is required' : issue.message;
    const label = labels[field];
    sentences.push(sentence(label ? `${label} ${predicate}` : predicate));
    if (sentences.length === 3) break;
  }
  return sentences.join(' ');
}

/** Parses a posted form; anything that does not fit is a `FormError` with readable sentences. */
export function parseForm<S extends z.ZodType>(schema: S, value: unknown, labels: Record<string, string>): z.infer<S> {
  // With the input in each issue, a missing field ("is required") is told from one of the wrong type.
  const result = schema.safeParse(value, { reportInput: true });
  if (!result.success) throw new FormError(describeFormIssues(result.error, labels));
  return result.data;
}
