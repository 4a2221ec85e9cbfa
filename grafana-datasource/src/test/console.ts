/**
 * What tests wrote to console.error and console.warn. jest-setup.ts records it and fails a test that
 * leaves anything here; a test that expects a message takes it with takeConsoleNoise().
 */
export const consoleNoise: string[] = [];

export function takeConsoleNoise(): string[] {
  return consoleNoise.splice(0, consoleNoise.length);
}
