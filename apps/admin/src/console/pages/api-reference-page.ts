import type { OpenApiDocument } from '../../api/openapi-document.js';
import { html, type SafeHtml } from '../html.js';
import { layout } from '../layout.js';

/** A JSON Schema as the document has it (OpenAPI 3.1: JSON Schema 2020-12, `$ref`s to `#/components/schemas/`). */
interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** Text with `code` spans, as the document's descriptions write them. */
function prose(text: string | undefined): SafeHtml {
  const parts = (text ?? '').split('`');
  return html`${parts.map((part, i) => (i % 2 === 1 ? html`<code>${part}</code>` : part))}`;
}

function refName(ref: string): string {
  return ref.replace('#/components/schemas/', '');
}

/** Limits worth telling a reader (`1–200 characters`, `at most 500`). */
function limits(schema: JsonSchema): string | null {
  const parts: string[] = [];
  if (schema.minLength !== undefined || schema.maxLength !== undefined)
    parts.push(`${schema.minLength ?? 0}–${schema.maxLength ?? '∞'} characters`);
  if (schema.minimum !== undefined || schema.maximum !== undefined)
    parts.push(
      `${schema.minimum ?? '−∞'}–${schema.maximum !== undefined && schema.maximum < 1e15 ? schema.maximum : '∞'}`,
    );
  if (schema.default !== undefined) parts.push(`default ${JSON.stringify(schema.default)}`);
  return parts.length > 0 ? parts.join(', ') : null;
}

/** A schema as a reader takes it in: a type, or a table of fields. */
function typeOf(schema: JsonSchema | boolean | undefined, depth = 0): SafeHtml {
  if (schema === undefined || schema === true) return html`<span class="mono">any</span>`;
  if (schema === false) return html`<span class="mono">nothing</span>`;
  if (schema.$ref) return html`<a class="mono" href="#schema-${refName(schema.$ref)}">${refName(schema.$ref)}</a>`;
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return html`${variants.map((v, i) => html`${i > 0 ? ' or ' : ''}${typeOf(v, depth)}`)}`;
  if (schema.enum) return html`<span class="mono">${schema.enum.map((v) => JSON.stringify(v)).join(' | ')}</span>`;
  if (schema.const !== undefined) return html`<span class="mono">${JSON.stringify(schema.const)}</span>`;
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const nullable = types.includes('null') ? html` <span class="muted">or null</span>` : null;
  const main = types.find((t) => t !== 'null');
  if (main === 'array') return html`array of ${typeOf(schema.items, depth)}${nullable}`;
  if (main === 'object' || schema.properties) {
    if (schema.properties && depth < 4) return html`${fields(schema, depth + 1)}${nullable}`;
    if (schema.additionalProperties && schema.additionalProperties !== true)
      return html`map of name → ${typeOf(schema.additionalProperties, depth)}${nullable}`;
    return html`<span class="mono">object</span>${nullable}`;
  }
  return html`<span class="mono">${main ?? 'any'}${schema.format ? ` (${schema.format})` : ''}</span>${nullable}`;
}

function fields(schema: JsonSchema, depth = 0): SafeHtml {
  const required = new Set(schema.required ?? []);
  return html`<table class="fields">
    <tbody>
      ${Object.entries(schema.properties ?? {}).map(
        ([name, property]) =>
          html`<tr>
            <td class="mono">${name}${required.has(name) ? null : html`<span class="muted">?</span>`}</td>
            <td>
              ${typeOf(property, depth)}${limits(property) ? html` <span class="muted small">${limits(property)}</span>` : null}
              ${property.description ? html`<div class="muted small">${prose(property.description)}</div>` : null}
            </td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: JsonSchema }[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema; example?: unknown }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: JsonSchema }> }>;
}

function operationSection(method: string, path: string, op: Operation): SafeHtml {
  const body = op.requestBody?.content?.['application/json'];
  return html`<article
    class="card operation"
    id="${op.operationId ?? ''}"
    data-operation="${method.toUpperCase()} ${path}"
  >
    <h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${path}</code></h3>
    <p>${op.summary}</p>
    ${op.description ? html`<p class="muted small">${prose(op.description)}</p>` : null}
    ${
      op.parameters && op.parameters.length > 0
        ? html`<h4>Parameters</h4>
            <table class="fields">
              <tbody>
                ${op.parameters.map(
                  (p) =>
                    html`<tr>
                      <td class="mono">${p.name}${p.required ? null : html`<span class="muted">?</span>`}</td>
                      <td class="muted small">${p.in}</td>
                      <td>
                        ${typeOf(p.schema)}${p.schema && limits(p.schema) ? html` <span class="muted small">${limits(p.schema)}</span>` : null}
                        ${p.description ? html`<div class="muted small">${prose(p.description)}</div>` : null}
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>`
        : null
    }
    ${
      body
        ? html`<h4>Body <span class="muted small">application/json</span></h4>
            ${typeOf(body.schema)}
            ${body.example === undefined ? null : html`<pre class="example">${JSON.stringify(body.example, null, 2)}</pre>`}`
        : null
    }
    <h4>Answers</h4>
    <table class="fields">
      <tbody>
        ${Object.entries(op.responses ?? {}).map(
          ([status, response]) =>
            html`<tr>
              <td class="mono">${status}</td>
              <td>
                ${prose(response.description)}
                ${
                  response.content?.['application/json']?.schema && !status.startsWith('4') && !status.startsWith('5')
                    ? html`<div>${typeOf(response.content['application/json'].schema)}</div>`
                    : null
                }
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </article>`;
}

/** The admin API's reference, rendered from its OpenAPI document (the same one `GET /api/openapi.json` serves). */
export function renderApiReferencePage(options: { document: OpenApiDocument }): string {
  const doc = options.document;
  const operations = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m] !== undefined).map((method) => ({
      method,
      path,
      op: item[method] as unknown as Operation,
    })),
  );
  const tags = (doc.tags ?? []).map((t) => t.name);
  const schemas = Object.entries((doc.components?.schemas ?? {}) as Record<string, JsonSchema>);
  return layout({
    title: 'API reference',
    body: html`<h1>${doc.info.title}</h1>
      <section class="card">
        <p>${prose(doc.info.description)}</p>
        <p class="small">
          Send <code>Authorization: Bearer $ADMIN_TOKEN</code>. The OpenAPI 3.1 document:
          <code>GET /api/openapi.json</code> (with the token), or
          <a href="/api-reference/openapi.json">download it here</a>. It is generated from the schemas the routes
          validate with, so this page and the API cannot disagree.
        </p>
        <ul class="toc">
          ${tags.map(
            (tag) =>
              html`<li>
                <strong>${tag}</strong>:
                ${operations
                  .filter((o) => o.op.tags?.includes(tag))
                  .map(
                    (o, i) =>
                      html`${i > 0 ? ', ' : ''}<a href="#${o.op.operationId ?? ''}"
                          ><span class="mono">${o.method.toUpperCase()} ${o.path}</span></a
                        >`,
                  )}
              </li>`,
          )}
        </ul>
      </section>
      ${tags.map(
        (tag) =>
          html`<h2>${tag}</h2>
            ${operations.filter((o) => o.op.tags?.includes(tag)).map((o) => operationSection(o.method, o.path, o.op))}`,
      )}
      <h2>Shapes</h2>
      ${schemas.map(
        ([name, schema]) =>
          html`<article class="card" id="schema-${name}">
            <h3 class="mono">${name}</h3>
            ${schema.description ? html`<p class="muted small">${prose(schema.description)}</p>` : null}
            ${typeOf(schema)}
          </article>`,
      )}`,
  });
}
