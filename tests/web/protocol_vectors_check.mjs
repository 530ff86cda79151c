// Check web/protocol against vectors made by the Python core (tests/web/test_protocol_vectors.py).
// Runs under node (run_protocol_vectors.mjs) and in Chromium: modules are loaded from
// ``base`` (the URL of web/), so the same checks run against the same files in both.

/**
 * @param {any} v the vectors object
 * @param {string} base URL of the web/ directory, ending in '/'
 * @returns {Promise<string[]>} one line per failed check (empty: all passed)
 */
export async function checkVectors(v, base) {
  const { b64d, b64e, toHex, fromHex } = await import(`${base}crypto/bytes.js`);
  const ed25519 = await import(`${base}crypto/ed25519.js`);
  const x25519 = await import(`${base}crypto/x25519.js`);
  const { certifyDevice, openCertificate } = await import(`${base}protocol/certificate.js`);
  const { helloSigningInput, helloFrame } = await import(`${base}protocol/auth.js`);
  const { signRequest, openHostBody } = await import(`${base}protocol/bodies.js`);
  const { hostIdFromPublicKey, publicKeyFromHostId } = await import(`${base}protocol/host_id.js`);
  const { invitePublicKey, proveInvite, parseInviteLink, formatInviteLink } =
    await import(`${base}protocol/invite.js`);
  const { signEphemeral, openEphemeral } = await import(`${base}protocol/ephemeral.js`);

  const failures = [];
  let checks = 0;
  const same = (name, got, want) => {
    checks += 1;
    if (got !== want) failures.push(`${name}: got ${got}, want ${want}`);
  };
  const refused = async (name, promise) => {
    checks += 1;
    try {
      await promise;
      failures.push(`${name}: was accepted, must be refused`);
    } catch { /* refused, as it must be */ }
  };

  const account = await ed25519.importSeed(b64d(v.identity.account_seed));
  const device = await ed25519.importSeed(b64d(v.identity.device_seed));
  const xPrivate = await x25519.importPrivateKey(b64d(v.identity.device_x25519_private));
  const xPublic = await x25519.publicKeyOf(xPrivate);
  same('account public key', b64e(account.publicKey), v.identity.account);
  same('device public key', b64e(device.publicKey), v.identity.device);
  same('device x25519 public key', b64e(xPublic), v.identity.device_x25519);

  const cert = await certifyDevice(account.privateKey, {
    account: account.publicKey, device: device.publicKey, deviceX25519: xPublic,
    issuedAt: v.identity.issued_at,
  });
  same('certificate length', cert.length, 169);
  same('certificate bytes', toHex(cert), v.certificate_hex);
  const opened = await openCertificate(fromHex(v.certificate_hex));
  same('certificate issued-at', opened.issuedAt, v.identity.issued_at);
  const tampered = fromHex(v.certificate_hex);
  tampered[100] ^= 1;
  await refused('tampered certificate', openCertificate(tampered));

  const nonce = b64d(v.hello.nonce);
  same('hello signing input', toHex(helloSigningInput(nonce, cert)), v.hello.signing_input_hex);
  const hello = await helloFrame(device, cert, v.hello.nonce);
  same('hello cert', hello.cert, v.hello.cert);
  same('hello signature', hello.sig, v.hello.sig);

  for (const r of v.requests) {
    const signed = await signRequest(device, r.host, r.op, r.args, { n: r.n, ts: r.ts });
    same(`request ${r.op} body`, signed.text, r.text);
    same(`request ${r.op} signing input`,
      toHex(new Uint8Array([...new TextEncoder().encode('hearth/v1/request\0'),
        ...new TextEncoder().encode(signed.text)])), r.signing_input_hex);
    same(`request ${r.op} signature`, signed.sig, r.sig);
  }

  for (const h of v.host_ids) {
    same('host id from key', await hostIdFromPublicKey(b64d(h.public_key)), h.host_id);
    same('key from host id', b64e(await publicKeyFromHostId(h.host_id)), h.public_key);
  }
  for (const bad of v.bad_host_ids) await refused(`bad host id ${bad}`, publicKeyFromHostId(bad));

  for (const i of v.invites) {
    same('invite public key', await invitePublicKey(i.secret), i.pk);
    same('invite proof', await proveInvite(i.secret, i.host, b64d(i.device)), i.proof);
    const link = await parseInviteLink(i.link);
    same('invite link host', link.hostId, i.host);
    same('invite link secret', link.secret, i.secret);
    same('invite link kind', link.kind, i.kind);
    same('invite link text', formatInviteLink(link), i.link);
  }

  for (const b of v.host_bodies) {
    const body = await openHostBody(b.host, b.text, b.sig, b.kind);
    same(`${b.kind} body opens`, JSON.stringify(body), JSON.stringify(JSON.parse(b.text)));
    const other = b.kind === 'response' ? 'event' : 'response';
    await refused(`${b.kind} signature used as ${other}`, openHostBody(b.host, b.text, b.sig, other));
    await refused(`${b.kind} with one byte changed`,
      openHostBody(b.host, b.text.replace('"v":1', '"v":1 '), b.sig, b.kind));
    await refused(`${b.kind} under another host id`,
      openHostBody(v.host_ids[1].host_id, b.text, b.sig, b.kind));
  }
  for (const e of v.ephemerals) {
    const frame = await signEphemeral(device, v.identity.account,
      { host: e.host, space: e.space, chan: e.chan, k: e.k, state: e.state, ts: e.ts });
    same(`${e.k} body`, frame.body, e.body);
    same(`${e.k} signature`, frame.sig, e.sig);
    const route = { t: 'eph', host: e.host, space: e.space, chan: e.chan, body: e.body, sig: e.sig };
    const opened = await openEphemeral(route, e.ts);
    same(`${e.k} opens`, JSON.stringify(opened), e.body);
    await refused(`${e.k} on another route`, openEphemeral({ ...route, space: 's2' }, e.ts));
    await refused(`${e.k} with one byte changed`,
      openEphemeral({ ...route, body: e.body.replace(`"ts":${e.ts}`, `"ts":${e.ts + 1}`) }, e.ts));
    await refused(`${e.k} 31 s late`, openEphemeral(route, e.ts + 31_000));
  }
  if (checks < 30) failures.push(`only ${checks} checks ran`);
  return failures;
}
