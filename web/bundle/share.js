// The share link's codec: the page's state as JSON, deflated (npm fflate) and base64url-encoded,
// for the URL fragment. `./dev build-web` bundles this file into pkg/share.js.
import { deflateSync, inflateSync, strToU8, strFromU8 } from 'fflate';

export function encodeState(obj) {
  const bytes = deflateSync(strToU8(JSON.stringify(obj)), { level: 9 });
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function decodeState(text) {
  const b = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) bytes[i] = b.charCodeAt(i);
  return JSON.parse(strFromU8(inflateSync(bytes)));
}
