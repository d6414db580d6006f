/* The operations centre's wall: figure tiles, ECharts panels and the central map, all from onemap's own API
   (/kpis, /kpis/{name}/series, vector tiles, /map/heat). Drill down by clicking an area on the map or a bar;
   thematic modes cycle; figures refresh when the case or warning stream (Server-Sent Events, named events
   "case" and "warning") says something changed, by polling only when the key may read no stream. Errors are
   shown on the page, never thrown. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("om-config").textContent);
  var om = window.onemapDashboard = {
    cfg: cfg, code: cfg.code, mode: cfg.mode || 0, data: null, charts: {}, drawn: {}, points: {},
    updates: 0, streamed: 0, streamsOpen: 0, problems: [], trail: [], readyAt: null
  };
  var AREA_LAYERS = {street: "streets", community: "communities", grid: "grids"};
  var PIE_COLORS = ["#5fb3f0", "#3cc48a", "#e09a2d", "#e0455c", "#a58bff", "#f4d35e", "#2ec4b6", "#ff7aa2"];

  function withKey(path, params) {
    var q = new URLSearchParams();
    Object.keys(params || {}).forEach(function (k) {
      var v = params[k];
      if (v !== null && v !== undefined && v !== "") q.set(k, v);
    });
    Object.keys(cfg.auth || {}).forEach(function (k) { q.set(k, cfg.auth[k]); });
    var s = q.toString();
    // behind a reverse proxy the server lives under cfg.root (its path prefix): server paths start with it
    if (cfg.root && path.charAt(0) === "/" && path.indexOf(cfg.root + "/") !== 0) path = cfg.root + path;
    return s ? path + (path.indexOf("?") >= 0 ? "&" : "?") + s : path;
  }
  om.url = withKey;

  function getJSON(path, params) {
    return fetch(withKey(path, params), {headers: {Accept: "application/json"}}).then(function (r) {
      if (!r.ok) throw new Error(path + ": HTTP " + r.status);
      return r.json();
    });
  }

  function problem(where, err) {
    om.problems.push(where + ": " + (err && err.message || err));
    document.getElementById("om-live").className = "stale";
  }

  function fmt(v, key) {
    if (v === null || v === undefined || isNaN(v)) return "–";
    if (key && /rate$/.test(key)) return (v * 100).toFixed(1) + "%";
    if (Math.abs(v) >= 1e8) return (v / 1e8).toFixed(2) + "亿";
    if (Math.abs(v) >= 1e4) return (v / 1e4).toFixed(1) + "万";
    return Math.round(v).toLocaleString("zh-CN");
  }

  function sum(values) {
    return Object.keys(values || {}).reduce(function (s, k) { return /rate$/.test(k) ? s : s + values[k]; }, 0);
  }

  function pick(values, key) { return key ? (values || {})[key] || 0 : sum(values); }

  function mode() { return cfg.modes[om.mode % cfg.modes.length]; }

  function today() {
    var parts = new Intl.DateTimeFormat("en-CA", {timeZone: "Asia/Shanghai"}).format(new Date());
    return parts.slice(0, 10);
  }

  function daysBefore(day, n) {
    var d = new Date(day + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() - n);
    return d.toISOString().slice(0, 10);
  }

  function asOf() {
    var m = mode();
    return (m.saved && m.saved.as_of) || cfg.as_of || null;
  }

  function markDrawn(name, points) {
    om.drawn[name] = true;
    om.points[name] = points;
    var el = document.querySelector('[data-panel="' + name + '"]');
    if (el) el.setAttribute("data-drawn", "1");
    checkReady();
  }

  function checkReady() {
    if (om.readyAt !== null) return;
    var all = cfg.panels.every(function (p) { return om.drawn[p]; });
    if (all) {
      om.readyAt = performance.now();
      document.documentElement.setAttribute("data-onemap-ready", "1");
    }
  }

  function chart(name) {
    if (!om.charts[name]) {
      var el = document.getElementById("om-" + name);
      if (!el) return null;
      om.charts[name] = echarts.init(el, "dark", {renderer: "canvas"});
    }
    return om.charts[name];
  }

  var BASE = {backgroundColor: "transparent", textStyle: {fontFamily: "Noto Sans CJK SC, Microsoft YaHei, WenQuanYi Micro Hei, sans-serif"},
              tooltip: {trigger: "axis"}, grid: {left: 56, right: 16, top: 36, bottom: 28}};

  function draw(name, option, points) {
    var c = chart(name);
    if (!c) return;
    c.setOption(Object.assign({}, BASE, option), true);
    markDrawn(name, points);
  }

  function labelOf(fig, key) {
    var zh = (fig.labels || {})[key];
    return zh ? zh + " " + key : key;
  }

  // ---- panels -------------------------------------------------------------------------------------------
  function drawTiles() {
    var el = document.getElementById("om-tiles");
    if (!el) return;
    var figs = om.data.figures, html = [];
    cfg.tiles.forEach(function (t) {
      var fig = figs[t[0]];
      if (!fig) return;
      var v = pick(fig.total, t[1]);
      html.push('<div class="om-tile" data-figure="' + t[0] + '" data-key="' + (t[1] || "") + '" data-value="' + v +
                '"><div class="v">' + fmt(v, t[1]) + '</div><div class="l">' + t[2] + "<small>" + t[3] +
                "</small></div></div>");
    });
    el.innerHTML = '<div class="om-tiles">' + html.join("") + "</div>";
    markDrawn("tiles", html.length);
  }

  function drawBreakdown(panel, figureName) {
    var fig = om.data.figures[figureName];
    if (!fig) return noData(panel);
    var entries = Object.keys(fig.total).filter(function (k) { return !/rate$/.test(k); });
    var data = entries.map(function (k) { return {name: labelOf(fig, k), value: fig.total[k]}; });
    draw(panel, {
      tooltip: {trigger: "item"}, color: PIE_COLORS,
      title: {text: fig.title, subtext: fig.title_en, left: "center", top: 0, textStyle: {fontSize: 14}},
      legend: {bottom: 0, type: "scroll", textStyle: {fontSize: 11}},
      series: [{type: "pie", radius: ["35%", "62%"], center: ["50%", "52%"], data: data,
                label: {formatter: "{b}\n{c}", fontSize: 11}}]
    }, data.length);
  }

  function noData(panel) {
    draw(panel, {title: {text: "暂无数据 no data", left: "center", top: "middle", textStyle: {color: "#6d8bb6"}}}, 0);
  }

  function areaNames() {
    return om.data.scope.areas.map(function (a) { return a.name; });
  }

  function drawByArea() {
    var m = mode(), fig = om.data.figures[m.area[0]];
    if (!fig) return noData("by_area");
    var areas = om.data.scope.areas;
    var values = areas.map(function (a) { return pick(fig.by_area[a.code], m.area[1]); });
    var bars = chart("by_area");
    if (bars && !bars.__drills) {
      // a click on an area's bar drills down to it, like a click on the map
      bars.__drills = true;
      bars.on("click", function (p) {
        var a = om.data && om.data.scope.areas[p.dataIndex];
        if (a) om.drill(a.code);
      });
    }
    draw("by_area", {
      title: {text: fig.title + (m.area[1] ? " · " + ((fig.labels || {})[m.area[1]] || m.area[1]) : ""),
              subtext: "点击下钻 click to drill down", left: "center", textStyle: {fontSize: 14}},
      grid: {left: 96, right: 24, top: 48, bottom: 20},
      xAxis: {type: "value"}, yAxis: {type: "category", data: areaNames(), inverse: true},
      tooltip: {trigger: "axis"},
      series: [{type: "bar", data: values, itemStyle: {color: m.ramp[3]}, barMaxWidth: 18}]
    }, values.length);
  }

  // Bars per department: the mode's department figure (verification backlog, open cases, ...) or, for data
  // freshness, its overdue items ("<department>:overdue" keys).
  function drawDepartments(panel, figureName) {
    var fig = om.data.figures[figureName];
    if (!fig) return noData(panel);
    var keys = Object.keys(fig.total).filter(function (k) { return k.indexOf(":") < 0 || /:overdue$/.test(k); });
    keys.sort(function (a, b) { return fig.total[b] - fig.total[a]; });
    if (!keys.length) return noData(panel);
    draw(panel, {
      title: {text: fig.title, subtext: fig.title_en, right: 8, top: 0, textStyle: {fontSize: 13}},
      grid: {left: 80, right: 24, top: 40, bottom: 20},
      xAxis: {type: "value"}, yAxis: {type: "category", inverse: true,
        data: keys.map(function (k) { return (fig.labels || {})[k] || k; })},
      series: [{type: "bar", data: keys.map(function (k) { return fig.total[k]; }),
                itemStyle: {color: panel === "freshness" ? "#f4d35e" : "#a58bff"}, barMaxWidth: 16}]
    }, keys.length);
  }

  function drawStack() {
    var fig = om.data.figures.population;
    if (!fig) return noData("stack");
    var areas = om.data.scope.areas;
    var registered = areas.map(function (a) { return (fig.by_area[a.code] || {}).registered || 0; });
    var others = areas.map(function (a, i) { return ((fig.by_area[a.code] || {}).actual || 0) - registered[i]; });
    draw("stack", {
      legend: {top: 0, textStyle: {fontSize: 11}}, grid: {left: 56, right: 16, top: 30, bottom: 48},
      xAxis: {type: "category", data: areaNames(), axisLabel: {rotate: 30, fontSize: 10}}, yAxis: {type: "value"},
      series: [{name: "户籍 registered", type: "bar", stack: "p", data: registered, itemStyle: {color: "#2f7fc1"}},
               {name: "流动 other", type: "bar", stack: "p", data: others, itemStyle: {color: "#e09a2d"}}]
    }, areas.length);
  }

  function drawModes() {
    var el = document.getElementById("om-modes");
    if (!el) return;
    el.innerHTML = '<ul class="om-modes">' + cfg.modes.map(function (m, i) {
      return '<li data-mode="' + i + '" class="' + (i === om.mode ? "active" : "") + '">' + m.title +
             "<small>" + m.title_en + "</small></li>";
    }).join("") + "</ul>";
    Array.prototype.forEach.call(el.querySelectorAll("li"), function (li) {
      li.addEventListener("click", function () { setMode(parseInt(li.getAttribute("data-mode"), 10)); });
    });
    markDrawn("modes", cfg.modes.length);
  }

  function seriesParams(spec) {
    var end = asOf() ? asOf().slice(0, 10) : today();
    return {from: daysBefore(end, spec.days - 1), to: end, step: spec.step, code: om.code};
  }

  function drawTrend() {
    var spec = mode().trend;
    return getJSON("/kpis/" + spec.figure + "/series", seriesParams(spec)).then(function (s) {
      var keys = spec.keys || [null];
      var x = s.points.map(function (p) { return p.at.slice(0, 10); });
      var series = keys.map(function (k, i) {
        return {name: k ? ((s.labels || {})[k] || k) : "合计 total", type: "line", smooth: true, showSymbol: false,
                areaStyle: i === 0 ? {opacity: 0.25} : undefined,
                data: s.points.map(function (p) { return pick(p.values, k); })};
      });
      draw("trend", {
        title: {text: s.title, subtext: s.title_en + " · " + spec.step, left: "center", textStyle: {fontSize: 14}},
        legend: {bottom: 0, textStyle: {fontSize: 11}}, grid: {left: 56, right: 16, top: 48, bottom: 40},
        xAxis: {type: "category", data: x}, yAxis: {type: "value", scale: true}, series: series,
        color: [mode().ramp[3], "#f4d35e"]
      }, x.length);
    }).catch(function (e) { problem("trend", e); noData("trend"); });
  }

  function drawEvents() {
    if (!document.getElementById("om-events")) return Promise.resolve();
    var spec = {step: "week", days: 84};
    return getJSON("/kpis/events_by_kind/series", seriesParams(spec)).then(function (s) {
      var totals = {};
      s.points.forEach(function (p) {
        Object.keys(p.values).forEach(function (k) { totals[k] = (totals[k] || 0) + p.values[k]; });
      });
      var keys = Object.keys(totals).sort(function (a, b) { return totals[b] - totals[a]; });
      draw("events", {
        grid: {left: 110, right: 24, top: 12, bottom: 20},
        xAxis: {type: "value"}, yAxis: {type: "category", inverse: true, data: keys},
        series: [{type: "bar", data: keys.map(function (k) { return totals[k]; }), itemStyle: {color: "#e0455c"},
                  barMaxWidth: 16}]
      }, keys.length);
    }).catch(function (e) { problem("events", e); noData("events"); });
  }

  // ---- the map ------------------------------------------------------------------------------------------
  var map = null, areaLayer = null, buildingLayer = null, heatLayer = null, savedLayers = [], areaLayerScope = null;

  function tileUrl(layerId, extra) {
    return withKey("/collections/" + layerId + "/tiles/WebMercatorQuad/{z}/{x}/{y}", extra || {});
  }

  function classes() {
    var m = mode(), fig = om.data.figures[m.area[0]];
    if (!fig) return null;
    var values = om.data.scope.areas.map(function (a) { return pick(fig.by_area[a.code], m.area[1]); });
    var sorted = values.slice().sort(function (a, b) { return a - b; });
    var breaks = [0.2, 0.4, 0.6, 0.8].map(function (q) { return sorted[Math.floor(q * (sorted.length - 1))]; });
    return {fig: fig, key: m.area[1], breaks: breaks, ramp: m.ramp, min: sorted[0], max: sorted[sorted.length - 1]};
  }

  function styleFor(code) {
    var inScope = om.data && om.data.scope.areas.some(function (a) { return a.code === code; });
    if (!inScope) return {fill: false, stroke: true, color: "#1b3f70", weight: 0.6, opacity: 0.6};
    var c = classes();
    var color = "#2f7fc1";
    if (c) {
      var v = pick(c.fig.by_area[code], c.key), i = 0;
      while (i < c.breaks.length && v > c.breaks[i]) i++;
      color = c.ramp[i];
    }
    return {fill: true, fillColor: color, fillOpacity: 0.72, stroke: true, color: "#7fc8ff", weight: 1.2, opacity: 0.9};
  }

  function drawLegend() {
    var el = document.getElementById("om-legend"), c = classes(), m = mode();
    document.getElementById("om-mode-title").innerHTML = m.title + "<small>" + m.title_en + "</small>";
    if (!el || !c) return;
    var edges = [c.min].concat(c.breaks).concat([c.max]);
    el.innerHTML = "<div>" + c.fig.title + (c.key ? " · " + ((c.fig.labels || {})[c.key] || c.key) : "") + "</div>" +
      c.ramp.map(function (col, i) {
        return '<div><i style="background:' + col + '"></i>' + fmt(edges[i], c.key) + " – " + fmt(edges[i + 1], c.key) + "</div>";
      }).join("");
  }

  function ensureMap() {
    if (map) return;
    map = om.map = L.map("om-map", {zoomControl: false, attributionControl: false, preferCanvas: true,
                             zoomSnap: 1  /* VectorGrid's canvas hit test assumes unscaled tiles */});
    map.createPane("om-areas").style.zIndex = 410;
    // A click asks the features API which area of the scope lies under it (the exact polygon, not its tile
    // pixels), then drills down to it.
    map.on("click", function (e) {
      if (!areaLayer || !om.data) return;
      var d = 1e-7, ll = e.latlng;
      var box = [ll.lng - d, ll.lat - d, ll.lng + d, ll.lat + d].join(",");
      getJSON("/collections/" + areaLayer.areaLayerId + "/items", {bbox: box, limit: 5}).then(function (fc) {
        var codes = (fc.features || []).map(function (f) { return f.properties.code || f.id; });
        om.lastClick = codes;
        var hit = codes.filter(function (c) { return om.data.scope.areas.some(function (a) { return a.code === c; }); });
        if (hit.length) om.drill(hit[0]);
      }).catch(function (err) { problem("click", err); });
    });
    map.createPane("om-buildings").style.zIndex = 420;
    map.createPane("om-saved").style.zIndex = 430;
    if (cfg.layers.indexOf("streets") >= 0) {
      L.vectorGrid.protobuf(tileUrl("streets"), {
        rendererFactory: L.canvas.tile, interactive: false, pane: "om-areas", maxNativeZoom: 18, maxZoom: 22,
        vectorTileLayerStyles: new Proxy({}, {get: function () {
          return {fill: false, color: "#3d6ea8", weight: 1.6, opacity: 0.9}; }})
      }).addTo(map);
    }
    if (cfg.layers.indexOf("buildings") >= 0) {
      buildingLayer = L.vectorGrid.protobuf(tileUrl("buildings"), {
        rendererFactory: L.canvas.tile, interactive: false, pane: "om-buildings", minZoom: 14, maxNativeZoom: 18,
        maxZoom: 22, vectorTileLayerStyles: new Proxy({}, {get: function () {
          return {fill: true, fillColor: "#9fc1f2", fillOpacity: 0.35, stroke: false}; }})
      }).addTo(map);
    }
  }

  function fitScope() {
    var b = om.data.scope.bbox;
    if (b) map.fitBounds([[b[1], b[0]], [b[3], b[2]]], {padding: [20, 20], animate: false});
  }

  function drawAreas() {
    var level = om.data.scope.child_level, layerId = AREA_LAYERS[level];
    var key = om.data.scope.code + "/" + layerId;
    if (areaLayer && areaLayerScope === key) {
      om.data.scope.areas.forEach(function (a) { areaLayer.setFeatureStyle(a.code, styleFor(a.code)); });
      return;
    }
    if (areaLayer) map.removeLayer(areaLayer);
    areaLayerScope = key;
    if (cfg.layers.indexOf(layerId) < 0) { markDrawn("map", 0); return; }
    areaLayer = L.vectorGrid.protobuf(tileUrl(layerId), {
      rendererFactory: L.canvas.tile, interactive: false, pane: "om-areas", maxNativeZoom: 18, maxZoom: 22,
      getFeatureId: function (f) { return f.properties && f.properties.code; },
      vectorTileLayerStyles: new Proxy({}, {get: function () {
        return function (props) { return styleFor(props && props.code); }; }})
    });
    areaLayer.areaLayerId = layerId;
    areaLayer.on("load", function () { markDrawn("map", 1); });
    areaLayer.on("tileerror", function (e) { problem("map tile", e.error || "failed"); });
    areaLayer.addTo(map);
  }

  function drawHeat() {
    var kind = mode().heat;
    if (heatLayer) { map.removeLayer(heatLayer); heatLayer = null; }
    if (!kind || !L.heatLayer || (kind === "events" && cfg.layers.indexOf("events") < 0)) return;
    getJSON("/map/heat", {kind: kind}).then(function (h) {
      if (mode().heat !== kind) return;
      heatLayer = L.heatLayer(h.points, {radius: 16, blur: 20, maxZoom: 15, minOpacity: 0.25}).addTo(map);
    }).catch(function (e) { problem("heat", e); });
  }

  function drawSaved() {
    savedLayers.forEach(function (l) { map.removeLayer(l); });
    savedLayers = [];
    var saved = mode().saved;
    if (!saved) return;
    saved.layers.forEach(function (id) {
      if (cfg.layers.indexOf(id) < 0) return;
      var style = Object.assign({fill: true, fillColor: "#f4d35e", fillOpacity: 0.5, color: "#f4d35e", weight: 1,
                                 radius: 3}, (saved.styles || {})[id] || {});
      var filter = (saved.filters || {})[id];
      savedLayers.push(L.vectorGrid.protobuf(tileUrl(id, filter ? {filter: filter} : {}), {
        rendererFactory: L.canvas.tile, interactive: false, pane: "om-saved", maxNativeZoom: 18, maxZoom: 22,
        vectorTileLayerStyles: new Proxy({}, {get: function () { return style; }})
      }).addTo(map));
    });
    if (saved.view && saved.view.bbox) {
      var b = saved.view.bbox;
      map.fitBounds([[b[1], b[0]], [b[3], b[2]]], {animate: false});
    }
  }

  // ---- scope, crumbs, modes, updates ----------------------------------------------------------------------
  function drawCrumbs() {
    var el = document.getElementById("om-crumbs"), s = om.data.scope, parts = [];
    var trail = om.trail.slice();
    if (!trail.length && s.parent && cfg.floor !== s.code) trail.push({code: s.parent.code, name: s.parent.name});
    trail.forEach(function (t) {
      parts.push('<a data-code="' + t.code + '">' + t.name + '</a><span class="sep">›</span>');
    });
    parts.push("<b>" + s.name + "</b>");
    el.innerHTML = parts.join("");
    Array.prototype.forEach.call(el.querySelectorAll("a"), function (a) {
      a.addEventListener("click", function () { om.up(a.getAttribute("data-code")); });
    });
  }

  function drawFigures() {
    drawTiles();
    drawBreakdown("breakdown", mode().breakdown[0]);
    if (document.getElementById("om-uses")) drawBreakdown("uses", "buildings_by_use");
    drawByArea();
    drawDepartments("departments", mode().departments || "verification_backlog");
    if (document.getElementById("om-freshness")) drawDepartments("freshness", "data_freshness");
    if (document.getElementById("om-stack")) drawStack();
    drawModes();
    drawLegend();
    drawAreas();
    document.getElementById("om-asof").textContent = "数据截至 as of " + om.data.as_of.slice(0, 16).replace("T", " ");
  }

  function load(refit) {
    var params = {code: om.code, as_of: asOf()};
    return getJSON("/kpis", params).then(function (data) {
      om.data = data;
      om.updates += 1;
      document.getElementById("om-live").className = "";
      ensureMap();
      if (refit) fitScope();
      drawFigures();
      drawCrumbs();
    }).catch(function (e) { problem("figures", e); });
  }

  function full(refit) {
    return load(refit).then(function () {
      if (!om.data) return;
      drawHeat();
      drawSaved();
      return Promise.all([drawTrend(), drawEvents()]);
    });
  }

  om.drill = function (code) {
    if (!om.data || om.data.scope.level === "grid" || om.data.scope.code === code) return;
    if (!om.data.scope.areas.some(function (a) { return a.code === code; })) return;
    om.trail.push({code: om.data.scope.code, name: om.data.scope.name});
    om.code = code;
    return full(true);
  };

  om.up = function (code) {
    var i = om.trail.map(function (t) { return t.code; }).indexOf(code);
    om.trail = i >= 0 ? om.trail.slice(0, i) : [];
    om.code = code;
    return full(true);
  };

  function setMode(i) {
    om.mode = i % cfg.modes.length;
    if (!om.data) return;
    drawFigures();
    drawHeat();
    drawSaved();
    drawTrend();
  }
  om.setMode = setMode;

  // The update source: an EventSource on the stream when the page has one, else polling. Either calls back
  // with nothing; the page then reloads its figures (a burst of events costs one reload).
  om.source = {
    start: function (onChange) {
      var pending = null;
      function soon() {
        om.streamed += 1;
        if (!pending) pending = setTimeout(function () { pending = null; onChange(); }, 500);
      }
      var streams = cfg.streams || [];
      if (streams.length && window.EventSource) {
        return streams.map(function (url) {
          var es = new EventSource(withKey(url));
          // the streams send named events ("case", "warning"), which onmessage does not see
          es.addEventListener("case", soon);
          es.addEventListener("warning", soon);
          es.onmessage = soon;
          es.onopen = function () { om.streamsOpen += 1; document.getElementById("om-live").className = ""; };
          es.onerror = function () { document.getElementById("om-live").className = "stale"; };
          return es;
        });
      }
      return setInterval(onChange, Math.max(1, cfg.refresh_seconds) * 1000);
    }
  };

  function clock() {
    document.getElementById("om-clock").textContent = new Date().toLocaleString("zh-CN",
      {timeZone: "Asia/Shanghai", hour12: false});
  }

  clock();
  setInterval(clock, 1000);
  full(true).then(function () {
    om.source.start(function () { load(false); });
    if (cfg.cycle_seconds > 0) setInterval(function () { setMode(om.mode + 1); }, cfg.cycle_seconds * 1000);
  });
  window.addEventListener("resize", function () {
    Object.keys(om.charts).forEach(function (k) { om.charts[k].resize(); });
  });
})();
