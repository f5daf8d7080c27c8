// temporal-dev.yml, the settings of `npm run temporal`, read strictly.
import { describe, expect, it } from 'vitest';
import { readDevConfig } from '../../scripts/temporal-dev';

describe('temporal-dev.yml', () => {
  it('reads the checkout’s own file', () => {
    expect(readDevConfig()).toMatchObject({ ip: '127.0.0.1', port: 7233, namespace: 'default' });
  });

  it.each([
    ['a misspelt key', 'port: 7233\nuiPrt: 8233\n', "dev.yml: unknown key 'uiPrt' (did you mean 'uiPort'?)"],
    ['a bad value', 'port: seven\n', 'dev.yml: port: Invalid input: expected number, received string'],
  ])('refuses %s, naming it', (_, text, message) => {
    expect(() => readDevConfig('dev.yml', text)).toThrow(message);
  });
});
