"""Source rules the compiler does not enforce (issue 10): no `try!`, `as!` or force
unwrap anywhere in Sources/, since any of them on data from the network, a file or
the user is a crash a stranger can trigger.

The one exception is `.baseAddress!`: C functions (libsodium, expat, write(2)) import
their non-null buffer parameters as non-optional pointers, and every such call is on a
buffer whose length the surrounding code has checked (../shared/TOOLCHAIN.md).
"""

import pathlib
import re

SOURCES = pathlib.Path(__file__).resolve().parents[2] / "Sources"

# A postfix `!` follows an identifier, `)`, `]` or `}` directly; `!=` is a comparison.
FORCED = re.compile(r"\btry!|\bas!|[\w)\]}]!(?!=)")
ALLOWED = re.compile(r"\.baseAddress!")
STRING = re.compile(r'"(?:\\.|[^"\\])*"')


def code_lines(text):
    """(line number, code) with string literals, comments and multi-line strings blanked."""
    in_block_string = False
    in_block_comment = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.count('"""') % 2 == 1:
            in_block_string = not in_block_string
            continue
        if in_block_string:
            continue
        code = STRING.sub('""', line)
        if in_block_comment:
            if "*/" not in code:
                continue
            code = code.split("*/", 1)[1]
            in_block_comment = False
        if "/*" in code and "*/" not in code:
            in_block_comment = True
            code = code.split("/*", 1)[0]
        yield number, code.split("//", 1)[0]


def violations():
    found = []
    for path in sorted(SOURCES.rglob("*.swift")):
        for number, code in code_lines(path.read_text(encoding="utf-8")):
            if FORCED.search(ALLOWED.sub("", code)):
                found.append(f"{path.relative_to(SOURCES.parent)}:{number}: {code.strip()}")
    return found


def test_no_forced_unwraps_tries_or_casts_in_sources():
    found = violations()
    assert not found, "forced unwrap, try! or as! in Sources/ (use guard, ?? or throw):\n" + "\n".join(found)


def test_the_rule_catches_what_it_should():
    caught = ['let a = b!', 'try! JID(x)', 'x as! String', 'f()!.y', 'a[0]!', 'o!.p']
    passed = ['a != b', '!flag', 'let s = "wow!"', '// b!', 'p.baseAddress!.advanced(by: 1)', 'if !(x) {}']
    for line in caught:
        code = next(code for _, code in code_lines(line))
        assert FORCED.search(ALLOWED.sub("", code)), line
    for line in passed:
        code = next(code for _, code in code_lines(line))
        assert not FORCED.search(ALLOWED.sub("", code)), line
