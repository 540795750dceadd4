/**
 * The ops console: one static page, its style sheet and one small script (`console.script.ts`),
 * no framework; nothing inline, so the app's strict content security policy applies as is.
 * It polls `/ops/state` and works out rates in the browser; dead-letter replay goes through the
 * admin API with a token the operator types in (kept in this tab's sessionStorage only).
 */
export const CONSOLE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Modulith ops console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console.css">
</head>
<body>
<header>
  <h1>Modulith <span>ops console</span></h1>
  <div id="status" class="status">connecting…</div>
</header>
<main>
  <section class="tiles" aria-label="Live figures">
    <div class="tile"><h3>Events published / s</h3><b data-figure="published-rate">–</b><small data-figure="published-total"></small></div>
    <div class="tile"><h3>Events handled / s</h3><b data-figure="handled-rate">–</b><small data-figure="handled-total"></small></div>
    <div class="tile"><h3>Outbox lag</h3><b data-figure="outbox-lag">–</b><small data-figure="outbox-pending"></small></div>
    <div class="tile"><h3>Dead letters</h3><b data-figure="dead-letters">–</b><small data-figure="retries-pending"></small></div>
    <div class="tile"><h3>Notifications dropped</h3><b data-figure="notifications-dropped">–</b><small data-figure="notifications-connections"></small></div>
  </section>
  <section>
    <h2>Processes and modules</h2>
    <div id="processes" class="processes"></div>
  </section>
  <section>
    <h2>Event flow</h2>
    <table>
      <thead><tr><th>from</th><th>event</th><th></th><th>to</th><th>subscriber</th><th>delivery</th><th>events/s</th><th>handled</th><th>mean ms</th><th>retries</th><th>dead</th><th>dropped</th></tr></thead>
      <tbody id="flow"></tbody>
    </table>
  </section>
  <section>
    <h2>Dead letters</h2>
    <form id="admin-form">
      <input id="admin-token" type="password" placeholder="admin token (ADMIN_TOKEN)" autocomplete="off" aria-label="admin token">
      <button type="submit">Show dead letters</button>
    </form>
    <div id="dead-letters"></div>
  </section>
</main>
<footer>Polls <a href="/ops/state">/ops/state</a> every second · <a href="/metrics">/metrics</a> · <a href="/docs">API docs</a> · <a href="/ready">/ready</a></footer>
<script src="/console.js" defer></script>
</body>
</html>
`;

export const CONSOLE_STYLE = `:root { --bg: #0f1419; --panel: #171d24; --line: #27313c; --text: #d8dee6; --dim: #8a96a3; --accent: #4fb3ff; --ok: #3fca7f; --warn: #f2b84b; --bad: #f25c5c; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { display: flex; align-items: baseline; justify-content: space-between; padding: 14px 24px; border-bottom: 1px solid var(--line); }
h1 { margin: 0; font-size: 18px; font-weight: 600; } h1 span { color: var(--dim); font-weight: 400; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--dim); margin: 0 0 10px; font-weight: 600; }
main { padding: 18px 24px; display: grid; gap: 22px; }
.status { color: var(--dim); font-size: 13px; } .status.ok::before { content: "● "; color: var(--ok); } .status.bad::before { content: "● "; color: var(--bad); }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; }
.tile { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.tile h3 { margin: 0 0 4px; font-size: 12px; font-weight: 500; color: var(--dim); }
.tile b { display: block; font-size: 26px; font-weight: 600; font-variant-numeric: tabular-nums; }
.tile small { color: var(--dim); font-variant-numeric: tabular-nums; }
.warn { color: var(--warn); } .bad { color: var(--bad); }
.processes { display: flex; flex-wrap: wrap; gap: 12px; }
.process { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-width: 260px; }
.process h3 { margin: 0 0 2px; font-size: 14px; } .process .meta { color: var(--dim); font-size: 12px; margin-bottom: 8px; }
.module { display: flex; justify-content: space-between; gap: 16px; padding: 6px 8px; margin-top: 6px; border-left: 3px solid var(--accent); background: #1d252e; border-radius: 4px; }
.module span { color: var(--dim); font-variant-numeric: tabular-nums; }
table { width: 100%; border-collapse: collapse; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--dim); font-weight: 500; font-size: 12px; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.arrow { color: var(--accent); } .empty { color: var(--dim); padding: 10px; }
form { display: flex; gap: 8px; margin-bottom: 10px; }
input, button { font: inherit; color: var(--text); background: #1d252e; border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; }
button { cursor: pointer; } button:hover { border-color: var(--accent); }
footer { padding: 10px 24px 24px; color: var(--dim); font-size: 12px; } a { color: var(--accent); }
`;
