import React from 'react';

/**
 * @grafana/ui draws icons with react-inlinesvg, which fetches each SVG and updates state when it
 * arrives (act() warnings in jsdom). Tests draw an empty svg with the same title instead.
 */
export default function InlineSVG({ title }: { src?: string; title?: string }) {
  return <svg aria-label={title} />;
}
