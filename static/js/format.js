/* Numbers for a person: the rules of apps/core/formatting.py, on the decimal digits of the
   value (never via a float), so a price, quantity or amount reads the same in a template,
   a live push and the ticket. tests/core/test_formatting.py runs the shared table of cases
   through both. Exposed as window.PTPFormat (and module.exports under node). */
(function (root) {
  "use strict";
  var DASH = "\u2014";
  var CURRENCY_DECIMALS = { USDT: 2, USDC: 2, BUSD: 2, FDUSD: 2, TUSD: 2, DAI: 2, USD: 2, EUR: 2 };
  var CRYPTO_DECIMALS = 8;
  var QTY_MAX_DECIMALS = 8;

  // A value as {neg, int, frac} digit strings, or null. Numbers go through their shortest
  // round-trip string; exponents are expanded on the digits.
  function parse(value) {
    if (value === null || value === undefined || value === "" || typeof value === "boolean") return null;
    var text = String(value).trim();
    var m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
    if (!m || (m[2] === "" && (m[3] === undefined || m[3] === ""))) return null;
    var digits = (m[2] || "") + (m[3] || "");
    var point = (m[2] || "").length + (m[4] ? parseInt(m[4], 10) : 0);
    if (point < 0) { digits = new Array(-point + 1).join("0") + digits; point = 0; }
    if (point > digits.length) { digits = digits + new Array(point - digits.length + 1).join("0"); }
    var intPart = digits.slice(0, point).replace(/^0+(?=\d)/, "") || "0";
    return { neg: m[1] === "-", int: intPart, frac: digits.slice(point) };
  }

  function isZero(p) { return !/[1-9]/.test(p.int + p.frac); }

  // Add one unit in the last place of a digit string ("0999" -> "1000").
  function increment(digits) {
    var out = digits.split("");
    for (var i = out.length - 1; i >= 0; i--) {
      if (out[i] === "9") { out[i] = "0"; } else { out[i] = String(Number(out[i]) + 1); return out.join(""); }
    }
    return "1" + out.join("");
  }

  function group(intDigits) {
    return intDigits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  function fixed(value, places, grouping) {
    var p = parse(value);
    if (!p) return DASH;
    var frac = p.frac + new Array(places + 1).join("0");
    var kept = p.int + frac.slice(0, places);
    if (frac.charAt(places) >= "5") kept = increment(kept);  // half away from zero
    var intLen = kept.length - places;
    var intPart = kept.slice(0, intLen).replace(/^0+(?=\d)/, "") || "0";
    var fracPart = kept.slice(intLen);
    var zero = !/[1-9]/.test(intPart + fracPart);
    var body = (grouping === false ? intPart : group(intPart)) + (places > 0 ? "." + fracPart : "");
    return (p.neg && !zero ? "-" : "") + body;
  }

  function stepDecimals(step) {
    var p = parse(step);
    if (!p || isZero(p) || p.neg) return null;
    return p.frac.replace(/0+$/, "").length;
  }

  function plain(value) {
    var p = parse(value);
    if (!p) return DASH;
    var frac = p.frac.replace(/0+$/, "");
    if (isZero(p)) return "0";
    return (p.neg ? "-" : "") + p.int + (frac ? "." + frac : "");
  }

  function magnitudeDecimals(p) {
    var size = Number(p.int + "." + (p.frac || "0"));
    return size >= 1000 || size === 0 ? 2 : size >= 1 ? 4 : 6;
  }

  function fmtPrice(value, tick) {
    var p = parse(value);
    if (!p) return DASH;
    var places = stepDecimals(tick);
    return fixed(value, places === null ? magnitudeDecimals(p) : places);
  }

  function fmtQty(value, step) {
    if (!parse(value)) return DASH;
    var places = stepDecimals(step);
    if (places !== null) return fixed(value, places);
    return fixed(value, QTY_MAX_DECIMALS).replace(/0+$/, "").replace(/\.$/, "");
  }

  function currencyDecimals(currency) {
    if (!currency) return 2;
    var known = CURRENCY_DECIMALS[String(currency).toUpperCase()];
    return known === undefined ? CRYPTO_DECIMALS : known;
  }

  function signed(text) {
    return text === DASH || text.charAt(0) === "-" || !/[1-9]/.test(text) ? text : "+" + text;
  }

  function fmtMoney(value, currency) { return fixed(value, currencyDecimals(currency === undefined ? "USDT" : currency)); }
  function fmtSignedMoney(value, currency) { return signed(fmtMoney(value, currency)); }
  function fmtPct(value) { var t = fixed(value, 2); return t === DASH ? t : t + "%"; }
  function fmtSignedPct(value) { return signed(fmtPct(value)); }

  var api = {
    DASH: DASH,
    parse: parse,
    fixed: fixed,
    plain: plain,
    stepDecimals: stepDecimals,
    currencyDecimals: currencyDecimals,
    fmtPrice: fmtPrice,
    fmtQty: fmtQty,
    fmtMoney: fmtMoney,
    fmtSignedMoney: fmtSignedMoney,
    fmtPct: fmtPct,
    fmtSignedPct: fmtSignedPct,
  };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.PTPFormat = api;
})(typeof window !== "undefined" ? window : this);
