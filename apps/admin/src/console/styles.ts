/** The console's one stylesheet, served at `/console.css` (no build step, no framework). */
export const consoleCss = `
:root {
  --bg: #f6f7fb; --card: #fff; --text: #1d2230; --muted: #667085; --line: #e4e7ec;
  --accent: #6c47d8; --accent-dark: #5433b5; --ok: #107a48; --ok-bg: #e6f6ee; --warn: #9a5b00;
  --warn-bg: #fff4e0; --bad: #b42318; --bad-bg: #fdecea; --info-bg: #eef0ff;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font-size: 15px; line-height: 1.45; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
header.top { background: #1f1646; color: #fff; padding: 0 24px; display: flex; align-items: center; gap: 24px; height: 56px; }
header.top .brand { font-weight: 700; color: #fff; font-size: 17px; }
header.top nav a { color: #d8d0ff; margin-right: 16px; }
main { max-width: 1040px; margin: 0 auto; padding: 24px; }
h1 { font-size: 24px; margin: 8px 0 20px; }
h2 { font-size: 18px; margin: 0 0 12px; }
h3 { font-size: 15px; margin: 16px 0 8px; }
.crumbs { color: var(--muted); font-size: 13px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 20px; margin-bottom: 20px; }
.card > p:first-of-type { margin-top: 0; }
.muted { color: var(--muted); }
.small { font-size: 13px; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 8px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; }
tr:last-child td { border-bottom: 0; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; word-break: break-all; }
form.inline { display: inline; }
form.row { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; }
label { display: flex; flex-direction: column; font-size: 13px; color: var(--muted); gap: 4px; }
input[name=target] { min-width: 320px; }
input, select { font: inherit; padding: 7px 10px; border: 1px solid #cfd4dc; border-radius: 6px; min-width: 220px; background: #fff; color: var(--text); }
input[type=checkbox] { min-width: 0; margin: 0; }
label:has(> input[type=checkbox]) { flex-direction: row; align-items: center; gap: 8px; color: var(--text); }
button, .button { font: inherit; font-weight: 600; border: 0; border-radius: 6px; padding: 8px 14px; cursor: pointer; background: var(--accent); color: #fff; display: inline-block; }
button:hover, .button:hover { background: var(--accent-dark); text-decoration: none; }
button.secondary, .button.secondary { background: #fff; color: var(--text); border: 1px solid #cfd4dc; }
button.secondary:hover, .button.secondary:hover { background: #f2f4f7; }
button.danger { background: #fff; color: var(--bad); border: 1px solid #f1b5ae; }
button.danger:hover { background: var(--bad-bg); }
.button.heroku { background: #430098; }
.button.heroku:hover { background: #32006f; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 16px; }
.flash { padding: 12px 16px; border-radius: 8px; margin-bottom: 20px; border: 1px solid; }
.flash.ok { background: var(--ok-bg); border-color: #a6e0c2; color: var(--ok); }
.flash.error { background: var(--bad-bg); border-color: #f1b5ae; color: var(--bad); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; background: #f2f4f7; color: var(--muted); }
.badge.active, .badge.heroku { background: var(--ok-bg); color: var(--ok); }
.badge.needs_reauth, .badge.webhook_missing, .badge.app_missing, .badge.config_var_missing { background: var(--warn-bg); color: var(--warn); }
.badge.error { background: var(--bad-bg); color: var(--bad); }
.badge.manual { background: var(--info-bg); color: var(--accent-dark); }
dl.facts { display: grid; grid-template-columns: 160px 1fr; gap: 6px 16px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.error-text { color: var(--bad); }
.steps { counter-reset: step; }
.step { border-left: 3px solid var(--line); padding: 4px 0 4px 16px; margin: 12px 0; }
.step.current { border-color: var(--accent); }
details summary { cursor: pointer; color: var(--accent); margin-top: 12px; }
.empty { color: var(--muted); padding: 8px 0; }
.fp { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 11px; color: var(--muted); margin-left: 6px; background: #f2f4f7; border-radius: 4px; padding: 0 4px; white-space: nowrap; }
td time { white-space: nowrap; }
table[data-testid=audit] td.mono { word-break: normal; overflow-wrap: anywhere; }
.help { border-radius: 8px; padding: 10px 14px; margin: 14px 0 0; background: var(--warn-bg); border: 1px solid #f3d19e; }
.help.error { background: var(--bad-bg); border-color: #f1b5ae; }
.help p { margin: 4px 0; }
a.button.danger { background: #fff; color: var(--bad); border: 1px solid #f1b5ae; }
a.button.danger:hover { background: var(--bad-bg); }
details#repick { margin-top: 16px; border-top: 1px solid var(--line); }
.live { font-size: 12px; font-weight: 600; vertical-align: middle; margin-left: 8px; padding: 1px 8px; border-radius: 999px; background: #f2f4f7; color: var(--muted); }
.live.live { background: var(--ok-bg); color: var(--ok); }
.live.offline { background: var(--warn-bg); color: var(--warn); }
.method { display: inline-block; min-width: 62px; text-align: center; font-size: 12px; font-weight: 700; border-radius: 4px; padding: 1px 6px; color: #fff; background: var(--muted); }
.method.get { background: #1f6feb; } .method.post { background: var(--ok); } .method.put { background: var(--warn); }
.method.delete { background: var(--bad); } .method.patch { background: var(--accent); }
table.fields { margin: 4px 0 8px; } table.fields td { padding: 4px 8px; } table.fields td:first-child { width: 180px; }
h4 { font-size: 13px; margin: 14px 0 4px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
pre.example { background: #f6f7fb; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; font-size: 12px; overflow-x: auto; }
ul.toc { padding-left: 18px; } ul.toc li { margin: 4px 0; }
`;
