/* onemap viewer runtime: platform layers on a Folium/Leaflet map, served from the platform (no CDN).
 * window.onemap: setup, vectorOptions, register, switcher, legend, timeSlider, remoteHeat, openBuilding,
 * watchBase, shiftGcj02, notice. Everything that talks to the server carries onemap.config.auth. */
(function () {
  "use strict";
  var om = window.onemap = window.onemap || {};
  // Leaflet.VectorGrid 1.3 calls L.DomEvent.fakeStop on canvas clicks; Leaflet 1.8 removed it.
  if (window.L && L.DomEvent && !L.DomEvent.fakeStop) {
    L.DomEvent.fakeStop = function (e) { e._stopped = true; return this; };
  }
  om.entries = [];
  om.datetime = null;   // "YYYY-MM-DD" chosen on the time slider; null = now
  om.config = {auth: {}, archive_url: null};
  om.loaded = {};       // entry id -> true once its first tiles are drawn
  om.ready = false;

  function esc(v) {
    return String(v === null || v === undefined ? "" : v).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  om.esc = esc;

  om.withParams = function (url, params) {
    var parts = [];
    Object.keys(params || {}).forEach(function (k) {
      var v = params[k];
      if (v !== null && v !== undefined && v !== "") parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(v));
    });
    if (!parts.length) return url;
    return url + (url.indexOf("?") < 0 ? "?" : "&") + parts.join("&");
  };

  om.timeParam = function (entry, date) {
    if (!date || !entry.temporal) return null;
    var end = new Date(date + "T23:59:59Z");
    var iso = function (d) { return d.toISOString().slice(0, 19) + "Z"; };
    if (entry.temporal === "instant") return iso(end);
    if (entry.temporal === "until") return "../" + iso(end);
    var start = new Date(end.getTime() - (entry.window_days || 90) * 86400000);
    return iso(start) + "/" + iso(end);
  };

  om.entryUrl = function (entry) {
    var params = Object.assign({}, entry.params || {}, om.config.auth);
    var t = om.timeParam(entry, om.datetime);
    if (t) params.datetime = t;
    return om.withParams(entry.url, params);
  };

  om.setup = function (map, config) {
    om.map = map;
    om.config = Object.assign(om.config, config || {});
    [["om-background", 250], ["om-polygons", 410], ["om-lines", 420], ["om-heat", 430], ["om-points", 440]]
      .forEach(function (p) { if (!map.getPane(p[0])) map.createPane(p[0]).style.zIndex = p[1]; });
    map.getPane("om-heat").style.pointerEvents = "none";
    if (map.attributionControl) map.attributionControl.setPrefix(false);
  };

  om.styleFunction = function (spec) {
    var base = spec.base || {}, prop = spec.property, classes = spec.classes || [], focus = spec.focus_code;
    return function (props, zoom) {
      var s = Object.assign({}, base);
      props = props || {};
      if (prop && props[prop] !== undefined && props[prop] !== null) {
        var v = props[prop];
        for (var i = 0; i < classes.length; i++) {
          var c = classes[i];
          var hit = ("value" in c) ? String(c.value) === String(v)
            : ((c.min === undefined || c.min === null || v >= c.min) && (c.max === undefined || c.max === null || v < c.max));
          if (hit) {
            if (s.fill === false || spec.geometry === "line") s.color = c.color; else s.fillColor = c.color;
            break;
          }
        }
      }
      if (focus && props.code === focus) { s.color = "#00b8d4"; s.weight = 3; s.fillOpacity = 1; }
      return s;
    };
  };

  om.vectorOptions = function (spec) {
    var fn = om.styleFunction(spec);
    var pane = spec.geometry === "point" ? "om-points" : (spec.base && spec.base.fill === false ? "om-lines" : "om-polygons");
    return {
      rendererFactory: spec.renderer === "svg" ? L.svg.tile : L.canvas.tile,
      // Every MVT layer of the tile gets the layer's style, whatever the server names it.
      vectorTileLayerStyles: new Proxy({}, {get: function () { return fn; }}),
      interactive: !!spec.interactive,
      getFeatureId: function (f) { return f.properties && (f.properties.code || f.properties.id); },
      minZoom: spec.min_zoom || 0,
      maxNativeZoom: spec.max_native_zoom || 18,
      maxZoom: 22,
      pane: pane,
      keepBuffer: 1
    };
  };

  om.register = function (map, layer, entry) {
    entry.layer = layer;
    entry.map = map;
    om.entries.push(entry);
    if (entry.defer) {
      if (om.ready) map.addLayer(layer); else (om.deferred = om.deferred || []).push(entry);
    }
    if (entry.interactive && layer.on) {
      layer.on("click", function (e) { om.onFeatureClick(map, entry, e); });
    }
    if (layer.on && entry.kind === "vector") {
      layer.on("load", function () { om.loaded[entry.id] = true; om.checkReady(); });
    }
    return layer;
  };

  om.checkReady = function () {
    if (om.ready) return;
    var pending = om.entries.filter(function (e) {
      return e.kind === "vector" && e.map.hasLayer(e.layer) && !om.loaded[e.id] &&
        e.map.getZoom() >= (e.min_zoom || 0);
    });
    if (!pending.length) {
      om.ready = true;
      om.readyAt = performance.now();
      (om.deferred || []).forEach(function (e) { e.map.addLayer(e.layer); });
      document.documentElement.setAttribute("data-onemap-ready", "1");
    }
  };

  om.propsTable = function (props, limit) {
    var rows = [];
    Object.keys(props || {}).forEach(function (k) {
      var v = props[k];
      if (v === null || typeof v === "object") return;
      if (rows.length < (limit || 16)) rows.push("<tr><th>" + esc(k) + "</th><td>" + esc(v) + "</td></tr>");
    });
    return '<table class="om-props">' + rows.join("") + "</table>";
  };

  om.onFeatureClick = function (map, entry, e) {
    var props = (e.layer && e.layer.properties) || {};
    if (entry.id === "buildings" && props.code && om.config.archive_url) {
      om.openBuilding(map, props.code, e.latlng);
      return;
    }
    L.popup({maxWidth: 360}).setLatLng(e.latlng)
      .setContent("<div class='om-popup'><h4>" + esc(entry.title) + "</h4>" + om.propsTable(props) + "</div>")
      .openOn(map);
  };

  var SECTION_TITLES = {
    house_units: "房屋 house units", units: "房屋 house units", residents: "住户 residents",
    persons: "人员 persons", enterprises: "企业 enterprises", events: "事件 events",
    verification_issues: "核验问题 verification issues", issues: "核验问题 verification issues",
    timeline: "时间线 timeline", history: "历史 history"
  };

  function rowsOf(value) {
    if (Array.isArray(value)) return value;
    if (value && typeof value === "object") {
      if (Array.isArray(value.items)) return value.items;
      if (Array.isArray(value.features)) return value.features.map(function (f) { return f.properties || {}; });
    }
    return null;
  }

  function linksOf(doc) {
    var out = [], more = 0;
    (Array.isArray(doc.links) ? doc.links : []).forEach(function (l) {
      if (!l || !l.href || l.rel === "self") return;
      var url;
      try { url = new URL(l.href, location.href); } catch (err) { return; }
      if (url.origin !== location.origin) return;  // only the platform's own archives
      if (out.length >= 6) { more += 1; return; }
      out.push('<a href="' + esc(url.pathname + url.search) + '" target="_blank">' + esc(l.title || l.rel) + "</a>");
    });
    if (more) out.push("+" + more);
    return out;
  }

  function section(title, rows, total, open) {
    var html = ["<details" + (open ? " open" : "") + "><summary>" + esc(title) + " (" + esc(total) + ")</summary>"];
    rows.slice(0, 8).forEach(function (r) {
      html.push(typeof r === "object" ? om.propsTable(r, 8) : "<div>" + esc(r) + "</div>");
    });
    if (rows.length > 8) html.push("<div class='om-more'>… " + esc(rows.length - 8) + "</div>");
    html.push("</details>");
    return html.join("");
  }

  om.renderArchive = function (code, doc, url) {
    var facts = doc.building || doc.properties || doc;
    var title = facts.name || facts.address || code;
    var html = ['<div class="om-archive" data-building="' + esc(code) + '"><h4>一楼一档 ' + esc(title) +
      (doc.masked ? ' <span class="om-masked">已脱敏 masked</span>' : "") + "</h4>"];
    html.push(om.propsTable(facts, 14));
    var units = rowsOf(doc.units || doc.house_units) || [];
    var residents = [];
    units.forEach(function (u) {
      (u.residents || []).forEach(function (r) {
        residents.push(Object.assign({room: (u.unit_no || "") + "-" + (u.room_no || "")}, r));
      });
    });
    if (residents.length) html.push(section(SECTION_TITLES.residents, residents, residents.length, true));
    Object.keys(doc).forEach(function (k) {
      var rows = rowsOf(doc[k]);
      if (!rows || k === "links" || k === "geometry") return;
      var total = (doc[k] && doc[k].total !== undefined) ? doc[k].total : rows.length;
      html.push(section(SECTION_TITLES[k] || k, rows, total, false));
    });
    var links = linksOf(doc);
    links.push('<a href="' + esc(url) + '" target="_blank">档案 JSON</a>');
    html.push("<div class='om-links'>" + links.join(" · ") + "</div></div>");
    return html.join("");
  };

  om.openBuilding = function (map, code, latlng) {
    var popup = L.popup({maxWidth: 440, maxHeight: 380, className: "om-building-popup"})
      .setLatLng(latlng).setContent("<div class='om-loading'>载入 loading " + esc(code) + "…</div>").openOn(map);
    var url = om.withParams(om.config.archive_url.replace("{code}", encodeURIComponent(code)), om.config.auth);
    var shown = om.config.archive_url.replace("{code}", encodeURIComponent(code));
    return fetch(url, {headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (!r.ok) throw new Error(r.status === 403 ? "无权查看 not allowed" : "HTTP " + r.status);
        return r.json();
      })
      .then(function (doc) { popup.setContent(om.renderArchive(code, doc, shown)); return doc; })
      .catch(function (err) {
        popup.setContent("<div class='om-error'>楼档不可用 building file unavailable: " + esc(err.message) + "</div>");
      });
  };

  om.remoteHeat = function (map, layer, entry) {
    entry.kind = "heat";
    entry.reload = function () {
      var params = Object.assign({}, entry.params || {}, om.config.auth);
      var t = om.timeParam(entry, om.datetime);
      if (t) params.datetime = t;
      return fetch(om.withParams(entry.url, params), {headers: {"Accept": "application/json"}})
        .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
        .then(function (d) { layer.setLatLngs(d.points || []); })
        .catch(function () { /* the heatmap is an extra: the map works without it */ });
    };
    om.register(map, layer, entry);
    entry.reload();
    return layer;
  };

  om.refresh = function () {
    om.entries.forEach(function (e) {
      if (!e.temporal) return;
      if (e.reload) e.reload();
      else if (e.layer.setUrl) e.layer.setUrl(om.entryUrl(e));
    });
    if (om.map) om.map.fire("onemap:datetime", {datetime: om.datetime});
  };

  om.setDatetime = function (date) { om.datetime = date || null; om.refresh(); };

  om.switcher = function (map, opts) {
    var Control = L.Control.extend({
      options: {position: "topright"},
      onAdd: function () {
        var div = L.DomUtil.create("div", "om-switcher leaflet-bar");
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        var head = L.DomUtil.create("div", "om-switcher-head", div);
        head.textContent = opts.title || "图层 Layers";
        var body = L.DomUtil.create("div", "om-switcher-body", div);
        head.addEventListener("click", function () { div.classList.toggle("om-collapsed"); });
        var groups = {}, order = [];
        om.entries.forEach(function (e) {
          if (e.control === false) return;
          if (!groups[e.group]) { groups[e.group] = []; order.push(e.group); }
          groups[e.group].push(e);
        });
        order.forEach(function (g) {
          var box = L.DomUtil.create("fieldset", "om-group", body);
          L.DomUtil.create("legend", "", box).textContent = g;
          groups[g].forEach(function (e) {
            var label = L.DomUtil.create("label", "om-layer", box);
            var input = L.DomUtil.create("input", "", label);
            input.type = "checkbox";
            input.setAttribute("data-layer", e.id);
            input.checked = map.hasLayer(e.layer);
            L.DomUtil.create("span", "om-layer-name", label).textContent = e.title;
            input.addEventListener("change", function () {
              if (input.checked) map.addLayer(e.layer); else map.removeLayer(e.layer);
            });
            map.on("layeradd layerremove", function () { input.checked = map.hasLayer(e.layer); });
          });
        });
        return div;
      }
    });
    return new Control(opts).addTo(map);
  };

  om.legend = function (map, opts) {
    var Control = L.Control.extend({
      options: {position: "bottomright"},
      onAdd: function () {
        var div = L.DomUtil.create("div", "om-legend leaflet-bar");
        L.DomEvent.disableScrollPropagation(div);
        var draw = function () {
          var html = [];
          om.entries.forEach(function (e) {
            if (!e.legend || !e.legend.length || !map.hasLayer(e.layer)) return;
            html.push("<div class='om-legend-layer' data-layer='" + esc(e.id) + "'><b>" + esc(e.title) + "</b>");
            e.legend.forEach(function (row) {
              html.push("<div><i style='background:" + esc(row.color) + "'></i>" + esc(row.label) + "</div>");
            });
            html.push("</div>");
          });
          div.innerHTML = html.join("");
          div.style.display = html.length ? "" : "none";
        };
        map.on("layeradd layerremove", draw);
        setTimeout(draw, 0);
        return div;
      }
    });
    return new Control(opts).addTo(map);
  };

  function monthsBetween(start, end) {
    var out = [], y = +start.slice(0, 4), m = +start.slice(5, 7);
    var ey = +end.slice(0, 4), em = +end.slice(5, 7);
    while (y < ey || (y === ey && m <= em)) {
      out.push(y + "-" + (m < 10 ? "0" : "") + m);
      m += 1; if (m > 12) { m = 1; y += 1; }
    }
    return out;
  }

  function monthEnd(ym) {
    var d = new Date(Date.UTC(+ym.slice(0, 4), +ym.slice(5, 7), 0));
    return d.toISOString().slice(0, 10);
  }

  om.timeSlider = function (map, opts) {
    var months = monthsBetween(opts.start, opts.end);
    var Control = L.Control.extend({
      options: {position: "bottomleft"},
      onAdd: function () {
        var div = L.DomUtil.create("div", "om-time leaflet-bar");
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        var label = L.DomUtil.create("div", "om-time-label", div);
        var input = L.DomUtil.create("input", "om-time-input", div);
        input.type = "range"; input.min = 0; input.max = months.length; input.step = 1; input.value = months.length;
        var show = function () {
          var i = +input.value;
          label.textContent = "截至 as of: " + (i >= months.length ? "现在 now" : monthEnd(months[i]));
        };
        var apply = function () {
          var i = +input.value;
          om.setDatetime(i >= months.length ? null : monthEnd(months[i]));
        };
        input.addEventListener("input", show);
        input.addEventListener("change", function () { show(); apply(); });
        show();
        om.slider = {input: input, months: months, apply: apply};
        return div;
      }
    });
    return new Control(opts).addTo(map);
  };

  om.notice = function (map, text) {
    var box = document.querySelector(".om-notice");
    if (!box) {
      box = L.DomUtil.create("div", "om-notice", map.getContainer());
      L.DomEvent.disableClickPropagation(box);
    }
    box.textContent = text;
    box.style.display = "";
  };

  // A base map whose tiles keep failing (wrong intranet URL, no network) is replaced by the platform background.
  om.watchBase = function (map, baseLayers, fallbackLayers) {
    var errors = 0, loaded = 0, done = false;
    baseLayers.forEach(function (b) {
      b.on("tileload", function () { loaded += 1; });
      b.on("tileerror", function () {
        errors += 1;
        if (done || errors < 3 || loaded > errors) return;
        done = true;
        baseLayers.forEach(function (l) { map.removeLayer(l); });
        fallbackLayers.forEach(function (l) { map.addLayer(l); });
        om.notice(map, "底图无法加载，已改用平台底图 The base map does not load: showing the platform background");
      });
    });
  };

  // GCJ-02 (the offset Chinese map datum): the forward transform, for moving GCJ-02 base tiles onto CGCS2000.
  var A = 6378245.0, EE = 0.00669342162296594323;
  function tLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
    r += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
    return r;
  }
  function tLon(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
    r += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
    return r;
  }
  om.gcj02Offset = function (lat, lon) {
    if (lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271) return [0, 0];
    var dLat = tLat(lon - 105, lat - 35), dLon = tLon(lon - 105, lat - 35);
    var rad = lat / 180 * Math.PI, magic = Math.sin(rad);
    magic = 1 - EE * magic * magic;
    var sq = Math.sqrt(magic);
    dLat = (dLat * 180) / ((A * (1 - EE)) / (magic * sq) * Math.PI);
    dLon = (dLon * 180) / (A / sq * Math.cos(rad) * Math.PI);
    return [dLat, dLon];
  };
  om.shiftGcj02 = function (layer) {
    layer.on("tileloadstart", function (e) {
      var map = layer._map, c = e.coords, size = layer.getTileSize();
      if (!map) return;
      var nw = map.unproject([c.x * size.x, c.y * size.y], c.z);
      var se = map.unproject([(c.x + 1) * size.x, (c.y + 1) * size.y], c.z);
      var lat = (nw.lat + se.lat) / 2, lon = (nw.lng + se.lng) / 2, d = om.gcj02Offset(lat, lon);
      var p0 = map.project([lat, lon], c.z), p1 = map.project([lat + d[0], lon + d[1]], c.z);
      e.tile.style.marginLeft = (p0.x - p1.x) + "px";
      e.tile.style.marginTop = (p0.y - p1.y) + "px";
    });
    return layer;
  };

  om.focus = function (map, opts) {
    if (opts.building && om.config.archive_url) {
      // The file's popup points at the footprint's north edge: anchored at a point inside, its tall body
      // covered the very building the page is about.
      var anchor = L.latLng(opts.north === undefined ? opts.lat : opts.north, opts.lon);
      map.whenReady(function () { om.openBuilding(map, opts.building, anchor); });
    }
  };
})();
