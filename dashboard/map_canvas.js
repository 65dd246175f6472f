// The Embedding map: every image as a point on a 2-D canvas, the class prompts as stars, a box, a
// lasso or a click sends the selection to Python (Streamlit's plotly selection shape), a drag zooms
// or pans. Data comes from ``analysis.present.map_canvas_data`` (an Arrow table of the points).
// Every string from the bundle is written as text (textContent, canvas fillText), never as HTML.

const VIEWS = new WeakMap();  // the map's root element -> its view, kept across reruns
// map_id -> the outline of its last selection, kept while the tab lives: Python need not send it back
// (a rerun whose data is unchanged reaches the browser as a reference to the message it already has,
// instead of every point again), and the outline is there again when the reader comes back to the page.
const OUTLINES = new Map();
const PAD = 0.04;  // share of each axis left empty around the points
const HIT_PX = 9;  // a click or hover takes the nearest point within this many pixels

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// A point's disc as pixel offsets (dx, dy, dx, dy…) from its top-left corner, ``pixels`` across (device pixels).
function disc(pixels) {
  const offsets = [], radius = pixels / 2;
  for (let dy = 0; dy < pixels; dy++) {
    for (let dx = 0; dx < pixels; dx++) {
      if ((dx + 0.5 - radius) ** 2 + (dy + 0.5 - radius) ** 2 <= radius * radius) offsets.push(dx, dy);
    }
  }
  return {offsets: Int32Array.from(offsets), half: Math.floor(pixels / 2)};
}

function rgb(colour) {
  const hex = /^#([0-9a-f]{6})$/i.exec(colour) ? colour.slice(1) : '777777';
  return [0, 2, 4].map(at => parseInt(hex.slice(at, at + 2), 16));
}

function starPath(context, x, y, outer) {
  context.beginPath();
  for (let k = 0; k < 10; k++) {
    const radius = k % 2 ? outer * 0.45 : outer, angle = Math.PI / 5 * k - Math.PI / 2;
    context[k ? 'lineTo' : 'moveTo'](x + radius * Math.cos(angle), y + radius * Math.sin(angle));
  }
  context.closePath();
}

function insidePolygon(x, y, xs, ys) {
  let inside = false;
  for (let i = 0, j = xs.length - 1; i < xs.length; j = i++) {
    if ((ys[i] > y) !== (ys[j] > y) && x < (xs[j] - xs[i]) * (y - ys[i]) / (ys[j] - ys[i]) + xs[i]) inside = !inside;
  }
  return inside;
}

class MapView {
  constructor(root) {
    this.root = root;
    this.mode = 'select';
    this.tools = element('div', 'cl-map-tools');
    this.buttons = {};
    for (const [mode, label, tip] of [['select', 'Box', 'Drag a box to select the images inside it'],
                                      ['lasso', 'Lasso', 'Draw around points to select them'],
                                      ['zoom', 'Zoom', 'Drag a box to zoom in'],
                                      ['pan', 'Pan', 'Drag to move the map']]) {
      const button = element('button', 'cl-map-tool', label);
      button.type = 'button';
      button.title = tip;
      button.onclick = () => this.setMode(mode);
      this.buttons[mode] = button;
      this.tools.appendChild(button);
    }
    const reset = element('button', 'cl-map-tool', 'Reset view');
    reset.type = 'button';
    reset.title = 'Show every point again';
    reset.onclick = () => this.resetView();
    this.tools.appendChild(reset);
    this.body = element('div', 'cl-map-body');
    this.yTitle = element('div', 'cl-map-ytitle');
    this.plot = element('div', 'cl-map-plot');
    this.points = element('canvas', 'cl-map-points');
    this.overlay = element('canvas', 'cl-map-overlay');
    this.tip = element('div', 'cl-map-tip');
    this.points.setAttribute('aria-hidden', 'true');  // the overlay above it is the map for a screen reader
    this.overlay.setAttribute('role', 'img');
    this.plot.append(this.points, this.overlay, this.tip);
    this.legend = element('div', 'cl-map-legend');
    this.xTitle = element('div', 'cl-map-xtitle');
    const column = element('div', 'cl-map-column');
    column.append(this.plot, this.xTitle);
    this.body.append(this.yTitle, column, this.legend);
    root.replaceChildren(this.tools, this.body);
    this.setMode('select');
    this.overlay.addEventListener('pointerdown', event => this.down(event));
    this.overlay.addEventListener('pointermove', event => this.move(event));
    this.overlay.addEventListener('pointerup', event => this.up(event));
    this.overlay.addEventListener('pointerleave', () => { if (!this.drag) this.hideTip(); });
    // a drag the browser took away (a touch turned scroll, a lost capture) ends without selecting
    for (const name of ['pointercancel', 'lostpointercapture']) {
      this.overlay.addEventListener(name, () => { if (this.drag) { this.drag = null; this.cancelFrame(); this.drawOverlay(); } });
    }
    this.resizer = new ResizeObserver(() => this.layout());
    this.resizer.observe(this.plot);
    // a new pixel ratio alone (the window moved to another screen) changes no size: watch it too,
    // until the map leaves the page (the listener would keep the view alive)
    this.ratioWatch = new AbortController();
    const watchRatio = () => matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`)
      .addEventListener('change', () => { this.layout(); watchRatio(); }, { once: true, signal: this.ratioWatch.signal });
    watchRatio();
  }

  setMode(mode) {
    this.mode = mode;
    for (const [name, button] of Object.entries(this.buttons)) {
      button.classList.toggle('cl-map-on', name === mode);
      button.setAttribute('aria-pressed', String(name === mode));
    }
    this.overlay.style.cursor = mode === 'pan' ? 'grab' : 'crosshair';
  }

  load(data) {
    const table = data.points;
    this.x = table.getChild('x').toArray();
    this.y = table.getChild('y').toArray();
    this.group = table.getChild('g').toArray();
    this.truth = table.getChild('t').toArray();
    this.groups = data.groups;
    this.truthNames = data.true_names;
    this.showTruth = data.show_true;
    this.stars = data.stars || [];
    this.hint = data.hint || '';
    this.plot.style.height = data.height + 'px';
    this.xTitle.textContent = data.x_title;
    this.yTitle.textContent = data.y_title;
    // what a screen reader says of the map (an attribute: text, never HTML)
    this.overlay.setAttribute('aria-label', `Embedding map of ${this.x.length} images in ${this.groups.length} groups ` +
                              `(${data.groups.map(group => group.name).join(', ')}); drag to select`);
    // each group's rows, drawn group after group in the order given (grey ones first, under the others)
    const counts = new Int32Array(this.groups.length + 1);
    for (let i = 0; i < this.group.length; i++) counts[this.group[i] + 1]++;
    for (let g = 1; g < counts.length; g++) counts[g] += counts[g - 1];
    this.starts = counts.slice();
    this.order = new Int32Array(this.group.length);
    for (let i = 0; i < this.group.length; i++) this.order[counts[this.group[i]]++] = i;
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    const extend = (x, y) => { if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y; };
    for (let i = 0; i < this.x.length; i++) extend(this.x[i], this.y[i]);
    for (const star of this.stars) extend(star.x, star.y);
    if (!(x1 >= x0)) { x0 = 0; x1 = 1; y0 = 0; y1 = 1; }
    const dx = (x1 - x0) * PAD || 1, dy = (y1 - y0) * PAD || 1;
    this.full = [x0 - dx, x1 + dx, y0 - dy, y1 + dy];
    if (!this.view || this.loadedMap !== data.map_id) this.view = this.full.slice();  // another colouring keeps the zoom
    this.loadedMap = data.map_id;
    this.legendRows();
    this.layout(true);
  }

  legendRows() {
    const rows = this.groups.map(group => {
      const row = element('div', 'cl-map-key');
      const swatch = element('span', 'cl-map-swatch');
      swatch.style.background = group.colour;
      row.append(swatch, element('span', '', `${group.name} (${group.count.toLocaleString('en')})`));
      return row;
    });
    if (this.stars.length) {
      const row = element('div', 'cl-map-key');
      row.append(element('span', 'cl-map-star', '★'), element('span', '', this.starName || 'class prompts'));
      rows.push(row);
    }
    this.legend.replaceChildren(...rows);
  }

  layout(force = false) {
    const ratio = window.devicePixelRatio || 1, width = this.plot.clientWidth, height = this.plot.clientHeight;
    if (!width || !height || !this.x) return;
    // a resize that changed nothing redraws nothing (one follows every first draw); new data always does
    if (!force && width === this.width && height === this.height && ratio === this.ratio) return;
    for (const canvas of [this.points, this.overlay]) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    this.width = width; this.height = height; this.ratio = ratio;
    this.discs = this.groups.map(group => disc(Math.max(2, Math.round(group.size * ratio))));
    this.draw();
  }

  sx(x) { return (x - this.view[0]) / (this.view[1] - this.view[0]) * this.width; }
  sy(y) { return (this.view[3] - y) / (this.view[3] - this.view[2]) * this.height; }
  dataX(px) { return this.view[0] + px / this.width * (this.view[1] - this.view[0]); }
  dataY(py) { return this.view[3] - py / this.height * (this.view[3] - this.view[2]); }

  draw() {
    if (!this.width) return;
    // Every point is blended straight into the canvas's pixels (source-over, the group's opacity):
    // 100,000 drawImage calls took ~0.27 s in a software-drawn browser, this a few tens of ms.
    const context = this.points.getContext('2d'), ratio = this.ratio;
    const columns = this.points.width, rows = this.points.height;
    // one buffer while the canvas keeps its size (a pan redraws every frame), cleared for each draw
    if (!this.image || this.image.width !== columns || this.image.height !== rows) {
      this.image = context.createImageData(columns, rows);
    } else {
      this.image.data.fill(0);
    }
    const image = this.image, pixels = image.data;
    const ax = this.width / (this.view[1] - this.view[0]) * ratio, ay = this.height / (this.view[3] - this.view[2]) * ratio;
    const [vx0, , , vy1] = this.view;
    for (let g = 0; g < this.groups.length; g++) {
      const [red, green, blue] = rgb(this.groups[g].colour), alpha = this.groups[g].opacity, keep = 1 - alpha;
      const {offsets, half} = this.discs[g];
      for (let k = this.starts[g]; k < this.starts[g + 1]; k++) {
        const i = this.order[k];
        const left = Math.round((this.x[i] - vx0) * ax) - half, top = Math.round((vy1 - this.y[i]) * ay) - half;
        if (left < -half * 2 || top < -half * 2 || left >= columns || top >= rows) continue;
        for (let o = 0; o < offsets.length; o += 2) {
          const column = left + offsets[o], row = top + offsets[o + 1];
          if (column < 0 || row < 0 || column >= columns || row >= rows) continue;
          const at = (row * columns + column) * 4, under = pixels[at + 3] / 255;
          const out = alpha + under * keep;  // source-over
          pixels[at] = (red * alpha + pixels[at] * under * keep) / out;
          pixels[at + 1] = (green * alpha + pixels[at + 1] * under * keep) / out;
          pixels[at + 2] = (blue * alpha + pixels[at + 2] * under * keep) / out;
          pixels[at + 3] = out * 255;
        }
      }
    }
    context.putImageData(image, 0, 0);
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.font = '13px sans-serif';
    context.textAlign = 'center';
    for (const star of this.stars) {
      const x = this.sx(star.x), y = this.sy(star.y);
      if (x < -9 || y < -9 || x > this.width + 9 || y > this.height + 9) continue;  // zoomed or panned out of view
      starPath(context, x, y, 9);
      context.fillStyle = star.colour;
      context.fill();
      context.lineWidth = 1.5;
      context.strokeStyle = '#000000';
      context.stroke();
      context.fillStyle = '#222222';
      // the label kept inside the canvas (a star near an edge would cut it)
      const half = context.measureText(star.label).width / 2 + 2;
      const labelX = Math.min(Math.max(x, half), Math.max(half, this.width - half));
      const labelY = star.above ? (y - 13 < 12 ? y + 23 : y - 13) : (y + 23 > this.height - 3 ? y - 13 : y + 23);
      context.fillText(star.label, labelX, labelY);
    }
    this.drawOverlay();
    this.root.dataset.drawn = String(this.x.length);
  }

  showSelection(shape) {
    this.shape = shape || null;
    this.drawOverlay();
  }

  drawOverlay(drawing) {
    if (!this.width) return;
    const context = this.overlay.getContext('2d');
    context.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    context.clearRect(0, 0, this.width, this.height);
    context.lineWidth = 1.5;
    context.setLineDash([5, 4]);
    context.strokeStyle = '#333333';
    context.fillStyle = 'rgba(80, 80, 80, 0.08)';
    const shape = drawing || this.shape;
    if (shape && shape.box) {
      const [x0, x1, y0, y1] = shape.box;
      const left = this.sx(x0), top = this.sy(y1);
      context.fillRect(left, top, this.sx(x1) - left, this.sy(y0) - top);
      context.strokeRect(left, top, this.sx(x1) - left, this.sy(y0) - top);
    } else if (shape && shape.lasso && shape.lasso.x.length > 1) {
      context.beginPath();
      shape.lasso.x.forEach((x, k) => context[k ? 'lineTo' : 'moveTo'](this.sx(x), this.sy(shape.lasso.y[k])));
      context.closePath();
      context.fill();
      context.stroke();
    }
    context.setLineDash([]);
    for (const row of (shape && shape.rows) || []) {
      if (row < 0 || row >= this.x.length) continue;
      context.beginPath();
      context.arc(this.sx(this.x[row]), this.sy(this.y[row]), 7, 0, 2 * Math.PI);
      context.stroke();
    }
  }

  nearest(px, py) {
    // the point drawn last (on top) wins a tie; a linear pass over typed arrays is well under a millisecond
    const ax = this.width / (this.view[1] - this.view[0]), ay = this.height / (this.view[3] - this.view[2]);
    const [vx0, , , vy1] = this.view;
    let best = -1, bestDistance = HIT_PX * HIT_PX;
    for (let k = 0; k < this.order.length; k++) {
      const i = this.order[k], dx = (this.x[i] - vx0) * ax - px, dy = (vy1 - this.y[i]) * ay - py;
      const distance = dx * dx + dy * dy;
      if (distance <= bestDistance) { best = i; bestDistance = distance; }
    }
    return best;
  }

  nearestStar(px, py) {
    return this.stars.find(star => Math.hypot(this.sx(star.x) - px, this.sy(star.y) - py) <= 10);
  }

  where(event) {
    const box = this.overlay.getBoundingClientRect();
    return [event.clientX - box.left, event.clientY - box.top];
  }

  down(event) {
    if (event.button !== 0) return;
    this.overlay.setPointerCapture(event.pointerId);
    const [px, py] = this.where(event);
    this.drag = {start: [px, py], last: [px, py], path: [[px, py]], view: this.view.slice(), far: 0};
    this.hideTip();
  }

  move(event) {
    const [px, py] = this.where(event);
    if (!this.drag) { this.hover(px, py); return; }
    const drag = this.drag;
    drag.last = [px, py];
    drag.far = Math.max(drag.far, Math.hypot(px - drag.start[0], py - drag.start[1]));
    if (this.mode === 'pan') {
      const dx = (px - drag.start[0]) / this.width * (drag.view[1] - drag.view[0]);
      const dy = (py - drag.start[1]) / this.height * (drag.view[3] - drag.view[2]);
      this.view = [drag.view[0] - dx, drag.view[1] - dx, drag.view[2] + dy, drag.view[3] + dy];
      this.schedule(() => this.draw());
    } else if (this.mode === 'lasso') {
      const [lx, ly] = drag.path[drag.path.length - 1];
      if (Math.hypot(px - lx, py - ly) < 3) return;  // a vertex every few pixels is enough
      drag.path.push([px, py]);
      this.schedule(() => this.drawOverlay({lasso: {x: drag.path.map(p => this.dataX(p[0])), y: drag.path.map(p => this.dataY(p[1]))}}));
    } else {
      this.schedule(() => this.drawOverlay({box: this.boxOf(drag)}));
    }
  }

  up(event) {
    const drag = this.drag;
    this.drag = null;
    this.cancelFrame();  // a frame the last move queued must not draw the drag after it ended
    if (!drag) return;
    const [px, py] = this.where(event);
    const moved = drag.far > 3;  // a lasso ends where it began: how far it went, not where it ended
    if (this.mode === 'pan') return;
    if (!moved) {
      const row = this.nearest(px, py);
      // a point: that image; empty space: no selection any more
      if (row >= 0) this.send({points: [{customdata: row}], box: [], lasso: []}, {rows: [row]});
      else if (OUTLINES.get(this.mapId)) this.send({points: [], box: [], lasso: []}, null);
      return;
    }
    if (this.mode === 'zoom') {
      const [x0, x1, y0, y1] = this.boxOf(drag);
      if (x1 > x0 && y1 > y0) this.view = [x0, x1, y0, y1];
      this.draw();
    } else if (this.mode === 'lasso') {
      const x = drag.path.map(p => this.dataX(p[0])), y = drag.path.map(p => this.dataY(p[1]));
      if (x.length >= 3) this.send({points: [], box: [], lasso: [{x, y}]}, {lasso: {x, y}});
    } else {
      const [x0, x1, y0, y1] = this.boxOf(drag);
      this.send({points: [], box: [{x: [x0, x1], y: [y0, y1]}], lasso: []}, {box: [x0, x1, y0, y1]});
    }
  }

  boxOf(drag) {
    const xs = [this.dataX(drag.start[0]), this.dataX(drag.last[0])].sort((a, b) => a - b);
    const ys = [this.dataY(drag.start[1]), this.dataY(drag.last[1])].sort((a, b) => a - b);
    return [xs[0], xs[1], ys[0], ys[1]];
  }

  send(selection, shape) {
    if (shape) OUTLINES.set(this.mapId, shape);
    else OUTLINES.delete(this.mapId);
    this.showSelection(shape);
    this.setTriggerValue('selection', selection);
  }

  cancelFrame() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.work = null;
  }

  schedule(work) {
    this.work = work;
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; const next = this.work; this.work = null; if (next) next(); });
  }

  hover(px, py) {
    const star = this.nearestStar(px, py);
    if (star) { this.showTip(px, py, [`text embedding of “${star.label}”`], star.colour); return; }
    const row = this.nearest(px, py);
    if (row < 0) { this.hideTip(); return; }
    const group = this.groups[this.group[row]];
    const lines = [group.name];
    if (this.showTruth) lines.push(`true: ${this.truthNames[this.truth[row]] ?? 'unknown'}`);
    if (this.hint) lines.push(this.hint);
    this.showTip(px, py, lines, group.colour);
  }

  showTip(px, py, lines, colour) {
    this.tip.replaceChildren(...lines.map(line => element('div', '', line)));
    this.tip.style.borderColor = colour;
    this.tip.style.display = 'block';
    const left = px + 14 + this.tip.offsetWidth > this.width ? px - 14 - this.tip.offsetWidth : px + 14;
    this.tip.style.left = left + 'px';
    this.tip.style.top = Math.max(0, py - this.tip.offsetHeight / 2) + 'px';
  }

  hideTip() { this.tip.style.display = 'none'; }

  resetView() {
    this.view = this.full.slice();
    this.draw();
  }
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector('.cl-map');
  let view = VIEWS.get(root);
  if (!view) {
    view = new MapView(root);
    VIEWS.set(root, view);
  }
  view.setTriggerValue = setTriggerValue;
  view.starName = data.star_name;
  if (view.version !== data.version) {
    view.version = data.version;
    view.load(data);
  }
  view.mapId = data.map_id;
  if (!data.selected) OUTLINES.delete(data.map_id);  // the page holds no selection on this map (any more)
  else if (data.selection) OUTLINES.set(data.map_id, data.selection);  // a box given in the page's address
  view.showSelection(OUTLINES.get(data.map_id) || null);
  // Streamlit may call this between two renders of the same map as well as when it leaves the page:
  // the view (its zoom) is let go only once its element is gone from the page.
  return () => setTimeout(() => {
    if (!root.isConnected) { view.resizer.disconnect(); view.ratioWatch.abort(); VIEWS.delete(root); }
  }, 0);
}
