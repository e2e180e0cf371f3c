import assert from 'node:assert/strict';
import { redactUrl } from '../../../exporters/shared/redact';

describe('exporters/shared/redact', () => {
  it('replaces the password of a URL, keeping the user, host, port and path', () => {
    assert.equal(redactUrl('http://user:SECRETPASS@collector:4318/v1/traces'), 'http://user:***@collector:4318/v1/traces');
    assert.equal(redactUrl(new URL('https://u:p%40ss@h/')), 'https://u:***@h/');
  });

  it('replaces a user name given alone (a token in the user name)', () => {
    assert.equal(redactUrl('http://SECRETTOKEN@collector:4318'), 'http://***@collector:4318/');
  });

  it('leaves a URL without userinfo as it is', () => {
    assert.equal(redactUrl('http://collector:4318/v1/logs'), 'http://collector:4318/v1/logs');
  });

  it('never echoes a value that is not a URL', () => {
    const shown = redactUrl('http//user:SECRETPASS@collector');
    assert.doesNotMatch(shown, /SECRET|user|collector/);
    assert.match(shown, /invalid URL of 31 characters/);
  });
});
