/* Bot pages: live event log, status badge and backtest progress over the bot's socket. */
(function () {
  "use strict";
  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }
  function addEvent(log, event) {
    if (!log || !event || log.querySelector('[data-event-id="' + event.id + '"]')) return;
    var empty = log.querySelector(".empty");
    if (empty) empty.remove();
    var when = event.created_at ? new Date(event.created_at) : new Date();
    var pad = function (n) { return String(n).padStart(2, "0"); };
    var stamp = pad(when.getMonth() + 1) + "-" + pad(when.getDate()) + " " + pad(when.getHours()) + ":" +
      pad(when.getMinutes()) + ":" + pad(when.getSeconds());
    var li = document.createElement("li");
    li.className = "ev ev-" + event.kind + " ev-new";
    li.dataset.eventId = event.id;
    li.innerHTML = "<time>" + escapeHtml(stamp) + '</time><span class="badge">' + escapeHtml(event.kind) + "</span><span>" + escapeHtml(event.message) + "</span>";
    log.insertBefore(li, log.firstChild);
    while (log.children.length > 200) log.removeChild(log.lastChild);
  }
  function setStatus(status) {
    var badge = document.getElementById("bot-status");
    if (!badge || !status || badge.dataset.status === status) return;
    // The controls depend on the status: ask the server for the right buttons.
    var root = document.getElementById("bot-root");
    htmx.ajax("GET", location.pathname, { target: "#bot-controls", select: "#bot-controls", swap: "outerHTML" });
    if (root) root.dataset.status = status;
  }
  function setProgress(message) {
    document.querySelectorAll('progress[data-backtest-id="' + message.backtest_id + '"]').forEach(function (p) {
      p.value = message.progress;
      p.textContent = message.progress + "%";
    });
    var text = document.getElementById("backtest-progress-text");
    if (text && document.getElementById("backtest-progress").dataset.backtestId == String(message.backtest_id)) {
      text.textContent = message.progress + "%";
      if (message.status === "done" || message.status === "error") htmx.trigger(document.body, "backtest-changed");
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("bot-root");
    if (!root || !window.PTP) return;
    var log = document.getElementById("event-log");
    var live = document.getElementById("log-live");
    PTP.socket(root.dataset.ws, {
      onOpen: function () { if (live) live.textContent = "● live"; },
      onMessage: function (frame) {
        var data = frame.data || {};
        if (frame.type === "bot.event") {
          addEvent(log, data.event);
          setStatus(data.status);
          // An order event can change the P&L and the trades table: refresh them now.
          if (data.event && data.event.kind === "order") htmx.trigger(document.body, "bot-traded");
        } else if (frame.type === "bot.backtest") {
          setProgress(data);
        }
      },
    });
  });
})();
