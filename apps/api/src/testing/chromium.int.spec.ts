import { chromium } from 'playwright-core';
import { findChromium } from './chromium';

describe('findChromium', () => {
  it('with no system Chromium, starts the one the @sparticuz/chromium npm package ships, and it renders a page', async () => {
    const launch = findChromium({}, []);
    expect(launch.source).toBe('@sparticuz/chromium');
    const browser = await chromium.launch({ executablePath: launch.executablePath, args: launch.args, timeout: 60_000 });
    try {
      const page = await browser.newPage();
      await page.setContent('<main><h1 id="title">ledger</h1></main>');
      expect(await page.textContent('#title')).toBe('ledger');
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('names CHROMIUM_PATH when it points nowhere', () => {
    expect(() => findChromium({ CHROMIUM_PATH: '/nonexistent/chromium' })).toThrow(/CHROMIUM_PATH names \/nonexistent\/chromium/);
  });
});
