/**
 * jsdom lays nothing out, so every element measures 0x0 and the virtualised option lists of
 * @grafana/ui's Combobox render no options. This gives elements a size for the tests of a file.
 */
export function withElementSize(width = 400, height = 400) {
  const saved = {
    clientWidth: Object.getOwnPropertyDescriptor(Element.prototype, 'clientWidth'),
    clientHeight: Object.getOwnPropertyDescriptor(Element.prototype, 'clientHeight'),
  };
  beforeAll(() => {
    Object.defineProperty(Element.prototype, 'clientWidth', { configurable: true, get: () => width });
    Object.defineProperty(Element.prototype, 'clientHeight', { configurable: true, get: () => height });
  });
  afterAll(() => {
    for (const [key, descriptor] of Object.entries(saved)) {
      if (descriptor) {
        Object.defineProperty(Element.prototype, key, descriptor);
      }
    }
  });
}
