import '@testing-library/jest-dom';
import { TextDecoder, TextEncoder } from 'util';

// jsdom lacks these; Grafana's UI packages use them at import time or on render.
Object.assign(global, { TextDecoder, TextEncoder });

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
