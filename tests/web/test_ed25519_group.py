"""The Ed25519 group of the browser (static/js/belenios/ed25519.js, on the vendored
@noble/curves) against the known answers of tests/vectors/kat/ed25519-group.json (computed by
scripts/make-ed25519-group-vectors with integer arithmetic on the curve formulas, independently
of noble and of libsodium): encodings, strict membership, arithmetic, scalars, of_ints/to_ints
and GetGenerator. Then the group interface, the same in the three groups (groups.js): every
method there, and the finite-field groups' GetGenerator and encodings against Python's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plebiscite.crypto.groups import BELENIOS_2048, RFC_3526_2048

pytestmark = pytest.mark.browser

VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "kat" / "ed25519-group.json").read_text()
)

PRELUDE = """
  const { ED25519: G } = await import("/static/js/belenios/ed25519.js");
  const V = args[0];
  const refuses = (f) => { try { f(); return false; } catch (e) { return e instanceof Error; } };
"""


def _run(js, body: str, *args):
    return js(PRELUDE + body, VECTORS, *args)


def test_constants_and_encodings(js):
    got = _run(
        js,
        """return {name: G.name, q: G.q.toString(), g: G.encode(G.g), g2: G.encode(G.gpow(2n)),
                   one: G.encode(G.one), identity: G.encode(G.identity),
                   g0: G.encode(G.gpow(0n)), gq: G.encode(G.gpow(G.q)),
                   powers: V.powers.map((p) => G.encode(G.gpow(BigInt(p.exponent)))),
                   neg: G.encode(G.gpow(-1n))};""",
    )
    assert got["name"] == "Ed25519"
    assert got["q"] == VECTORS["q"] == str(2**252 + 27742317777372353535851937790883648493)
    assert got["g"] == VECTORS["g"] == "66" * 31 + "58"
    assert got["g2"] == VECTORS["g2"]
    assert got["one"] == got["identity"] == VECTORS["identity"] == "0" * 63 + "1"
    assert got["g0"] == got["gq"] == VECTORS["identity"]
    assert got["powers"] == [p["element"] for p in VECTORS["powers"]]
    q_minus_1 = next(p for p in VECTORS["powers"] if p["exponent"] == str(int(VECTORS["q"]) - 1))
    assert got["neg"] == q_minus_1["element"]


def test_membership_is_strict(js):
    got = _run(
        js,
        """return {
          rejected: V.reject.map((r) => refuses(() => G.element(r.element, "x"))),
          notElement: V.reject.map((r) => !G.isElement(r.element)),
          accepted: V.accept.map((a) => G.encode(G.element(a.element, "x"))),
          isElement: V.accept.map((a) => G.isElement(a.element)),
          others: [1, null, 5n, {}, ["0".repeat(63) + "1"]].map((v) => refuses(() => G.element(v))),
          where: (() => { try { G.element("0".repeat(63) + "2", "ballot.alpha"); }
                          catch (e) { return e.message; } })(),
        };""",
    )
    why = [r["why"] for r in VECTORS["reject"]]
    assert dict(zip(why, got["rejected"])) == dict.fromkeys(why, True)
    assert dict(zip(why, got["notElement"])) == dict.fromkeys(why, True)
    assert got["accepted"] == [a["element"] for a in VECTORS["accept"]]
    assert got["isElement"] == [True] * len(VECTORS["accept"])
    assert got["others"] == [True] * 5
    assert got["where"].startswith("ballot.alpha: ")


def test_decode_checks_the_form_only(js):
    """decode (the ballot's credential): a canonical curve point, in the subgroup or not."""
    got = _run(
        js,
        """return V.reject.map((r) => !refuses(() => G.decode(r.element)));""",
    )
    decoded = {r["why"] for r, ok in zip(VECTORS["reject"], got, strict=True) if ok}
    torsion = {r["why"] for r in VECTORS["reject"] if "order" in r["why"] or "plus" in r["why"]}
    torsion |= {r["why"] for r in VECTORS["reject"] if "not in the subgroup" in r["why"]}
    assert decoded == torsion


def test_arithmetic(js):
    got = _run(
        js,
        """const o = V.operations;
        const e = (t) => G.element(t);
        const x = e(o.mul.a);
        return {
          mul: G.encode(G.mul(e(o.mul.a), e(o.mul.b))),
          div: G.encode(G.div(e(o.div.a), e(o.div.b))),
          inv: G.encode(G.inv(e(o.inv.a))),
          pow: G.encode(G.pow(e(o.pow.base), BigInt(o.pow.exponent))),
          powBig: G.encode(G.pow(e(o.pow_big.base), BigInt(o.pow_big.exponent))),
          fixed: G.encode(G.fixedBase(e(o.pow.base)).pow(BigInt(o.pow.exponent))),
          fixedBig: G.encode(G.fixedBase(e(o.pow_big.base)).pow(BigInt(o.pow_big.exponent))),
          fixedZero: G.encode(G.fixedBase(x).pow(0n)),
          fixedOfOne: G.encode(G.fixedBase(G.identity).pow(5n)),
          withOne: [G.mul(x, G.one) === x, G.mul(G.one, x) === x, G.div(x, G.one) === x,
                    G.equals(G.div(x, x), G.identity), G.equals(G.mul(x, G.inv(x)), G.one),
                    G.equals(G.pow(G.one, 12345n), G.one), G.equals(G.pow(x, 0n), G.one),
                    G.equals(G.inv(G.one), G.one)],
          equals: [G.equals(G.gpow(5n), G.mul(G.gpow(2n), G.gpow(3n))),
                   G.equals(G.g, G.gpow(2n)), G.equals(G.gpow(1n), G.g)],
          members: [G.isElement(G.mul(x, G.g)), G.isElement(G.identity), G.isElement(G.g)],
        };""",
    )
    o = VECTORS["operations"]
    assert got["mul"] == o["mul"]["result"]
    assert got["div"] == o["div"]["result"]
    assert got["inv"] == o["inv"]["result"]
    assert got["pow"] == got["fixed"] == o["pow"]["result"]
    assert got["powBig"] == got["fixedBig"] == o["pow_big"]["result"]
    assert got["fixedZero"] == got["fixedOfOne"] == VECTORS["identity"]
    assert got["withOne"] == [True] * 8
    assert got["equals"] == [True, False, True]
    assert got["members"] == [True] * 3


def test_scalars(js):
    got = _run(
        js,
        """return {
          accepted: V.scalars.accept.map((s) => G.scalar(s).toString()),
          rejected: V.scalars.reject.map((s) => refuses(() => G.scalar(s))),
          notString: refuses(() => G.scalar(5)),
        };""",
    )
    assert got["accepted"] == VECTORS["scalars"]["accept"]
    assert got["rejected"] == [True] * len(VECTORS["scalars"]["reject"])
    assert got["notString"]


def test_of_ints_and_to_ints(js):
    got = _run(
        js,
        """const out = [];
        for (const c of V.of_ints) {
          const [x, eps] = await G.ofInts(c.values, null);
          out.push({element: G.encode(x), epsilon: Number(eps), back: G.toInts(x, c.values.length),
                    embed: G.embed(c.values, c.epsilon), member: G.isElement(x),
                    before: c.epsilon > 0 ? G.embed(c.values, c.epsilon - 1) : null});
        }
        return {out,
          tooMany: refuses(() => G.embed(new Array(31).fill(1), 0)),
          tooBig: refuses(() => G.embed([256], 0)),
          wrongLength: refuses(() => G.toInts(G.element(V.of_ints[2].element), 2)),
          maxInts: G.maxInts};""",
    )
    for case, g in zip(VECTORS["of_ints"], got["out"], strict=True):
        assert g["element"] == g["embed"] == case["element"]
        assert g["epsilon"] == case["epsilon"]
        assert g["back"] == case["values"]
        assert g["member"] is True
        assert g["before"] is None  # the smallest padding
    assert got["tooMany"] and got["tooBig"] and got["wrongLength"]
    assert got["maxInts"] == 30


def test_get_generator(js):
    got = _run(
        js,
        """const out = [];
        for (const c of V.generators) {
          const h = await G.generator(c.i);
          out.push([G.encode(h), G.isElement(h)]);
        }
        return out;""",
    )
    assert got == [[c["generator"], True] for c in VECTORS["generators"]]
    assert len({c["generator"] for c in VECTORS["generators"]}) == 4


# -- the interface of every group -------------------------------------------------------------

INTERFACE = """
  const { groupByName, GROUPS } = modules.groups;
  const names = ["element", "decode", "scalar", "encode", "isElement", "equals", "mul", "div",
                 "inv", "pow", "gpow", "fixedBase", "ofInts", "embed", "toInts", "generator"];
  const out = {};
  for (const name of ["Ed25519", "BELENIOS-2048", "RFC-3526-2048"]) {
    const G = groupByName(name);
    const r = {
      name: G.name, q: G.q.toString(), qDigits: G.qDigits,
      missing: names.filter((m) => typeof G[m] !== "function"),
      oneIsIdentity: G.one === G.identity && G.equals(G.gpow(0n), G.identity),
      g: G.encode(G.g), g7: G.encode(G.gpow(7n)),
      g7b: G.encode(G.fixedBase(G.g).pow(7n)),
      g7c: G.encode(G.mul(G.pow(G.g, 3n), G.gpow(4n))),
      g7d: G.encode(G.div(G.gpow(9n), G.gpow(2n))),
      inv: G.equals(G.mul(G.inv(G.gpow(7n)), G.gpow(7n)), G.identity),
      neg: G.equals(G.gpow(-7n), G.inv(G.gpow(7n))),
      parse: G.encode(G.element(G.encode(G.gpow(7n)), "x")) === G.encode(G.gpow(7n)),
      parseEq: G.equals(G.element(G.encode(G.gpow(7n))), G.gpow(7n)),
      gens: [],
      embedding: G.embedding,
    };
    for (let i = 0; i < 3; i++) r.gens.push(G.encode(await G.generator(i)));
    if (G.embedding) {
      const [x, eps] = await G.ofInts([1, 2, 3], new modules.random.DeterministicRandom("e"));
      r.ints = G.toInts(x, 3);
      r.embedAgain = G.equals(G.embed([1, 2, 3], eps), x);
    }
    out[name] = r;
  }
  out.known = [...GROUPS.keys()];
  const refuses = (f) => { try { f(); return false; } catch { return true; } };
  out.foreign = [refuses(() => groupByName("Ed25519").element(args[0])),
                 refuses(() => groupByName("BELENIOS-2048").element(args[1]))];
  out.unknown = refuses(() => groupByName("P-256"));
  return out;
"""


def test_every_group_has_the_interface(js):
    got = js(INTERFACE, str(BELENIOS_2048.g), VECTORS["g2"])
    assert sorted(got["known"]) == ["BELENIOS-2048", "Ed25519", "RFC-3526-2048"]
    assert got["unknown"] and got["foreign"] == [True, True]
    for name, r in got.items():
        if name in ("known", "unknown", "foreign"):
            continue
        assert r["missing"] == [], name
        assert r["oneIsIdentity"] and r["inv"] and r["neg"] and r["parse"] and r["parseEq"]
        assert r["g7"] == r["g7b"] == r["g7c"] == r["g7d"], name
    ed = got["Ed25519"]
    assert ed["g"] == VECTORS["g"] and ed["q"] == VECTORS["q"]
    assert ed["gens"] == [c["generator"] for c in VECTORS["generators"][:3]]
    assert ed["ints"] == [1, 2, 3] and ed["embedAgain"]
    for group in (BELENIOS_2048, RFC_3526_2048):
        r = got[group.name]
        assert r["q"] == str(group.q) and r["g"] == str(group.g)
        assert r["g7"] == group.encode(group.gpow(7))
        assert r["gens"] == [group.encode(group.generator(i)) for i in range(3)]
    assert got["BELENIOS-2048"]["embedding"] is None
    assert got["RFC-3526-2048"]["ints"] == [1, 2, 3] and got["RFC-3526-2048"]["embedAgain"]
