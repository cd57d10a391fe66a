/* PaperDesk live layer: WebSockets with transparent reconnect, coalesced DOM updates,
   number formatting and sparklines. No framework; pages call window.PTP. */
(function () {
  "use strict";

  var connState = { open: 0, waiting: 0 };

  function showConnState() {
    var el = document.getElementById("conn-state");
    if (!el) return;
    var state = connState.waiting > 0 ? "reconnecting" : connState.open > 0 ? "live" : "idle";
    // A connected page is not live data: while the server says the feeds are stalled, say so.
    var mode = document.getElementById("market-mode");
    if (state === "live" && mode && mode.dataset.mode === "stalled") state = "stalled";
    el.dataset.state = state;
    el.textContent = state === "reconnecting" ? "Reconnecting…" : state === "live" ? "● Live" : state === "stalled" ? "● Stalled" : "";
  }

  /* A WebSocket that reconnects with exponential backoff (0.5 s doubling to 5 s, jittered)
     after a server restart or network loss. onOpen(socket) runs on every (re)connect so the
     page can resubscribe; onMessage(frame) gets parsed JSON frames. */
  function socket(path, handlers) {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var url = proto + location.host + path;
    var delay = 500;
    var ws = null;
    var closedByPage = false;
    var waiting = false;
    var api = {
      send: function (obj) {
        if (ws && ws.readyState === 1) ws.send(JSON.stringify(obj));
      },
      close: function () {
        closedByPage = true;
        if (ws) ws.close();
      },
      get connected() { return !!ws && ws.readyState === 1; },
    };

    function connect() {
      ws = new WebSocket(url);
      ws.onopen = function () {
        ws.__opened = true;
        delay = 500;
        if (waiting) { connState.waiting -= 1; waiting = false; }
        connState.open += 1;
        showConnState();
        if (handlers.onOpen) handlers.onOpen(api);
      };
      ws.onmessage = function (event) {
        var frame;
        try { frame = JSON.parse(event.data); } catch (e) { return; }
        if (frame.type === "ping") { api.send({ type: "pong", id: frame.id }); return; }
        if (handlers.onMessage) handlers.onMessage(frame);
      };
      ws.onclose = function (event) {
        if (event.target !== ws) return;
        if (event.target.__opened) connState.open = Math.max(0, connState.open - 1);
        if (closedByPage) { showConnState(); return; }
        // 4404: the object is gone or not ours; retrying cannot help.
        if (event.code === 4404 || event.code === 4400) { showConnState(); return; }
        if (!waiting) { connState.waiting += 1; waiting = true; }
        showConnState();
        var wait = delay * (0.75 + Math.random() * 0.5);
        delay = Math.min(delay * 2, 5000);
        setTimeout(connect, wait);
      };
    }
    connect();
    return api;
  }

  /* Coalesce bursts: per key, keep only the newest value and apply it at most every
     `minMs` (default 250 ms = 4 updates/s) on an animation frame. */
  function coalescer(apply, minMs) {
    minMs = minMs || 250;
    var pending = {};
    var lastRun = {};
    var scheduled = {};
    function run(key) {
      scheduled[key] = false;
      lastRun[key] = performance.now();
      var value = pending[key];
      delete pending[key];
      apply(key, value);
    }
    return function (key, value) {
      pending[key] = value;
      if (scheduled[key]) return;
      scheduled[key] = true;
      var wait = Math.max(0, minMs - (performance.now() - (lastRun[key] || 0)));
      setTimeout(function () { requestAnimationFrame(function () { run(key); }); }, wait);
    };
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  // The one set of number rules (static/js/format.js, mirrored by apps/core/formatting.py).
  var F = window.PTPFormat;
  var fmtPrice = F.fmtPrice, fmtQty = F.fmtQty, fmtPct = F.fmtSignedPct, fmtMoney = F.fmtMoney;

  function json(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  /* A sparkline on a <canvas>, crisp at any device pixel ratio. */
  function sparkline(canvas, points) {
    if (!canvas || !points || points.length < 2) return;
    var ratio = window.devicePixelRatio || 1;
    var w = canvas.clientWidth || 120, h = canvas.clientHeight || 32;
    if (canvas.width !== w * ratio) { canvas.width = w * ratio; canvas.height = h * ratio; }
    var ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    var min = Math.min.apply(null, points), max = Math.max.apply(null, points);
    var span = max - min || 1;
    var up = points[points.length - 1] >= points[0];
    ctx.beginPath();
    points.forEach(function (p, i) {
      var x = (i / (points.length - 1)) * (w - 2) + 1;
      var y = h - 2 - ((p - min) / span) * (h - 4);
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.strokeStyle = up ? "#22c55e" : "#ef4444";
    ctx.lineWidth = 1.5;
    ctx.stroke();
    ctx.lineTo(w - 1, h);
    ctx.lineTo(1, h);
    ctx.closePath();
    ctx.fillStyle = up ? "rgba(34,197,94,0.10)" : "rgba(239,68,68,0.10)";
    ctx.fill();
  }

  function flash(el, direction) {
    if (!el) return;
    el.classList.remove("flash-up", "flash-down");
    void el.offsetWidth;
    el.classList.add(direction >= 0 ? "flash-up" : "flash-down");
  }

  window.PTP = {
    socket: socket,
    coalescer: coalescer,
    debounce: debounce,
    fmtPrice: fmtPrice,
    fmtQty: fmtQty,
    fmtPct: fmtPct,
    fmtMoney: fmtMoney,
    json: json,
    sparkline: sparkline,
    flash: flash,
  };

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-spark]").forEach(function (c) {
      try { sparkline(c, JSON.parse(c.dataset.spark)); } catch (e) { /* no data yet */ }
    });
  });
})();
