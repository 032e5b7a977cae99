/**
 * The console's one script, served at `/console.js` (no framework, no build step). On a project page it opens the
 * page's server-sent events (`data-events` on `<main>`); once they are ready (what changed since the page was made)
 * and on each `change` after, it fetches the page again and swaps the
 * parts marked `data-live` that differ, except one holding the focus (someone is typing there). Without JavaScript
 * nothing of this runs and the page works as before: reload to see changes.
 * `data-live-state` on `<main>` says `connecting`, `live` or `offline`; `data-live-updates` counts swaps.
 */
export const consoleJs = `
(() => {
  'use strict';
  const main = document.querySelector('main[data-events]');
  if (!main || typeof EventSource !== 'function' || typeof DOMParser !== 'function') return;
  let busy = false;
  let again = false;
  let updates = 0;
  const indicator = document.querySelector('[data-testid=live]');
  const setState = (state) => {
    main.dataset.liveState = state;
    if (indicator) {
      indicator.hidden = false;
      indicator.textContent = state === 'live' ? 'Live' : state === 'offline' ? 'Reconnecting…' : 'Connecting…';
      indicator.className = 'live ' + state;
    }
  };
  const refresh = async () => {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const res = await fetch(location.pathname, { credentials: 'same-origin', cache: 'no-store', headers: { accept: 'text/html' } });
      if (!res.ok) return;
      const next = new DOMParser().parseFromString(await res.text(), 'text/html');
      let swapped = false;
      for (const region of document.querySelectorAll('[data-live]')) {
        const fresh = next.querySelector('[data-live="' + region.dataset.live + '"]');
        if (!fresh || region.contains(document.activeElement) || region.outerHTML === fresh.outerHTML) continue;
        region.replaceWith(document.importNode(fresh, true));
        swapped = true;
      }
      if (swapped) main.dataset.liveUpdates = String((updates += 1));
    } catch {
      // The next event tries again.
    } finally {
      busy = false;
      if (again) { again = false; void refresh(); }
    }
  };
  setState('connecting');
  const events = new EventSource(main.dataset.events);
  events.addEventListener('ready', () => setState('live'));
  events.addEventListener('change', () => void refresh());
  events.addEventListener('resync', () => void refresh());
  events.addEventListener('error', () => setState('offline'));
  // What changed between rendering this page and the stream being ready (or during a break) is fetched then.
  events.addEventListener('ready', () => void refresh());
})();
`;
