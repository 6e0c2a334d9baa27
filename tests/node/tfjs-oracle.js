// tfjs-oracle.js — the reference the C graph runner is checked against.
//
//   node tfjs-oracle.js MODEL.json OUT.bin LO HI [REPEAT]
//
// Loads a tfjs graph model with the pure-JS CPU backend (offline, from the
// file system), builds a deterministic image-like input in LO..HI for each
// input, runs the model and writes the inputs and every output to OUT.bin:
//   "TFJSORCL" u32 count, then per tensor: u32 name length, name,
//   u32 kind (0 input, 1 output), u32 dtype (0 f32, 1 i32), u32 ndim,
//   i32 shape[ndim], data (little-endian 4-byte elements).
// With REPEAT > 0 it also times REPEAT runs and prints the best wall and
// CPU milliseconds: "ms_per_run N", "cpu_ms_per_run N".
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const tfc = require('@tensorflow/tfjs-converter');

function fileHandler(jsonPath) {
  return {
    load: async () => {
      const json = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
      const dir = path.dirname(jsonPath);
      const specs = [], bufs = [];
      for (const g of json.weightsManifest) {
        for (const w of g.weights) specs.push(w);
        for (const p of g.paths) bufs.push(fs.readFileSync(path.join(dir, p)));
      }
      const all = Buffer.concat(bufs);
      const ab = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
      return {
        modelTopology: json.modelTopology, format: json.format,
        generatedBy: json.generatedBy, convertedBy: json.convertedBy,
        signature: json.signature, userDefinedMetadata: json.userDefinedMetadata,
        weightSpecs: specs, weightData: ab,
      };
    },
  };
}

// A smooth picture with edges: gradients, a few discs and stripes, so the
// detector sees structure and activations are not degenerate.  Same formula
// as nothing else: the C side reads these exact bytes from OUT.bin.
function pattern(shape, lo, hi) {
  const [n, h, w, c] = shape.length === 4 ? shape : [1, 1, shape.reduce((a, b) => a * b, 1), 1];
  const out = new Float32Array(n * h * w * c);
  let k = 0;
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const u = x / w, v = y / h;
        const d1 = Math.hypot(u - 0.3, v - 0.4), d2 = Math.hypot(u - 0.7, v - 0.65);
        for (let ch = 0; ch < c; ch++) {
          let t = 0.5 + 0.3 * Math.sin(6 * u + 2 * ch + b) * Math.cos(4 * v - ch);
          if (d1 < 0.18) t = 0.9 - 0.3 * ch / Math.max(1, c - 1);
          if (d2 < 0.12) t = 0.1 + 0.2 * ch;
          if (((x >> 4) + (y >> 5)) % 7 === 0) t = 1 - t;
          t = Math.min(1, Math.max(0, t));
          out[k++] = lo + (hi - lo) * t;
        }
      }
  return out;
}

async function main() {
  const [jsonPath, outPath, loS, hiS, repS] = process.argv.slice(2);
  if (!outPath) { console.error('usage: tfjs-oracle.js MODEL.json OUT.bin LO HI [REPEAT]'); process.exit(1); }
  const lo = Number(loS || 0), hi = Number(hiS || 1), rep = Number(repS || 0);
  await tf.setBackend('cpu');
  const model = await tfc.loadGraphModel(fileHandler(jsonPath));
  const feeds = {}, recs = [];
  for (const inp of model.inputs) {
    const shape = inp.shape.map(d => (d == null || d < 0 ? 1 : d));
    const data = pattern(shape, lo, hi);
    feeds[inp.name] = tf.tensor(data, shape, 'float32');
    recs.push({ name: inp.name, kind: 0, dtype: 0, shape, data });
  }
  const names = model.outputNodes;
  let outs = await model.executeAsync(feeds, names);
  if (!Array.isArray(outs)) outs = [outs];
  for (let i = 0; i < outs.length; i++) {
    const t = outs[i];
    recs.push({ name: names[i], kind: 1, dtype: t.dtype === 'int32' ? 1 : 0, shape: t.shape,
                data: t.dataSync() });
  }
  if (rep > 0) {
    // best of REPEAT, wall clock and this process' CPU time (the machine
    // may be shared; CPU time is what the work costs)
    let best = Infinity, bestCpu = Infinity;
    for (let r = 0; r < rep; r++) {
      const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
      const o = await model.executeAsync(feeds, names);
      (Array.isArray(o) ? o : [o]).forEach(t => { t.dataSync(); t.dispose(); });
      const c = process.cpuUsage(c0);
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
      bestCpu = Math.min(bestCpu, (c.user + c.system) / 1e3);
    }
    console.log('ms_per_run ' + best.toFixed(2));
    console.log('cpu_ms_per_run ' + bestCpu.toFixed(2));
  }
  const parts = [Buffer.from('TFJSORCL'), u32(recs.length)];
  for (const r of recs) {
    const nb = Buffer.from(r.name, 'utf8');
    parts.push(u32(nb.length), nb, u32(r.kind), u32(r.dtype), u32(r.shape.length));
    const sh = Buffer.alloc(4 * r.shape.length);
    r.shape.forEach((d, i) => sh.writeInt32LE(d, i * 4));
    parts.push(sh);
    const arr = r.dtype === 1 ? Int32Array.from(r.data) : Float32Array.from(r.data);
    parts.push(Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength));
  }
  fs.writeFileSync(outPath, Buffer.concat(parts));
}

function u32(v) { const b = Buffer.alloc(4); b.writeUInt32LE(v, 0); return b; }

main().catch(err => { console.error('tfjs-oracle: ' + (err && err.stack || err)); process.exit(2); });
