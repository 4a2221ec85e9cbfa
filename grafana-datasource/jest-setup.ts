import '@testing-library/jest-dom';
import { TextDecoder, TextEncoder } from 'util';

import { consoleNoise } from './src/test/console';

// i18next (inside @grafana/ui) advertises itself on console.info when initialised.
process.env.I18NEXT_NO_SUPPORT_NOTICE = 'true';

// Tests stay quiet: anything written to console.error or console.warn (React act() warnings, failed
// prop types, errors a component logs) fails the test that caused it, unless the test takes it
// with takeConsoleNoise() from src/test/console.ts.
let consoleSpies: jest.SpyInstance[] = [];
beforeEach(() => {
  consoleNoise.length = 0;
  consoleSpies = (['error', 'warn'] as const).map((level) =>
    jest.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      consoleNoise.push(`console.${level}: ${args.map(String).join(' ')}`);
    })
  );
});
afterEach(() => {
  consoleSpies.forEach((spy) => spy.mockRestore());
  expect(consoleNoise).toEqual([]);
});

// jsdom lacks these; Grafana's UI packages use them at import time or on render.
Object.assign(global, { TextDecoder, TextEncoder });

// The rest is for the jsdom tests; the node-environment tests (plugin.json, fixtures) skip it.
if (typeof window !== 'undefined') {
  Object.defineProperty(window, 'matchMedia', {
    writable: true,
    value: jest.fn().mockImplementation((query: string) => ({
      matches: false,
      media: query,
      onchange: null,
      addListener: jest.fn(),
      removeListener: jest.fn(),
      addEventListener: jest.fn(),
      removeEventListener: jest.fn(),
      dispatchEvent: jest.fn(),
    })),
  });

  // @grafana/ui measures text on a canvas (Combobox widths); jsdom has no canvas.
  HTMLCanvasElement.prototype.getContext = jest.fn(() => ({
    measureText: (text: string) => ({ width: text.length * 7 }),
    font: '',
  })) as unknown as typeof HTMLCanvasElement.prototype.getContext;

  class ResizeObserverStub {
    observe() {}
    unobserve() {}
    disconnect() {}
  }
  Object.assign(global, { ResizeObserver: ResizeObserverStub });

  class IntersectionObserverStub {
    readonly root = null;
    readonly rootMargin = '';
    readonly thresholds: number[] = [];
    observe() {}
    unobserve() {}
    disconnect() {}
    takeRecords() {
      return [];
    }
  }
  Object.assign(global, { IntersectionObserver: IntersectionObserverStub });
}
