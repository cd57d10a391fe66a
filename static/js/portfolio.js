/* Portfolio page: live refresh of balances/orders/fills on portfolio pushes; Chart.js charts. */
(function () {
  "use strict";
  var charts = { equity: null, allocation: null };
  function chartData(name) {
    var holdings = document.getElementById("holdings");
    if (!holdings || !holdings.dataset.charts) return null;
    try { return JSON.parse(holdings.dataset.charts)[name]; } catch (e) { return null; }
  }
  function fmtTime(t) {
    return new Date(t).toLocaleString("en-GB", { month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit" });
  }
  function equityChart() {
    var data = chartData("equity");
    var el = document.getElementById("equity-chart");
    if (!el || !window.Chart || !data) return;
    // One point is not a curve: say what will appear instead of drawing empty axes.
    var empty = document.getElementById("equity-empty");
    var enough = data.values.length >= 2;
    if (empty) empty.hidden = enough;
    el.parentNode.classList.toggle("is-empty", !enough);
    if (charts.equity) {
      charts.equity.data.labels = data.labels.map(fmtTime);
      charts.equity.data.datasets[0].data = data.values;
      charts.equity.update("none");
      return;
    }
    charts.equity = new Chart(el, {
      type: "line",
      data: { labels: data.labels.map(fmtTime),
              datasets: [{ label: "Equity", data: data.values, borderColor: "#3b82f6", backgroundColor: "rgba(59,130,246,0.15)", fill: true, pointRadius: 0, tension: 0.2 }] },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
                 plugins: { legend: { display: false } },
                 scales: { x: { ticks: { color: "#8b98b0", maxTicksLimit: 6 }, grid: { color: "#1c2740" } },
                           y: { ticks: { color: "#8b98b0" }, grid: { color: "#1c2740" } } } },
    });
  }
  function allocationChart() {
    var data = chartData("allocation");
    var el = document.getElementById("allocation-chart");
    if (!el || !window.Chart || !data) return;
    el.dataset.slices = String(data.labels.length);
    if (charts.allocation) {
      charts.allocation.data.labels = data.labels;
      charts.allocation.data.datasets[0].data = data.values;
      charts.allocation.update("none");
      return;
    }
    charts.allocation = new Chart(el, {
      type: "doughnut",
      data: { labels: data.labels, datasets: [{ data: data.values, borderWidth: 0,
              backgroundColor: ["#3b82f6", "#22c55e", "#f59e0b", "#a78bfa", "#ef4444", "#14b8a6", "#eab308"] }] },
      options: { responsive: true, maintainAspectRatio: false, animation: false, cutout: "62%",
                 plugins: { legend: { position: "right", labels: { color: "#e5e9f0" } },
                            tooltip: { callbacks: { label: function (ctx) {
                              var total = ctx.dataset.data.reduce(function (a, b) { return a + b; }, 0) || 1;
                              return ctx.label + ": " + PTP.fmtPrice(ctx.parsed) + " (" + (ctx.parsed / total * 100).toFixed(1) + "%)";
                            } } } } },
    });
  }
  // The holdings fragment carries fresh chart data: redraw after each live refresh.
  document.addEventListener("htmx:afterSettle", function () { equityChart(); allocationChart(); });
  document.addEventListener("DOMContentLoaded", function () {
    if (window.Chart) { Chart.defaults.color = "#8b98b0"; Chart.defaults.font.family = "system-ui, sans-serif"; }
    equityChart();
    allocationChart();
    var root = document.getElementById("portfolio-root");
    if (!root) return;
    var events = 0;
    // Many fills in a burst become one refresh of the fragments.
    var refresh = PTP.debounce(function () { htmx.trigger(document.body, "portfolio-changed"); }, 300);
    PTP.socket(root.dataset.ws, {
      onOpen: function () { root.dataset.socket = "open"; },
      onMessage: function (frame) {
        if (frame.type && frame.type.indexOf("portfolio.") === 0) {
          events += 1;
          root.dataset.liveEvents = String(events);
          refresh();
        }
      },
    });
  });
})();
