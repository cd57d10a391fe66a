/* Dashboard: live watchlist prices, 24h change and sparklines over one stream socket. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var table = document.getElementById("watchlist");
    if (!table || !window.PTP) return;
    var live = table.dataset.live === "1";
    var rows = {};
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      var key = tr.dataset.exchange + ":" + tr.dataset.symbol;
      var canvas = tr.querySelector("canvas");
      var points = [];
      try { points = JSON.parse(canvas.dataset.spark); } catch (e) { points = []; }
      rows[key] = { tr: tr, canvas: canvas, points: points, last: null, updates: 0 };
    });

    var apply = PTP.coalescer(function (key, data) {
      var row = rows[key];
      if (!row) return;
      var ticker = data.ticker;
      var last = ticker ? Number(ticker.last) : null;
      (data.closed || []).forEach(function (c) {
        if (c.timeframe === "1m") { row.points.push(c.close); if (row.points.length > 60) row.points.shift(); }
      });
      if (last !== null && isFinite(last)) {
        var priceCell = row.tr.querySelector('[data-field="last"]');
        var previous = Number(priceCell.dataset.value);
        if (last !== previous) {
          priceCell.textContent = PTP.fmtPrice(ticker.last, priceCell.dataset.tick || null);
          priceCell.dataset.value = String(last);
          PTP.flash(priceCell, last - previous);
          row.updates += 1;
          row.tr.dataset.updates = String(row.updates);
        }
        var changeCell = row.tr.querySelector('[data-field="change"]');
        var pct = Number(ticker.change_pct);
        changeCell.textContent = PTP.fmtPct(pct);
        changeCell.className = "num " + (pct >= 0 ? "up" : "down");
        var pts = row.points.slice();
        pts.push(last);
        PTP.sparkline(row.canvas, pts.slice(-60));
      }
    }, 500);

    if (!live) return;  // the stream needs a signed-in user
    PTP.socket("/ws/v1/stream/", {
      onOpen: function (ws) {
        Object.keys(rows).forEach(function (key, i) {
          var parts = key.split(":");
          ws.send({ type: "subscribe", id: i, topic: "market", exchange: parts[0], symbol: parts[1], timeframe: "1m" });
        });
      },
      onMessage: function (frame) {
        if (frame.type !== "market.update" || !frame.data) return;
        apply(frame.data.exchange + ":" + frame.data.symbol, frame.data);
      },
    });
  });
})();
