// covlens report: a tree of directories and files whose data arrives in
// data/*.js scripts (script tags work from file://, fetch does not), or
// is all in the page (covlens html).
"use strict";
(function () {
  var boot = JSON.parse(document.getElementById("boot").textContent);
  // The one-file form (covlens html) has every directory and file and the
  // search list in the boot data; the site loads them when needed.
  var cols = boot.cols, dirs = boot.dirs, files = boot.files || {}, waiting = {}, searchList = boot.search || null;
  var main = document.getElementById("main");

  function load(id, cb) {
    var store = id.charAt(0) === "d" ? dirs : files;
    if (store[id]) { cb(store[id]); return; }
    if (waiting[id]) { waiting[id].push(cb); return; }
    // The one-file page has all there is: it never asks for a file.
    if (boot.files) { main.textContent = "No such page: " + id; return; }
    waiting[id] = [cb];
    var s = document.createElement("script");
    s.src = "data/" + id + ".js";
    s.onerror = function () { main.textContent = "Cannot load data/" + id + ".js"; };
    document.head.appendChild(s);
  }
  function arrived(store) {
    return function (id, data) {
      store[id] = data;
      var cbs = waiting[id] || [];
      delete waiting[id];
      cbs.forEach(function (cb) { cb(data); });
    };
  }
  window.covlens = {
    dir: arrived(dirs),
    file: arrived(files),
    search: function (_, list) { searchList = list; runSearch(); }
  };

  // Every value from the data reaches innerHTML through esc, as text or
  // in a quoted attribute (either quote). Bidi controls, which can make a
  // name read as another, show as U+FFFD (as the server-side escaper).
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    }).replace(/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "\ufffd");
  }
  // For text that is not HTML (the tab's title): bidi controls only.
  function plain(s) { return String(s).replace(/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "\ufffd"); }
  function pct(c) { return c[1] ? 100 * c[0] / c[1] : 0; }
  // One decimal as Go's %.1f (and every other command) prints it: an exact
  // tie (6.25) goes to even, where toFixed goes up. The exact expansion
  // of these doubles is short enough for toFixed(25) to show a tie.
  function fmt1(x) {
    var m = /^(\d+)\.(\d)50*$/.exec(x.toFixed(25));
    if (!m) return x.toFixed(1);
    var t = Number(m[1]) * 10 + Number(m[2]);
    return ((t % 2 ? t + 1 : t) / 10).toFixed(1);
  }
  // Marks compare the printed numbers, never contradicting them.
  function tenths(c) { return Math.round(Number(fmt1(pct(c))) * 10); }
  // Cells newest first; a mark compares with the next (older) column.
  function cells(cs) {
    var h = "";
    for (var i = 0; i < cols.length; i++) {
      var c = cs[i], o = cs[i + 1];
      if (!c) { h += '<td class="na">—</td>'; continue; }
      var m = "", cls = "";
      // A side without statements (0.0%) is no coverage to compare.
      if (o && c[1] && o[1]) {
        var d = tenths(c) - tenths(o);
        if (d > 0) { m = "▲ "; cls = "up"; } else if (d < 0) { m = "▼ "; cls = "down"; }
      }
      h += '<td class="' + cls + '" data-covered="' + c[0] + '" data-total="' + c[1] + '" title="' +
        c[0] + " of " + c[1] + ' statements">' + m + fmt1(pct(c)) + '%<span class="bar"><i style="width:' +
        pct(c).toFixed(0) + '%"></i></span></td>';
    }
    return h;
  }
  // Extra columns: a trend of the last recorded runs (an SVG sparkline
  // drawn here from numbers only) and flaky statements.
  function spark(tr) {
    if (!tr) return "";
    var v = tr.filter(function (p) { return p !== null; }).map(Number);
    if (!v.length) return "";
    var lo = Math.min.apply(null, v), hi = Math.max.apply(null, v);
    if (hi - lo < 1) { lo = Math.max(0, (hi + lo) / 2 - 0.5); hi = lo + 1; }
    var n = Math.max(tr.length - 1, 1), pts = [], out = "", last = null;
    var xy = function (i, p) { return (1 + i * 78 / n).toFixed(1) + "," + (1 + (hi - p) / (hi - lo) * 16).toFixed(1); };
    var flush = function () { if (pts.length > 1) out += '<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="' + pts.join(" ") + '"/>'; pts = []; };
    tr.forEach(function (p, i) { if (p === null) flush(); else { pts.push(xy(i, +p)); last = [i, +p]; } });
    flush();
    var c = xy(last[0], last[1]).split(",");
    return '<svg class="spark" width="80" height="18" viewBox="0 0 80 18" role="img"><title>' +
      tr.map(function (p) { return p === null ? "—" : fmt1(+p) + "%"; }).join(" → ") + "</title>" + out +
      '<circle cx="' + c[0] + '" cy="' + c[1] + '" r="2" fill="currentColor"/></svg>';
  }
  function extra(k) {
    var h = "";
    if (boot.trend) h += '<td class="trend">' + spark(k.tr) + "</td>";
    if (boot.flaky) h += '<td class="flaky' + (k.fl ? " some" : "") + '" title="statements covered in some but not all runs">' + (k.fl ? +k.fl : "") + "</td>";
    return h;
  }
  // Trends and flaky statements are per directory and file: tables of a
  // file's own numbers (`only`) have no such columns.
  function head(first, only) {
    return "<tr><th>" + first + "</th>" + cols.map(function (c) { return "<th>" + esc(c) + "</th>"; }).join("") +
      (boot.trend && !only ? "<th>last " + (+boot.trend) + " runs</th>" : "") + (boot.flaky && !only ? "<th>flaky</th>" : "") + "</tr>";
  }
  function crumbs(d, last) {
    var h = '<div class="crumbs">';
    (d.up || []).forEach(function (u) { h += '<a href="#' + u[1] + '">' + esc(u[0]) + "</a> / "; });
    return h + (last ? '<a href="#' + d.id + '">' + esc(d.name) + "</a> / " + esc(last) : esc(d.name)) + "</div>";
  }
  // Rows of one directory; `depth` indents rows expanded in place.
  function rows(d, depth) {
    var pad = 'style="padding-left:' + (0.7 + depth * 1.4) + 'em"';
    return d.kids.map(function (k) {
      var path = (d.path ? d.path + "/" : "") + k.n;
      var attrs = ' data-path="' + esc(path) + '" data-kind="' + k.t + '" data-depth="' + depth + '"';
      if (k.t === "d") {
        return "<tr" + attrs + ' data-id="' + k.id + '"><td class="name" ' + pad +
          '><button class="tog" aria-label="expand" aria-expanded="false">▸</button><a href="#' + k.id + '">' + esc(k.n) + "/</a></td>" + cells(k.c) + extra(k) + "</tr>";
      }
      var name = k.s ? '<a href="#' + k.id + '">' + esc(k.n) + "</a>" : '<span class="nosrc" title="source not available">' + esc(k.n) + "</span>";
      return "<tr" + attrs + '><td class="name" ' + pad + '><span class="tog"></span>' + name + "</td>" + cells(k.c) + extra(k) + "</tr>";
    }).join("");
  }
  function showDir(d) {
    main.innerHTML = crumbs(d) + '<div class="wide"><table class="tree" id="tree">' + head("Name") + rows(d, 0) + "</table></div>";
    document.title = plain(d.path || boot.title);
  }
  // Expand/collapse a directory row in place, loading its data first.
  main.addEventListener("click", function (e) {
    var b = e.target.closest("button.tog");
    if (!b) return;
    var tr = b.closest("tr"), depth = +tr.dataset.depth;
    var open = function (o) {
      b.textContent = o ? "▾" : "▸";
      b.setAttribute("aria-expanded", o);
      b.setAttribute("aria-label", o ? "collapse" : "expand");
    };
    if (b.textContent === "▾") {
      open(false);
      delete tr.dataset.shown;
      var n = tr.nextElementSibling;
      while (n && +n.dataset.depth > depth) { var x = n.nextElementSibling; n.remove(); n = x; }
      return;
    }
    open(true);
    // Clicks may come faster than the data (a bucket far away): rows go
    // in once, and only under a row still open.
    load(tr.dataset.id, function (d) {
      if (!tr.isConnected || b.textContent !== "▾" || tr.dataset.shown) return;
      tr.dataset.shown = "1";
      tr.insertAdjacentHTML("afterend", rows(d, depth + 1));
    });
  });
  // go tool cover -html's classes: cov0 for no count, else cov1-cov10 by
  // ln(count)/ln(max) (cov8 in set mode or when no count exceeds 1).
  function covClass(c, max, set) {
    if (!c) return 0;
    if (set || max <= 1) return 8;
    return Math.min(10, Math.max(1, Math.floor(Math.log(c) / Math.log(max) * 9) + 1));
  }
  // The source is rendered coloured by the first column; f.bc has every
  // column's block counts (null where the file's blocks differ).
  function recolour(f, col) {
    var bc = f.bc && f.bc[col];
    if (!bc) return;
    var max = Math.max.apply(null, [0].concat(bc));
    main.querySelectorAll("table.src span[data-k]").forEach(function (sp) {
      var c = bc[+sp.dataset.k];
      sp.className = "cov" + covClass(c, max, f.set);
      sp.title = c;
    });
  }
  function colourBy(f, col) {
    var usable = (f.bc || []).map(function (b, i) { return b ? i : -1; }).filter(function (i) { return i >= 0; });
    if (usable.length < 2) return " <small>(colours by " + esc(cols[0]) + ")</small>";
    return ' <label>colour by <select id="colby">' + usable.map(function (i) {
      return '<option value="' + i + '"' + (i === col ? " selected" : "") + ">" + esc(cols[i]) + "</option>";
    }).join("") + "</select></label>";
  }
  function showFile(f, col) {
    var d = { id: f.dir, name: f.dirname, up: f.up };
    var h = crumbs(d, f.name) + "<h2>" + esc(f.path) + '</h2><table class="filetotal">' + head("", true) +
      "<tr><td>File</td>" + cells(f.c) + "</tr></table>";
    if (f.funcs && f.funcs.length) {
      h += '<h3>Functions</h3><table class="funcs">' + head("Function", true);
      f.funcs.forEach(function (fn) {
        h += '<tr><td class="name"><a href="#' + f.id + "/L" + fn[1] + '">' + esc(fn[0]) + "</a> <small>:" + fn[1] + "</small></td>" + cells(fn[2]) + "</tr>";
      });
      h += "</table>";
    }
    if (f.lines) {
      h += '<h3>Source</h3><p class="legend"><span class="cov0">not covered</span><span class="set cov8">covered</span>' +
        '<span class="cnt cov1">low count</span><span class="cnt cov5">…</span><span class="cnt cov10">high count</span>' +
        (f.ig ? '<span class="ign">left out by coverage-ignore</span>' : "") + colourBy(f, col) + "</p>" +
        '<table class="src">' + f.lines.map(function (l, i) {
          return '<tr id="L' + (i + 1) + '"><td class="n">' + (i + 1) + "</td><td>" + l + "</td></tr>";
        }).join("") + "</table>";
    } else if (f.err) {
      h += '<p class="nosrc">' + esc(f.err) + "</p>";
    }
    main.innerHTML = h;
    document.title = plain(f.path);
    if (col) recolour(f, col);
    var sel = document.getElementById("colby");
    if (sel) sel.addEventListener("change", function () { location.hash = f.id + "/C" + sel.value; });
  }
  function route() {
    var h = location.hash.slice(1), m = /^(f\d+)(?:\/L(\d+))?(?:\/C(\d+))?$/.exec(h);
    // A pull request's lost functions belong to the top of the report.
    var lost = document.getElementById("lost");
    if (lost) lost.hidden = !(h === "" || h === boot.root);
    // Back (or a link) while results are shown goes to the page.
    if (!results.hidden) { q.value = ""; results.hidden = true; main.hidden = false; }
    // Data that arrives after the hash moved on is not shown.
    var now = function () { return location.hash.slice(1) === h; };
    if (m) {
      load(m[1], function (f) {
        if (!now()) return;
        f.id = m[1];
        showFile(f, m[3] ? +m[3] : 0);
        var el = m[2] && document.getElementById("L" + m[2]);
        // The hash names the file too, so :target cannot mark the line.
        if (el) { el.className = "hl"; el.scrollIntoView({ block: "center" }); }
      });
    } else {
      load(/^d\d+$/.test(h) ? h : boot.root, function (d) { if (now()) showDir(d); });
    }
  }
  // Search loads the list of every path once, on first use.
  var q = document.getElementById("q"), results = document.getElementById("results");
  function runSearch() {
    var t = q.value.trim().toLowerCase();
    if (!t) { results.hidden = true; main.hidden = false; return; }
    if (!searchList) {
      if (!waiting.search) {
        waiting.search = true;
        var s = document.createElement("script");
        s.src = "data/search.js";
        document.head.appendChild(s);
      }
      return;
    }
    var hits = [], more = 0;
    for (var i = 0; i < searchList.length; i++) {
      if (searchList[i][0].toLowerCase().indexOf(t) >= 0) {
        if (hits.length < 200) hits.push(searchList[i]); else more++;
      }
    }
    results.innerHTML = "<ul>" + hits.map(function (e) {
      return e[1] ? '<li><a href="#' + e[1] + '">' + esc(e[0]) + "</a></li>" : "<li>" + esc(e[0]) + "</li>";
    }).join("") + "</ul>" + (more ? "<p>… and " + more + " more</p>" : "") + (hits.length ? "" : "<p>No match.</p>");
    results.hidden = false;
    main.hidden = true;
  }
  q.addEventListener("input", runSearch);
  results.addEventListener("click", function (e) {
    if (e.target.closest("a")) { q.value = ""; runSearch(); }
  });
  window.addEventListener("hashchange", route);
  route();
})();
