/** A Heroku `Range` header value, e.g. `version ..; order=desc, max=1` or `id ..; max=1000`. */
export function rangeHeader(options: { field: string; max?: number; order?: 'asc' | 'desc' }): string {
  const parts = options.order ? [`order=${options.order}`] : [];
  parts.push(`max=${options.max ?? 1000}`);
  return `${options.field} ..; ${parts.join(', ')}`;
}
