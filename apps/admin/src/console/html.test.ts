import { describe, expect, it } from 'vitest';
import { html, raw } from './html.js';

describe('html', () => {
  it('escapes interpolated text and attribute values', () => {
    const name = `<script>alert("x")</script>' onmouseover='y`;
    const out = html`<a title="${name}">${name}</a>`.value;
    expect(out).not.toContain('<script>');
    expect(out).toBe(
      '<a title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;y">' +
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;y</a>',
    );
  });

  it('nests fragments without escaping them twice, joins arrays and skips empty values', () => {
    const items = ['a&b', 'c'].map((item) => html`<li>${item}</li>`);
    // prettier-ignore
    const out = html`<ul>${items}${null}${undefined}${false}</ul>${raw('<hr>')}${0}`.value;
    expect(out).toBe('<ul><li>a&amp;b</li><li>c</li></ul><hr>0');
  });
});
