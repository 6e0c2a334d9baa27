#!/usr/bin/env node
// vision-ref.js — the reference pipelines for imgdex's vision models, run with
// the pure-JS TensorFlow.js CPU backend.  Test-only: the C pipelines in
// src/models/ are checked against what this prints, so it is written
// independently of them (its own resize, its own anchors, its own NMS).
//
//   node vision-ref.js centernet IMAGE.ppm [--min 0.3] [--iou 0.5] [--raw]
//   node vision-ref.js blazeface IMAGE.ppm [--min 0.5] [--raw]
//   node vision-ref.js selfie    IMAGE.ppm [--pgm OUT.pgm]
//   node vision-ref.js faces     IMAGE.ppm [--attrs N]  (blazeface + gear + emotion on the first N faces)
//   node vision-ref.js time      MODEL IMAGE.ppm N  (ms per run of the bare model)
//
// Images are binary PPM (P6), as `djpeg -pnm` or the C tests write them, so
// both sides start from exactly the same pixels.  Output: one JSON object.
// Models come from $IMGDEX_MODELS or ../../models.
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const converter = require('@tensorflow/tfjs-converter');

const MODELS = process.env.IMGDEX_MODELS || path.join(__dirname, '..', '..', 'models');

// ---- files ---------------------------------------------------------------

function readPPM(file) {
  const buf = fs.readFileSync(file);
  let pos = 0;
  const fields = [];
  while (fields.length < 4) {
    while (pos < buf.length && /\s/.test(String.fromCharCode(buf[pos]))) pos++;
    if (buf[pos] === 0x23) { while (pos < buf.length && buf[pos] !== 0x0a) pos++; continue; }
    let s = '';
    while (pos < buf.length && !/\s/.test(String.fromCharCode(buf[pos]))) s += String.fromCharCode(buf[pos++]);
    fields.push(s);
  }
  pos++; // the single whitespace after maxval
  if (fields[0] !== 'P6' || fields[3] !== '255') throw new Error(`${file}: not a binary 8-bit PPM`);
  const w = +fields[1], h = +fields[2];
  return { w, h, px: new Uint8Array(buf.buffer, buf.byteOffset + pos, w * h * 3) };
}

async function loadModel(name) {
  const json = JSON.parse(fs.readFileSync(path.join(MODELS, name + '.json'), 'utf8'));
  const specs = [], parts = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) parts.push(fs.readFileSync(path.join(MODELS, p)));
  }
  const all = Buffer.concat(parts);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.length);
  const handler = {
    load: async () => ({
      modelTopology: json.modelTopology, weightSpecs: specs, weightData, format: json.format,
      generatedBy: json.generatedBy, convertedBy: json.convertedBy,
      signature: json.signature, userDefinedMetadata: json.userDefinedMetadata,
    }),
  };
  return converter.loadGraphModel(handler);
}

// ---- pixels --------------------------------------------------------------

// Resample one axis: area averaging when shrinking (each output sample is the
// mean of the source interval it covers), linear interpolation at pixel
// centres when enlarging.  Returns, per output index, a list of [src, weight].
function axisWeights(srcN, dstN) {
  const out = [];
  const scale = srcN / dstN;
  for (let o = 0; o < dstN; o++) {
    const taps = [];
    if (scale > 1) {
      const a = o * scale, b = (o + 1) * scale;
      for (let s = Math.floor(a); s < Math.ceil(b) && s < srcN; s++) {
        const wgt = Math.min(b, s + 1) - Math.max(a, s);
        if (wgt > 0) taps.push([s, wgt / scale]);
      }
    } else {
      let c = (o + 0.5) * scale - 0.5;
      if (c < 0) c = 0;
      if (c > srcN - 1) c = srcN - 1;
      const s0 = Math.floor(c), f = c - s0;
      taps.push([s0, 1 - f]);
      if (f > 0 && s0 + 1 < srcN) taps.push([s0 + 1, f]);
    }
    out.push(taps);
  }
  return out;
}

// Region (sx,sy,sw,sh) of the image resized to dw×dh, as floats 0..255 RGB.
function resample(im, sx, sy, sw, sh, dw, dh) {
  const wx = axisWeights(sw, dw), wy = axisWeights(sh, dh);
  const tmp = new Float32Array(sh * dw * 3);
  for (let y = 0; y < sh; y++) {
    const row = (sy + y) * im.w;
    for (let x = 0; x < dw; x++) {
      let r = 0, g = 0, b = 0;
      for (const [s, wgt] of wx[x]) {
        const p = (row + sx + s) * 3;
        r += wgt * im.px[p]; g += wgt * im.px[p + 1]; b += wgt * im.px[p + 2];
      }
      const q = (y * dw + x) * 3;
      tmp[q] = r; tmp[q + 1] = g; tmp[q + 2] = b;
    }
  }
  const out = new Float32Array(dh * dw * 3);
  for (let y = 0; y < dh; y++)
    for (const [s, wgt] of wy[y])
      for (let i = 0; i < dw * 3; i++) out[y * dw * 3 + i] += wgt * tmp[s * dw * 3 + i];
  return out;
}

// Fit the image into side×side keeping its aspect ratio, centred, padding
// with `pad`.  Returns the pixels and the transform to undo on boxes.
function letterbox(im, side, pad) {
  const scale = side / Math.max(im.w, im.h);
  const nw = Math.max(1, Math.round(im.w * scale)), nh = Math.max(1, Math.round(im.h * scale));
  const ox = Math.floor((side - nw) / 2), oy = Math.floor((side - nh) / 2);
  const small = resample(im, 0, 0, im.w, im.h, nw, nh);
  const out = new Float32Array(side * side * 3).fill(pad);
  for (let y = 0; y < nh; y++) out.set(small.subarray(y * nw * 3, (y + 1) * nw * 3), ((y + oy) * side + ox) * 3);
  // Image coordinates (normalised) from input pixels: (p - o) / (n·) .
  return { data: out, ox, oy, nw, nh, side };
}

// ---- post-processing -----------------------------------------------------

function iou(a, b) {
  const ix = Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0));
  const iy = Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));
  const inter = ix * iy;
  const u = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter;
  return u > 0 ? inter / u : 0;
}

// Greedy NMS, highest score first, only between boxes of the same class.
function nms(boxes, thr) {
  boxes.sort((a, b) => b.score - a.score);
  const keep = [];
  for (const b of boxes) if (!keep.some(k => k.cls === b.cls && iou(k, b) > thr)) keep.push(b);
  return keep;
}

const clamp01 = v => Math.min(1, Math.max(0, v));
const r4 = v => Math.round(v * 1e4) / 1e4;

const COCO = ('person bicycle car motorcycle airplane bus train truck boat traffic_light fire_hydrant ' +
  'stop_sign parking_meter bench bird cat dog horse sheep cow elephant bear zebra giraffe backpack ' +
  'umbrella handbag tie suitcase frisbee skis snowboard sports_ball kite baseball_bat baseball_glove ' +
  'skateboard surfboard tennis_racket bottle wine_glass cup fork knife spoon bowl banana apple ' +
  'sandwich orange broccoli carrot hot_dog pizza donut cake chair couch potted_plant bed dining_table ' +
  'toilet tv laptop mouse remote keyboard cell_phone microwave oven toaster sink refrigerator book ' +
  'clock vase scissors teddy_bear hair_drier toothbrush').split(' ').map(s => s.replace(/_/g, ' '));

// ---- pipelines -----------------------------------------------------------

async function centernet(im, opt) {
  const model = await loadModel('centernet');
  const lb = letterbox(im, 512, opt.pad);
  const input = tf.tensor4d(lb.data, [1, 512, 512, 3]);
  const out = model.execute(input, 'tower_0/detections');
  const det = await out.data();
  const raw = [];
  let boxes = [];
  for (let i = 0; i < 100; i++) {
    const [x0, y0, x1, y1, score, cls] = det.subarray(i * 6, i * 6 + 6);
    raw.push([x0, y0, x1, y1, score, cls].map(r4));
    if (!(score >= opt.min)) continue;
    boxes.push({
      x0: clamp01((x0 - lb.ox) / lb.nw), y0: clamp01((y0 - lb.oy) / lb.nh),
      x1: clamp01((x1 - lb.ox) / lb.nw), y1: clamp01((y1 - lb.oy) / lb.nh),
      score, cls: Math.round(cls), label: COCO[Math.round(cls)],
    });
  }
  boxes = nms(boxes, opt.iou).filter(b => b.x1 > b.x0 && b.y1 > b.y0);
  const res = { model: 'centernet', w: im.w, h: im.h, boxes: boxes.map(b => ({ ...b, x0: r4(b.x0), y0: r4(b.y0), x1: r4(b.x1), y1: r4(b.y1), score: r4(b.score) })) };
  if (opt.raw) res.raw = raw;
  return res;
}

// BlazeFace: two SSD heads.  The anchors are the centres of the cells of
// a side/16 grid (2 anchors per cell) then a side/32 grid (6 per cell), in
// input pixels; the regressors are (dx, dy, w, h, 6 keypoints) in input
// pixels relative to the anchor.
function blazeAnchors(side) {
  const a = [];
  for (const [stride, per] of [[16, 2], [32, 6]]) {
    const n = Math.ceil(side / stride);
    for (let gy = 0; gy < n; gy++)
      for (let gx = 0; gx < n; gx++)
        for (let k = 0; k < per; k++) a.push([(gx + 0.5) * stride, (gy + 0.5) * stride]);
  }
  return a;
}

async function blazeface(im, opt) {
  const model = await loadModel('blazeface');
  const side = model.inputs[0].shape[1];
  const lb = letterbox(im, side, 0);
  const input = tf.tensor4d(lb.data.map(v => v / 127.5 - 1), [1, side, side, 3]);
  const outs = model.execute(input, ['Identity', 'Identity_2', 'Identity_1', 'Identity_3']);
  const [s1, r1, s2, r2] = await Promise.all(outs.map(t => t.data()));
  const scores = [...s1, ...s2];
  const regs = new Float32Array(r1.length + r2.length);
  regs.set(r1); regs.set(r2, r1.length);
  const anchors = blazeAnchors(side);
  if (anchors.length !== scores.length) throw new Error(`anchors ${anchors.length} != outputs ${scores.length}`);
  let boxes = [];
  for (let i = 0; i < scores.length; i++) {
    const score = 1 / (1 + Math.exp(-scores[i]));
    if (!(score >= opt.min)) continue;
    const r = regs.subarray(i * 16, i * 16 + 16);
    const cx = anchors[i][0] + r[0], cy = anchors[i][1] + r[1];
    const kp = [];
    for (let k = 0; k < 6; k++) kp.push([r4(clamp01((anchors[i][0] + r[4 + 2 * k] - lb.ox) / lb.nw)), r4(clamp01((anchors[i][1] + r[5 + 2 * k] - lb.oy) / lb.nh))]);
    boxes.push({
      x0: clamp01((cx - r[2] / 2 - lb.ox) / lb.nw), y0: clamp01((cy - r[3] / 2 - lb.oy) / lb.nh),
      x1: clamp01((cx + r[2] / 2 - lb.ox) / lb.nw), y1: clamp01((cy + r[3] / 2 - lb.oy) / lb.nh),
      score, cls: -1, label: 'face', kp,
    });
  }
  boxes = nms(boxes, opt.iou).filter(b => b.x1 > b.x0 && b.y1 > b.y0);
  return { model: 'blazeface', w: im.w, h: im.h, side, boxes: boxes.map(b => ({ ...b, x0: r4(b.x0), y0: r4(b.y0), x1: r4(b.x1), y1: r4(b.y1), score: r4(b.score) })) };
}

async function selfie(im, opt) {
  const model = await loadModel('selfie');
  const side = model.inputs[0].shape[1];
  const data = resample(im, 0, 0, im.w, im.h, side, side).map(v => v / 255);
  const out = model.execute(tf.tensor4d(data, [1, side, side, 3]));
  const m = await out.data();
  const mask = Uint8Array.from(m, v => Math.round(255 * clamp01(v)));
  if (opt.pgm) fs.writeFileSync(opt.pgm, Buffer.concat([Buffer.from(`P5\n${side} ${side}\n255\n`), Buffer.from(mask)]));
  let sum = 0;
  for (const v of mask) sum += v;
  return { model: 'selfie', w: side, h: side, mean: sum / mask.length / 255 };
}

// The square crop around a face box that the attribute models see.
function faceCrop(im, b, grow) {
  const cx = (b.x0 + b.x1) / 2 * im.w, cy = (b.y0 + b.y1) / 2 * im.h;
  const s = Math.max((b.x1 - b.x0) * im.w, (b.y1 - b.y0) * im.h) * grow;
  let x = Math.round(cx - s / 2), y = Math.round(cy - s / 2), n = Math.max(1, Math.round(s));
  x = Math.max(0, Math.min(x, im.w - 1)); y = Math.max(0, Math.min(y, im.h - 1));
  return [x, y, Math.min(n, im.w - x), Math.min(n, im.h - y)];
}

const AGE_MID = [15, 23, 28, 35.5, 45.5, 55.5, 65];
const RACE = ['white', 'black', 'asian', 'indian', 'other'];
const EMOTION = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

async function faces(im, opt) {
  const f = await blazeface(im, opt);
  const gear = await loadModel('gear');
  const emo = await loadModel('emotion');
  for (const b of f.boxes.slice(0, opt.attrs)) {
    const [x, y, w, h] = faceCrop(im, b, opt.grow);
    const g = resample(im, x, y, w, h, 198, 198).map(v => v * opt.gearScale);
    const [age, gender, race] = await Promise.all(gear.execute(tf.tensor4d(g, [1, 198, 198, 3]), ['Identity', 'Identity_1', 'Identity_2']).map(t => t.data()));
    const e64 = resample(im, x, y, w, h, 64, 64);
    const gray = new Float32Array(64 * 64);
    for (let i = 0; i < gray.length; i++) gray[i] = ((0.299 * e64[3 * i] + 0.587 * e64[3 * i + 1] + 0.114 * e64[3 * i + 2]) / 255 - 0.5) * 2;
    const em = await emo.execute(tf.tensor4d(gray, [1, 64, 64, 1])).data();
    const best = a => a.reduce((bi, v, i) => (v > a[bi] ? i : bi), 0);
    let years = 0;
    for (let i = 0; i < 7; i++) years += age[i] * AGE_MID[i];
    b.crop = [x, y, w, h];
    b.gender = gender[0] > gender[1] ? 'male' : 'female';
    b.gender_score = r4(Math.max(gender[0], gender[1]));
    b.age_probs = Array.from(age, r4);
    b.age = Math.round(years);
    b.race = RACE[best(race)];
    b.emotion = EMOTION[best(em)];
    b.emotion_score = r4(em[best(em)]);
  }
  f.model = 'faces';
  return f;
}

async function timeModel(name, im, n) {
  const model = await loadModel(name);
  const shape = model.inputs[0].shape.map(d => (d < 0 ? 1 : d));
  const data = resample(im, 0, 0, im.w, im.h, shape[2], shape[1]);
  const input = tf.tensor4d(shape[3] === 1 ? data.filter((_, i) => i % 3 === 0) : data, shape);
  const run = async () => { const o = model.execute(input); for (const t of [].concat(o)) await t.data(); tf.dispose(o); };
  await run();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await run();
  return { model: name, runs: n, ms: Number(process.hrtime.bigint() - t0) / 1e6 / n };
}

async function main() {
  const [cmd, ...rest] = process.argv.slice(2);
  const opt = { min: NaN, iou: 0.5, raw: false, pgm: null, grow: 1.2, gearScale: 1 / 255, pad: 0, attrs: Infinity };
  const pos = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--min') opt.min = +rest[++i];
    else if (rest[i] === '--iou') opt.iou = +rest[++i];
    else if (rest[i] === '--raw') opt.raw = true;
    else if (rest[i] === '--pad') opt.pad = +rest[++i];
    else if (rest[i] === '--pgm') opt.pgm = rest[++i];
    else if (rest[i] === '--grow') opt.grow = +rest[++i];
    else if (rest[i] === '--gear-scale') opt.gearScale = +rest[++i];
    else if (rest[i] === '--attrs') opt.attrs = +rest[++i];
    else pos.push(rest[i]);
  }
  await tf.setBackend('cpu');
  let res;
  if (cmd === 'centernet') res = await centernet(readPPM(pos[0]), { ...opt, min: isNaN(opt.min) ? 0.3 : opt.min });
  else if (cmd === 'blazeface') res = await blazeface(readPPM(pos[0]), { ...opt, min: isNaN(opt.min) ? 0.5 : opt.min, iou: 0.3 });
  else if (cmd === 'faces') res = await faces(readPPM(pos[0]), { ...opt, min: isNaN(opt.min) ? 0.5 : opt.min, iou: 0.3 });
  else if (cmd === 'selfie') res = await selfie(readPPM(pos[0]), opt);
  else if (cmd === 'time') res = await timeModel(pos[0], readPPM(pos[1]), +(pos[2] || 3));
  else {
    process.stderr.write('usage: vision-ref.js centernet|blazeface|faces|selfie IMAGE.ppm | time MODEL IMAGE.ppm N\n');
    process.exit(1);
  }
  process.stdout.write(JSON.stringify(res) + '\n');
}

if (require.main === module) main().catch(err => { process.stderr.write(`vision-ref: ${err.message}\n`); process.exit(2); });
module.exports = { readPPM, loadModel, resample, letterbox, nms, COCO, centernet, blazeface, selfie, faces };
