/* Portfolio page: live refresh of balances/orders/fills on portfolio pushes; Chart.js charts. */
(function () {
  "use strict";
  function equityChart() {
    var data = PTP.json("equity-data");
    var el = document.getElementById("equity-chart");
    if (!el || !window.Chart || !data) return;
    new Chart(el, {
      type: "line",
      data: { labels: data.labels.map(function (t) { return new Date(t).toLocaleString("en-GB", { month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit" }); }),
              datasets: [{ label: "Equity", data: data.values, borderColor: "#3b82f6", backgroundColor: "rgba(59,130,246,0.15)", fill: true, pointRadius: 0, tension: 0.2 }] },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
                 plugins: { legend: { display: false } },
                 scales: { x: { ticks: { color: "#8b98b0", maxTicksLimit: 6 }, grid: { color: "#1c2740" } },
                           y: { ticks: { color: "#8b98b0" }, grid: { color: "#1c2740" } } } },
    });
  }
  function allocationChart() {
    var data = PTP.json("allocation-data");
    var el = document.getElementById("allocation-chart");
    if (!el || !window.Chart || !data) return;
    new Chart(el, {
      type: "doughnut",
      data: { labels: data.labels, datasets: [{ data: data.values, borderWidth: 0,
              backgroundColor: ["#3b82f6", "#22c55e", "#f59e0b", "#a78bfa", "#ef4444", "#14b8a6", "#eab308"] }] },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
                 plugins: { legend: { position: "right", labels: { color: "#e5e9f0" } } } },
    });
  }
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
