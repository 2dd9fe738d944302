/** Headless Debian Chromium driven by playwright-core, for the tests that look at /docs as a person would. */
import { existsSync } from 'node:fs';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const noBrowser = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (CI installs Debian's chromium)`;
// In CI a missing browser is a failure, never a silent skip.
if (noBrowser && process.env.CI) throw new Error(noBrowser);

/** A headless browser with its profile in `profileDir` (quiet: no sync, updates or QUIC). */
export function launchBrowser(
  profileDir: string,
  options: { ignoreHTTPSErrors?: boolean } = {},
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    ...options,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
