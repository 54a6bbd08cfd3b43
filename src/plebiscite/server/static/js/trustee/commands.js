// The shell commands a trustee runs on their own computer instead of this page: each step of
// the threshold ceremony with plebiscite trustee-threshold (or belenios-tool's
// setup generate-trustee-key-threshold, which reads and writes the same files), the partial
// decryption of each region with plebiscite trustee decrypt (which verifies the whole archive
// first), and curl to fetch from and send to the API with the link token. Pure functions over
// the referendum's public status: the texts to show in a <pre>, language-neutral.

/** A word in single quotes for a POSIX shell. */
export function shellQuote(s) {
  return `'${String(s).replaceAll("'", "'\\''")}'`;
}

/** One URL path segment, percent-encoded including the characters a shell cares about. */
export function urlSegment(s) {
  return encodeURIComponent(String(s)).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

const AUTH = `-H "Authorization: Bearer $TOKEN"`;
const PY_CERTS =
  `python3 -c 'import json,sys; ` +
  `print(json.load(sys.stdin)["ceremony"]["certificates"], end="")'`;

/** {setup, certificate, polynomial, voutput, decrypt: [{region, text}], shuffle: [...]}:
 * the commands of trustee `index` of referendum `rid` on the server at `origin`. `group` and
 * `threshold` are the ceremony's; `certId` the trustee's certificate ID once it is known
 * (the key file is then ID.key); `regions` [{name, election}]. */
export function trusteeCommands({ origin, rid, index, group, threshold, certId, regions }) {
  const api = `${origin}/api/referendums/${urlSegment(rid)}`;
  const key = certId ? `${certId}.key` : "$(ls *.key)";
  const cert = certId ? `${certId}.cert` : "$(ls *.cert)";
  const dkey = certId ? `${certId}.dkey` : "decryption.dkey";
  const g = shellQuote(group);
  const lines = (...xs) => xs.join("\n");
  return {
    setup: lines("read -rs TOKEN", `API=${shellQuote(api)}`, `ME="$API/trustees/${index}"`),
    certificate: lines(
      `plebiscite trustee-threshold --step 1 --group ${g}`,
      `curl -fsS ${AUTH} --data-binary @${cert} "$ME/certificate"`,
    ),
    polynomial: lines(
      `curl -fsS "$API" | ${PY_CERTS} > certs.jsons`,
      `plebiscite trustee-threshold --step 3 --group ${g} --certs certs.jsons --key ${key} ` +
        `--threshold ${Number(threshold)} > polynomial.json`,
      `curl -fsS ${AUTH} --data-binary @polynomial.json "$ME/polynomial"`,
    ),
    voutput: lines(
      `curl -fsS ${AUTH} "$ME/vinput" > vinput.json`,
      `plebiscite trustee-threshold --step 5 --group ${g} --certs certs.jsons --key ${key} ` +
        "< vinput.json > voutput.json",
      `curl -fsS ${AUTH} --data-binary @voutput.json "$ME/voutput"`,
    ),
    decrypt: regions.map((r) => {
      const archive = `${r.election}.bel`;
      const partial = `partial-${r.election}.json`;
      return {
        region: r.name,
        text: lines(
          `[ -s ${dkey} ] || curl -fsS ${AUTH} "$ME/dkey" > ${dkey}`,
          `curl -fsS -o ${archive} ${shellQuote(`${origin}/api/elections/${r.election}/archive`)}`,
          `plebiscite trustee decrypt --archive ${archive} --key ${key} --decryption-key ${dkey}` +
            ` --out ${partial}`,
          `curl -fsS ${AUTH} --data-binary @${partial} "$ME/regions/${urlSegment(r.name)}/partial-decryption"`,
        ),
      };
    }),
    shuffle: regions.map((r) => ({
      region: r.name,
      text: lines(
        `curl -fsS -o ${r.election}.bel ${shellQuote(`${origin}/api/elections/${r.election}/archive`)}`,
        `plebiscite trustee shuffle --archive ${r.election}.bel --trustee-id ${index + 1} --out shuffle-${r.election}.txt`,
        `curl -fsS ${AUTH} --data-binary @shuffle-${r.election}.txt "$ME/regions/${urlSegment(r.name)}/shuffle"`,
      ),
    })),
  };
}
