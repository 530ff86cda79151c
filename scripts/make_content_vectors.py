"""Write tests/vectors/content.json: message content (docs/protocol.md section 13.1) that
parses, that is plain text, and that is refused, with hearth/content.py's verdicts.

Run ``.venv/bin/python scripts/make_content_vectors.py`` after a deliberate change to
the content format and review the diff; tests/hearth/test_content.py checks that the
file is what this writes, and the JS suite checks web/chat/content.js against it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hearth import content
from hearth.errors import ProtocolError

OUT = Path(__file__).resolve().parent.parent / "tests" / "vectors" / "content.json"

A = "A" * 42 + "A"
B = "B" * 42 + "A"
ACCOUNTS = [f"{n:02d}" + "x" * 41 for n in range(51)]
"""51 distinct account keys (43 base64url characters each)."""
GRIN = "\U0001F600"
"""4 UTF-8 bytes, 2 UTF-16 units, 1 character."""
FAMILY = "\U0001F468\u200D\U0001F469\u200D\U0001F467"
ENGLAND = "\U0001F3F4\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F"
"""A subdivision flag: tag characters (format characters) are parts of emoji."""
RED_HEART = "\u2764\uFE0F"


def j(obj: Any) -> str:
    """Compact JSON in the order given, as the canonical encoding writes it."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def text(body: str, **extra: Any) -> str:
    return j({"v": 1, "t": "text", "body": body, **extra})


def react(emoji: Any, on: Any = True, target: Any = "m1") -> str:
    return j({"v": 1, "t": "react", "target": target, "emoji": emoji, "on": on})


def edit(**fields: Any) -> str:
    return j({"v": 1, "t": "edit", "target": "m1", "body": "fixed", **fields})


VALID: list[tuple[str, str]] = [
    ("a text", text("hello")),
    ("a reply with mentions", text("yes", reply={"id": "m1", "acct": A, "quote": "who?"},
                                   mentions=[A, B])),
    ("a body of 4000 characters", text("x" * 4000)),
    ("4000 astral characters (8000 UTF-16 units)", text(GRIN * 4000)),
    ("escapes and separators", text('tab\there\nnew "quoted" back\\slash \u0001 é \u2028 /')),
    ("an empty quote", text("ok", reply={"id": "m-1_A", "acct": B, "quote": ""})),
    ("a quote of 200 characters", text("ok", reply={"id": "m1", "acct": A, "quote": "q" * 200})),
    ("50 mentions", text("all", mentions=ACCOUNTS[:50])),
    ("a message id of 64 characters", react("+", target="i" * 64)),
    ("an edit", edit()),
    ("an edit with mentions", edit(mentions=[B])),
    ("a reaction", react("\U0001F44D")),
    ("a reaction taken back", react("\U0001F44D", on=False)),
    ("a ZWJ sequence", react(FAMILY)),
    ("a subdivision flag (tag characters)", react(ENGLAND)),
    ("a variation selector", react(RED_HEART)),
    ("an emoji of 32 bytes", react(GRIN * 8)),
    ("a word as emoji", react(":party:")),
]
NOT_CANONICAL: list[tuple[str, str]] = [
    ("another key order", '{"body":"x","t":"text","v":1}'),
    ("whitespace", '{ "v" : 1 , "t" : "text" , "body" : "x" }'),
    ("v written as 1.0", '{"v":1.0,"t":"text","body":"x"}'),
]
PLAIN: list[tuple[str, str]] = [
    ("words", "hello there"),
    ("nothing", ""),
    ("a number", "42"),
    ("a JSON string", '"quoted"'),
    ("a JSON array", '[{"v":1}]'),
    ("null", "null"),
    ("an empty object", "{}"),
    ("an object without v", '{"t":"text","body":"no version"}'),
    ("broken JSON", '{"v":1,"t":"text","body":"x"'),
]
INVALID: list[tuple[str, str]] = [
    ("version 2", '{"v":2,"t":"text","body":"x"}'),
    ("version as a string", '{"v":"1","t":"text","body":"x"}'),
    ("version true", '{"v":true,"t":"text","body":"x"}'),
    ("version null", '{"v":null,"t":"text","body":"x"}'),
    ("no type", '{"v":1,"body":"x"}'),
    ("an unknown type", '{"v":1,"t":"poll","body":"x"}'),
    ("a type that is a number", '{"v":1,"t":5}'),
    ("an unknown field", text("x", x=1)),
    ("a reply on an edit", edit(reply={"id": "m1", "acct": A, "quote": ""})),
    ("mentions on a reaction", j({"v": 1, "t": "react", "target": "m1", "emoji": "+",
                                  "on": True, "mentions": [A]})),
    ("no body", '{"v":1,"t":"text"}'),
    ("an empty body", text("")),
    ("a body of 4001 characters", text("x" * 4001)),
    ("4001 astral characters", text(GRIN * 4001)),
    ("a body that is a number", j({"v": 1, "t": "text", "body": 7})),
    ("an edit body of 4001 characters", edit(body="y" * 4001)),
    ("a reply that is a string", text("x", reply="m1")),
    ("a reply with an extra field", text("x", reply={"id": "m1", "acct": A, "quote": "",
                                                     "ts": 1})),
    ("a reply without quote", text("x", reply={"id": "m1", "acct": A})),
    ("a reply id with a space", text("x", reply={"id": "m 1", "acct": A, "quote": ""})),
    ("a reply id of 65 characters", text("x", reply={"id": "i" * 65, "acct": A, "quote": ""})),
    ("a reply account of 42 characters", text("x", reply={"id": "m1", "acct": A[:42],
                                                          "quote": ""})),
    ("a quote of 201 characters", text("x", reply={"id": "m1", "acct": A, "quote": "q" * 201})),
    ("no mentions", text("x", mentions=[])),
    ("51 mentions", text("x", mentions=ACCOUNTS)),
    ("a repeated mention", text("x", mentions=[A, B, A])),
    ("a mention that is no key", text("x", mentions=[A, "bob"])),
    ("mentions that are not a list", text("x", mentions=A)),
    ("an edit without target", '{"v":1,"t":"edit","body":"x"}'),
    ("an empty target", edit(target="")),
    ("a target with a slash", edit(target="a/b")),
    ("on as a string", react("+", on="true")),
    ("on as 1", react("+", on=1)),
    ("no on", '{"v":1,"t":"react","target":"m1","emoji":"+"}'),
    ("an empty emoji", react("")),
    ("an emoji of 33 bytes", react(GRIN * 8 + "a")),
    ("an emoji with a space", react("\U0001F44D ")),
    ("an emoji with a newline", react("\U0001F44D\n")),
    ("an emoji with a no-break space", react("a\u00A0b")),
    ("an emoji with an ideographic space", react("\u3000")),
    ("an emoji with NEL (U+0085)", react("a\u0085")),
    ("an emoji with DEL", react("a\u007F")),
    ("an emoji that is a number", react(1)),
]


def verdict(plaintext: str) -> dict[str, Any]:
    try:
        parsed = content.parse(plaintext.encode())
    except ProtocolError as exc:
        return {"code": str(exc.code), "msg": exc.message}
    return {"content": content.as_dict(parsed), "plain": isinstance(parsed, content.Text)
            and parsed.plain}


def build() -> dict[str, Any]:
    valid = [{"name": n, "plaintext": p, "canonical": True, **verdict(p)} for n, p in VALID]
    valid += [{"name": n, "plaintext": p, "canonical": False, **verdict(p)}
              for n, p in NOT_CANONICAL]
    return {
        "about": "Message content (docs/protocol.md 13.1); made by "
        "scripts/make_content_vectors.py. `plaintext` is the decrypted UTF-8 text. "
        "valid: parse gives `content` (the JSON object, fields in encoded order); when "
        "`canonical`, encoding `content` gives `plaintext` exactly. plain: not a JSON "
        "object with a `v`, shown as a plain text whose body is the plaintext. invalid: "
        "refused with `code` and, from hearth/content.py, `msg`. Lengths count code "
        "points.",
        "limits": {"body": content.BODY_MAX, "quote": content.QUOTE_MAX,
                   "mentions": content.MENTIONS_MAX, "emoji_bytes": content.EMOJI_MAX_BYTES,
                   "id": content.ID_MAX},
        "valid": valid,
        "plain": [{"name": n, "plaintext": p, **verdict(p)} for n, p in PLAIN],
        "invalid": [{"name": n, "plaintext": p, **verdict(p)} for n, p in INVALID],
    }


def main() -> None:
    OUT.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
