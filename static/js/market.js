/* Market page: candles + volume + Bollinger Bands, RSI and MACD panes (lightweight-charts 4),
   live from the per-market socket; book, trades and the order ticket's field switching. */
(function () {
  "use strict";
  var LWC = null;
  var COLORS = { up: "#22c55e", down: "#ef4444", grid: "#1c2740", text: "#8b98b0", bb: "#a78bfa", mid: "#f59e0b",
                 rsi: "#38bdf8", macd: "#38bdf8", signal: "#f59e0b" };

  function baseOptions(height) {
    return {
      autoSize: true,
      height: height,
      // The logo injects a <style> element, which the CSP (style-src 'self') blocks; the
      // attribution is shown as text under the chart instead.
      layout: { background: { type: "solid", color: "transparent" }, textColor: COLORS.text, fontSize: 11,
                attributionLogo: false },
      grid: { vertLines: { color: COLORS.grid }, horzLines: { color: COLORS.grid } },
      rightPriceScale: { borderColor: COLORS.grid, minimumWidth: 80 },
      timeScale: { borderColor: COLORS.grid, timeVisible: true, secondsVisible: false, rightOffset: 4 },
      crosshair: { mode: 0 },
    };
  }

  function point(time, value) {
    return value === null || value === undefined ? { time: time } : { time: time, value: value };
  }

  function MarketChart(root) {
    this.root = root;
    this.exchange = root.dataset.exchange;
    this.symbol = root.dataset.symbol;
    this.timeframe = root.dataset.timeframe;
    this.url = root.dataset.url;
    this.lastTime = 0;
    this.updates = 0;
    this.loadSeq = 0;
    this.loading = false;
    var main = LWC.createChart(root, baseOptions(380));
    var rsi = LWC.createChart(document.getElementById("chart-rsi"), baseOptions(110));
    var macd = LWC.createChart(document.getElementById("chart-macd"), baseOptions(130));
    this.charts = [main, rsi, macd];
    this.candles = main.addCandlestickSeries({ upColor: COLORS.up, downColor: COLORS.down, borderVisible: false,
                                               wickUpColor: COLORS.up, wickDownColor: COLORS.down });
    this.volume = main.addHistogramSeries({ priceScaleId: "vol", priceFormat: { type: "volume" }, lastValueVisible: false,
                                            priceLineVisible: false });
    main.priceScale("vol").applyOptions({ scaleMargins: { top: 0.82, bottom: 0 } });
    var line = function (chart, color, width, extra) {
      return chart.addLineSeries(Object.assign({ color: color, lineWidth: width || 1, priceLineVisible: false,
                                                 lastValueVisible: false, crosshairMarkerVisible: false }, extra || {}));
    };
    this.bbUpper = line(main, COLORS.bb);
    this.bbMiddle = line(main, COLORS.mid, 1, { lineStyle: 2 });
    this.bbLower = line(main, COLORS.bb);
    this.rsi = line(rsi, COLORS.rsi, 2, { lastValueVisible: true });
    this.rsi.createPriceLine({ price: 70, color: "#ef444480", lineStyle: 2, lineWidth: 1, axisLabelVisible: false });
    this.rsi.createPriceLine({ price: 30, color: "#22c55e80", lineStyle: 2, lineWidth: 1, axisLabelVisible: false });
    this.macdHist = macd.addHistogramSeries({ priceLineVisible: false, lastValueVisible: false });
    this.macd = line(macd, COLORS.macd, 2, { lastValueVisible: true });
    this.macdSignal = line(macd, COLORS.signal, 1);
    this.syncTimeScales();
  }

  MarketChart.prototype.syncTimeScales = function () {
    var charts = this.charts;
    var syncing = false;
    charts.forEach(function (source) {
      source.timeScale().subscribeVisibleLogicalRangeChange(function (range) {
        if (syncing || !range) return;
        syncing = true;
        charts.forEach(function (target) { if (target !== source) target.timeScale().setVisibleLogicalRange(range); });
        syncing = false;
      });
    });
  };

  MarketChart.prototype.load = function (timeframe) {
    var self = this;
    var seq = ++this.loadSeq;
    this.timeframe = timeframe;
    this.loading = true;
    this.root.dataset.timeframe = timeframe;
    this.root.setAttribute("aria-busy", "true");
    return fetch(this.url + "?tf=" + encodeURIComponent(timeframe), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (seq !== self.loadSeq) return;  // a newer timeframe switch won
        self.setData(data);
        self.loading = false;
        self.root.removeAttribute("aria-busy");
      })
      .catch(function () {
        // A failed fetch leaves the old bars; live candles resume so the chart is not frozen.
        if (seq !== self.loadSeq) return;
        self.loading = false;
        self.root.removeAttribute("aria-busy");
      });
  };

  MarketChart.prototype.setData = function (data) {
    var candles = data.candles || [];
    this.appliedIndicatorTime = null;
    this.candles.setData(candles);
    this.volume.setData(candles.map(function (c) {
      return { time: c.time, value: c.volume, color: c.close >= c.open ? "#22c55e55" : "#ef444455" };
    }));
    this.setIndicators(data.indicators || [], candles);
    this.lastTime = candles.length ? candles[candles.length - 1].time : 0;
    this.root.dataset.candleCount = String(candles.length);
    this.root.dataset.intervalS = String(data.interval_s || "");
    this.root.dataset.firstTime = candles.length ? String(candles[0].time) : "";
    this.root.dataset.lastCandleTime = String(this.lastTime);
    this.charts.forEach(function (c) { c.timeScale().scrollToRealTime(); });
  };

  MarketChart.prototype.setIndicators = function (rows) {
    var pick = function (key) { return rows.map(function (r) { return point(r.time, r[key]); }); };
    this.bbUpper.setData(pick("bb_upper"));
    this.bbMiddle.setData(pick("bb_middle"));
    this.bbLower.setData(pick("bb_lower"));
    this.rsi.setData(pick("rsi"));
    this.macd.setData(pick("macd"));
    this.macdSignal.setData(pick("macd_signal"));
    this.macdHist.setData(rows.map(function (r) {
      if (r.macd_hist === null || r.macd_hist === undefined) return { time: r.time };
      return { time: r.time, value: r.macd_hist, color: r.macd_hist >= 0 ? "#22c55e99" : "#ef444499" };
    }));
    var counts = { bb: 0, rsi: 0, macd: 0 };
    rows.forEach(function (r) {
      if (r.bb_upper !== null && r.bb_upper !== undefined) counts.bb += 1;
      if (r.rsi !== null && r.rsi !== undefined) counts.rsi += 1;
      if (r.macd !== null && r.macd !== undefined) counts.macd += 1;
    });
    this.root.dataset.bbPoints = String(counts.bb);
    this.root.dataset.rsiPoints = String(counts.rsi);
    this.root.dataset.macdPoints = String(counts.macd);
  };

  // The feed's indicator values after the closed candle `values.open_time_ms` (pushed: the
  // same engine state the feed keeps, so the chart never refetches to show them). Every
  // indicator series holds a point (or whitespace) at each candle time up to `lastTime`;
  // lightweight-charts updates only the last one, so an older candle's values (the forming
  // candle's whitespace came first) rebuild the series on the candle times.
  MarketChart.prototype.applyIndicators = function (values) {
    if (!values || values.open_time_ms === undefined || this.loading) return;
    var t = Math.floor(values.open_time_ms / 1000);
    if (t > this.lastTime || t === this.appliedIndicatorTime) return;  // not shown (yet), or done
    this.appliedIndicatorTime = t;
    var self = this;
    var put = function (series, p) {
      if (t === self.lastTime) { series.update(p); return; }
      var byTime = {};
      series.data().forEach(function (d) { byTime[d.time] = d; });  // data() omits whitespace
      byTime[t] = p;
      series.setData(self.candles.data().map(function (c) { return byTime[c.time] || { time: c.time }; }));
    };
    put(this.bbUpper, point(t, values.bb_upper));
    put(this.bbMiddle, point(t, values.bb_middle));
    put(this.bbLower, point(t, values.bb_lower));
    put(this.rsi, point(t, values.rsi));
    put(this.macd, point(t, values.macd));
    put(this.macdSignal, point(t, values.macd_signal));
    var hist = values.macd_hist;
    put(this.macdHist, hist === null || hist === undefined ? { time: t }
      : { time: t, value: hist, color: hist >= 0 ? "#22c55e99" : "#ef444499" });
    this.indicatorUpdates = (this.indicatorUpdates || 0) + 1;
    this.root.dataset.indicatorUpdates = String(this.indicatorUpdates);
    this.root.dataset.indicatorTime = String(t);
  };

  // One live candle (forming or just closed) of `timeframe`. A push may reach the chart
  // after a timeframe switch (it waited in the paint coalescer, or the socket delivered the
  // old stream's candle during the fetch): applying it would put a 1m bar on a 5m chart, so
  // candles of another timeframe, or arriving while a load is in flight, are dropped; the
  // load's own data covers them.
  MarketChart.prototype.applyCandle = function (c, timeframe) {
    if (!c || timeframe !== this.timeframe || this.loading || c.time < this.lastTime) return;
    this.candles.update({ time: c.time, open: c.open, high: c.high, low: c.low, close: c.close });
    this.volume.update({ time: c.time, value: c.volume, color: c.close >= c.open ? "#22c55e55" : "#ef444455" });
    // Whitespace keeps the indicator panes' logical indexes aligned with the candles.
    if (c.time > this.lastTime) {
      [this.bbUpper, this.bbMiddle, this.bbLower, this.rsi, this.macd, this.macdSignal, this.macdHist]
        .forEach(function (s) { s.update({ time: c.time }); });
    }
    this.lastTime = c.time;
    this.updates += 1;
    this.root.dataset.updates = String(this.updates);
    this.root.dataset.lastCandleTime = String(c.time);
    this.root.dataset.lastClose = String(c.close);
  };

  var TICK = null, STEP = null;

  function renderBook(book) {
    if (ticket) ticket.setBook(book);
    var asks = (book.asks || []).slice(0, 12).reverse();
    var bids = (book.bids || []).slice(0, 12);
    var rows = function (list, cls, color) {
      return list.map(function (l) {
        return '<tr class="' + cls + '" data-price="' + PTPFormat.plain(l[0]) + '" data-qty="' + PTPFormat.plain(l[1]) + '"><td class="' + color + '">' + PTP.fmtPrice(l[0], TICK) + '</td><td class="num">' +
          PTP.fmtQty(l[1], STEP) + "</td></tr>";
      }).join("");
    };
    document.getElementById("book-asks").innerHTML = rows(asks, "ask", "down");
    document.getElementById("book-bids").innerHTML = rows(bids, "bid", "up");
    if (book.bid && book.ask) {
      var spread = Number(book.ask) - Number(book.bid);
      document.getElementById("spread").textContent = "spread " + PTP.fmtPrice(spread, TICK) + " · mid " +
        PTP.fmtPrice((Number(book.ask) + Number(book.bid)) / 2, TICK);
    }
  }

  function timeText(ms) {
    var d = new Date(Number(ms));
    return d.toLocaleTimeString("en-GB", { hour12: false });
  }

  function renderTrades(trades) {
    var body = document.getElementById("trades");
    if (!body || !trades.length) return;
    var html = trades.slice(0, 25).map(function (t) {
      return '<tr><td class="' + (t.side === "buy" ? "up" : "down") + '">' + PTP.fmtPrice(t.price, TICK) +
        '</td><td class="num">' + PTP.fmtQty(t.qty, STEP) + '</td><td class="num muted">' + timeText(t.ts) + "</td></tr>";
    }).join("");
    body.insertAdjacentHTML("afterbegin", html);
    while (body.rows.length > 25) body.deleteRow(body.rows.length - 1);
  }

  function renderTicker(ticker) {
    var el = document.getElementById("last-price");
    var last = Number(ticker.last);
    var prev = Number(el.dataset.value);
    if (last !== prev) {
      el.textContent = PTP.fmtPrice(ticker.last, TICK);
      el.dataset.value = String(last);
      PTP.flash(el, last - prev);
    }
    var pct = Number(ticker.change_pct);
    var ch = document.getElementById("change-pct");
    ch.textContent = PTP.fmtPct(pct);
    ch.className = pct >= 0 ? "up" : "down";
    document.getElementById("stat-high").textContent = PTP.fmtPrice(ticker.high, TICK);
    document.getElementById("stat-low").textContent = PTP.fmtPrice(ticker.low, TICK);
    document.getElementById("stat-vol").textContent = PTP.fmtQty(ticker.volume, "0.01");
    document.title = PTP.fmtPrice(ticker.last, TICK) + " " + document.title.replace(/^[\d,.]+ /, "");
  }

  // The ticket: available balance of the chosen portfolio and side, amount in base or quote,
  // % of balance buttons, and the live check's worded errors shown next to their fields.
  var FIELDS = ["quantity", "price", "stop_price", "trailing_delta_bps"];

  function floorTo(value, step) {
    var places = PTPFormat.stepDecimals(step);
    var unit = Number(step);
    if (places === null || !isFinite(value) || value <= 0) return "";
    var floored = Math.floor(value / unit + 1e-9) * unit;
    return floored > 0 ? floored.toFixed(places) : "";
  }

  function Ticket(form) {
    this.form = form;
    this.base = form.dataset.base;
    this.quote = form.dataset.quote;
    this.step = form.dataset.step;
    this.tick = form.dataset.tick;
    try { this.balances = JSON.parse(form.dataset.balances || "{}"); } catch (e) { this.balances = {}; }
    this.asks = [];
    this.bids = [];
  }

  Ticket.prototype.value = function (name) {
    var el = this.form.querySelector("[name=" + name + "]:checked") || this.form.querySelector("[name=" + name + "]");
    return el ? el.value : "";
  };

  Ticket.prototype.free = function (asset) {
    var row = this.balances[this.value("portfolio")] || {};
    return row[asset] === undefined ? "0" : row[asset];
  };

  Ticket.prototype.sideAsset = function () { return this.value("side") === "sell" ? this.base : this.quote; };

  Ticket.prototype.showAvailable = function () {
    var asset = this.sideAsset();
    var free = this.free(asset);
    var text = asset === this.quote ? PTPFormat.fmtMoney(free, asset) : PTPFormat.fmtQty(free);
    var el = this.form.querySelector("[data-available]");
    el.textContent = text + " " + asset;
    el.dataset.value = free;
    var unit = this.value("amount_unit") === "quote" ? this.quote : this.base;
    document.getElementById("ticket-unit").textContent = "(" + unit + ")";
  };

  // The price a priced order converts at (its limit, else its stop), or null for a market order.
  Ticket.prototype.orderPrice = function () {
    var type = this.value("order_type");
    var limit = Number(this.value("price"));
    var stop = Number(this.value("stop_price"));
    if ((type === "limit" || type === "stop_loss_limit") && limit > 0) return limit;
    if (type.indexOf("stop") === 0 && stop > 0) return stop;
    return null;
  };

  // Walk the visible book side the order takes, best level first, as the fill engine does:
  // how much base a quote budget buys, or how much quote a base quantity fetches.
  Ticket.prototype.walk = function (levels, budget, spendQuote) {
    var got = 0;
    for (var i = 0; i < levels.length && budget > 0; i++) {
      var price = Number(levels[i][0]), size = Number(levels[i][1]);
      var take = spendQuote ? Math.min(size, budget / price) : Math.min(size, budget);
      got += spendQuote ? take : take * price;
      budget -= spendQuote ? take * price : take;
    }
    return got;
  };

  // The smallest unit of the quote currency (USDT 0.01): quote amounts are floored to it.
  Ticket.prototype.quoteStep = function () {
    var d = PTPFormat.currencyDecimals(this.quote);
    return d === 0 ? "1" : "0." + new Array(d).join("0") + "1";
  };

  // pct % of the free balance the order spends (quote on a buy, base on a sell), entered in
  // the chosen unit, floored to the step (or the quote's cents) so it never exceeds it.
  Ticket.prototype.fillPercent = function (pct) {
    var share = Number(this.free(this.sideAsset())) * pct / 100;
    var inQuote = this.value("amount_unit") === "quote";
    var sell = this.value("side") === "sell";
    var price = this.orderPrice();
    var amount;
    if (sell && !inQuote) amount = floorTo(share, this.step);
    else if (!sell && inQuote) amount = floorTo(share, this.quoteStep());
    else if (price) amount = sell ? floorTo(share * price, this.quoteStep()) : floorTo(share / price, this.step);
    else amount = sell ? floorTo(this.walk(this.bids, share, false), this.quoteStep())
                       : floorTo(this.walk(this.asks, share, true), this.step);
    var input = this.form.querySelector("input[name=quantity]");
    input.value = amount;
    input.dispatchEvent(new Event("input", { bubbles: true }));
  };

  // After the live check answered: mark each field its error slot names (hx-swap-oob filled them).
  Ticket.prototype.markFields = function () {
    var form = this.form;
    FIELDS.forEach(function (name) {
      var input = form.querySelector("input[name=" + name + "]");
      var slot = document.getElementById("id_" + name + "_error");
      if (!input || !slot) return;
      var bad = slot.textContent.trim() !== "";
      input.classList.toggle("invalid", bad);
      input.setAttribute("aria-invalid", bad ? "true" : "false");
    });
  };

  Ticket.prototype.sync = function () {
    var form = this.form;
    var type = this.value("order_type");
    form.querySelectorAll("[data-for]").forEach(function (el) {
      var show = el.dataset.for.split(" ").indexOf(type) >= 0;
      el.hidden = !show;
      el.querySelectorAll("input").forEach(function (i) { i.disabled = !show; });
    });
    var sell = this.value("side") === "sell";
    var btn = document.getElementById("ticket-submit");
    btn.className = "primary wide " + (sell ? "sell" : "buy");
    btn.textContent = (sell ? "Sell " : "Buy ") + form.closest("main").querySelector("#chart").dataset.symbol + " (paper)";
    this.showAvailable();
  };

  // The latest book the page shows (pushed, else the rows the server rendered).
  Ticket.prototype.setBook = function (book) {
    if (book.asks && book.asks.length) this.asks = book.asks;
    if (book.bids && book.bids.length) this.bids = book.bids;
  };

  Ticket.prototype.readBook = function () {
    var rows = function (sel) {
      return Array.prototype.map.call(document.querySelectorAll(sel), function (tr) {
        return [tr.dataset.price, tr.dataset.qty];
      }).filter(function (l) { return l[0]; });
    };
    this.asks = rows("#book-asks tr").sort(function (a, b) { return Number(a[0]) - Number(b[0]); });
    this.bids = rows("#book-bids tr").sort(function (a, b) { return Number(b[0]) - Number(a[0]); });
  };

  var ticket = null;

  function setupTicket() {
    var form = document.getElementById("ticket");
    if (!form) return;
    ticket = new Ticket(form);
    ticket.readBook();
    FIELDS.forEach(function (name) {
      var input = form.querySelector("input[name=" + name + "]");
      if (input) input.setAttribute("aria-describedby", "id_" + name + "_error");
    });
    form.addEventListener("change", function () { ticket.sync(); });
    form.querySelectorAll("button[data-pct]").forEach(function (btn) {
      btn.addEventListener("click", function () { ticket.fillPercent(Number(btn.dataset.pct)); });
    });
    document.body.addEventListener("htmx:afterSettle", function (evt) {
      if (!evt.detail || !evt.detail.target || evt.detail.target.id !== "ticket-feedback") return;
      ticket.markFields();
      var fresh = evt.detail.target.querySelector("[data-ticket-balances]");
      if (fresh) {
        try {
          var row = JSON.parse(fresh.dataset.ticketBalances);
          Object.keys(row).forEach(function (id) { ticket.balances[id] = row[id]; });
        } catch (e) { /* keep the old figures */ }
        ticket.showAvailable();
      }
    });
    ticket.sync();
  }

  function setupMarketSwitch() {
    document.querySelectorAll("select[data-nav-select]").forEach(function (sel) {
      sel.addEventListener("change", function () { location.href = sel.value; });
    });
  }

  function fillTradeTimes() {
    document.querySelectorAll("#trades td[data-ts]").forEach(function (td) { td.textContent = timeText(td.dataset.ts); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var chartRoot = document.getElementById("chart");
    if (chartRoot) { TICK = chartRoot.dataset.tick || null; STEP = chartRoot.dataset.step || null; }
    setupMarketSwitch();
    setupTicket();
    fillTradeTimes();
    var root = document.getElementById("chart");
    if (!root || !window.LightweightCharts) return;
    LWC = window.LightweightCharts;
    var chart = new MarketChart(root);
    root.ptpChart = chart;  // read by the browser tests (the drawn series)
    chart.load(root.dataset.timeframe);

    document.querySelectorAll(".tf-switch button").forEach(function (btn) {
      btn.addEventListener("click", function () {
        document.querySelectorAll(".tf-switch button").forEach(function (b) {
          b.classList.toggle("active", b === btn);
          b.setAttribute("aria-pressed", b === btn ? "true" : "false");
        });
        var url = new URL(location.href);
        url.searchParams.set("tf", btn.dataset.tf);
        history.replaceState(null, "", url);
        chart.load(btn.dataset.tf);
      });
    });

    var paint = PTP.coalescer(function (key, data) {
      if (key === "ticker") renderTicker(data);
      else if (key === "book") renderBook(data);
      else if (key === "candle") chart.applyCandle(data.candle, data.timeframe);
    }, 250);
    var tradeBuffer = [];
    var flushTrades = PTP.coalescer(function () {
      renderTrades(tradeBuffer.reverse());
      tradeBuffer = [];
    }, 500);

    PTP.socket(root.dataset.ws, {
      onMessage: function (frame) {
        if (frame.type !== "market.update" || !frame.data) return;
        var d = frame.data;
        if (d.ticker) paint("ticker", d.ticker);
        if (d.book) paint("book", d.book);
        var closed = (d.closed || []).filter(function (c) { return c.timeframe === chart.timeframe; });
        closed.forEach(function (c) { chart.applyCandle(c, c.timeframe); });
        chart.applyIndicators((d.indicators || {})[chart.timeframe]);
        var forming = (d.candles || {})[chart.timeframe];
        if (forming) paint("candle", { candle: forming, timeframe: chart.timeframe });
        if (d.trades && d.trades.length) { tradeBuffer = tradeBuffer.concat(d.trades).slice(-25); flushTrades("t"); }
      },
    });

    document.body.addEventListener("paper-order-placed", function () {
      var form = document.getElementById("ticket");
      if (form) form.querySelectorAll("input[name=quantity], input[name=price], input[name=stop_price]")
        .forEach(function (i) { i.value = ""; });
    });
  });
})();
