/**
 * Tiny inline-SVG charts for the HTML report: grouped bars with error bars, and line charts.
 * No scripts, no external fonts or CDN: the report must open offline and render identically
 * everywhere.
 */

/** A palette readable on white and distinguishable in greyscale order. */
export const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#b07aa1', '#edc948', '#9c755f', '#bab0ac', '#ff9da7'];

/** Escapes text for HTML/SVG content and attributes. */
export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const num = (x: number): string => (Number.isFinite(x) ? (Math.round(x * 100) / 100).toString() : '0');

/** "Nice" axis ticks covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * step; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmtTick(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 0.01 || a >= 1e5)) return v.toExponential(1);
  return Number(v.toPrecision(4)).toString();
}

export interface BarChartInput {
  title: string;
  /** Category labels on the x axis (e.g. slices). */
  groups: string[];
  /** One series per bar within a group (e.g. variants). */
  series: { name: string; values: number[]; errors?: number[] }[];
  yLabel?: string;
  /** Fixed y range; default from the data with some padding. */
  yMin?: number;
  yMax?: number;
  width?: number;
  height?: number;
  /** Digits of the value labels on bars (default 3; -1 = none). */
  labelDigits?: number;
}

/** Grouped vertical bars with optional ± error whiskers and a legend. */
export function barChart(c: BarChartInput): string {
  const W = c.width ?? 720,
    H = c.height ?? 320;
  const m = { l: 56, r: 12, t: 28, b: 56 };
  const all: number[] = [];
  for (const s of c.series) s.values.forEach((v, i) => Number.isFinite(v) && all.push(v - (s.errors?.[i] ?? 0), v + (s.errors?.[i] ?? 0)));
  let lo = c.yMin ?? (all.length ? Math.min(...all) : 0);
  let hi = c.yMax ?? (all.length ? Math.max(...all) : 1);
  if (c.yMin === undefined) lo = lo - (hi - lo) * 0.15;
  if (c.yMax === undefined) hi = hi + (hi - lo) * 0.1;
  if (!(hi > lo)) hi = lo + 1;
  const tk = ticks(lo, hi);
  lo = Math.min(lo, tk[0]);
  const pw = W - m.l - m.r,
    ph = H - m.t - m.b;
  const y = (v: number): number => m.t + ph - ((v - lo) / (hi - lo)) * ph;
  const gw = pw / Math.max(1, c.groups.length);
  const bw = (gw * 0.8) / Math.max(1, c.series.length);
  const parts: string[] = [];
  parts.push(`<text x="${W / 2}" y="16" text-anchor="middle" class="ct">${esc(c.title)}</text>`);
  for (const t of tk) {
    if (t < lo || t > hi) continue;
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${num(y(t))}" y2="${num(y(t))}" class="grid"/>`);
    parts.push(`<text x="${m.l - 6}" y="${num(y(t) + 4)}" text-anchor="end" class="tk">${fmtTick(t)}</text>`);
  }
  if (c.yLabel) parts.push(`<text transform="translate(14 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle" class="tk">${esc(c.yLabel)}</text>`);
  c.groups.forEach((g, gi) => {
    const gx = m.l + gi * gw + gw * 0.1;
    parts.push(`<text x="${num(m.l + gi * gw + gw / 2)}" y="${H - m.b + 16}" text-anchor="middle" class="tk">${esc(g)}</text>`);
    c.series.forEach((s, si) => {
      const v = s.values[gi];
      if (!Number.isFinite(v)) return;
      const x = gx + si * bw;
      const top = y(Math.max(v, lo));
      parts.push(
        `<rect x="${num(x)}" y="${num(top)}" width="${num(bw * 0.92)}" height="${num(m.t + ph - top)}" fill="${PALETTE[si % PALETTE.length]}"><title>${esc(`${s.name} / ${g}: ${v}`)}</title></rect>`,
      );
      const e = s.errors?.[gi];
      if (e && Number.isFinite(e) && e > 0) {
        const cx = x + bw * 0.46;
        parts.push(`<path d="M${num(cx)} ${num(y(v - e))}V${num(y(v + e))}M${num(cx - 3)} ${num(y(v - e))}h6M${num(cx - 3)} ${num(y(v + e))}h6" class="err"/>`);
      }
      if ((c.labelDigits ?? 3) >= 0 && bw > 34) {
        parts.push(`<text x="${num(x + bw * 0.46)}" y="${num(y(v + (e ?? 0)) - 3)}" text-anchor="middle" class="vl">${v.toFixed(c.labelDigits ?? 3)}</text>`);
      }
    });
  });
  parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${m.t + ph}" y2="${m.t + ph}" class="axis"/>`);
  const lg = legend(
    c.series.map((s) => s.name),
    m.l,
    H - 18,
    W - m.l - m.r,
  );
  parts.push(lg.svg);
  return svg(W, H + lg.extra, parts);
}

export interface LineChartInput {
  title: string;
  /** `errors`: optional ± whiskers per point (e.g. std over seeds), included in the y range. */
  series: { name: string; x: number[]; y: number[]; errors?: number[]; dashed?: boolean; color?: string }[];
  xLabel?: string;
  yLabel?: string;
  /** Ticks of the x axis (e.g. the fractions measured); default: nice ticks over the data. */
  xTicks?: number[];
  width?: number;
  height?: number;
}

/** Line chart with markers, shared axes and a legend. */
export function lineChart(c: LineChartInput): string {
  const W = c.width ?? 360,
    H = c.height ?? 240;
  const m = { l: 52, r: 10, t: 26, b: 56 };
  const xs: number[] = [],
    ys: number[] = [];
  const err = (s: LineChartInput['series'][number], i: number): number => {
    const e = s.errors?.[i];
    return e !== undefined && Number.isFinite(e) && e > 0 ? e : 0;
  };
  for (const s of c.series)
    s.x.forEach((x, i) => Number.isFinite(x) && Number.isFinite(s.y[i]) && (xs.push(x), ys.push(s.y[i] - err(s, i), s.y[i] + err(s, i))));
  const x0 = xs.length ? Math.min(...xs) : 0;
  let x1 = xs.length ? Math.max(...xs) : 1;
  let y0 = ys.length ? Math.min(...ys) : 0,
    y1 = ys.length ? Math.max(...ys) : 1;
  if (!(x1 > x0)) x1 = x0 + 1;
  if (!(y1 > y0)) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const pad = (y1 - y0) * 0.08;
  y0 -= pad;
  y1 += pad;
  const pw = W - m.l - m.r,
    ph = H - m.t - m.b;
  const px = (v: number): number => m.l + ((v - x0) / (x1 - x0)) * pw;
  const py = (v: number): number => m.t + ph - ((v - y0) / (y1 - y0)) * ph;
  const parts: string[] = [];
  parts.push(`<text x="${W / 2}" y="16" text-anchor="middle" class="ct">${esc(c.title)}</text>`);
  for (const t of ticks(y0, y1, 4)) {
    if (t < y0 || t > y1) continue;
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${num(py(t))}" y2="${num(py(t))}" class="grid"/>`);
    parts.push(`<text x="${m.l - 5}" y="${num(py(t) + 4)}" text-anchor="end" class="tk">${fmtTick(t)}</text>`);
  }
  for (const t of c.xTicks ?? ticks(x0, x1, 5)) {
    if (t < x0 || t > x1) continue;
    parts.push(`<text x="${num(px(t))}" y="${m.t + ph + 14}" text-anchor="middle" class="tk">${fmtTick(t)}</text>`);
  }
  if (c.xLabel) parts.push(`<text x="${m.l + pw / 2}" y="${m.t + ph + 28}" text-anchor="middle" class="tk">${esc(c.xLabel)}</text>`);
  if (c.yLabel) parts.push(`<text transform="translate(12 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle" class="tk">${esc(c.yLabel)}</text>`);
  c.series.forEach((s, si) => {
    const color = s.color ?? PALETTE[si % PALETTE.length];
    const pts = s.x.map((x, i) => [x, s.y[i], err(s, i)]).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
    if (!pts.length) return;
    const d = pts.map(([a, b], i) => `${i ? 'L' : 'M'}${num(px(a))} ${num(py(b))}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    for (const [a, b, e] of pts) {
      if (e > 0)
        parts.push(
          `<path d="M${num(px(a))} ${num(py(b - e))}V${num(py(b + e))}M${num(px(a) - 3)} ${num(py(b - e))}h6M${num(px(a) - 3)} ${num(py(b + e))}h6" stroke="${color}" stroke-width="1.2" fill="none"/>`,
        );
      parts.push(
        `<circle cx="${num(px(a))}" cy="${num(py(b))}" r="2.5" fill="${color}"><title>${esc(`${s.name}: ${a}, ${b}${e > 0 ? ` ± ${e}` : ''}`)}</title></circle>`,
      );
    }
  });
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" class="frame"/>`);
  const lg = legend(
    c.series.map((s) => s.name),
    m.l,
    H - 12,
    W - m.l - m.r,
    c.series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]),
  );
  parts.push(lg.svg);
  return svg(W, H + lg.extra, parts);
}

/** Approximate advance of one character of the 11 px legend font (no font metrics offline). */
const LEGEND_CHAR_PX = 6.4;
const LEGEND_ROW_PX = 14;

/**
 * Legend entries left to right, each as wide as its name, wrapping onto extra rows below `y`
 * when they do not fit `width` (long variant names used to overlap); entries with an empty
 * name (repeated seeds) are skipped. `extra`: the height the rows below the first one need.
 */
function legend(names: string[], x: number, y: number, width: number, colors?: string[]): { svg: string; extra: number } {
  const out: string[] = [];
  const shown = names.map((n, i) => ({ n, c: colors?.[i] ?? PALETTE[i % PALETTE.length] })).filter((e) => e.n !== '');
  let lx = x,
    ly = y;
  for (const { n, c } of shown) {
    const w = Math.max(60, 14 + n.length * LEGEND_CHAR_PX + 12);
    if (lx > x && lx + w > x + width) {
      lx = x;
      ly += LEGEND_ROW_PX;
    }
    out.push(`<rect x="${num(lx)}" y="${ly - 9}" width="10" height="10" fill="${c}"/>`);
    out.push(`<text x="${num(lx + 14)}" y="${ly}" class="lg">${esc(n)}</text>`);
    lx += w;
  }
  return { svg: out.join(''), extra: ly - y };
}

function svg(w: number, h: number, parts: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img">${parts.join('')}</svg>`;
}
