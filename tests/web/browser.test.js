// browser.test.js — drives the imgdex page in Debian's chromium (headless)
// with playwright-core: parse error shown inline, search, results grid,
// escaping of hostile names and OCR text, keyboard navigation, detail view
// with region boxes (matched ones highlighted), SAM segment masks, screenshots.
//   node browser.test.js BASE_URL OUT_DIR XSS_NAME
// Prints PASS/FAIL lines; exits 1 on any failure.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
// playwright-core lives with the other test-only npm packages in tests/node.
const { chromium } = require(require.resolve('playwright-core', { paths: [path.join(__dirname, '..', 'node')] }));

const [base, out, xssName] = process.argv.slice(2);
let failed = 0;
function check(name, cond, why) {
  if (cond) console.log(`PASS web_${name}`);
  else { failed++; console.log(`FAIL web_${name}: ${why || 'assertion failed'}`); }
}

(async () => {
  const udd = fs.mkdtempSync(path.join(os.tmpdir(), 'imgdex-chromium-'));
  const ctx = await chromium.launchPersistentContext(udd, {
    executablePath: process.env.IMGDEX_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 820 },
  });
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    page.setDefaultTimeout(15000);
    let dialogs = 0;
    const problems = [];
    page.on('dialog', (d) => { dialogs++; d.dismiss().catch(() => {}); });
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    // Any request off our origin would mean a CDN or a leak.
    const foreign = [];
    page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) foreign.push(r.url()); });

    await page.goto(base + '/');
    await page.waitForFunction(() => /images/.test(document.getElementById('stats').textContent));
    check('stats_shown', /\d+ images/.test(await page.textContent('#stats')));

    // 1. a malformed query: inline error with a caret under the column
    await page.fill('#q', 'two red');
    await page.press('#q', 'Enter');
    await page.waitForSelector('#qerr:not([hidden])');
    const msg = await page.textContent('#qerr-msg');
    const caret = await page.textContent('#qerr-caret');
    check('parse_error_inline', /column/.test(msg) && caret.trim() === '^' && caret.length >= 7, `${msg} / '${caret}'`);
    // the browser logs the 400 answer itself as a console error: expected here
    problems.splice(0, problems.length, ...problems.filter((p) => !/status of 400/.test(p)));

    // 2. a real query: a grid of results with scores
    await page.fill('#q', 'a dog to the left of a bicycle');
    await page.press('#q', 'Enter');
    await page.waitForSelector('#grid[data-q="a dog to the left of a bicycle"] .card');
    check('error_cleared', await page.isHidden('#qerr'));
    const names = await page.$$eval('.card .name', (ns) => ns.map((n) => n.textContent));
    const scores = await page.$$eval('.card .score', (ns) => ns.map((n) => parseFloat(n.textContent)));
    check('results_grid', names.length >= 2 && names[0] === 'dog.jpg', JSON.stringify(names));
    check('scores_sorted', scores.every((s, i) => i === 0 || s <= scores[i - 1]), JSON.stringify(scores));
    await page.waitForFunction(() => [...document.querySelectorAll('.card img')].every((i) => i.complete && i.naturalWidth > 0));
    check('thumbnails_loaded', true);
    await page.screenshot({ path: path.join(out, 'web-results.png') });

    // 3. keyboard: ArrowDown from the box selects the first card, Enter opens it
    await page.focus('#q');
    await page.keyboard.press('ArrowDown');
    check('keyboard_select', await page.$eval('.card.sel', (c) => c.dataset.i) === '0');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#detail:not([hidden])');
    await page.waitForSelector('.box.hit');
    await page.waitForFunction(() => document.getElementById('d-img').naturalWidth > 0);
    const boxes = await page.$$eval('.box', (bs) => bs.map((b) => ({ t: b.textContent, hit: b.classList.contains('hit') })));
    const hits = boxes.filter((b) => b.hit).map((b) => b.t.split(' ')[0]).sort();
    check('detail_boxes', boxes.length === 3, JSON.stringify(boxes));
    check('matched_boxes_highlighted', JSON.stringify(hits) === '["bicycle","dog"]', JSON.stringify(hits));
    check('detail_panels', /dog to the left of a bicycle/.test(await page.textContent('#d-caption')) &&
      /Canon EOS 5D/.test(await page.textContent('#d-exif')) && (await page.$$('#d-why li')).length >= 2);
    // the dog box sits over the left part of the picture
    const geo = await page.evaluate(() => {
      const f = document.getElementById('d-frame').getBoundingClientRect();
      const b = [...document.querySelectorAll('.box')].find((x) => x.textContent.startsWith('dog')).getBoundingClientRect();
      return { fx: f.x, fw: f.width, bx: b.x, bw: b.width };
    });
    check('box_geometry', Math.abs((geo.bx - geo.fx) / geo.fw - 0.16) < 0.02 && Math.abs(geo.bw / geo.fw - 0.26) < 0.02,
      JSON.stringify(geo));
    await page.screenshot({ path: path.join(out, 'web-detail.png') });
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => document.getElementById('d-name').textContent !== 'dog.jpg');
    check('keyboard_next', true);
    await page.keyboard.press('Escape');
    check('escape_closes', await page.isHidden('#detail'));

    // 4. hostile file name and OCR text show as text, run nothing
    await page.fill('#q', 'a red dog');
    await page.press('#q', 'Enter');
    await page.waitForSelector('#grid[data-q="a red dog"] .card');
    await page.waitForFunction((n) => [...document.querySelectorAll('.card .name')].some((e) => e.textContent === n), xssName);
    check('hostile_name_is_text', (await page.$$('img[src="x"]')).length === 0);
    const idx = await page.$$eval('.card .name', (ns, n) => ns.findIndex((e) => e.textContent === n), xssName);
    await page.click(`.card[data-i="${idx}"]`);
    await page.waitForFunction(() => document.getElementById('d-ocr').textContent.includes('<script>'));
    check('hostile_ocr_is_text', (await page.$$('#d-ocr script, #d-caption b')).length === 0);
    await page.waitForTimeout(300);
    check('no_script_ran', dialogs === 0, `${dialogs} dialogs`);
    await page.screenshot({ path: path.join(out, 'web-hostile.png') });
    await page.keyboard.press('Escape');

    // 5. a SAM segment's mask drawn over its box: in inside the ellipse, clear
    //    in the corners of the 24 x 16 grid
    await page.fill('#q', 'a bird');
    await page.press('#q', 'Enter');
    await page.waitForSelector('#grid[data-q="a bird"] .card');
    const bi = await page.$$eval('.card .name', (ns) => ns.findIndex((e) => e.textContent === 'eagle.jpg'));
    check('bird_found', bi >= 0, `eagle.jpg not among the results`);
    if (bi >= 0) {
      await page.click(`.card[data-i="${bi}"]`);
      await page.waitForSelector('.box.segment canvas.mask');
      const mk = await page.$eval('.box.segment canvas.mask', (c) => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const a = (x, y) => d[(y * c.width + x) * 4 + 3];
        const box = c.parentElement.getBoundingClientRect(), cr = c.getBoundingClientRect();
        return { w: c.width, h: c.height, centre: a(12, 8), corner: a(0, 0), fills: Math.abs(box.width - cr.width) < 6 };
      });
      check('segment_mask_drawn', mk.w === 24 && mk.h === 16 && mk.centre > 0 && mk.corner === 0 && mk.fills,
        JSON.stringify(mk));
      await page.screenshot({ path: path.join(out, 'web-segment.png') });
      await page.keyboard.press('Escape');
    }

    // 6. narrow screen: the grid reflows
    await page.setViewportSize({ width: 420, height: 800 });
    await page.fill('#q', 'a horse');
    await page.press('#q', 'Enter');
    await page.waitForSelector('#grid[data-q="a horse"] .card');
    const cols = await page.evaluate(() => {
      const cs = [...document.querySelectorAll('.card')];
      return cs.filter((c) => c.offsetTop === cs[0].offsetTop).length;
    });
    check('responsive_grid', cols >= 1 && cols <= 2, `${cols} columns at 420px`);
    await page.screenshot({ path: path.join(out, 'web-narrow.png') });

    check('no_page_errors', problems.length === 0, problems.join(' | '));
    check('no_foreign_requests', foreign.length === 0, foreign.join(' '));
  } catch (e) {
    failed++;
    console.log(`FAIL web_driver: ${String(e).split('\n')[0]}`);
  } finally {
    await ctx.close();
    fs.rmSync(udd, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
})();
