/**
 * The ops console's script, served as /console.js. Plain browser JavaScript (no backticks, so
 * it can live in this string): polls /ops/state, keeps a few seconds of samples to turn
 * counters into rates, and renders with textContent only (no HTML from data).
 */
export const CONSOLE_SCRIPT = String.raw`'use strict';
(function () {
  var params = new URLSearchParams(location.search);
  var POLL_MS = Math.max(200, Number(params.get('interval')) || 1000);
  var WINDOW_MS = 5000;
  var history = [];

  function $(selector) { return document.querySelector(selector); }
  function el(tag, props) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      if (key === 'text') node.textContent = props[key];
      else if (key === 'className') node.className = props[key];
      else node.setAttribute(key, props[key]);
    });
    for (var i = 2; i < arguments.length; i++) if (arguments[i]) node.appendChild(arguments[i]);
    return node;
  }
  function fmt(value, digits) {
    if (value === null || value === undefined || Number.isNaN(value)) return '–';
    return value.toLocaleString('en-US', { maximumFractionDigits: digits === undefined ? 0 : digits });
  }
  function duration(ms) {
    if (ms === null || ms === undefined) return '0 s';
    return ms < 1000 ? fmt(ms) + ' ms' : fmt(ms / 1000, 1) + ' s';
  }
  function figure(name, text, value, level) {
    var node = document.querySelector('[data-figure="' + name + '"]');
    if (!node) return;
    node.textContent = text;
    node.setAttribute('data-value', String(value));
    node.classList.toggle('warn', level === 'warn');
    node.classList.toggle('bad', level === 'bad');
  }
  function sum(list, pick) { return list.reduce(function (total, item) { return total + pick(item); }, 0); }

  /** Every process in view, once each (a peer list may name this process too). */
  function processesOf(overview) {
    var seen = {};
    return [overview].concat((overview.peers || []).filter(function (peer) { return peer.state; }).map(function (peer) { return peer.state; }))
      .filter(function (state) { if (seen[state.process.id]) return false; seen[state.process.id] = true; return true; });
  }

  /** Running totals by key: published per module, handled per module and per edge. */
  function totalsOf(states) {
    var totals = {};
    function add(key, n) { totals[key] = (totals[key] || 0) + n; }
    states.forEach(function (state) {
      state.published.forEach(function (p) { add('published', p.events); add('published:' + p.module, p.events); });
      state.flow.forEach(function (edge) {
        add('handled', edge.handled);
        add('handled:' + edge.module, edge.handled);
        add('edge:' + state.process.id + ':' + edge.subscriber, edge.handled);
      });
      if (state.notifications) { add('delivered', state.notifications.delivered); }
    });
    return totals;
  }

  function rate(key) {
    if (history.length < 2) return 0;
    var first = history[0], last = history[history.length - 1];
    var seconds = (last.at - first.at) / 1000;
    if (seconds <= 0) return 0;
    return Math.max(0, ((last.totals[key] || 0) - (first.totals[key] || 0)) / seconds);
  }

  function render(overview) {
    var states = processesOf(overview);
    var now = performance.now();
    history.push({ at: now, totals: totalsOf(states) });
    while (history.length > 2 && now - history[0].at > WINDOW_MS) history.shift();
    var totals = history[history.length - 1].totals;

    figure('published-rate', fmt(rate('published'), 1), rate('published'));
    figure('published-total', fmt(totals.published || 0) + ' since start', totals.published || 0);
    figure('handled-rate', fmt(rate('handled'), 1), rate('handled'));
    figure('handled-total', fmt(totals.handled || 0) + ' since start', totals.handled || 0);

    var backlog = overview.backlog;
    if (backlog) {
      var lag = backlog.oldestPendingAgeMs || 0;
      figure('outbox-lag', duration(lag), lag, lag > 10000 ? 'bad' : lag > 1000 ? 'warn' : null);
      figure('outbox-pending', fmt(backlog.outboxPending) + ' pending', backlog.outboxPending);
      figure('dead-letters', fmt(backlog.deadLetters), backlog.deadLetters, backlog.deadLetters > 0 ? 'bad' : null);
      figure('retries-pending', fmt(backlog.retriesPending) + ' awaiting retry', backlog.retriesPending);
    }
    var notified = states.filter(function (state) { return state.notifications; });
    if (notified.length) {
      var dropped = sum(notified, function (state) { return state.notifications.dropped; });
      var connections = sum(notified, function (state) { return state.notifications.connections; });
      figure('notifications-dropped', fmt(dropped), dropped, dropped > 0 ? 'warn' : null);
      figure('notifications-connections', fmt(connections) + ' connections, ' + fmt(rate('delivered'), 1) + ' delivered/s', connections);
    } else {
      figure('notifications-dropped', 'n/a', 0);
      figure('notifications-connections', 'notifications module not running', 0);
    }

    renderProcesses(states, overview.peers || []);
    renderFlow(states);
  }

  function renderProcesses(states, peers) {
    var box = $('#processes');
    box.replaceChildren();
    states.forEach(function (state) {
      var p = state.process;
      var card = el('div', { className: 'process', 'data-process': p.id },
        el('h3', { text: p.id }),
        el('div', { className: 'meta', text: 'transport ' + p.transport + ' · relay ' + p.relay + ' · up ' + fmt(p.uptimeSeconds) + ' s · ' + fmt(p.rssBytes / 1048576) + ' MiB' }));
      p.modules.forEach(function (module) {
        var published = rate('published:' + module), handled = rate('handled:' + module);
        card.appendChild(el('div', { className: 'module', 'data-module': module },
          el('b', { text: module }),
          el('span', { 'data-figure': 'module-rate:' + module, 'data-value': String(published + handled),
            text: fmt(published, 1) + ' out/s · ' + fmt(handled, 1) + ' in/s' })));
      });
      box.appendChild(card);
    });
    peers.filter(function (peer) { return peer.error; }).forEach(function (peer) {
      box.appendChild(el('div', { className: 'process' }, el('h3', { text: peer.url }), el('div', { className: 'meta bad', text: 'unreachable: ' + peer.error })));
    });
  }

  function renderFlow(states) {
    var body = $('#flow');
    body.replaceChildren();
    var rows = 0;
    states.forEach(function (state) {
      state.flow.forEach(function (edge) {
        rows++;
        var perSecond = rate('edge:' + state.process.id + ':' + edge.subscriber);
        function cell(text, numeric, level) { return el('td', { className: (numeric ? 'n ' : '') + (level || ''), text: text }); }
        body.appendChild(el('tr', { 'data-subscriber': edge.subscriber },
          cell(edge.source), cell(edge.eventType), el('td', { className: 'arrow', text: '→' }), cell(edge.module),
          cell(edge.subscriber), cell(edge.delivery),
          cell(fmt(perSecond, 1), true), cell(fmt(edge.handled), true), cell(fmt(edge.meanHandlerMs, 2), true),
          cell(fmt(edge.retries), true, edge.retries ? 'warn' : ''), cell(fmt(edge.deadLettered), true, edge.deadLettered ? 'bad' : ''),
          cell(fmt(edge.dropped), true, edge.dropped ? 'warn' : '')));
      });
    });
    if (!rows) body.appendChild(el('tr', {}, el('td', { className: 'empty', colspan: '12', text: 'no event subscribers in view' })));
  }

  var status = $('#status');
  function poll() {
    fetch('/ops/state', { cache: 'no-store' })
      .then(function (response) { if (!response.ok) throw new Error('HTTP ' + response.status); return response.json(); })
      .then(function (overview) {
        render(overview);
        status.className = 'status ok';
        status.textContent = 'live · ' + new Date(overview.sampledAt).toLocaleTimeString();
      })
      .catch(function (error) { status.className = 'status bad'; status.textContent = 'cannot read /ops/state: ' + error.message; })
      .finally(function () { setTimeout(poll, POLL_MS); });
  }
  poll();

  // Dead letters: listed and replayed through the admin API, with the operator's token.
  var tokenInput = $('#admin-token');
  tokenInput.value = sessionStorage.getItem('modulith-admin-token') || '';
  function admin(path, method) {
    return fetch(path, { method: method || 'GET', headers: { authorization: 'Bearer ' + tokenInput.value } }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error(body.message || 'HTTP ' + response.status);
        return body;
      });
    });
  }
  function showDeadLetters() {
    var out = $('#dead-letters');
    sessionStorage.setItem('modulith-admin-token', tokenInput.value);
    return admin('/admin/dead-letters?limit=50').then(function (page) {
      out.replaceChildren();
      if (!page.items.length) { out.appendChild(el('div', { className: 'empty', 'data-dead-letters': '0', text: 'no dead letters' })); return; }
      var body = el('tbody');
      page.items.forEach(function (letter) {
        var button = el('button', { type: 'button', 'data-replay': letter.id, text: 'Replay' });
        button.addEventListener('click', function () {
          button.disabled = true;
          admin('/admin/dead-letters/' + encodeURIComponent(letter.id) + '/replay', 'POST').then(showDeadLetters)
            .catch(function (error) { button.disabled = false; button.textContent = 'failed: ' + error.message; });
        });
        body.appendChild(el('tr', { 'data-dead-letter': letter.id },
          el('td', { text: new Date(letter.failedAt).toLocaleString() }), el('td', { text: letter.subscriber }),
          el('td', { text: letter.eventType }), el('td', { className: 'n', text: String(letter.attempts) }),
          el('td', { text: letter.error.slice(0, 120) }), el('td', {}, button)));
      });
      out.appendChild(el('table', { 'data-dead-letters': String(page.items.length) },
        el('thead', {}, el('tr', {}, el('th', { text: 'failed' }), el('th', { text: 'subscriber' }), el('th', { text: 'event' }),
          el('th', { text: 'attempts' }), el('th', { text: 'error' }), el('th'))), body));
    }).catch(function (error) {
      out.replaceChildren(el('div', { className: 'empty bad', text: error.message }));
    });
  }
  $('#admin-form').addEventListener('submit', function (event) { event.preventDefault(); showDeadLetters(); });
})();
`;
