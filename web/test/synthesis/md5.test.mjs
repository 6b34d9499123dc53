// node --test: the player's MD5 (web/src/player/md5.js) against node's own, fed in uneven pieces.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import { Md5, frameMd5 } from '../../src/player/md5.js';

test('MD5 of every length around the block edges, fed in two pieces', () => {
  for (const n of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 65537]) {
    const data = crypto.randomBytes(n);
    const m = new Md5().update(data.subarray(0, n >> 1)).update(data.subarray(n >> 1));
    assert.equal(m.hex(), crypto.createHash('md5').update(data).digest('hex'), `length ${n}`);
  }
});

test('RFC 1321 test suite values', () => {
  assert.equal(new Md5().hex(), 'd41d8cd98f00b204e9800998ecf8427e');
  assert.equal(new Md5().update(new TextEncoder().encode('abc')).hex(), '900150983cd24fb0d6963f7d28e17f72');
});

test('a frame digest is Y, U, V bytes in order; 16-bit samples little-endian', () => {
  const y = Uint16Array.from([1, 256, 1023]), u = Uint16Array.from([2]), v = Uint16Array.from([4095]);
  const bytes = Buffer.from([1, 0, 0, 1, 0xff, 3, 2, 0, 0xff, 0x0f]);
  assert.equal(frameMd5([y, u, v]), crypto.createHash('md5').update(bytes).digest('hex'));
});
